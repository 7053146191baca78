"""Chapter 7 exercises: the cross-entropy gradient, one SGD step with momentum, fixing a broken GAP backward, the
loss of an untrained network (predict), the gradient of label smoothing (derive), and a training loop that never
clears its gradient (debug)."""

import math

import numpy as np

from nbutils.exercises._core import Exercise, Mistake, register

_rng = np.random.default_rng(2077)


def _logits_and_targets(N, C, scale=2.0):
    return _rng.standard_normal((N, C)) * scale, _rng.integers(0, C, N)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _log_softmax(z):
    s = z - z.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


def _one_hot(target, C):
    return np.eye(C)[target]


# --- 1. The gradient of the mean cross-entropy -------------------------------------------------
def cross_entropy_grad(logits, target):
    N, C = logits.shape
    # softmax, shifted so exp cannot overflow
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(N), target] -= 1  # minus the one-hot target
    return p / N  # mean reduction: every sample carries 1/N of the loss


def _ce_no_keepdims(logits, target):
    e = np.exp(logits - logits.max(axis=1))
    p = e / e.sum(axis=1)
    return (p - _one_hot(target, logits.shape[1])) / len(logits)


register(Exercise(
    "cross_entropy_grad", cross_entropy_grad,
    cases=[((*_logits_and_targets(4, 3),), {}), ((*_logits_and_targets(5, 10),), {}),
           ((*_logits_and_targets(2, 6, scale=30.0),), {}), ((*_logits_and_targets(7, 4),), {})],
    mistakes=[
        Mistake(lambda z, t: _softmax(z) - _one_hot(t, z.shape[1]),
                "the loss is the MEAN over the batch, so every row of the gradient is divided by N."),
        Mistake(lambda z, t: (_one_hot(t, z.shape[1]) - _softmax(z)) / len(z),
                "the sign is flipped: the gradient is softmax − one_hot (raising the right logit lowers the loss)."),
        Mistake(lambda z, t: _softmax(z) / len(z),
                "subtract 1 at the target class: the gradient is (softmax − one_hot) / N."),
        Mistake(lambda z, t: (_softmax(z) - _one_hot(t, z.shape[1])) / z.shape[1],
                "divide by the number of samples N (rows), not by the number of classes C."),
        Mistake(lambda z, t: (_log_softmax(z) - _one_hot(t, z.shape[1])) / len(z),
                "the gradient uses the probabilities softmax(z), not the log-probabilities."),
        Mistake(_ce_no_keepdims, "logits.max(axis=1) and .sum(axis=1) have shape (N,), which lines up with the "
                "class axis of (N, C), not the rows: pass keepdims=True to get (N, 1).",
                raises=(ValueError, "broadcast")),
    ],
    shape_hint="The gradient has the logits' shape (N, C).",
    hints=(
        "Start from one sample, ℓ = −z_t + log Σ_j e^{z_j}, and differentiate with respect to z_k: once for k = t, "
        "once for k ≠ t. Then remember that the loss is the mean over the N rows.",
        "For one sample the gradient is softmax(z) − one_hot(t). Compute the softmax row by row (subtract each "
        "row's max first, with keepdims=True), subtract 1 at [n, target[n]] for every n, and divide by N.",
    ),
))


# --- 2. One SGD step with momentum and weight decay, torch's rule ------------------------------
def sgd_momentum_step(param, grad, buf, lr, momentum, weight_decay):
    d = grad + weight_decay * param  # weight decay joins the gradient
    if momentum == 0:
        # plain SGD: torch keeps no momentum buffer, so buf stays as it was
        return param - lr * d, buf
    buf = d.copy() if buf is None else momentum * buf + d  # the first step starts the buffer at d
    return param - lr * buf, buf


def _sgd_buffer_without_momentum(param, grad, buf, lr, momentum, weight_decay):
    """Also accepted: with momentum 0, a buffer started at d changes nothing (0 · buf vanishes at the next step)."""
    d = grad + weight_decay * param
    buf = d.copy() if buf is None else momentum * buf + d
    return param - lr * buf, buf


def _sgd_no_decay(param, grad, buf, lr, momentum, weight_decay):
    return sgd_momentum_step(param, grad, buf, lr, momentum, 0.0)


def _sgd_decoupled(param, grad, buf, lr, momentum, weight_decay):
    new, buf = sgd_momentum_step(param, grad, buf, lr, momentum, 0.0)
    return new - lr * weight_decay * param, buf


def _sgd_lr_inside(param, grad, buf, lr, momentum, weight_decay):
    d = grad + weight_decay * param
    buf = lr * d if buf is None else momentum * buf + lr * d
    return param - buf, buf


