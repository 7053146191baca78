"""Chapter 1 exercises: output size, 2-D cross-correlation, multi-channel convolution, receptive field."""

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
                out[o, i, j] = np.sum(x[:, i : i + kh, j : j + kw] * w[o]) + b[o]  # sum over channels too
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
))
