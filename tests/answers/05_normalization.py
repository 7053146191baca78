"""Chapter 5's exercises, answered from the chapter's text as a reader would (see tests/test_exercises.py)."""

import numpy as np


def bn_forward(x, gamma, beta, eps=1e-5):
    N, C, H, W = x.shape
    per_channel = x.transpose(1, 0, 2, 3).reshape(C, -1)
    mean = per_channel.mean(axis=1)
    var = ((per_channel - mean[:, None]) ** 2).mean(axis=1)
    x_hat = (x - mean.reshape(1, C, 1, 1)) / np.sqrt(var.reshape(1, C, 1, 1) + eps)
    return gamma.reshape(1, C, 1, 1) * x_hat + beta.reshape(1, C, 1, 1)


def bn_running_stats(running_mean, running_var, x, momentum=0.1):
    mean = x.mean(axis=(0, 2, 3))
    var = x.var(axis=(0, 2, 3), ddof=1)  # the running variance keeps the unbiased estimate
    return (1 - momentum) * running_mean + momentum * mean, (1 - momentum) * running_var + momentum * var


def bn_backward(grad_out, x, gamma, eps=1e-5):
    axes = (0, 2, 3)
    m = x.shape[0] * x.shape[2] * x.shape[3]
    r = 1 / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    x_hat = (x - x.mean(axis=axes, keepdims=True)) * r
    d_beta = grad_out.sum(axis=axes, keepdims=True)
    d_gamma = (grad_out * x_hat).sum(axis=axes, keepdims=True)
    return gamma.reshape(1, -1, 1, 1) * r / m * (m * grad_out - d_beta - x_hat * d_gamma)


def gn_forward(x, num_groups, eps=1e-5):
    N, C, H, W = x.shape
    if C % num_groups != 0:
        raise ValueError(f"num_groups={num_groups} does not divide C={C}")
    g = x.reshape(N, num_groups, -1)
    mean = g.mean(axis=2, keepdims=True)
    var = g.var(axis=2, keepdims=True)
    return ((g - mean) / np.sqrt(var + eps)).reshape(N, C, H, W)


def rms_norm_backward(grad_out, x, eps=1e-5):
    # r = 1/sqrt(mean(x²) + eps) per channel; the figure without μ leaves two paths: through x̂ and through r
    axes = (0, 2, 3)
    m = x.shape[0] * x.shape[2] * x.shape[3]
    r = 1 / np.sqrt((x**2).sum(axis=axes, keepdims=True) / m + eps)
    x_hat = x * r
    return r * (grad_out - x_hat * (grad_out * x_hat).sum(axis=axes, keepdims=True) / m)


bn_warmup_steps = 44  # 0.9**k <= 0.01 first at k = 44


def bn_train_then_eval(x, momentum=0.1, eps=1e-5):
    # the planted bug: running_var must accumulate the UNBIASED batch variance (divide by n - 1)
    axes = (0, 2, 3)
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    train_out = (x - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + eps)
    running_mean = (1 - momentum) * 0.0 + momentum * mean  # one step from the initial running statistics
    running_var = (1 - momentum) * 1.0 + momentum * x.var(axis=axes, ddof=1)
    eval_out = (x - running_mean[None, :, None, None]) / np.sqrt(running_var[None, :, None, None] + eps)
    return train_out, eval_out


bn_train_then_eval_bug = "b"