def _sgd_ema(param, grad, buf, lr, momentum, weight_decay):
    d = grad + weight_decay * param
    buf = d.copy() if buf is None else momentum * buf + (1 - momentum) * d
    return param - lr * buf, buf


def _sgd_sign(param, grad, buf, lr, momentum, weight_decay):
    new, buf = sgd_momentum_step(param, grad, buf, lr, momentum, weight_decay)
    return 2 * param - new, buf


def _sgd_case(shape, first, lr, momentum, weight_decay):
    p, g = _rng.standard_normal(shape), _rng.standard_normal(shape)
    return (p, g, None if first else _rng.standard_normal(shape), lr, momentum, weight_decay), {}


register(Exercise(
    "sgd_momentum_step", sgd_momentum_step,
    cases=[_sgd_case((3,), True, 0.1, 0.9, 0.01), _sgd_case((2, 3), False, 0.1, 0.9, 0.01),
           _sgd_case((4,), False, 0.05, 0.5, 0.1), _sgd_case((2, 2), True, 0.3, 0.0, 0.0),
           _sgd_case((3,), True, 0.2, 0.0, 0.05)],
    mistakes=[
        Mistake(_sgd_no_decay, "weight decay is part of the gradient: d = grad + weight_decay · param."),
        Mistake(_sgd_decoupled, "in torch's SGD, weight decay is added to the gradient BEFORE the momentum "
                "buffer (d = grad + weight_decay · param), not subtracted from the parameter afterwards "
                "(that is AdamW's 'decoupled' decay)."),
        Mistake(_sgd_lr_inside, "torch keeps the learning rate out of the buffer: buf = momentum · buf + d, "
                "then param − lr · buf."),
        Mistake(_sgd_ema, "torch's buffer adds d at full weight (dampening = 0): buf = momentum · buf + d, "
                "not an average with weight 1 − momentum."),
        Mistake(_sgd_sign, "descend: the step goes against the gradient, param − lr · buf."),
    ],
    shape_hint="Return (new_param, new_buf), each with param's shape.",
    outputs=("new_param", "new_buf"),
    alternatives=[_sgd_buffer_without_momentum],
    hints=(
        "Follow the chapter's formula in its order: weight decay joins the gradient first, then the buffer, then "
        "the parameter. The learning rate never enters the buffer.",
        "d = grad + weight_decay·param; buf = a copy of d when buf is None, else momentum·buf + d; return "
        "(param − lr·buf, buf). With momentum 0, torch keeps no buffer: return (param − lr·d, buf).",
    ),
))


# --- 3. Fix the broken global-average-pooling backward -----------------------------------------
def global_avg_pool_backward(grad_output, input_shape):
    N, C, H, W = input_shape
    # every input cell contributed 1/(H·W) of its channel's mean, so it gets 1/(H·W) of the gradient
    return np.broadcast_to(grad_output / (H * W), (N, C, H, W)).copy()


def _gap_case(N, C, H, W):
    return (_rng.standard_normal((N, C, 1, 1)), (N, C, H, W)), {}


register(Exercise(
    "global_avg_pool_backward", global_avg_pool_backward,
    cases=[_gap_case(2, 3, 4, 4), _gap_case(3, 2, 2, 5), _gap_case(1, 4, 3, 2), _gap_case(2, 1, 1, 1)],
    mistakes=[
        Mistake(lambda g, s: np.broadcast_to(g, s).copy(),
                "that is the broken backward: the forward is a MEAN over H·W cells, so each cell gets "
                "grad_output / (H·W)."),
        Mistake(lambda g, s: np.broadcast_to(g / s[2], s).copy(),
                "divide by the number of cells H·W, not by H alone."),
        Mistake(lambda g, s: np.broadcast_to(g / (s[0] * s[2] * s[3]), s).copy(),
                "each image has its own mean: divide by H·W, not by N·H·W."),
        Mistake(lambda g, s: np.pad(g, ((0, 0), (0, 0), (0, s[2] - 1), (0, s[3] - 1))),
                "that routes the gradient like max pooling, to one cell. Average pooling spreads it evenly "
                "over all H·W cells of the channel."),
    ],
    shape_hint="The gradient has the input's shape (N, C, H, W): every cell contributed to its channel's mean.",
    hints=(
        "The forward takes the mean of the H·W cells of each (image, channel). If one cell grows by 1, by how much "
        "does that mean grow?",
        "By 1/(H·W), for every cell alike. So broadcast grad_output, of shape (N, C, 1, 1), to the input's shape "
        "(N, C, H, W) and divide it by H·W.",
    ),
))


