"""Chapter 6's exercises, answered from the chapter's text as a reader would (see tests/test_exercises.py)."""

import numpy as np


def fc_head_params(feature_shape, layer_sizes):
    C, H, W = feature_shape
    total, n_in = 0, C * H * W
    for n_out in layer_sizes:
        total += (n_in + 1) * n_out  # weights plus one bias per output
        n_in = n_out
    return total


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
