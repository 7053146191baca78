"""Chapter 4 exercises: one dropout layer forward and backward, classic dropout, the variance one layer later,
two predictions, and a dropout step with a planted bug.

Masks are given as boolean arrays (True = keep), so every answer is deterministic. No case uses p = 0.5, where
p and 1 - p coincide and several mistakes would go unnoticed.
"""

import numpy as np

from nbutils.exercises._core import Exercise, Mistake, register

_rng = np.random.default_rng(404)


def _case(shape, p, mask_shape=None):
    """(x, keep): a standard-normal array and a keep mask that drops about p (at least one unit each way)."""
    x = _rng.standard_normal(shape)
    keep = _rng.random(mask_shape or shape) >= p
    keep.flat[0], keep.flat[-1] = True, False
    return x, keep


_SHAPES_AND_RATES = [((2, 5), 0.2), ((3, 4, 2), 0.3), ((2, 3, 3, 3), 0.75), ((6,), 0.6)]
_CASES = [(*_case(shape, p), p) for shape, p in _SHAPES_AND_RATES]


# --- 1. One dropout layer: forward and backward, training and eval, Dropout and Dropout2d masks -------
def dropout_forward_backward(x, grad_output, keep, p, training):
    if not training:
        return x, grad_output  # eval mode: the identity, forward and backward
    scale = 1 / (1 - p) if p < 1 else 0.0  # p = 1 drops everything: no 0/0
    return x * keep * scale, grad_output * keep * scale  # the same mask and scale both ways


def _layer_case(shape, p, training, mask_shape=None):
    x, keep = _case(shape, p, mask_shape)
    if p == 1:
        keep[...] = False
    return (x, _rng.standard_normal(shape), keep, p, training), {}


_LAYER_CASES = [
    _layer_case((2, 5), 0.2, True),
    _layer_case((3, 4, 2), 0.3, True),
    _layer_case((2, 3, 4, 4), 0.4, True, mask_shape=(2, 3, 1, 1)),  # Dropout2d: one coin per (image, channel)
    _layer_case((2, 3, 3, 3), 0.75, False),
    _layer_case((6,), 0.6, False),
    _layer_case((4, 3, 2, 2), 0.6, True, mask_shape=(4, 3, 1, 1)),
    _layer_case((2, 4), 1.0, True),  # p = 1: everything dropped
]


def _scale(p, keep_prob=True):
    """1/(1 - p) (or 1/p for the mistake that divides by p), and 0 at p = 1, where everything is dropped."""
    return 0.0 if p == 1 else 1 / (1 - p) if keep_prob else 1 / p


def _unscaled(x, g, keep, p, training):
    return (x * keep, g * keep) if training else (x, g)


def _scaled_forward_only(x, g, keep, p, training):
    return (x * keep * _scale(p), g * keep) if training else (x, g)


def _mask_only_forward(x, g, keep, p, training):
    return (x * keep * _scale(p), g * _scale(p)) if training else (x, g)


def _classic_eval(x, g, keep, p, training):
    return (x * keep * _scale(p), g * keep * _scale(p)) if training else ((1 - p) * x, (1 - p) * g)


def _mask_in_eval(x, g, keep, p, training):
    return x * keep * _scale(p), g * keep * _scale(p)


def _divide_by_p(x, g, keep, p, training):
    return (x * keep * _scale(p, False), g * keep * _scale(p, False)) if training else (x, g)


def _inverted_mask(x, g, keep, p, training):
    return (x * ~keep * _scale(p), g * ~keep * _scale(p)) if training else (x, g)


def _zero_over_zero(x, g, keep, p, training):
    with np.errstate(divide="ignore", invalid="ignore"):  # the mistake: 0/0 = NaN at p = 1
        return (x * keep / (1 - p), g * keep / (1 - p)) if training else (x, g)


