"""Chapter 4's exercises, answered from the chapter's text as a reader would (see tests/test_exercises.py)."""

import numpy as np


def inverted_dropout(x, keep, p):
    return np.where(keep, x / (1 - p), 0.0)


def dropout_train_eval(x, keep, p, training):
    if training:
        return np.where(keep, x / (1 - p), 0.0)
    return x.copy()


def dropout_grad(grad_output, keep, p):
    return np.where(keep, grad_output / (1 - p), 0.0)


def classic_dropout(x, keep, P, training):
    if training:
        return np.where(keep, x, 0.0)
    return P * x
