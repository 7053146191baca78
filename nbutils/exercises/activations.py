"""Chapter 2 exercises: a stable softmax, the sigmoid's gradient from its output, PReLU's weight gradient and a
stable log-softmax.

Mistakes that overflow to inf/inf would give NaN, which never matches anything; the cases therefore include
scores that make the usual mistakes *underflow* to a finite wrong answer (exp(-746) is 0 in float64), so
that each mistake is recognised and gets its own hint.
"""

import functools

import numpy as np

from nbutils.exercises._core import Exercise, Mistake, register

_rng = np.random.default_rng(2027)


def _quiet(fn):
    """Run a catalogued mistake without NumPy's overflow warnings: they would show up in the reader's check."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)
    return wrapper


# --- 1. A stable softmax ----------------------------------------------------------------------
def stable_softmax(x, axis):
    z = x - x.max(axis=axis, keepdims=True)  # shift each slice so that its largest score is 0
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


@_quiet
def _softmax_naive(x, axis):
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


@_quiet
def _softmax_whole_sum(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum()


@_quiet
def _softmax_last_axis(x, axis):
    return stable_softmax(x, -1)


@_quiet
def _softmax_no_keepdims(x, axis):
    e = np.exp(x - x.max(axis=axis))
    return e / e.sum(axis=axis)


KEEPDIMS = ("x.max(axis) and .sum(axis) drop the axis they reduce, so the result no longer lines up with x: "
            "pass keepdims=True, e.g. x.max(axis=axis, keepdims=True).")


@_quiet
def _softmax_global_max(x, axis):
    e = np.exp(x - x.max())
    return e / e.sum(axis=axis, keepdims=True)


_SOFTMAX_CASES = [
    ((_rng.standard_normal((3, 5)), 1), {}),
    ((3 * _rng.standard_normal((4, 2)), 0), {}),
    ((_rng.standard_normal((2, 3, 4)), 1), {}),
    ((np.array([[-745.0, -746.0, -750.0]]), 1), {}),  # very negative scores: exp underflows to 0
    ((np.array([[0.0, 1.0], [-744.0, -745.0]]), 1), {}),  # rows far apart: one global shift is not enough
    ((np.array([[1000.0, 999.0, 0.0], [1.0, 2.0, 3.0]]), 1), {}),  # large scores: exp overflows to inf
]

register(Exercise(
    "stable_softmax", stable_softmax,
    cases=_SOFTMAX_CASES,
    mistakes=[
        Mistake(_softmax_naive, "exp overflows (or underflows) for large |scores|: exp(1000) is inf and exp(-746) "
                "is 0. Subtract each slice's max first, x - x.max(axis, keepdims=True): softmax is unchanged when "
                "a constant is subtracted from every score."),
        Mistake(_softmax_whole_sum, "you divided by the sum over the whole array: sum along `axis` only "
                "(keepdims=True), so that each slice along `axis` sums to 1."),
        Mistake(_softmax_last_axis, "you normalised along the last axis, but `axis` says which axis sums to 1 "
                "(axis=0: each column)."),
        Mistake(_softmax_global_max, "you subtracted the max of the whole array. A slice far below it underflows "
                "to 0/0: subtract each slice's own max, x.max(axis, keepdims=True)."),
        Mistake(_softmax_no_keepdims, KEEPDIMS, raises=(ValueError, "broadcast")),
    ],
    shape_hint="softmax keeps the input's shape: every score becomes a probability.",
))


# --- 2. The sigmoid's gradient from its output ------------------------------------------------
def sigmoid_grad(grad_output, y):
    return grad_output * y * (1 - y)  # y = σ(x), and σ'(x) = σ(x)(1 - σ(x))


def _sig(v):
    return 1 / (1 + np.exp(-v))


@_quiet
def _grad_no_chain_rule(grad_output, y):
    return y * (1 - y)


@_quiet
def _grad_sigmoid_again(grad_output, y):
    return grad_output * _sig(y) * (1 - _sig(y))


@_quiet
def _grad_tanh(grad_output, y):
    return grad_output * (1 - y**2)


_SIGMOID_CASES = [((_rng.standard_normal(shape), _sig(scale * _rng.standard_normal(shape))), {})
                  for shape, scale in [((5,), 1.0), ((2, 3, 4), 3.0), ((4, 6), 8.0)]]

register(Exercise(
    "sigmoid_grad", sigmoid_grad,
    cases=_SIGMOID_CASES,
    mistakes=[
        Mistake(_grad_no_chain_rule, "that is σ'(x) itself; the chain rule multiplies it by grad_output."),
        Mistake(_grad_sigmoid_again, "y is already σ(x): applying the sigmoid to y again computes σ'(y), "
                "not σ'(x). Use y(1 - y) directly."),
        Mistake(_grad_tanh, "1 - y² is the derivative of tanh written with its output; the sigmoid's is y(1 - y)."),
    ],
    shape_hint="The gradient has the shape of y: one number per element.",
))


# --- 3. PReLU's weight gradient ---------------------------------------------------------------
def prelu_weight_grad(grad_output, x):
    # y = x where x > 0, a[c]·x elsewhere, so dy/da[c] = min(x, 0); sum over batch, height and width
    return (grad_output * np.minimum(x, 0)).sum(axis=(0, 2, 3))


@_quiet
def _prelu_no_mask(grad_output, x):
    return (grad_output * x).sum(axis=(0, 2, 3))


@_quiet
def _prelu_positive_side(grad_output, x):
    return (grad_output * np.maximum(x, 0)).sum(axis=(0, 2, 3))


@_quiet
def _prelu_no_x(grad_output, x):
    return (grad_output * (x <= 0)).sum(axis=(0, 2, 3))


@_quiet
def _prelu_wrong_axes(grad_output, x):
    return (grad_output * np.minimum(x, 0)).sum(axis=(1, 2, 3))


@_quiet
def _prelu_batch_only(grad_output, x):
    return (grad_output * np.minimum(x, 0)).sum(axis=0)


register(Exercise(
    "prelu_weight_grad", prelu_weight_grad,
    cases=[((_rng.standard_normal(s), _rng.standard_normal(s)), {})
           for s in [(2, 3, 4, 4), (1, 2, 3, 5), (3, 3, 2, 2)]],
    mistakes=[
        Mistake(_prelu_no_mask, "only x ≤ 0 uses the slope: where x > 0 the output is x, which does not depend on a."),
        Mistake(_prelu_positive_side, "the slope multiplies the negative side, min(x, 0), not the positive side."),
        Mistake(_prelu_no_x, "d(a·x)/da is x: multiply grad_output by x (where x ≤ 0), not by 1."),
        Mistake(_prelu_wrong_axes, "one slope per channel: sum over batch, height and width (axes 0, 2, 3) and keep "
                "the channel axis 1."),
        Mistake(_prelu_batch_only, "the same slope is used at every position too: sum over height and width as "
                "well as the batch."),
    ],
    shape_hint="One gradient per channel: the result has shape (C,).",
))


# --- 4. A stable log-softmax ------------------------------------------------------------------
def stable_log_softmax(x, axis):
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))  # log Σ exp(z) >= 0, and exp(z) <= 1: no overflow


@_quiet
def _log_of_softmax(x, axis):
    return np.log(stable_softmax(x, axis))


@_quiet
def _log_softmax_naive(x, axis):
    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))


@_quiet
def _log_softmax_max_not_subtracted(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


@_quiet
def _log_softmax_no_keepdims(x, axis):
    z = x - x.max(axis=axis)
    return z - np.log(np.exp(z).sum(axis=axis))


@_quiet
def _log_softmax_whole_sum(x, axis):
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum())


register(Exercise(
    "stable_log_softmax", stable_log_softmax,
    cases=[
        ((_rng.standard_normal((3, 4)), 1), {}),
        ((2 * _rng.standard_normal((3, 2)), 0), {}),
        ((np.array([[0.0, -800.0, 1.0]]), 1), {}),  # a probability that underflows to 0
        ((np.array([[1000.0, 0.0], [2.0, 1.0]]), 1), {}),  # a score whose exp overflows
    ],
    mistakes=[
        Mistake(_log_of_softmax, "log(softmax(x)) takes the log of probabilities that underflowed to 0 and gives "
                "-inf. Compute (x - m) - log(Σ exp(x - m)) directly, with m the max along `axis`."),
        Mistake(_log_softmax_naive, "exp(x) overflows for large scores (exp(1000) is inf): subtract each slice's "
                "max m first; log-softmax = (x - m) - log Σ exp(x - m)."),
        Mistake(_log_softmax_max_not_subtracted, "you subtracted the max inside the exp but not outside: "
                "log-softmax = (x - m) - log Σ exp(x - m)."),
        Mistake(_log_softmax_whole_sum, "the sum runs along `axis` only (keepdims=True), not over the whole array."),
        Mistake(_log_softmax_no_keepdims, KEEPDIMS, raises=(ValueError, "broadcast")),
    ],
    shape_hint="log-softmax keeps the input's shape.",
))