register(Exercise(
    "dropout_forward_backward", dropout_forward_backward,
    cases=_LAYER_CASES,
    outputs=("y", "grad_input"),
    mistakes=[
        Mistake(_unscaled, "no rescaling: in training the kept units must be divided by 1 − p, or the expected "
                           "output is (1 − p)·x, not x. The gradient gets the same factor."),
        Mistake(_scaled_forward_only, "the forward multiplied each kept unit by 1/(1 − p), so the gradient is "
                                      "multiplied by 1/(1 − p) too: the backward is the forward's mask and scale."),
        Mistake(_mask_only_forward, "a dropped unit never reached the output, so its gradient is 0: multiply "
                                    "grad_output by the forward's mask as well."),
        Mistake(_classic_eval, "inverted dropout changes nothing in eval mode: its training pass already scaled by "
                               "1/(1 − p). Scaling by 1 − p at test time is classic dropout's rule."),
        Mistake(_mask_in_eval, "in eval mode (training=False) dropout is the identity: return x and grad_output "
                               "unchanged, with no mask."),
        Mistake(_divide_by_p, "you divided by p, the drop probability. Divide by the keep probability 1 − p "
                              "(the article's P)."),
        Mistake(_inverted_mask, "keep is True where the unit is KEPT: you zeroed the kept units and kept the "
                                "dropped ones."),
        Mistake(_zero_over_zero, "at p = 1 every unit is dropped and 1 − p = 0, so x·keep/(1 − p) is 0/0 = NaN. "
                                 "PyTorch returns zeros there: treat p = 1 on its own."),
    ],
    shape_hint="Return (y, grad_input): y has x's shape and grad_input has grad_output's shape, even when keep has "
               "the shape (N, C, 1, 1) of a Dropout2d mask (it broadcasts).",
    hints=(
        "Three situations: eval mode (the identity), training with p < 1 (mask and scale), and p = 1. The backward "
        "of a fixed mask multiplies by the same numbers as the forward. A (N, C, 1, 1) mask broadcasts by itself.",
        "If not training, return (x, grad_output). Otherwise let scale = 1/(1 − p), or 0 when p = 1, and return "
        "(x * keep * scale, grad_output * keep * scale).",
    ),
))


# --- 2. The article's classic dropout (P = keep probability) -----------------------------------
def classic_dropout(x, keep, P, training):
    if training:
        return x * keep  # classic dropout: no scaling in training...
    return P * x  # ...so the test pass scales by the keep probability to match the expectation


_CLASSIC_CASES = [((x, keep, 1 - p, training), {}) for (x, keep, p), training
                  in zip(_CASES + _CASES, [False] * len(_CASES) + [True] * len(_CASES))]

register(Exercise(
    "classic_dropout", classic_dropout,
    cases=_CLASSIC_CASES,
    mistakes=[
        Mistake(lambda x, keep, P, training: x * keep if training else (1 - P) * x,
                "in the article's convention P is the KEEP probability: at test time multiply by P, not by 1 − P."),
        Mistake(lambda x, keep, P, training: x * keep if training else x,
                "classic dropout does not scale in training, so the test pass must multiply by P to match the "
                "training output's expectation P·x."),
        Mistake(lambda x, keep, P, training: x * keep / P if training else x,
                "that is inverted dropout (scale by 1/P in training, nothing at test). Classic dropout leaves "
                "training unscaled and multiplies by P at test."),
        Mistake(lambda x, keep, P, training: x * keep if training else x / P,
                "at test time multiply by P. The article's '1p' means 1/P, and it belongs to inverted dropout's "
                "training pass."),
    ],
    shape_hint="Return an array of x's shape.",
    hints=(
        "In training a kept unit passes unchanged, so a unit's expected training output is P·x. The test pass, "
        "with every unit present, must produce that expectation.",
        "Training: x * keep. Test (training=False): P * x. P is the keep probability here, not PyTorch's p.",
    ),
))


