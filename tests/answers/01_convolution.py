"""Chapter 1's exercises, answered from the chapter's text as a reader would (see tests/test_exercises.py)."""

import numpy as np


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    span = dilation * (kernel_size - 1) + 1  # cells the dilated kernel covers
    return (size + 2 * padding - span) // stride + 1


def corr2d(x, k):
    kh, kw = k.shape
    H_out, W_out = x.shape[0] - kh + 1, x.shape[1] - kw + 1
    out = np.empty((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[i, j] = (x[i : i + kh, j : j + kw] * k).sum()
    return out


def conv2d_single(x, w, b, padding=0):
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding)))
    O, C, kh, kw = w.shape
    H_out, W_out = xp.shape[1] - kh + 1, xp.shape[2] - kw + 1
    out = np.empty((O, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, i : i + kh, j : j + kw]
            out[:, i, j] = np.tensordot(w, window, axes=3) + b
    return out


def receptive_field(kernel_sizes, strides):
    r = 1  # walk back from one unit of the last layer to the input
    for k, s in zip(reversed(kernel_sizes), reversed(strides)):
        r = (r - 1) * s + k
    return r
