"""Chapter 6 exercises: the cost of a fully connected head run as a convolution, the Linear weight gradient, GAP's
backward, CAM, a gradient of a low-rank layer, a fully connected layer recast as a convolution (a planted bug),
and the score map of a recast head (a prediction)."""

import numpy as np

from nbutils.exercises._core import Exercise, Mistake, register

_rng = np.random.default_rng(2606)


# --- 1. The cost of a fully connected head, run as a convolution -----------------------------------------------
def fc_head_cost(feature_shape, layer_sizes, map_size):
    C, H, W = feature_shape
    # where the H×W kernel fits: stride 1, no padding
    positions = (map_size[0] - H + 1) * (map_size[1] - W + 1)
    params = macs = 0
    n_in = C * H * W  # the first layer's kernel covers the whole (C, H, W) map it was built for
    for n_out in layer_sizes:
        # weights and one bias per output: the same whatever the map's size
        params += n_in * n_out + n_out
        # every weight is used once per position (1×1 convolutions after the first)
        macs += positions * n_in * n_out
        n_in = n_out
    return [params, macs]


def _cost(feature_shape, layer_sizes, map_size, positions=None, first_in=None, bias=True, bias_macs=False,
          params_slide=False):
    C, H, W = feature_shape
    p = (map_size[0] - H + 1) * (map_size[1] - W + 1) if positions is None else positions(feature_shape, map_size)
    params = macs = 0
    n_in = C * H * W if first_in is None else first_in(feature_shape)
    for n_out in layer_sizes:
        params += (n_in * n_out + (n_out if bias else 0)) * (p if params_slide else 1)
        macs += p * (n_in * n_out + (n_out if bias_macs else 0))
        n_in = n_out
    return params, macs


register(Exercise(
    "fc_head_cost", fc_head_cost,
    cases=[(((512, 7, 7), [4096, 4096, 1000], (7, 7)), {}), (((512, 7, 7), [4096, 4096, 1000], (12, 12)), {}),
           (((64, 4, 4), [10], (6, 6)), {}), (((16, 3, 5), [8, 2], (3, 5)), {}), (((8, 2, 2), [6, 4], (5, 3)), {})],
    mistakes=[
        Mistake(lambda s, l, m: _cost(s, l, m, positions=lambda s, m: 1),
                "the recast head slides: every position where the H×W kernel fits repeats all the multiply-adds, "
                "so multiply them by the number of positions."),
        Mistake(lambda s, l, m: _cost(s, l, m, positions=lambda s, m: m[0] * m[1]),
                "a kernel of H×W fits (H′ − H + 1)·(W′ − W + 1) times on an H′×W′ map (stride 1, no padding), "
                "not H′·W′ times."),
        Mistake(lambda s, l, m: _cost(s, l, m, params_slide=True),
                "the parameters don't depend on the map's size: the same kernels slide over every position."),
        Mistake(lambda s, l, m: _cost(s, l, m, bias=False),
                "count the biases in the parameters: a layer with n_out outputs has n_out of them."),
        Mistake(lambda s, l, m: _cost(s, l, m, bias_macs=True),
                "a bias is added, not multiplied: the multiply-adds of a layer are n_in·n_out per position."),
        Mistake(lambda s, l, m: _cost(s, l, m, first_in=lambda s: s[0]),
                "the first layer flattens the whole (C, H, W) map: C·H·W inputs, not C (that would be GAP)."),
        Mistake(lambda s, l, m: _cost(s, l, m)[::-1],
                "right numbers, wrong order: return [parameters, multiply_adds], parameters first."),
    ],
    shape_hint="Return two ints: [parameters, multiply_adds] (a list or a tuple).",
    returns="int array",
    hints=("Parameters first: they are those of the Flatten + Linear head, whatever the map. Then count where the "
           "first kernel fits on the larger map: each of those positions runs the whole head once.",
           "positions = (H′ − H + 1)·(W′ − W + 1); for each layer, params += n_in·n_out + n_out and "
           "multiply_adds += positions·n_in·n_out, starting from n_in = C·H·W."),
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
    hints=("Write one entry: ∂L/∂W[o, k] = Σ_n grad_output[n, o]·input[n, k]. Which matrix product is that sum?",
           "It is grad_outputᵀ · input, after reshaping grad_output to (-1, out_features) and input to "
           "(-1, in_features), so that every leading axis counts as a batch axis."),
))


