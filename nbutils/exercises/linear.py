"""Chapter 6 exercises: parameters of a fully connected head, the Linear weight gradient, GAP's backward, and CAM."""

import numpy as np

from nbutils.exercises._core import Exercise, Mistake, register

_rng = np.random.default_rng(2606)


# --- 1. Parameters of a fully connected head ----------------------------------------------------
def fc_head_params(feature_shape, layer_sizes):
    in_features = int(np.prod(feature_shape))  # Flatten: C·H·W features
    total = 0
    for out_features in layer_sizes:
        total += in_features * out_features + out_features  # weight (out, in) and one bias per output
        in_features = out_features
    return total


def _params(first_in, layer_sizes, bias=lambda out: out):
    total, n = 0, first_in
    for out in layer_sizes:
        total, n = total + n * out + bias(out), out
    return total


register(Exercise(
    "fc_head_params", fc_head_params,
    cases=[(((512, 7, 7), [4096, 4096, 1000]), {}), (((64, 7, 7), [4096]), {}), (((32, 4, 4), [10]), {}),
           (((16, 3, 5), [8, 2]), {})],
    mistakes=[
        Mistake(lambda shape, sizes: _params(int(np.prod(shape)), sizes, bias=lambda out: 0),
                "count the biases too: a Linear(in, out) has in·out weights plus out biases."),
        Mistake(lambda shape, sizes: _params(shape[0], sizes),
                "the head flattens the whole feature map: its first layer has C·H·W inputs, not C (that is GAP)."),
        Mistake(lambda shape, sizes: _params(shape[-1], sizes),
                "without Flatten, Linear would only see the last axis (W); the head flattens first, so C·H·W inputs."),
        Mistake(lambda shape, sizes: _params(int(np.prod(shape)), sizes, bias=lambda out: 1),
                "there is one bias per output feature, not one per layer."),
    ],
    shape_hint="Return one int.",
    returns="int",
))


# --- 2. The weight gradient of Linear -----------------------------------------------------------
def linear_weight_grad(grad_output, input):
    O, K = grad_output.shape[-1], input.shape[-1]
    g, x = grad_output.reshape(-1, O), input.reshape(-1, K)  # every leading axis is a batch axis
    return g.T @ x  # (out, in): the sum over the batch of outer products g_n x_nᵀ


def _flat(grad_output, input):
    return grad_output.reshape(-1, grad_output.shape[-1]), input.reshape(-1, input.shape[-1])


def _wgrad_transposed(grad_output, input):
    g, x = _flat(grad_output, input)
    return x.T @ g


def _wgrad_mean(grad_output, input):
    g, x = _flat(grad_output, input)
    return g.T @ x / len(g)


def _wgrad_2d_only(grad_output, input):
    return grad_output.T @ input  # right for (N, out) and (N, in) only


register(Exercise(
    "linear_weight_grad", linear_weight_grad,
    cases=[((_rng.standard_normal((4, 5)), _rng.standard_normal((4, 3))), {}),
           ((_rng.standard_normal((3, 4)), _rng.standard_normal((3, 4))), {}),
           ((_rng.standard_normal((2, 3, 4)), _rng.standard_normal((2, 3, 6))), {}),
           ((_rng.standard_normal(5), _rng.standard_normal(3)), {})],
    mistakes=[
        Mistake(_wgrad_transposed, "the weight is (out_features, in_features), so its gradient is grad_outputᵀ · input,"
                " not inputᵀ · grad_output."),
        Mistake(_wgrad_mean, "sum over the batch, don't average: the loss already decides whether to average."),
        Mistake(_wgrad_2d_only, "the arrays may have any number of leading batch axes, and a 1-D input is one "
                "sample: reshape grad_output to (-1, out_features) and input to (-1, in_features) first, then "
                "multiply grad_outputᵀ · input.",
                raises=((ValueError, IndexError), "matmul|align|subscript|operand|broadcast|index|dimension")),
    ],
    shape_hint="The weight gradient has the weight's shape (out_features, in_features). Reshape both arrays to 2-D "
               "first, (-1, out) and (-1, in): every leading axis is a batch axis, and a 1-D input is one sample.",
))


# --- 3. The backward of global average pooling ---------------------------------------------------
def gap_backward(grad_output, input_shape):
    N, C, H, W = input_shape
    g = grad_output.reshape(N, C, 1, 1) / (H * W)  # each of the H·W inputs had weight 1/(H·W) in the mean
    return np.broadcast_to(g, input_shape).copy()


def _spread(grad_output, input_shape, divisor):
    N, C, H, W = input_shape
    return np.broadcast_to(grad_output.reshape(N, C, 1, 1) / divisor, input_shape).copy()


register(Exercise(
    "gap_backward", gap_backward,
    cases=[((_rng.standard_normal((2, 3)), (2, 3, 4, 5)), {}), ((_rng.standard_normal((1, 4)), (1, 4, 2, 2)), {}),
           ((_rng.standard_normal((3, 2)), (3, 2, 3, 1)), {})],
    mistakes=[
        Mistake(lambda g, s: _spread(g, s, 1), "divide by H·W: each input value counts 1/(H·W) in its channel's mean."),
        Mistake(lambda g, s: _spread(g, s, s[0] * s[2] * s[3]),
                "GAP averages each image on its own: divide by H·W, not by N·H·W."),
        Mistake(lambda g, s: _spread(g, s, s[1] * s[2] * s[3]),
                "GAP averages each channel on its own: divide by H·W, not by C·H·W."),
        Mistake(lambda g, s: np.broadcast_to(g / (s[2] * s[3]), s).copy(),
                "grad_output has shape (N, C): reshape it to (N, C, 1, 1) before spreading it over (N, C, H, W), "
                "or its axes line up with H and W instead of N and C.", raises=(ValueError, "broadcast")),
    ],
    shape_hint="The gradient has the input's shape (N, C, H, W): every position of channel c gets a share of "
               "grad_output[n, c].",
))


# --- 4. A class activation map -------------------------------------------------------------------
def class_activation_map(features, weight, k):
    return np.einsum("c,chw->hw", weight[k], features)  # the class-k weights mix the C maps into one


register(Exercise(
    "class_activation_map", class_activation_map,
    cases=[((_rng.standard_normal((3, 4, 4)), _rng.standard_normal((5, 3)), 2), {}),
           ((_rng.standard_normal((6, 2, 3)), _rng.standard_normal((4, 6)), 0), {}),
           ((_rng.standard_normal((2, 5, 5)), _rng.standard_normal((10, 2)), 9), {})],
    mistakes=[
        Mistake(lambda f, w, k: f.sum(axis=0), "weight each channel's map by weight[k, c], the class-k weights; "
                "without them every class gets the same map."),
        Mistake(lambda f, w, k: np.einsum("c,chw->hw", w[k], f) / len(f),
                "sum the weighted maps, don't average them: the mean of the CAM over H·W must be the class score "
                "(minus the bias)."),
        Mistake(lambda f, w, k: np.einsum("kc,chw->hw", w, f),
                "use only row k of the weight: summing over all classes mixes every class into one map."),
    ],
    shape_hint="A CAM has the feature map's spatial shape (H, W): sum over the channels, keep H and W.",
))
