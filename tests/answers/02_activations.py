"""Chapter 2's exercises, answered from the chapter's text as a reader would (see tests/test_exercises.py)."""

import numpy as np


def stable_softmax(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def sigmoid_grad(grad_output, y):
    return grad_output * (y - y * y)


def prelu_weight_grad(grad_output, x):
    return np.where(x > 0, 0.0, x * grad_output).sum(axis=(0, 2, 3))


def stable_log_softmax(x, axis):
    m = np.max(x, axis=axis, keepdims=True)
    return x - (m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)))


def swish_grad(x, beta):
    s = 1 / (1 + np.exp(-beta * x))
    return s * (1 + beta * x * (1 - s))


tanh_depth = "c"


def softmax_grad(grad_output, y, axis):
    weighted = (grad_output * y).sum(axis=axis, keepdims=True)
    return y * (grad_output - weighted)


softmax_grad_bug = "b"
