"""Chapter 3 exercises: ceil_mode output size, max-pooling backward, padded average pooling, adaptive windows,
the average-pooling gradient (derive), where a max pool sends its gradient (predict), a scatter that loses gradients
(debug)."""

import numpy as np

from nbutils.exercises._core import Exercise, Mistake, register

_rng = np.random.default_rng(2027)


# --- 1. Output size with ceil_mode=True -------------------------------------------------------
def ceil_mode_output_size(size, kernel_size, stride, padding=0):
    out = -(-(size + 2 * padding - kernel_size) // stride) + 1  # round up ...
    if (out - 1) * stride >= size + padding:  # ... but no window may start in the right padding
        out -= 1
    return out


def _ceil_floor(size, kernel_size, stride, padding=0):
    return (size + 2 * padding - kernel_size) // stride + 1


def _ceil_plain(size, kernel_size, stride, padding=0):
    return -(-(size + 2 * padding - kernel_size) // stride) + 1


def _ceil_strict(size, kernel_size, stride, padding=0):
    out = _ceil_plain(size, kernel_size, stride, padding)
    return out - 1 if (out - 1) * stride > size + padding else out


def _ceil_pad_once(size, kernel_size, stride, padding=0):
    out = -(-(size + padding - kernel_size) // stride) + 1  # padding on one side only
    return out - 1 if (out - 1) * stride >= size + padding else out


def _ceil_drop_test_without_left_padding(size, kernel_size, stride, padding=0):
    out = _ceil_plain(size, kernel_size, stride, padding)
    return out - 1 if (out - 1) * stride >= size else out


def _ceil_no_plus_one(size, kernel_size, stride, padding=0):
    return -(-(size + 2 * padding - kernel_size) // stride)


register(Exercise(
    "ceil_mode_output_size", ceil_mode_output_size,
    cases=[((n, k, s), dict(padding=p))
           for n, k, s, p in [(8, 3, 2, 0), (5, 2, 2, 1), (2, 3, 4, 1), (32, 3, 2, 1), (10, 4, 3, 2),
                              (6, 2, 4, 1), (55, 3, 2, 0), (9, 2, 3, 1), (5, 4, 3, 2)]],
    mistakes=[
        Mistake(_ceil_floor, "ceil_mode rounds up: ceil((size + 2·padding − kernel_size) / stride) + 1. "
                "In integers, ceil(a / b) is -(-a // b)."),
        Mistake(_ceil_plain, "rounding up can add a window that starts in the right padding and reads no input cell. "
                "torch drops it: if (out − 1)·stride ≥ size + padding, subtract 1."),
        Mistake(_ceil_strict, "a window that starts exactly at cell size + padding already lies in the right padding: "
                "the test is (out − 1)·stride ≥ size + padding, with ≥, not >."),
        Mistake(_ceil_pad_once, "padding is added on both sides: use size + 2·padding."),
        Mistake(_ceil_drop_test_without_left_padding, "window starts (out − 1)·stride are counted from the left "
                "edge of the PADDED input, where the input's cells end at size + padding: drop the last window when "
                "(out − 1)·stride ≥ size + padding, not ≥ size."),
        Mistake(_ceil_no_plus_one, "count the first window too: the formula ends with + 1."),
    ],
    shape_hint="Return one int.",
    returns="int",
    hints=("Start from Chapter 1's formula, but round the division up instead of down. Then ask where the last "
           "window starts.",
           "out = ceil((size + 2·padding − kernel_size) / stride) + 1, and if (out − 1)·stride ≥ size + padding (the "
           "last window would start in the right padding), subtract 1. In integers, ceil(a / b) is -(-a // b)."),
))


# --- 2. Max-pooling backward ------------------------------------------------------------------
def max_pool_backward(x, grad_out, kernel_size, stride):
    grad = np.zeros(x.shape)
    for i in range(grad_out.shape[0]):
        for j in range(grad_out.shape[1]):
            window = x[i * stride : i * stride + kernel_size, j * stride : j * stride + kernel_size]
            # the first maximum in row-major order
            a, b = np.unravel_index(np.argmax(window), window.shape)
            # +=: overlapping windows may share it
            grad[i * stride + a, j * stride + b] += grad_out[i, j]
    return grad


def _route(x, grad_out, kernel_size, stride, pick, add=True):
    """Send each grad_out value to the cells pick(window) returns (a boolean mask), adding or assigning."""
    grad = np.zeros(x.shape)
    for i in range(grad_out.shape[0]):
        for j in range(grad_out.shape[1]):
            rows, cols = slice(i * stride, i * stride + kernel_size), slice(j * stride, j * stride + kernel_size)
            mask = pick(x[rows, cols])
            if add:
                grad[rows, cols] += mask * grad_out[i, j]
            else:
                grad[rows, cols][mask] = grad_out[i, j]
    return grad


def _first_max(w):
    mask = np.zeros(w.shape, bool)
    mask[np.unravel_index(np.argmax(w), w.shape)] = True
    return mask


def _last_max(w):
    mask = np.zeros(w.shape, bool)
    flat = w.size - 1 - np.argmax(w.ravel()[::-1])
    mask[np.unravel_index(flat, w.shape)] = True
    return mask


register(Exercise(
    "max_pool_backward", max_pool_backward,
    cases=[
        ((_rng.integers(0, 3, (4, 4)).astype(float), _rng.standard_normal((2, 2)), 2, 2), {}),
        ((_rng.standard_normal((5, 5)) + np.pad([[9.0]], 2), _rng.standard_normal((3, 3)), 3, 1), {}),
        ((_rng.integers(0, 4, (7, 7)).astype(float), _rng.standard_normal((3, 3)), 3, 2), {}),
        ((_rng.standard_normal((6, 7)), _rng.standard_normal((3, 3)), 2, 2), {}),
    ],
    mistakes=[
        Mistake(lambda x, g, k, s: _route(x, g, k, s, lambda w: w == w.max()),
                "with ties, torch sends the gradient to one cell only: the first maximum in row-major order "
                "(np.argmax finds it)."),
        Mistake(lambda x, g, k, s: _route(x, g, k, s, _last_max),
                "ties go to the first maximum in row-major order (the order torch scans the window), not the last."),
        Mistake(lambda x, g, k, s: _route(x, g, k, s, _first_max, add=False),
                "when stride < kernel_size the windows overlap, and one cell can be the maximum of several windows: "
                "add (+=) their gradients instead of overwriting."),
        Mistake(lambda x, g, k, s: _route(x, g, k, s, lambda w: np.full(w.shape, 1 / w.size)),
                "that is average pooling's rule. Max pooling sends the whole gradient to the window's maximum."),
    ],
    shape_hint="The gradient has the shape of x.",
    hints=("Start from zeros shaped like x. For each output (i, j), find the one cell of its window that won, and "
           "send grad_out[i, j] there.",
           "np.argmax(window) is the first maximum in row-major order, as torch picks it; np.unravel_index turns it "
           "into (a, b), the cell x[i·stride + a, j·stride + b]. Add with +=: overlapping windows can share a winner."),
))


# --- 3. Average pooling with padding ----------------------------------------------------------
def avg_pool_padded(x, kernel_size, stride, padding, count_include_pad):
    xp = np.pad(x, padding)  # zeros: they add nothing to the sums
    inside = np.pad(np.ones(x.shape), padding)  # 1 on input cells, 0 on padding
    H_out = (xp.shape[0] - kernel_size) // stride + 1
    W_out = (xp.shape[1] - kernel_size) // stride + 1
    out = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + kernel_size)
            cols = slice(j * stride, j * stride + kernel_size)
            divisor = kernel_size**2 if count_include_pad else inside[rows, cols].sum()
            out[i, j] = xp[rows, cols].sum() / divisor
    return out


def _avg(x, kernel_size, stride, padding, count_include_pad, divisor, mode="constant"):
    """Average pooling with divisor(window, inside) and padding mode `mode`."""
    xp, inside = np.pad(x, padding, mode=mode), np.pad(np.ones(x.shape), padding)
    H_out, W_out = (xp.shape[0] - kernel_size) // stride + 1, (xp.shape[1] - kernel_size) // stride + 1
    out = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            rows, cols = slice(i * stride, i * stride + kernel_size), slice(j * stride, j * stride + kernel_size)
            out[i, j] = xp[rows, cols].sum() / divisor(xp[rows, cols], inside[rows, cols], count_include_pad)
    return out


register(Exercise(
    "avg_pool_padded", avg_pool_padded,
    cases=[((x, k, s, p, c), {})
           for x, k, s, p in [(_rng.integers(0, 4, (4, 4)).astype(float), 2, 2, 1),
                              (_rng.standard_normal((5, 5)), 3, 2, 1),
                              (_rng.integers(0, 3, (5, 6)).astype(float), 4, 2, 2)]
           for c in (True, False)],
    mistakes=[
        Mistake(lambda x, k, s, p, c: _avg(x, k, s, p, c, lambda w, inside, c: w.size),
                "with count_include_pad=False, divide by the number of input cells in the window (padding excluded), "
                "not by kernel_size²."),
        Mistake(lambda x, k, s, p, c: _avg(x, k, s, p, c, lambda w, inside, c: inside.sum()),
                "with count_include_pad=True the padding cells count too: every window divides by kernel_size²."),
        Mistake(lambda x, k, s, p, c: avg_pool_padded(x, k, s, 0, c),
                "padding was ignored: pad x with `padding` zeros on each side first."),
        Mistake(lambda x, k, s, p, c: _avg(x, k, s, p, c, lambda w, inside, c: max(np.count_nonzero(w), 1)),
                "count cells, not nonzero values: an input cell that holds 0 still counts in the divisor."),
        Mistake(lambda x, k, s, p, c: _avg(x, k, s, p, c, lambda w, inside, c: w.size if c else inside.sum(),
                                            mode="edge"),
                "average pooling pads with zeros, not with copies of the edge values."),
    ],
    shape_hint="The output is ((H + 2·padding − kernel_size) // stride + 1) × ((W + 2·padding − kernel_size) // stride"
               " + 1).",
    hints=("Pad x with zeros (np.pad(x, padding)): zeros add nothing to a sum, so only the divisor depends on "
           "count_include_pad.",
           "With count_include_pad=True every window divides by kernel_size². With False, count the input cells in "
           "the window: pad an array of ones the same way and sum it over the window."),
))


# --- 4. Adaptive windows ----------------------------------------------------------------------
def adaptive_windows(size, output_size):
    i = np.arange(output_size)
    start = (i * size) // output_size  # floor
    end = -(-(i + 1) * size // output_size)  # ceil
    return np.stack([start, end], axis=1)


def _windows_floor_end(size, output_size):
    i = np.arange(output_size)
    return np.stack([(i * size) // output_size, ((i + 1) * size) // output_size], axis=1)


def _windows_ceil_start(size, output_size):
    i = np.arange(output_size)
    return np.stack([-(-i * size // output_size), -(-(i + 1) * size // output_size)], axis=1)


def _windows_one_stride(size, output_size):
    stride = size // output_size
    kernel = size - (output_size - 1) * stride
    start = np.arange(output_size) * stride
    return np.stack([start, start + kernel], axis=1)


register(Exercise(
    "adaptive_windows", adaptive_windows,
    cases=[((n, o), {}) for n, o in [(6, 3), (5, 3), (7, 3), (10, 4), (3, 5), (13, 5), (224, 7)]],
    mistakes=[
        Mistake(_windows_floor_end, "the end rounds up, ceil((i + 1)·size / output_size); rounding it down can leave "
                "cells in no window."),
        Mistake(_windows_ceil_start, "the start rounds down, floor(i·size / output_size); rounding it up can skip "
                "a cell."),
        Mistake(_windows_one_stride, "adaptive windows do not share one kernel size and one stride: window i has "
                "its own start floor(i·size / output_size) and end ceil((i + 1)·size / output_size)."),
    ],
    shape_hint="Return an array of shape (output_size, 2): one (start, end) row per output.",
    returns="int array",
    hints=("The text gives window i as floor(i·size / output_size) ≤ h < ceil((i + 1)·size / output_size).",
           "With i = np.arange(output_size): start = (i * size) // output_size, end = -(-(i + 1) * size // output_size)"
           "; stack them as columns, np.stack([start, end], axis=1)."),
))


# --- 5. The gradient of average pooling (derive) ------------------------------------------------
def avg_pool_grad(grad_out, size, kernel_size, stride):
    k, s = kernel_size, stride
    grad = np.zeros(size)
    for i in range(grad_out.shape[0]):
        for j in range(grad_out.shape[1]):
            # dy_ij/dx_uv = 1/k² in the window
            grad[i * s : i * s + k, j * s : j * s + k] += grad_out[i, j] / k**2
    return grad


def _avg_grad(grad_out, size, kernel_size, stride, divisor, add=True):
    k, s = kernel_size, stride
    grad = np.zeros(size)
    for i in range(grad_out.shape[0]):
        for j in range(grad_out.shape[1]):
            window = grad[i * s : i * s + k, j * s : j * s + k]
            if add:
                window += grad_out[i, j] / divisor(k)
            else:
                window[...] = grad_out[i, j] / divisor(k)
    return grad


def _avg_grad_per_cell_count(grad_out, size, kernel_size, stride):
    """Each cell gets the mean of the gradients of the windows that contain it (divides by the coverage)."""
    total = _avg_grad(grad_out, size, kernel_size, stride, lambda k: 1)
    count = _avg_grad(np.ones(grad_out.shape), size, kernel_size, stride, lambda k: 1)
    return np.divide(total, count, out=np.zeros(size), where=count > 0)


register(Exercise(
    "avg_pool_grad", avg_pool_grad,
    cases=[((_rng.standard_normal((2, 2)), (4, 4), 2, 2), {}),
           ((_rng.standard_normal((3, 3)), (5, 5), 3, 1), {}),
           ((_rng.standard_normal((3, 2)), (7, 6), 3, 2), {}),
           ((_rng.standard_normal((2, 3)), (5, 8), 2, 3), {})],
    mistakes=[
        Mistake(lambda g, n, k, s: _avg_grad(g, n, k, s, lambda k: 1),
                "y_ij is the sum of the window divided by k², so each cell's derivative is 1/k², not 1: divide the "
                "share by kernel_size² (the bug of a GAP backward that forgets 1/(HW))."),
        Mistake(lambda g, n, k, s: _avg_grad(g, n, k, s, lambda k: k),
                "the window holds kernel_size² cells, not kernel_size: divide by kernel_size²."),
        Mistake(lambda g, n, k, s: _avg_grad(g, n, k, s, lambda k: k**2, add=False),
                "when stride < kernel_size the windows overlap, and a cell in several windows gets a share from each: "
                "add (+=) the shares instead of overwriting."),
        Mistake(_avg_grad_per_cell_count,
                "a cell in several windows gets the sum of their shares, g_ij / k² each, not their average: the "
                "chain rule adds the paths."),
    ],
    shape_hint="The gradient has the input's shape, `size`.",
    kind="derive",
    hints=("Write y_ij = (1/k²)·Σ_ab x[i·s + a, j·s + b] and take ∂y_ij/∂x_uv: what is it for a cell inside window "
           "(i, j), and outside? Then ∂L/∂x_uv = Σ_ij g_ij·∂y_ij/∂x_uv.",
           "∂y_ij/∂x_uv = 1/k² inside the window and 0 outside, so ∂L/∂x_uv is the sum of g_ij / k² over the windows "
           "that contain (u, v). Loop over the outputs and add g[i, j] / k² to grad[i·s : i·s + k, j·s : j·s + k]."),
))


# --- 6. Where does a max pool send its gradient? (predict) ---------------------------------------
register(Exercise(
    "overlap_grad_cells", None, [],
    kind="predict",
    answer=8,
    tolerance=0,
    choice_hints={1: "the 5 is not the only winner: a window of zeros has a 9-way tie, and a tie still sends the "
                     "gradient to one cell.",
                  9: "9 is how many windows contain the 5, and they all send to the SAME cell. Count cells, not "
                     "windows.",
                  16: "16 is the number of windows, but several windows send to the same cell.",
                  10: "count the 5 once: the 9 windows that contain it all send to that one cell."},
    hints=("Sort the 16 windows into two groups: those that contain the 5, and those that hold only zeros. Where does "
           "each group send its gradient?",
           "9 windows contain the 5, and all 9 send their gradient to it (it collects 9). Each of the other 7 holds "
           "only zeros, a 9-way tie, and sends its gradient to its first cell in row-major order, its top-left "
           "corner. Are those 7 corners different cells, and is any of them the 5?"),
    explanation="The 5 wins the 9 windows that contain it and collects a gradient of 9. The 7 windows of zeros each "
                "send 1 to their top-left corner, (0, 0), (1, 0), (2, 0) and (3, 0) to (3, 3), seven different cells. "
                "1 + 7 = 8 cells get a nonzero gradient; the other 28 get nothing, and no cell gets a share.",
))


# --- 7. A vectorised max-pooling backward (debug) -------------------------------------------------
def max_pool_grad(x, grad_out, kernel_size, stride):
    # a bug is planted in this function
    """Max pooling gradient (2-D x, no padding): grad_out values go to their windows' first max."""
    k, s = kernel_size, stride
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k))[::s, ::s]  # (H_out, W_out, k, k)
    # the first maximum, in row-major order
    first = windows.reshape(*windows.shape[:2], k * k).argmax(axis=2)
    # the input cell that won each window
    rows = np.arange(windows.shape[0])[:, None] * s + first // k
    cols = np.arange(windows.shape[1])[None, :] * s + first % k
    grad = np.zeros(x.shape)
    grad[rows, cols] += grad_out
    return grad


_planted_max_pool_grad = max_pool_grad


def max_pool_grad(x, grad_out, kernel_size, stride):
    """Max pooling gradient (2-D x, no padding): grad_out values go to their windows' first max."""
    k, s = kernel_size, stride
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k))[::s, ::s]  # (H_out, W_out, k, k)
    # the first maximum, in row-major order
    first = windows.reshape(*windows.shape[:2], k * k).argmax(axis=2)
    # the input cell that won each window
    rows = np.arange(windows.shape[0])[:, None] * s + first // k
    cols = np.arange(windows.shape[1])[None, :] * s + first % k
    grad = np.zeros(x.shape)
    # unbuffered: a cell that won several windows gets every value
    np.add.at(grad, (rows, cols), grad_out)
    return grad


def _max_pool_grad_all_ties(x, grad_out, kernel_size, stride):
    return _route(x, grad_out, kernel_size, stride, lambda w: w == w.max())


register(Exercise(
    "max_pool_grad", max_pool_grad,
    cases=[((_rng.integers(0, 4, (4, 6)).astype(float), _rng.standard_normal((2, 3)), 2, 2), {}),
           ((_rng.standard_normal((5, 5)) + np.pad([[9.0]], 2), _rng.standard_normal((3, 3)), 3, 1), {}),
           ((_rng.integers(0, 3, (7, 7)).astype(float), _rng.standard_normal((3, 3)), 3, 2), {}),
           ((_rng.standard_normal((6, 5)), _rng.standard_normal((5, 4)), 2, 1), {})],
    mistakes=[
        Mistake(_max_pool_grad_all_ties,
                "with ties, torch sends the gradient to one cell only, the first maximum: argmax was right."),
    ],
    shape_hint="The gradient has the shape of x.",
    kind="debug",
    bug=_planted_max_pool_grad,
    choices={"a": "argmax returns the last maximum of a window, so ties go to the wrong cell",
             "b": "the row and the column of the winning tap are swapped: it should be first % k for the row",
             "c": "`grad[rows, cols] += grad_out` adds only once at a repeated index, so a cell that won several "
                  "overlapping windows keeps one value instead of their sum",
             "d": "[::s, ::s] skips windows: every window of sliding_window_view should be used"},
    answer="c",
    choice_hints={"a": "np.argmax returns the first maximum, as torch's scan picks it; the tie checks of the chapter "
                       "pass with non-overlapping windows.",
                  "b": "the taps are flattened row by row, so tap t is row t // k, column t % k, as written.",
                  "d": "sliding_window_view makes a window at every position (stride 1); [::s, ::s] keeps every "
                       "s-th, which is what stride s means. With stride = kernel the check passes."},
    hints=("With kernel 2 and stride 2 the comparison with torch passes; with kernel 3 and stride 1 it fails. What "
           "can happen to one input cell when windows overlap?",
           "A cell can win several windows, so (rows, cols) holds the same index several times. NumPy's fancy-index "
           "`+=` reads every index once, adds, and writes back: repeated indices keep one value. np.add.at(grad, "
           "(rows, cols), grad_out) adds them all."),
    explanation="grad[rows, cols] += grad_out is grad[rows, cols] = grad[rows, cols] + grad_out: the right side is "
                "computed once for every index, then written, so at a repeated index the last write wins. Without "
                "overlap every index is distinct and the bug hides; with overlap, a cell that wins k windows gets "
                "1 value instead of k. It is the fast twin of 'assigning instead of adding'. np.add.at is unbuffered "
                "and adds every value, which is why the chapter's max_pool2d_backward uses it.",
))