# --- 4. Predict: the loss of an untrained network (asked in the chapter before its first training step) --------
register(Exercise(
    "initial_loss", None, [],
    kind="predict",
    answer=math.log(10), tolerance=0.15,
    choice_hints={0.1: "0.1 is the probability the network gives the true class. The loss is −log of that "
                       "probability, in the natural log.",
                  1.0: "−log₁₀(0.1) = 1, but cross-entropy uses the natural log: −ln(0.1).",
                  0.0: "a loss of 0 means the true class gets probability 1: an untrained network is far from that."},
    hints=(
        "An untrained network has no reason to prefer one digit over another. What probability does it give the "
        "true class, roughly?",
        "About 1/10 for every class, so each sample's loss is about −log(1/10). Enter that number (it is not 0.1).",
    ),
    explanation="With small random weights the ten logits are nearly equal, so softmax is nearly uniform, every "
                "class gets about 1/10, and the loss is about −log(1/10) = ln 10 ≈ 2.303. A first loss far from "
                "ln C, for C classes, is the first sign of a bug, before any training has run: a wrong "
                "initialisation, a softmax applied twice, labels off by one.",
))


# --- 5. Derive: the gradient of the label-smoothed cross-entropy ------------------------------------------------
def label_smoothing_grad(logits, target, smoothing):
    N, C = logits.shape
    p = _softmax(logits)
    # the smoothed target: each row sums to 1
    q = (1 - smoothing) * _one_hot(target, C) + smoothing / C
    return (p - q) / N  # dℓ/dz = p − q for one row, because Σ_k q_k = 1; the mean divides by N


def _ls_case(N, C, smoothing, scale=2.0):
    return (*_logits_and_targets(N, C, scale), smoothing), {}


def _ls_other_classes_only(z, t, eps):
    C = z.shape[1]
    q = (1 - eps) * _one_hot(t, C) + eps / (C - 1) * (1 - _one_hot(t, C))
    return (_softmax(z) - q) / len(z)


def _ls_true_class_without_share(z, t, eps):
    C = z.shape[1]
    q = (1 - eps) * _one_hot(t, C) + eps / C * (1 - _one_hot(t, C))
    return (_softmax(z) - q) / len(z)


register(Exercise(
    "label_smoothing_grad", label_smoothing_grad,
    cases=[_ls_case(4, 3, 0.1), _ls_case(5, 10, 0.2), _ls_case(3, 6, 0.5, scale=20.0), _ls_case(2, 4, 0.0)],
    kind="derive",
    mistakes=[
        Mistake(lambda z, t, eps: (_softmax(z) - _one_hot(t, z.shape[1])) / len(z),
                "that is the gradient without smoothing: the target is q = (1 − ε)·one_hot + ε/C, not the one-hot."),
        Mistake(lambda z, t, eps: _softmax(z) - (1 - eps) * _one_hot(t, z.shape[1]) - eps / z.shape[1],
                "the loss is the MEAN over the batch, so every row of the gradient is divided by N."),
        Mistake(lambda z, t, eps: ((1 - eps) * _one_hot(t, z.shape[1]) + eps / z.shape[1] - _softmax(z)) / len(z),
                "the sign is flipped: the gradient is p − q (raising a logit raises its probability, which "
                "lowers the loss only where p < q)."),
        Mistake(_ls_other_classes_only,
                "that spreads ε over the C − 1 other classes. The chapter's (and torch's) q gives ε/C to every "
                "class, the true one included: q_t = 1 − ε + ε/C."),
        Mistake(_ls_true_class_without_share,
                "the true class gets its share ε/C too: q_t = 1 − ε + ε/C, so that q sums to 1."),
    ],
    shape_hint="The gradient has the logits' shape (N, C).",
    hints=(
        "Write log p_k = z_k − log Σ_j e^{z_j}. Then ℓ = −Σ_k q_k z_k + (Σ_k q_k)·log Σ_j e^{z_j}, and Σ_k q_k = 1.",
        "So ∂ℓ/∂z_k = p_k − q_k: exercise 1's answer with q in place of the one-hot. Build q = (1 − ε)·one_hot(t) "
        "+ ε/C (every entry gets ε/C), and divide by N for the mean.",
    ),
))


# --- 6. Debug: a training loop that never clears its gradient ---------------------------------------------------
def train_linear_classifier(weight, x, target, lr, steps):
    """`steps` gradient descent steps, logits = x @ weight.T, mean cross-entropy; the new weight."""
    # a bug is planted in this function
    N = len(x)
    grad = np.zeros_like(weight)
    for _ in range(steps):
        z = x @ weight.T
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(N), target] -= 1  # (softmax - one_hot): the gradient of each row's loss
        grad += p.T @ x / N
        weight = weight - lr * grad
    return weight


