"""Chapter 2 exercises: a stable softmax, the sigmoid's gradient from its output, PReLU's weight gradient, a stable
log-softmax (implement); Swish's derivative (derive); tanh through 30 layers (predict); a softmax backward with a
planted bug (debug).

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
    hints=("Adding the same constant to every score of a slice leaves its softmax unchanged. Which constant keeps "
           "exp from overflowing?",
           "Subtract each slice's max, z = x - x.max(axis=axis, keepdims=True), then return exp(z) divided by its "
           "sum along `axis` (keepdims=True)."),
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
    hints=("Write σ'(x) with σ(x) itself, then apply the chain rule.",
           "σ'(x) = σ(x)(1 - σ(x)) = y(1 - y); multiply it by grad_output, element by element."),
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
    hints=("Where x > 0 the output is x, which does not depend on the slope; where x <= 0 it is a·x. What is "
           "d(a·x)/da?",
           "grad_output * np.minimum(x, 0), summed over every axis but the channel axis: .sum(axis=(0, 2, 3))."),
))


# --- 4. A stable log-softmax ------------------------------------------------------------------
def stable_log_softmax(x, axis):
    z = x - x.max(axis=axis, keepdims=True)
    # log Σ exp(z) >= 0, and exp(z) <= 1: no overflow
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


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
    hints=("log S_i = V_i - log Σ_j exp(V_j). Shift the scores by their max m before exponentiating, and keep the "
           "shift outside the log too.",
           "z = x - x.max(axis=axis, keepdims=True); return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))."),
))


# --- 5. Swish with a slope (derive) -----------------------------------------------------------
def swish_grad(x, beta):
    s = 1 / (1 + np.exp(-beta * x))  # the gate σ(βx)
    return s + beta * x * s * (1 - s)  # product rule: (x)' σ(βx) + x · β σ(βx)(1 - σ(βx))


@_quiet
def _swish_no_inner_beta(x, beta):
    s = _sig(beta * x)
    return s + x * s * (1 - s)


@_quiet
def _swish_gate_only(x, beta):
    return _sig(beta * x)


@_quiet
def _swish_second_term_only(x, beta):
    s = _sig(beta * x)
    return beta * x * s * (1 - s)


@_quiet
def _swish_beta_ignored(x, beta):
    s = _sig(x)
    return s * (1 + x * (1 - s))


@_quiet
def _swish_gate_derivative(x, beta):
    s = _sig(beta * x)
    return beta * s * (1 - s)


register(Exercise(
    "swish_grad", swish_grad,
    cases=[((3 * _rng.standard_normal(shape), beta), {})
           for shape, beta in [((7,), 1.0), ((3, 4), 1.702), ((2, 5), 0.5), ((6,), 4.0), ((4,), 0.0)]],
    mistakes=[
        Mistake(_swish_no_inner_beta, "the chain rule inside the gate: dσ(βx)/dx = β σ(βx)(1 - σ(βx)). The factor "
                "β is missing from your second term."),
        Mistake(_swish_gate_only, "that is the gate σ(βx) alone. The product rule gives two terms: "
                "d(x·g)/dx = g + x·g'."),
        Mistake(_swish_second_term_only, "the product rule gives two terms, d(x·g)/dx = g + x·g': you kept only "
                "x·g'. Add the gate σ(βx) itself."),
        Mistake(_swish_beta_ignored, "that is SiLU's derivative, β = 1. The gate is σ(βx): use βx inside the "
                "sigmoid, and the chain rule's factor β."),
        Mistake(_swish_gate_derivative, "that is the derivative of the gate σ(βx) alone; the function is x times "
                "the gate, so use the product rule."),
    ],
    shape_hint="One derivative per element: the result has the shape of x.",
    kind="derive",
    hints=("Product rule: d(x·g(x))/dx = g(x) + x·g'(x), with the gate g(x) = σ(βx). Then the chain rule for g'.",
           "g'(x) = β σ(βx)(1 - σ(βx)), so the derivative is σ(βx) + βx σ(βx)(1 - σ(βx)). With β = 1 it is the "
           "chapter's SiLU' = σ(x)(1 + x(1 - σ(x)))."),
))


# --- 6. tanh through 30 layers (predict) ----------------------------------------------------
register(Exercise(
    "tanh_depth", None, [], kind="predict",
    choices={"a": "even less than through the sigmoid",
             "b": "more than through the sigmoid, but still a vanishing fraction, below 0.1",
             "c": "about as much as at the top, between 0.1 and 10 times, like ReLU",
             "d": "more than 10 times the top gradient: it explodes"},
    answer="c",
    choice_hints={"a": "compare the derivatives at 0: tanh'(0) = 1, while σ'(0) is only 1/4.",
                  "b": "tanh saturates like the sigmoid, but near 0 it is the identity. At He init, how many units "
                       "sit near 0?",
                  "d": "tanh' is at most 1, and saturated units pass less than that: what would make it grow?"},
    hints=("The sigmoid loses at least a factor 4 per layer, since σ' <= 1/4. What is the largest value of tanh'?",
           "tanh'(0) = 1, and tanh is zero-centred, so many units work near its linear part. The weights' gain "
           "√2 makes up for the units that saturate: the gradient neither vanishes nor explodes."),
    explanation="Through 30 tanh layers the gradient keeps its size within a factor of a few, like ReLU's at He "
                "init, while the sigmoid's shrinks by about 16 orders of magnitude. The sigmoid loses at least a "
                "factor 4 per layer (σ' <= 1/4), and its positive outputs add to the damage; tanh's slope is 1 at 0.",
))


# --- 7. A softmax backward with a bug (debug) ---------------------------------------------------
def softmax_grad(grad_output, y, axis):
    weighted = (grad_output * y).sum(axis=axis, keepdims=True)  # Σ_i g_i S_i, one number per slice
    return y * (grad_output - weighted)


_fixed_softmax_grad = softmax_grad


def softmax_grad(grad_output, y, axis):
    # a bug is planted in this function
    weighted = (grad_output * y).sum(keepdims=True)
    return y * (grad_output - weighted)


_buggy_softmax_grad, softmax_grad = softmax_grad, _fixed_softmax_grad


@_quiet
def _softmax_grad_sign(grad_output, y, axis):
    return y * (grad_output + (grad_output * y).sum(axis=axis, keepdims=True))


@_quiet
def _softmax_grad_log_softmax(grad_output, y, axis):
    return grad_output - y * grad_output.sum(axis=axis, keepdims=True)


@_quiet
def _softmax_grad_no_keepdims(grad_output, y, axis):
    return y * (grad_output - (grad_output * y).sum(axis=axis))


def _softmax_grad_case(shape, axis):
    x = 2 * _rng.standard_normal(shape)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return (_rng.standard_normal(shape), e / e.sum(axis=axis, keepdims=True), axis), {}


register(Exercise(
    "softmax_grad", softmax_grad,
    cases=[_softmax_grad_case(shape, axis) for shape, axis in [((3, 4), 1), ((2, 5), 1), ((4, 3), 0),
                                                               ((2, 3, 2), 1), ((1, 6), 1)]],
    mistakes=[
        Mistake(_softmax_grad_sign, "the correction is subtracted: ∂L/∂V_j = S_j (g_j - Σ_i g_i S_i)."),
        Mistake(_softmax_grad_log_softmax, "that is log-softmax's backward, g - S Σ g. Softmax's is "
                "S (g - Σ g S), along `axis`."),
        Mistake(_softmax_grad_no_keepdims, KEEPDIMS, raises=(ValueError, "broadcast")),
        Mistake(lambda grad_output, y, axis: y * (grad_output - (grad_output * y).sum(-1, keepdims=True)),
                "use the `axis` argument rather than a fixed axis: one case has axis=0, where the slices are "
                "columns."),
    ],
    shape_hint="The gradient has the shape of y.",
    kind="debug",
    bug=_buggy_softmax_grad,
    choices={"a": "it forgets to subtract the max, so it overflows",
             "b": "the sum runs over the whole array instead of along `axis`, mixing the rows of a batch",
             "c": "the sign of the correction term is flipped",
             "d": "it needs the input x, not the output y"},
    answer="b",
    choice_hints={"a": "the backward never exponentiates anything: nothing in it can overflow.",
                  "c": "y * (g - Σ g y) is the text's formula, sign included. Look at what is summed over.",
                  "d": "the text derives the backward from the output S alone; y is what it needs."},
    hints=("gradcheck on one row passes, but the comparison with autograd on three rows fails. What does a batch "
           "have that a single row does not?",
           "(grad_output * y).sum(keepdims=True) adds up every row of the batch. Sum along `axis` only: "
           ".sum(axis=axis, keepdims=True)."),
    explanation="With one row, the sum over the whole array is the sum along the row, so gradcheck on one row "
                "passes. With a batch, every row's correction mixes in the other rows' terms. The fix is "
                "`.sum(axis=axis, keepdims=True)`.",
))
