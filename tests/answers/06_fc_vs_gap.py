"""Chapter 6's exercises, answered from the chapter's text as a reader would (see tests/test_exercises.py)."""

import numpy as np


def fc_head_cost(feature_shape, layer_sizes, map_size):
    C, H, W = feature_shape
    positions = (map_size[0] - H + 1) * (map_size[1] - W + 1)  # where the H×W kernel fits on the larger map
    params, macs, n_in = 0, 0, C * H * W
    for n_out in layer_sizes:
        params += (n_in + 1) * n_out  # weights plus one bias per output
        macs += positions * n_in * n_out
        n_in = n_out
    return params, macs


def linear_weight_grad(grad_output, input):
    g = grad_output.reshape(-1, grad_output.shape[-1])
    x = input.reshape(-1, input.shape[-1])
    return np.einsum("no,ni->oi", g, x)


def gap_backward(grad_output, input_shape):
    N, C, H, W = input_shape
    grad = np.empty(input_shape)
    grad[...] = grad_output[:, :, None, None] / (H * W)
    return grad


def class_activation_map(features, weight, k):
    return np.tensordot(weight[k], features, axes=1)


def low_rank_grad_V(grad_output, input, U):
    g = grad_output.reshape(-1, grad_output.shape[-1])
    x = input.reshape(-1, input.shape[-1])
    return U.T @ (g.T @ x)  # the chain rule through W = U V: Uᵀ times the gradient of W


def fc_to_conv(weight, feature_shape):
    C, H, W = feature_shape
    return weight.reshape(weight.shape[0], C, H, W)


fc_to_conv_bug = "b"

score_map_shape = "c"