_planted_train_linear_classifier = train_linear_classifier


# the fixed version of the planted bug above
def train_linear_classifier(weight, x, target, lr, steps):
    """`steps` gradient descent steps, logits = x @ weight.T, mean cross-entropy; the new weight."""
    N = len(x)
    for _ in range(steps):
        z = x @ weight.T
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(N), target] -= 1
        # this step's gradient alone: the NumPy twin of zero_grad() before every backward
        grad = p.T @ x / N
        weight = weight - lr * grad
    return weight


def _train_divided_twice(weight, x, target, lr, steps):
    N = len(x)
    for _ in range(steps):
        p = _softmax(x @ weight.T) - _one_hot(target, weight.shape[0])
        weight = weight - lr * (p.T @ x / N / N)
    return weight


def _train_case(C, D, N, lr, steps):
    return (_rng.standard_normal((C, D)) * 0.3, _rng.standard_normal((N, D)), _rng.integers(0, C, N), lr, steps), {}


register(Exercise(
    "train_linear_classifier", train_linear_classifier,
    cases=[_train_case(3, 4, 5, 0.5, 3), _train_case(4, 6, 7, 0.2, 2), _train_case(10, 8, 6, 1.0, 5),
           _train_case(3, 5, 4, 0.3, 1)],
    kind="debug",
    bug=_planted_train_linear_classifier,
    mistakes=[
        Mistake(_train_divided_twice, "the 1/N was right already: with steps=1 the weights agreed with torch. "
                                      "Look at what the second step uses that the first does not."),
    ],
    shape_hint="Return the new weight, with the shape of weight (C, D).",
    choices={
        "a": "the softmax is not stabilised, so large logits overflow",
        "b": "the gradient is not divided by the batch size N",
        "c": "the gradient is cleared once, before the loop, so it adds up over the steps (zero_grad() called "
             "outside the loop instead of inside)",
        "d": "the weight gradient is x.T @ p, not p.T @ x",
    },
    answer="c",
    choice_hints={
        "a": "each row's max is subtracted before exp, so logits in the thousands do not overflow. What differs "
             "between one step, which agrees with torch, and three, which do not?",
        "b": "with steps=1 the weights agree with torch, so the first gradient, 1/N included, is right.",
        "d": "x.T @ p has shape (D, C), the transpose of weight's (C, D); and one step agrees with torch, so the "
             "first gradient is right.",
    },
    hints=(
        "One step agrees with torch, three steps do not. What does the second step use that the first does not?",
        "grad is created once, before the loop, and += adds each step's gradient to those of the steps before: "
        "the second update uses g1 + g2. Compute each step's gradient afresh (grad = p.T @ x / N), the NumPy twin "
        "of calling zero_grad() before every backward.",
    ),
    explanation="Gradients add up until they are cleared, in PyTorch and in the chapter's layers alike. Here grad "
                "is cleared once, before the loop, so step k moves the weights by lr·(g1 + … + gk): the first step "
                "agrees with torch exactly, every later one overshoots. The fix uses each step's gradient alone.",
))


# --- 7. Predict: a trained network left in training mode (asked in the chapter's "In practice" section) --------
register(Exercise(
    "train_mode_accuracy", None, [],
    kind="predict",
    choices={
        "a": "about as well as in evaluation mode, within a few points",
        "b": "clearly worse, but still right on more than half of the test digits",
        "c": "wrong on more than half of the test digits",
    },
    answer="c",
    choice_hints={
        "a": "in training mode, batch norm normalizes with the statistics of the batch it is given, and here a "
             "batch is one image.",
        "b": "think of the second batch norm: for one image, it normalizes the 16 positions of each channel to mean "
             "0 and variance 1. What is left for global average pooling to average?",
    },
    hints=(
        "In training mode, batch norm normalizes with the mean and variance of the batch it is given. What are "
        "they when the batch is a single image?",
        "They are that image's own statistics. After the second batch norm, every channel of the image has mean β "
        "and spread |γ| over its 16 positions, whatever the digit: how much can the global average after it still "
        "tell apart?",
    ),
    explanation="Fed one image in training mode, each batch norm normalizes that image by its own statistics. "
                "After the second one, every channel has mean β and spread |γ| over its 16 positions whatever the "
                "digit, so the global average that follows has lost most of what told the digits apart (and "
                "dropout drops units on top). The answers fall towards chance, 1 in 10; in evaluation mode the "
                "same weights, with the running statistics, get almost every digit right.",
))