# --- 3. Derive: the variance one layer after dropout -------------------------------------------
def next_layer_variance(w, x, p):
    # Var[y_j] = E[y_j²] − x_j² = x_j²/(1 − p) − x_j² = x_j² p/(1 − p); the masks are independent,
    # so the variances of w_kj·y_j add up: Var[z_k] = p/(1 − p) · Σ_j w_kj² x_j²
    return p / (1 - p) * (w**2 @ x**2)


_VARIANCE_CASES = [((_rng.standard_normal((o, i)), _rng.standard_normal(i), p), {})
                   for (o, i), p in [((3, 5), 0.2), ((4, 6), 0.3), ((2, 8), 0.75), ((5, 3), 0.6), ((1, 4), 0.1)]]

register(Exercise(
    "next_layer_variance", next_layer_variance,
    cases=_VARIANCE_CASES,
    kind="derive",
    mistakes=[
        Mistake(lambda w, x, p: p / (1 - p) * (w @ x) ** 2,
                "that would be the variance if ONE coin kept or dropped the whole input at once. Each unit has its "
                "own coin: the terms are independent, so add their variances, Σ_j w_kj² Var[y_j]."),
        Mistake(lambda w, x, p: p / (1 - p) * (w @ x**2),
                "Var[a·y] = a²·Var[y]: the weights enter squared."),
        Mistake(lambda w, x, p: p * (1 - p) * (w**2 @ x**2),
                "p(1 − p)·x² is the variance of m·x, before the scaling. Inverted dropout multiplies the kept units "
                "by 1/(1 − p), which multiplies the variance by 1/(1 − p)²."),
        Mistake(lambda w, x, p: (w**2 @ x**2) / (1 - p),
                "x²/(1 − p) is the second moment E[y²], not the variance: subtract the squared mean, x²."),
        Mistake(lambda w, x, p: (1 - p) / p * (w**2 @ x**2),
                "the ratio is upside down: the variance grows with p, and vanishes at p = 0."),
    ],
    shape_hint="Return one variance per output: an array of shape (out_features,), like w @ x.",
    hints=(
        "Write z_k = Σ_j w_kj y_j. The y_j come from independent coins, so the variance of the sum is the sum of "
        "the variances, and Var[w·y] = w²·Var[y]. What is Var[y_j] for one unit?",
        "Var[y_j] = E[y_j²] − E[y_j]² = x_j²/(1 − p) − x_j² = x_j²·p/(1 − p). So Var[z_k] = p/(1 − p) · "
        "Σ_j w_kj² x_j², in NumPy p / (1 - p) * (w**2 @ x**2).",
    ),
))


# --- 4. Predict: two dropout layers in a row -----------------------------------------------------
register(Exercise(
    "stacked_dropout_zeros", None, [],
    kind="predict",
    answer=0.75, tolerance=0.02,
    choice_hints={
        0.25: "0.25 is the fraction that SURVIVES both layers. The question asks for the fraction that comes out zero.",
        0.5: "each layer alone zeroes half, but a unit zeroed by either layer is zero: the zeros add up across layers.",
        75: "enter a fraction between 0 and 1, not a percentage.",
    },
    hints=(
        "A unit survives the pair only if it survives both layers, and the two coins are independent.",
        "It survives with probability (1 − 0.5)·(1 − 0.5) = 0.25. So what fraction comes out zero?",
    ),
    explanation="A unit survives both layers with probability 0.5 · 0.5 = 0.25, so 75 % of the units come out "
                "zero, and the survivors are scaled twice, by 2 · 2 = 4 = 1/0.25. Two dropouts in a row are one "
                "dropout with p = 1 − (1 − p₁)(1 − p₂) = 0.75, in distribution: the mean is still preserved.",
))


