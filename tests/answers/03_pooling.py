"""Chapter 3's exercises, answered from the chapter's text as a reader would (see tests/test_exercises.py)."""

import numpy as np


def ceil_mode_output_size(size, kernel_size, stride, padding=0):
    out = int(np.ceil((size + 2 * padding - kernel_size) / stride)) + 1
    if (out - 1) * stride >= size + padding:  # the last window would start in the right padding
        out -= 1
    return out


def max_pool_backward(x, grad_out, kernel_size, stride):
    grad = np.zeros(x.shape)
    for i in range(grad_out.shape[0]):
        for j in range(grad_out.shape[1]):
            r, c = i * stride, j * stride
            window = x[r : r + kernel_size, c : c + kernel_size]
            a, b = divmod(int(np.argmax(window)), window.shape[1])  # the first maximum, row by row
            grad[r + a, c + b] += grad_out[i, j]
    return grad


def avg_pool_padded(x, kernel_size, stride, padding, count_include_pad):
    H, W = x.shape
    k, s, p = kernel_size, stride, padding
    xp = np.zeros((H + 2 * p, W + 2 * p))
    xp[p : p + H, p : p + W] = x
    H_out, W_out = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
    out = np.empty((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            r, c = i * s, j * s
            if count_include_pad:
                n = k * k
            else:
                n = (min(r + k, p + H) - max(r, p)) * (min(c + k, p + W) - max(c, p))
            out[i, j] = xp[r : r + k, c : c + k].sum() / n
    return out


def adaptive_windows(size, output_size):
    rows = []
    for i in range(output_size):
        start = (i * size) // output_size
        end = ((i + 1) * size + output_size - 1) // output_size  # rounded up
        rows.append([start, end])
    return np.array(rows, dtype=int)


def avg_pool_grad(grad_out, size, kernel_size, stride):
    # y_ij = (1/k²) Σ x over window (i, j), so dL/dx_uv = Σ over the windows that hold (u, v) of g_ij / k²
    k, s = kernel_size, stride
    grad = np.zeros(size)
    for i in range(grad_out.shape[0]):
        for j in range(grad_out.shape[1]):
            grad[i * s : i * s + k, j * s : j * s + k] += grad_out[i, j] / (k * k)
    return grad


overlap_grad_cells = 8  # the 5 (from its 9 windows) and the top-left cells of the 7 windows of zeros


def max_pool_grad(x, grad_out, kernel_size, stride):
    # a bug is planted in this function
    """Gradient of max pooling (2-D x, no padding): each grad_out value goes to the first maximum of its window."""
    k, s = kernel_size, stride
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k))[::s, ::s]  # (H_out, W_out, k, k)
    first = windows.reshape(*windows.shape[:2], k * k).argmax(axis=2)  # the first maximum, in row-major order
    rows = np.arange(windows.shape[0])[:, None] * s + first // k  # the input cell that won each window
    cols = np.arange(windows.shape[1])[None, :] * s + first % k
    grad = np.zeros(x.shape)
    np.add.at(grad, (rows, cols), grad_out)  # fixed: every repeated index adds its value
    return grad


max_pool_grad_bug = "c"
