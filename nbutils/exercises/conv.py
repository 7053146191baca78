"""Chapter 1 exercises: output size, cross-correlation, channels, receptive field, the kernel's gradient (derive),
a strided shift (predict) and a planted bug in the input gradient (debug)."""

import numpy as np

from nbutils.exercises._core import Exercise, Mistake, register

_rng = np.random.default_rng(2026)


# --- 1. Output size ---------------------------------------------------------------------------
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    effective = dilation * (kernel_size - 1) + 1  # the span the dilated kernel covers
    return (size + 2 * padding - effective) // stride + 1


register(Exercise(
    "conv_output_size", conv_output_size,
    cases=[((n, k), dict(stride=s, padding=p, dilation=d))
           for n, k, s, p, d in [(5, 3, 1, 1, 1), (7, 3, 2, 0, 1), (8, 3, 2, 1, 1), (32, 5, 3, 2, 1),
                                 (9, 3, 1, 0, 2), (10, 2, 3, 1, 3), (31, 3, 2, 1, 1), (6, 4, 4, 0, 1)]],
    mistakes=[
        Mistake(lambda n, k, stride=1, padding=0, dilation=1: (n + 2 * padding - k) // stride + 1,
                "dilation spreads the kernel: it covers d·(k−1)+1 cells, not k."),
        Mistake(lambda n, k, stride=1, padding=0, dilation=1: (n + 2 * padding - dilation * (k - 1) - 1) // stride,
                "count the first window too: the formula ends with + 1."),
        Mistake(lambda n, k, stride=1, padding=0, dilation=1: (n + padding - dilation * (k - 1) - 1) // stride + 1,
                "padding is added on both sides: use 2·padding."),
        Mistake(lambda n, k, stride=1, padding=0, dilation=1: -(-(n + 2 * padding - dilation * (k - 1) - 1) // stride)
                + 1,
                "a window that would stick out past the edge is dropped: round down (floor), not up."),
        Mistake(lambda n, k, stride=1, padding=0, dilation=1: (n + 2 * padding - dilation * k) // stride + 1,
                "the dilated kernel spans d·(k−1)+1 cells, not d·k."),
        Mistake(lambda n, k, stride=1, padding=0, dilation=1: (n + 2 * padding - dilation * (k - 1) - 1) / stride + 1,
                "/ gives a fraction, but windows come whole: round down with // (floor division), which also "
                "returns an int."),
    ],
    shape_hint="Return one int.",
    returns="int",
    hints=("Count cells. The padded input has size + 2·padding cells, and the dilated kernel spans "
           "dilation·(kernel_size − 1) + 1 of them.",
           "The first window starts at cell 0, the last may start at size + 2p − span, and windows start every "
           "`stride` cells: floor((size + 2p − span) / stride) + 1, with // for the floor."),
))


# --- 2. Cross-correlation of one channel ------------------------------------------------------
def corr2d(x, k):
    H, W = x.shape
    kh, kw = k.shape
    out = np.zeros((H - kh + 1, W - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(x[i : i + kh, j : j + kw] * k)  # no flip: cross-correlation
    return out


def _true_convolution(x, k):
    return corr2d(x, k[::-1, ::-1])


register(Exercise(
    "corr2d", corr2d,
    cases=[((_rng.integers(-3, 4, (4, 5)).astype(float), np.array([[1.0, 2.0], [0.0, -1.0]])), {}),
           ((_rng.standard_normal((6, 6)), _rng.standard_normal((3, 3))), {}),
           ((_rng.standard_normal((5, 7)), _rng.standard_normal((2, 4))), {})],
    mistakes=[
        Mistake(_true_convolution, "you flipped the kernel. That is true convolution; deep learning's "
                "'convolution' is cross-correlation: out[i, j] = sum(x[i:i+kh, j:j+kw] * k)."),
        Mistake(lambda x, k: corr2d(x, k.T) if k.shape[0] == k.shape[1] else None,
                "you transposed the kernel: k[a, b] multiplies x[i + a, j + b]."),
    ],
    shape_hint="A valid cross-correlation gives (H − kh + 1) × (W − kw + 1): count the windows, including the last.",
    hints=("Output (i, j) is the window x[i:i+kh, j:j+kw] multiplied cell by cell with k, then summed. How many "
           "windows fit along each axis?",
           "Loop i over H − kh + 1 and j over W − kw + 1 and set out[i, j] = np.sum(x[i:i+kh, j:j+kw] * k). Do not "
           "flip k."),
))


# --- 3. Multi-channel convolution with bias and padding ---------------------------------------
def conv2d_single(x, w, b, padding=0):
    x = np.pad(x, ((0, 0), (padding, padding), (padding, padding)))
    C, H, W = x.shape
    O, _, kh, kw = w.shape
    out = np.zeros((O, H - kh + 1, W - kw + 1))
    for o in range(O):
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                # sum over channels too
                out[o, i, j] = np.sum(x[:, i : i + kh, j : j + kw] * w[o]) + b[o]
    return out


def _single_no_bias(x, w, b, padding=0):
    return conv2d_single(x, w, np.zeros_like(b), padding)


def _single_no_padding(x, w, b, padding=0):
    return conv2d_single(x, w, b, 0)


def _single_flipped(x, w, b, padding=0):
    return conv2d_single(x, w[:, :, ::-1, ::-1], b, padding)


def _single_bias_per_tap(x, w, b, padding=0):
    return conv2d_single(x, w, b * x.shape[0] * w.shape[2] * w.shape[3], padding)


register(Exercise(
    "conv2d_single", conv2d_single,
    cases=[((_rng.standard_normal(x), _rng.standard_normal(w), _rng.standard_normal(w[0])), {"padding": p})
           for x, w, p in [((2, 5, 5), (3, 2, 3, 3), 1), ((3, 6, 4), (2, 3, 2, 3), 0), ((1, 4, 4), (2, 1, 3, 3), 2)]],
    mistakes=[
        Mistake(_single_no_bias, "the bias is missing: add b[o] once to every output value of channel o."),
        Mistake(_single_no_padding, "padding was ignored: pad H and W with `padding` zeros on each side first."),
        Mistake(_single_flipped, "you flipped the kernel: that is true convolution, not cross-correlation."),
        Mistake(_single_bias_per_tap, "the bias is added once per output value, not once per multiplication."),
    ],
    shape_hint="Output is (C_out, H + 2p − kh + 1, W + 2p − kw + 1): one map per filter, summed over input channels.",
    hints=("Pad H and W first: np.pad(x, ((0, 0), (p, p), (p, p))). Output channel o has its own filter w[o], of "
           "shape (C, kH, kW), which reads all C channels of the window at once.",
           "out[o, i, j] = np.sum(xp[:, i:i+kH, j:j+kW] * w[o]) + b[o]: the sum runs over channels and taps, and "
           "the bias is added once per output value."),
))


# --- 4. Receptive field of a stack ------------------------------------------------------------
def receptive_field(kernel_sizes, strides):
    r, jump = 1, 1  # jump: distance in input pixels between neighbouring cells of the current layer
    for k, s in zip(kernel_sizes, strides):
        r += (k - 1) * jump
        jump *= s
    return r


def _rf_no_strides(kernel_sizes, strides):
    return 1 + sum(k - 1 for k in kernel_sizes)


def _rf_stride_too_early(kernel_sizes, strides):
    r, jump = 1, 1
    for k, s in zip(kernel_sizes, strides):
        jump *= s
        r += (k - 1) * jump
    return r


register(Exercise(
    "receptive_field", receptive_field,
    cases=[(([3, 3], [1, 1]), {}), (([3, 3, 3], [2, 2, 1]), {}), (([7, 3, 3], [2, 2, 2]), {}),
           (([5], [3]), {}), (([3, 2, 3, 2, 3], [1, 2, 1, 2, 1]), {})],
    mistakes=[
        Mistake(_rf_no_strides,
                "strides matter: after a stride-s layer, one step in the next layer moves s input pixels."),
        Mistake(_rf_stride_too_early,
                "a layer's own stride does not widen its own window; it only affects the layers after it."),
    ],
    shape_hint="Return one int.",
    returns="int",
    hints=("Walk up from the input and keep two numbers: the field r (1 pixel at first) and the jump, the distance "
           "in input pixels between neighbouring units of the current layer (1 at first).",
           "Each layer adds (k − 1)·jump to r, and only then multiplies jump by its own stride. (Walking down from "
           "the top instead: r = (r − 1)·s + k, layer by layer.)"),
))


# --- 5. Derive: the kernel's gradient -----------------------------------------------------------
def corr2d_kernel_grad(x, grad_out):
    # the kernel's shape
    kh, kw = x.shape[0] - grad_out.shape[0] + 1, x.shape[1] - grad_out.shape[1] + 1
    grad = np.zeros((kh, kw))
    for u in range(kh):
        for v in range(kw):  # dL/dk[u, v] = sum_ij g[i, j] x[i + u, j + v]: x correlated with g
            grad[u, v] = np.sum(grad_out * x[u : u + grad_out.shape[0], v : v + grad_out.shape[1]])
    return grad


register(Exercise(
    "corr2d_kernel_grad", corr2d_kernel_grad,
    cases=[((_rng.standard_normal(x), _rng.standard_normal(g)), {})
           for x, g in [((4, 4), (3, 3)), ((5, 6), (3, 4)), ((6, 5), (2, 4)), ((4, 7), (4, 5))]],
    mistakes=[
        Mistake(lambda x, g: corr2d(x, g[::-1, ::-1]),
                "g is flipped. k[u, v] multiplies x[i + u, j + v] in output (i, j), so its gradient pairs g[i, j] "
                "with x[i + u, j + v]: no flip anywhere."),
        Mistake(lambda x, g: corr2d(x, g)[::-1, ::-1],
                "the result is flipped: entry (u, v) of the gradient pairs g[i, j] with x[i + u, j + v], not "
                "with x[i + kh − 1 − u, j + kw − 1 − v]."),
        Mistake(lambda x, g: corr2d(x, g) / g.size,
                "the gradient is a sum over every output (i, j), not a mean: each output adds its own g[i, j]·x."),
    ],
    shape_hint="The kernel's gradient has the kernel's shape: (H − H_out + 1) × (W − W_out + 1).",
    kind="derive",
    hints=("Write y[i, j] = Σ_{u,v} k[u, v] x[i + u, j + v] and ask which terms of the sum contain k[u, v], and "
           "what multiplies it there. The chain rule then sums g[i, j] times that over every output (i, j).",
           "∂L/∂k[u, v] = Σ_{i,j} g[i, j] x[i + u, j + v]: the same sliding sum as corr2d, with g in the kernel's "
           "place. So the answer is corr2d(x, g), of shape (H − H_out + 1) × (W − W_out + 1)."),
))


# --- 6. Predict: a strided convolution and a one-pixel shift ---------------------------------
register(Exercise(
    "stride2_shift", None, [], kind="predict",
    choices={"a": "the output shifts by one cell",
             "b": "the output shifts by half a cell: each value becomes the mean of two neighbours",
             "c": "the output is not a shifted copy of the old one: it holds other values",
             "d": "the output does not change"},
    answer="c",
    choice_hints={"a": "the output has one cell for every *two* input columns. Which windows does it read after a "
                       "one-pixel shift?",
                  "b": "a convolution never averages neighbouring outputs: each output is one window's sum.",
                  "d": "every window now reads other pixels, so the values change."},
    hints=("With stride 2, the outputs read every other window: the ones that start at columns 0, 2, 4, … of the "
           "padded image. After a one-pixel shift, which of the image's windows do they read?",
           "After the shift they read the windows that the old output skipped, the ones in between: windows it "
           "never computed. Only a shift by a multiple of the stride moves the output by whole cells."),
    explanation="A stride-2 convolution is the stride-1 convolution sampled at every other position. A one-pixel "
                "shift makes it sample the other positions: new values, not a shifted copy. A shift by two pixels "
                "does shift the output by one cell. So strides (and strided pooling) keep translation equivariance "
                "only for shifts by multiples of the stride, which is why a one-pixel shift can change a CNN's "
                "prediction (R. Zhang, Making Convolutional Networks Shift-Invariant Again, ICML 2019).",
))


# --- 7. Debug: the input gradient, by scattering back through the windows ----------------------
def conv_input_grad(grad_output, weight, input_shape, stride=1, padding=0):
    """dL/dx of conv2d (no dilation or groups): send each g[n, o, i, j] back through its taps."""
    # a bug is planted in this function
    N, C, H, W = input_shape
    kh, kw = weight.shape[2:]
    w = weight[:, :, ::-1, ::-1]  # the backward of a convolution uses the flipped kernel
    grad = np.zeros((N, C, H + 2 * padding, W + 2 * padding))
    for i in range(grad_output.shape[2]):
        for j in range(grad_output.shape[3]):
            # where the window of output (i, j) starts in the padded input
            r, c = i * stride, j * stride
            grad[:, :, r:r + kh, c:c + kw] += np.einsum("no,ocuv->ncuv", grad_output[:, :, i, j], w)
    return grad[:, :, padding:padding + H, padding:padding + W]


_planted_conv_input_grad = conv_input_grad


def conv_input_grad(grad_output, weight, input_shape, stride=1, padding=0):
    """dL/dx of conv2d (no dilation or groups): send each g[n, o, i, j] back through its taps."""
    N, C, H, W = input_shape
    kh, kw = weight.shape[2:]
    grad = np.zeros((N, C, H + 2 * padding, W + 2 * padding))
    for i in range(grad_output.shape[2]):
        for j in range(grad_output.shape[3]):
            # where the window of output (i, j) starts in the padded input
            r, c = i * stride, j * stride
            # tap (u, v) read x_p[r + u, c + v] with weight w[o, c, u, v]:
            # the gradient goes back the same way
            grad[:, :, r:r + kh, c:c + kw] += np.einsum("no,ocuv->ncuv",
                                                        grad_output[:, :, i, j], weight)
    return grad[:, :, padding:padding + H, padding:padding + W]


def _input_grad_case(N, C, O, H, W, kh, kw, stride, padding):
    Ho, Wo = (H + 2 * padding - kh) // stride + 1, (W + 2 * padding - kw) // stride + 1
    return ((_rng.standard_normal((N, O, Ho, Wo)), _rng.standard_normal((O, C, kh, kw)), (N, C, H, W)),
            dict(stride=stride, padding=padding))


def _input_grad_assigned(grad_output, weight, input_shape, stride=1, padding=0):
    N, C, H, W = input_shape
    kh, kw = weight.shape[2:]
    grad = np.zeros((N, C, H + 2 * padding, W + 2 * padding))
    for i in range(grad_output.shape[2]):
        for j in range(grad_output.shape[3]):
            r, c = i * stride, j * stride
            grad[:, :, r:r + kh, c:c + kw] = np.einsum("no,ocuv->ncuv", grad_output[:, :, i, j], weight)
    return grad[:, :, padding:padding + H, padding:padding + W]


def _input_grad_cropped_at_the_start(grad_output, weight, input_shape, stride=1, padding=0):
    H, W = input_shape[2:]
    padded = conv_input_grad(grad_output, weight, input_shape, stride, padding)
    grad = np.zeros(padded.shape[:2] + (H + 2 * padding, W + 2 * padding))
    grad[:, :, padding:padding + H, padding:padding + W] = padded  # back to the padded gradient
    return grad[:, :, :H, :W]


register(Exercise(
    "conv_input_grad", conv_input_grad,
    cases=[_input_grad_case(*c) for c in [(1, 2, 3, 5, 5, 3, 3, 1, 0), (2, 2, 3, 6, 5, 3, 2, 1, 1),
                                          (1, 3, 2, 7, 7, 3, 3, 2, 1), (2, 1, 2, 6, 7, 2, 3, 2, 0)]],
    mistakes=[
        Mistake(_input_grad_assigned, "overlapping windows overwrite each other: `=` keeps only the last window's "
                "share. A cell read by several windows gets the sum of their gradients: use +=."),
        Mistake(_input_grad_cropped_at_the_start, "the crop keeps the first H rows of the padded gradient, which "
                "include the padding: drop `padding` rows and columns on both sides."),
    ],
    shape_hint="The input gradient has the input's shape, input_shape.",
    kind="debug",
    bug=_planted_conv_input_grad,
    choices={"a": "the window of output (i, j) starts at the wrong place: it should start at i·stride + padding",
             "b": "the crop at the end removes the padding from the wrong side",
             "c": "the kernel is flipped: scattering back through the window needs the kernel as it is",
             "d": "the gradients of overlapping windows overwrite each other instead of adding up"},
    answer="c",
    choice_hints={"a": "grad is the gradient of the *padded* input, and in the padded input the window of output "
                       "(i, j) does start at i·stride. That line is right.",
                  "b": "grad covers the padded input; padding:padding + H drops `padding` cells on both sides, "
                       "which is right.",
                  "d": "the line uses +=, so overlapping windows add up."},
    hints=("Run `lab` again with a kernel that equals its own 180° rotation, w_lab + w_lab[:, :, ::-1, ::-1]. If "
           "the checks pass then, the bug is about which way round the kernel is.",
           "In the forward, tap (u, v) multiplies x_p[i·s + u, j·s + v] by w[o, c, u, v]. The backward sends "
           "g[n, o, i, j]·w[o, c, u, v] back to that same cell: the kernel as it is. The flip belongs only to the "
           "other way of writing the sum, the full convolution over g. Delete the flip."),
    explanation="The scatter form and the full convolution compute the same sum from two sides: the scatter walks "
                "over the outputs and sends each one back through its window, unflipped; the full convolution walks "
                "over the inputs and gathers from every output that read it, which flips the kernel. Flipping in "
                "the scatter form is a sign-correct, shape-correct bug that only a check against torch or a "
                "gradcheck catches, and only with a kernel that is not symmetric.",
))
