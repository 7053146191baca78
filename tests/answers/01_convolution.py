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


def corr2d_kernel_grad(x, grad_out):
    # y[i, j] = sum_uv k[u, v] x[i + u, j + v], so dL/dk[u, v] = sum_ij g[i, j] x[i + u, j + v]
    Ho, Wo = grad_out.shape
    kh, kw = x.shape[0] - Ho + 1, x.shape[1] - Wo + 1
    grad = np.empty((kh, kw))
    for u in range(kh):
        for v in range(kw):
            grad[u, v] = (grad_out * x[u : u + Ho, v : v + Wo]).sum()
    return grad


stride2_shift = "c"


def conv_input_grad(grad_output, weight, input_shape, stride=1, padding=0):
    """dL/dx of conv2d without dilation or groups: send each g[n, o, i, j] back through its window's taps."""
    N, C, H, W = input_shape
    kh, kw = weight.shape[2:]
    grad = np.zeros((N, C, H + 2 * padding, W + 2 * padding))
    for i in range(grad_output.shape[2]):
        for j in range(grad_output.shape[3]):
            r, c = i * stride, j * stride  # where the window of output (i, j) starts in the padded input
            grad[:, :, r:r + kh, c:c + kw] += np.einsum("no,ocuv->ncuv", grad_output[:, :, i, j], weight)
    return grad[:, :, padding:padding + H, padding:padding + W]


conv_input_grad_bug = "c"
