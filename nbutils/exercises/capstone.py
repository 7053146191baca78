"""Chapter 7 exercises: the cross-entropy gradient, one SGD step with momentum, and fixing a broken GAP backward."""

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
    p = np.exp(logits - logits.max(axis=1, keepdims=True))  # softmax, shifted so exp cannot overflow
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
))


# --- 2. One SGD step with momentum and weight decay, torch's rule ------------------------------
def sgd_momentum_step(param, grad, buf, lr, momentum, weight_decay):
    d = grad + weight_decay * param  # weight decay joins the gradient
    if momentum == 0:
        return param - lr * d, buf  # plain SGD: torch keeps no momentum buffer, so buf stays as it was
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
))
