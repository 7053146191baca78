"""Chapter 4 exercises: inverted dropout with a given mask, train versus eval, the backward pass, classic dropout.

Masks are given as boolean arrays (True = keep), so every answer is deterministic. No case uses p = 0.5, where
p and 1 - p coincide and several mistakes would go unnoticed.
"""

import numpy as np

from nbutils.exercises._core import Exercise, Mistake, register

_rng = np.random.default_rng(404)


def _case(shape, p):
    """(x, keep): a standard-normal array and a keep mask that drops about p of it (at least one unit each way)."""
    x = _rng.standard_normal(shape)
    keep = _rng.random(shape) >= p
    keep.flat[0], keep.flat[-1] = True, False
    return x, keep


_SHAPES_AND_RATES = [((2, 5), 0.2), ((3, 4, 2), 0.3), ((2, 3, 3, 3), 0.75), ((6,), 0.6)]
_CASES = [(*_case(shape, p), p) for shape, p in _SHAPES_AND_RATES]


# --- 1. Inverted dropout with a given mask ----------------------------------------------------
def inverted_dropout(x, keep, p):
    return x * keep / (1 - p)  # kept units scaled by 1/(1 - p), the keep probability's inverse


register(Exercise(
    "inverted_dropout", inverted_dropout,
    cases=[((x, keep, p), {}) for x, keep, p in _CASES],
    mistakes=[
        Mistake(lambda x, keep, p: x * keep,
                "no rescaling: the kept units must be divided by 1 − p, or the expected output is (1 − p)·x, not x."),
        Mistake(lambda x, keep, p: x * keep * p,
                "you multiplied by p. Inverted dropout divides the kept units by the keep probability: "
                "x·keep/(1 − p)."),
        Mistake(lambda x, keep, p: x * keep / p,
                "you divided by p, the drop probability. Divide by the keep probability 1 − p (the article's P)."),
        Mistake(lambda x, keep, p: x * keep * (1 - p),
                "multiplying by 1 − p is classic dropout's rule at test time. In training, inverted dropout "
                "divides by 1 − p."),
        Mistake(lambda x, keep, p: x * ~keep / (1 - p),
                "keep is True where the unit is KEPT: you zeroed the kept units and kept the dropped ones."),
    ],
    shape_hint="Return an array of x's shape.",
))


# --- 2. Training and evaluation ---------------------------------------------------------------
def dropout_train_eval(x, keep, p, training):
    if not training:
        return x  # eval mode: the identity, no mask and no scaling
    return x * keep / (1 - p)


_TRAIN_EVAL_CASES = [((x, keep, p, training), {}) for (x, keep, p), training
                     in zip(_CASES + _CASES, [True] * len(_CASES) + [False] * len(_CASES))]

register(Exercise(
    "dropout_train_eval", dropout_train_eval,
    cases=_TRAIN_EVAL_CASES,
    mistakes=[
        Mistake(lambda x, keep, p, training: x * keep / (1 - p),
                "in eval mode (training=False) dropout is the identity: return x unchanged, with no mask."),
        Mistake(lambda x, keep, p, training: x * keep / (1 - p) if training else (1 - p) * x,
                "inverted dropout changes nothing at test time: its training pass already scaled by 1/(1 − p). "
                "Scaling by 1 − p at test is classic dropout's rule."),
        Mistake(lambda x, keep, p, training: x * keep if training else x,
                "in training, scale the kept units by 1/(1 − p) so that the expected output equals x."),
        Mistake(lambda x, keep, p, training: x if training else x * keep / (1 - p),
                "the flag is the wrong way round: units are dropped when training is True."),
    ],
    shape_hint="Return an array of x's shape.",
))


# --- 3. The backward pass ---------------------------------------------------------------------
def dropout_grad(grad_output, keep, p):
    return grad_output * keep / (1 - p)  # the forward's mask and scale, applied to the gradient


register(Exercise(
    "dropout_grad", dropout_grad,
    cases=[((g, keep, p), {}) for g, keep, p in _CASES],
    mistakes=[
        Mistake(lambda g, keep, p: g * keep,
                "the forward scaled each kept unit by 1/(1 − p), so its gradient is scaled by 1/(1 − p) too."),
        Mistake(lambda g, keep, p: g / (1 - p),
                "a dropped unit never reached the output, so its gradient is 0: multiply by the forward's mask."),
        Mistake(lambda g, keep, p: g,
                "in training mode, dropout's backward is not the identity: apply the forward's mask and scale."),
        Mistake(lambda g, keep, p: g * keep * (1 - p),
                "multiply the gradient by 1/(1 − p), as the forward did, not by 1 − p."),
    ],
    shape_hint="The gradient has grad_output's shape.",
))


# --- 4. The article's classic dropout (P = keep probability) -----------------------------------
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
))