# --- 3. The backward of global average pooling ---------------------------------------------------
def gap_backward(grad_output, input_shape):
    N, C, H, W = input_shape
    # each of the H·W inputs had weight 1/(H·W) in the mean
    g = grad_output.reshape(N, C, 1, 1) / (H * W)
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
    hints=("GAP's output [n, c] is a mean of H·W inputs. By how much does it move when one of them moves by 1?",
           "By 1/(H·W): so every position of channel c of image n gets grad_output[n, c] / (H·W). Reshape "
           "grad_output to (N, C, 1, 1) and broadcast it to the input's shape."),
))


# --- 4. A class activation map -------------------------------------------------------------------
def class_activation_map(features, weight, k):
    # the class-k weights mix the C maps into one
    return np.einsum("c,chw->hw", weight[k], features)


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
    hints=("The class-k score is b_k + the mean over positions of Σ_c weight[k, c]·features[c, i, j]: the CAM is "
           "what is averaged.",
           "CAM_k(i, j) = Σ_c weight[k, c]·features[c, i, j]: np.einsum(\"c,chw->hw\", weight[k], features)."),
))


# --- 5. Derive: the gradient of the first factor of a low-rank layer ------------------------------------------
def low_rank_grad_V(grad_output, input, U):
    O, K = grad_output.shape[-1], input.shape[-1]
    g, x = grad_output.reshape(-1, O), input.reshape(-1, K)  # every leading axis is a batch axis
    grad_h = g @ U  # (n, rank): the gradient that reaches the middle h = x Vᵀ
    # (rank, in): as for any Linear, the gradient of its input's weight is grad_hᵀ · x
    return grad_h.T @ x


def _lr_flat(grad_output, input):
    return grad_output.reshape(-1, grad_output.shape[-1]), input.reshape(-1, input.shape[-1])


def _lr_mean(grad_output, input, U):
    g, x = _lr_flat(grad_output, input)
    return (g @ U).T @ x / len(g)


def _lr_weight_grad_only(grad_output, input, U):
    g, x = _lr_flat(grad_output, input)
    return g.T @ x


def _lr_2d_only(grad_output, input, U):
    return (grad_output @ U).T @ input


def _lr_transposed(grad_output, input, U):
    g, x = _lr_flat(grad_output, input)
    return x.T @ (g @ U)


register(Exercise(
    "low_rank_grad_V", low_rank_grad_V,
    cases=[((_rng.standard_normal((5, 4)), _rng.standard_normal((5, 7)), _rng.standard_normal((4, 2))), {}),
           ((_rng.standard_normal((2, 3, 6)), _rng.standard_normal((2, 3, 5)), _rng.standard_normal((6, 3))), {}),
           ((_rng.standard_normal((1, 3)), _rng.standard_normal((1, 8)), _rng.standard_normal((3, 1))), {})],
    kind="derive",
    mistakes=[
        Mistake(_lr_mean, "sum over the batch, don't average: the loss already decides whether to average."),
        Mistake(_lr_weight_grad_only, "gᵀx is the gradient of the whole product W = U·V, shape (out, in); V's "
                "gradient goes through U first: (g·U)ᵀ·x, shape (rank, in), which is also Uᵀ·(gᵀx)."),
        Mistake(_lr_2d_only, "grad_output and input may have several leading batch axes: reshape them to "
                "(-1, out_features) and (-1, in_features) first.",
                raises=((ValueError, IndexError), "matmul|align|operand|broadcast|dimension")),
        Mistake(_lr_transposed, "V has shape (rank, in_features), and so has its gradient: (g·U)ᵀ·x, "
                "not xᵀ·(g·U)."),
    ],
    shape_hint="V's gradient has V's shape (rank, in_features).",
    hints=("Give the middle a name: h = x·Vᵀ, of shape (N, rank), so that y = h·Uᵀ + b. Then V is the weight of a "
           "Linear layer whose input is x, and U that of one whose input is h.",
           "The gradient that reaches h is g·U (Linear's input gradient), and V's gradient is then (g·U)ᵀ·x "
           "(Linear's weight gradient). Reshape g and x to 2-D first: every leading axis is a batch axis."),
    explanation="Equivalently, with ∇W = gᵀx the gradient of the full product W = U·V: ∂L/∂V = Uᵀ·∇W (and "
                "∂L/∂U = ∇W·Vᵀ = gᵀ·h). Computing it through h is cheaper: it never forms the (out, in) matrix.",
))


# --- 6. Debug: a fully connected layer recast as a convolution ---------------------------------------------------
# The chapter shows this first version as the stub: it has the exercise's name, and the fix below takes it over.
def fc_to_conv(weight, feature_shape):
    """Linear weight (out, C·H·W) after Flatten -> Conv2d(C, out, (H, W)) kernels (out, C, H, W)."""
    # a bug is planted in this function
    C, H, W = feature_shape
    kernel = weight.reshape(-1, H, W, C)  # one block of weights per output, pixel by pixel
    return kernel.transpose(0, 3, 1, 2)  # conv2d wants (out, C, H, W)