# --- 5. Predict: knocking out hidden units at test time (asked in the chapter's text) -----------
register(Exercise(
    "knockout_prediction", None, [],
    kind="predict",
    choices={
        "a": "the network trained without dropout loses much more accuracy",
        "b": "the network trained with dropout loses much more accuracy",
        "c": "both lose about the same",
    },
    answer="a",
    choice_hints={
        "b": "the dropout network spent its whole training with half its hidden units missing at random. Which "
             "network has seen this damage before?",
        "c": "one of the two networks was trained under exactly this kind of damage, the other never was.",
    },
    hints=(
        "During training, which of the two networks already had to work with a random half of its hidden units "
        "missing?",
        "The network trained with p = 0.5 saw a random half of its hidden units removed at every step; its units "
        "learned to be useful on their own.",
    ),
    explanation="The network trained with dropout was trained under exactly this damage, so its units do not rely "
                "on particular partners. The network trained without dropout never lost a unit, and its units "
                "co-adapted.",
))


# --- 6. Debug: a dropout step with a planted bug ---------------------------------------------------
def dropout_step(x, grad_output, p, seed):
    """One training step of a dropout layer: (output, gradient wrt x); the mask is from `seed`."""
    # a bug is planted in this function
    rng = np.random.default_rng(seed)

    def forward(x):
        keep = rng.random(x.shape) >= p
        return x * keep / (1 - p)

    def backward(grad_output):
        keep = rng.random(grad_output.shape) >= p
        return grad_output * keep / (1 - p)

    return forward(x), backward(grad_output)


_planted_dropout_step = dropout_step  # the chapter's stub shows exactly this source


# the fix, and the exercise's solution: one mask for both passes
def dropout_step(x, grad_output, p, seed):
    """One training step of a dropout layer: (output, gradient wrt x); the mask is from `seed`."""
    rng = np.random.default_rng(seed)
    keep = rng.random(x.shape) >= p  # ONE mask, drawn in the forward pass...
    return x * keep / (1 - p), grad_output * keep / (1 - p)  # ...and reused by the backward pass


_STEP_CASES = [((_rng.standard_normal(shape), _rng.standard_normal(shape), p, seed), {})
               for shape, p, seed in [((2, 5), 0.2, 0), ((3, 4, 2), 0.3, 1), ((2, 3, 3, 3), 0.75, 2),
                                      ((6,), 0.6, 3)]]


def _step_unscaled_backward(x, grad_output, p, seed):
    keep = np.random.default_rng(seed).random(x.shape) >= p
    return x * keep / (1 - p), grad_output * keep


register(Exercise(
    "dropout_step", dropout_step,
    cases=_STEP_CASES,
    kind="debug",
    bug=_planted_dropout_step,
    outputs=("output", "grad_input"),
    shape_hint="Both the output and grad_input have the shape of x.",
    mistakes=[
        Mistake(_step_unscaled_backward, "the mask is right now, but the forward scales the kept units by "
                                         "1/(1 − p), so the gradient needs that factor too."),
    ],
    choices={
        "a": "the kept units are not rescaled, so the expected output is (1 − p)·x",
        "b": "the backward pass draws a new mask instead of reusing the forward's",
        "c": "the mask keeps each unit with probability p instead of 1 − p",
        "d": "the gradient should be divided by p, not by 1 − p",
    },
    answer="b",
    choice_hints={
        "a": "look at the forward again: it divides by 1 − p. Which check fails, the forward's or the gradient's?",
        "c": "rng.random(...) >= p is True with probability 1 − p: the keep rule is right.",
        "d": "the backward of y = x·m/(1 − p) is g·m/(1 − p): the factor is right. What about m?",
    },
    hints=(
        "Run check.gradcheck on it with the seed fixed: the forward is then an ordinary function of x. Does the "
        "analytic gradient agree with the numerical one? Compare where the output is zero with where the gradient "
        "is zero.",
        "Each call to rng.random draws new numbers. The forward and the backward each call it, so they use two "
        "different masks. Draw the mask once and use it in both.",
    ),
    explanation="Each rng.random call draws fresh numbers, so the backward pass used a second, independent mask: "
                "gradients flowed to units the forward had dropped, and not to some it had kept. gradcheck catches "
                "it at once, while every statistical test of the forward alone passes. Draw the mask once, keep "
                "it, and apply it in both passes, as nbutils' Dropout does with self.mask.",
))
