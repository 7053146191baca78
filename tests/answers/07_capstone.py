"""Chapter 7's exercises, answered from the chapter's text as a reader would (see tests/test_exercises.py)."""

import numpy as np


def cross_entropy_grad(logits, target):
    N = logits.shape[0]
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = p / p.sum(axis=1, keepdims=True)
    one_hot = np.zeros_like(p)
    one_hot[np.arange(N), target] = 1
    return (p - one_hot) / N


def sgd_momentum_step(param, grad, buf, lr, momentum, weight_decay):
    d = grad + weight_decay * param
    if momentum != 0:  # like torch.optim.SGD, keep a buffer only when there is momentum
        buf = d.copy() if buf is None else momentum * buf + d
        d = buf
    return param - lr * d, buf


def global_avg_pool_backward(grad_output, input_shape):
    N, C, H, W = input_shape
    return np.ones(input_shape) * grad_output / (H * W)


initial_loss = 2.3  # ten classes, each about 1/10 likely before training: -log(1/10) = ln 10


train_mode_accuracy = "c"


def label_smoothing_grad(logits, target, smoothing):
    N, C = logits.shape
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = p / p.sum(axis=1, keepdims=True)
    q = np.full((N, C), smoothing / C)
    q[np.arange(N), target] += 1 - smoothing
    return (p - q) / N


def train_linear_classifier(weight, x, target, lr, steps):
    """`steps` steps of gradient descent on logits = x @ weight.T with the mean cross-entropy; the new weight."""
    N = len(x)
    for _ in range(steps):
        z = x @ weight.T
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(N), target] -= 1  # (softmax - one_hot): the gradient of each row's loss
        grad = p.T @ x / N  # a fresh gradient at every step, as zero_grad() gives
        weight = weight - lr * grad
    return weight


train_linear_classifier_bug = "c"
