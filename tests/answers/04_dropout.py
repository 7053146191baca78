"""Chapter 4's exercises, answered from the chapter's text as a reader would (see tests/test_exercises.py)."""

import numpy as np


def dropout_forward_backward(x, grad_output, keep, p, training):
    if not training:
        return x, grad_output
    if p == 1:
        return np.zeros_like(x), np.zeros_like(grad_output)
    mask = np.broadcast_to(keep, x.shape)
    return np.where(mask, x / (1 - p), 0.0), np.where(mask, grad_output / (1 - p), 0.0)


def classic_dropout(x, keep, P, training):
    if training:
        return np.where(keep, x, 0.0)
    return P * x


def next_layer_variance(w, x, p):
    unit_variance = x**2 / (1 - p) - x**2  # E[y²] − E[y]² for one unit
    return (w**2 * unit_variance).sum(axis=1)


stacked_dropout_zeros = 0.75


knockout_prediction = "a"


def dropout_step(x, grad_output, p, seed):
    """One training step of a dropout layer: (output, gradient with respect to x). The mask comes from `seed`."""
    rng = np.random.default_rng(seed)
    keep = rng.random(x.shape) >= p
    return x * keep / (1 - p), grad_output * keep / (1 - p)


dropout_step_bug = "b"