_fc_to_conv_bug = fc_to_conv


def fc_to_conv(weight, feature_shape):
    """Linear weight (out, C·H·W) after Flatten -> Conv2d(C, out, (H, W)) kernels (out, C, H, W)."""
    C, H, W = feature_shape
    return weight.reshape(-1, C, H, W)  # Flatten's order: channel, then row, then column


register(Exercise(
    "fc_to_conv", fc_to_conv,
    cases=[((_rng.standard_normal((4, 3 * 2 * 5)), (3, 2, 5)), {}),
           ((_rng.standard_normal((6, 2 * 3 * 3)), (2, 3, 3)), {}),
           ((_rng.standard_normal((2, 5 * 4 * 2)), (5, 4, 2)), {})],
    kind="debug",
    bug=_fc_to_conv_bug,
    mistakes=[
        Mistake(lambda w, s: w.reshape(-1, s[0], s[2], s[1]),
                "Flatten walks rows before columns: position c·H·W + i·W + j holds (c, i, j), so the kernel is "
                "weight.reshape(out, C, H, W)."),
        Mistake(lambda w, s: w.reshape(-1, *s)[:, :, ::-1, ::-1],
                "don't flip: PyTorch's conv2d, like ours, is a cross-correlation (Chapter 1)."),
    ],
    shape_hint="The kernel has shape (out_features, C, H, W), with (C, H, W) the feature map's shape.",
    choices={"a": "the kernel must be flipped, because a convolution flips its kernel",
             "b": "the weight is unflattened in channels-last order (H, W, C), but Flatten put the channel first: "
                  "(C, H, W)",
             "c": "rows and columns are swapped: the kernel must be (out, C, W, H)",
             "d": "the kernel's axes must be (C, out, H, W): conv2d's weight is (in_channels, out_channels, kH, kW)"},
    answer="b",
    choice_hints={"a": "PyTorch's conv2d, like ours, is a cross-correlation (Chapter 1): nothing is flipped.",
                  "c": "conv2d's kernels are (kH, kW), rows first, like the map; and Flatten walks rows before "
                       "columns. Look at where the channel axis goes.",
                  "d": "conv2d's weight is (out_channels, in_channels, kH, kW); the returned kernel has that shape "
                       "already. Look at the values, not the shape."},
    hints=("Run the check below the stub: with three channels the recast disagrees with the dense layer. Try it on "
           "a one-channel map, feature_shape (1, H, W): there the two agree. What does C change?",
           "Flatten puts value (c, i, j) at position c·H·W + i·W + j: the channel varies slowest. Which reshape "
           "undoes that order?"),
    explanation="The fix is one line: kernel = weight.reshape(-1, C, H, W). The planted version is what a port from "
                "a channels-last framework (Keras, TensorFlow) needs, where the map is (N, H, W, C) and Flatten "
                "walks the channels fastest; applied to a PyTorch layer it scrambles the weights, and every value "
                "is wrong unless C = 1.",
))


# --- 7. Predict: the score map of a recast head ------------------------------------------------------------------
register(Exercise(
    "score_map_shape", None, [],
    kind="predict",
    choices={"a": "(10,): one score per class, as on 8×8 digits",
             "b": "an error: the head was built for 64×4×4 = 1024 features",
             "c": "(10, 3, 3): a 3×3 map of class scores",
             "d": "(10, 6, 6): a class score at every position of the 6×6 feature map"},
    answer="c",
    choice_hints={"a": "nothing averages or flattens any more: the head is now a convolution, and a convolution on a "
                       "larger map gives a larger output.",
                  "b": "that was the dense head. A Conv2d(64, 10, 4) accepts any map of at least 4×4.",
                  "d": "a 4×4 kernel does not fit at every position of a 6×6 map without padding."},
    hints=("The backbone turns 8×8 digits into 64 maps of 4×4, and 12×12 digits into 64 maps of 6×6. The recast "
           "head is a Conv2d(64, 10, kernel_size=4), stride 1, no padding.",
           "A 4×4 kernel fits 6 − 4 + 1 = 3 times along each axis of a 6×6 map."),
    explanation="The recast head slides over the 6×6 map and scores each of its 3×3 windows of 4×4 cells: one "
                "classification for each of nine placements of an 8×8 frame in the 12×12 image, two pixels apart.",
))
