"""Chapter 5 exercises: BN's forward, running statistics and input gradient, GroupNorm, RMS norm's gradient (derive),
the running mean's warm-up (predict), and a BN training step with a planted bug (debug)."""

import numpy as np

from nbutils.exercises._core import Exercise, Mistake, register

_rng = np.random.default_rng(2055)


def _batch(shape, scale=2.0, shift=1.0):
    """A random NCHW batch whose channels have different means and spreads."""
    C = shape[1]
    return (_rng.standard_normal(shape) * _rng.uniform(0.5, scale, (1, C, 1, 1))
            + _rng.uniform(-shift, shift, (1, C, 1, 1)) * 3)


# --- 1. BN's training forward ----------------------------------------------------------------
def bn_forward(x, gamma, beta, eps=1e-5):
    mean = x.mean(axis=(0, 2, 3), keepdims=True)  # per channel, over N, H and W
    var = x.var(axis=(0, 2, 3), keepdims=True)  # biased: divide by N·H·W
    x_hat = (x - mean) / np.sqrt(var + eps)
    return gamma[None, :, None, None] * x_hat + beta[None, :, None, None]


def _bn_with_axes(axes, ddof=0, eps_inside=True):
    def wrong(x, gamma, beta, eps=1e-5):
        mean = x.mean(axis=axes, keepdims=True)
        std = x.std(axis=axes, keepdims=True, ddof=ddof)
        x_hat = (x - mean) / (np.sqrt(std**2 + eps) if eps_inside else std + eps)
        return gamma[None, :, None, None] * x_hat + beta[None, :, None, None]
    return wrong


def _bn_swapped(x, gamma, beta, eps=1e-5):
    return bn_forward(x, beta, gamma, eps)


def _bn_flat_gamma(x, gamma, beta, eps=1e-5):
    mean, var = x.mean(axis=(0, 2, 3), keepdims=True), x.var(axis=(0, 2, 3), keepdims=True)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta  # (C,) lines up with the last axis, W


def _bn_no_keepdims(x, gamma, beta, eps=1e-5):
    x_hat = (x - x.mean(axis=(0, 2, 3))) / np.sqrt(x.var(axis=(0, 2, 3)) + eps)  # (C,) again meets W
    return gamma[None, :, None, None] * x_hat + beta[None, :, None, None]


BROADCAST_C = ("an array of shape (C,) lines up with the LAST axis of (N, C, H, W), which is W, not C. Keep the "
               "reduced axes (x.mean(axis=(0, 2, 3), keepdims=True), the same for var) and reshape gamma and beta "
               "to (1, C, 1, 1), e.g. gamma[None, :, None, None].")


register(Exercise(
    "bn_forward", bn_forward,
    cases=[((_batch((4, 3, 5, 5)), _rng.uniform(0.5, 2, 3), _rng.standard_normal(3)), {}),
           ((_batch((2, 4, 3, 6)), _rng.uniform(0.5, 2, 4), _rng.standard_normal(4)), {"eps": 0.3}),
           ((_batch((8, 2, 2, 2)), _rng.uniform(0.5, 2, 2), _rng.standard_normal(2)), {})],
    mistakes=[
        Mistake(_bn_with_axes(0), "you normalized per activation, over the batch axis only. For NCHW, BN "
                "normalizes per channel: the mean and variance are over axes (0, 2, 3), i.e. N, H and W."),
        Mistake(_bn_with_axes((1, 2, 3)), "you normalized each image over its channels and positions: that is "
                "LayerNorm. BN averages over the batch: axes (0, 2, 3), one mean per channel."),
        Mistake(_bn_with_axes((2, 3)), "you normalized each image and channel on its own: that is InstanceNorm. "
                "BN also averages over the batch: axes (0, 2, 3)."),
        Mistake(_bn_with_axes((0, 2, 3), ddof=1), "the variance used to normalize is the biased one, dividing "
                "by N·H·W (np.var's default, ddof=0), not by N·H·W − 1."),
        Mistake(_bn_with_axes((0, 2, 3), eps_inside=False), "eps goes inside the square root: "
                "(x − mean) / sqrt(var + eps), not (x − mean) / (std + eps)."),
        Mistake(_bn_swapped, "gamma scales and beta shifts: y = gamma·x̂ + beta."),
        Mistake(_bn_flat_gamma, BROADCAST_C, raises=(ValueError, "broadcast")),
        Mistake(_bn_no_keepdims, BROADCAST_C, raises=(ValueError, "broadcast")),
    ],
    shape_hint="The output has the input's shape (N, C, H, W); gamma and beta broadcast as (1, C, 1, 1).",
    hints=(
        "BN keeps one mean and one variance per channel. Which axes of (N, C, H, W) does it average over, and how "
        "do gamma and beta of shape (C,) line up with the channel axis?",
        "mean = x.mean(axis=(0, 2, 3), keepdims=True) and var = x.var(axis=(0, 2, 3), keepdims=True) (biased); "
        "then (x − mean) / np.sqrt(var + eps), times gamma[None, :, None, None], plus beta[None, :, None, None].",
    ),
))


# --- 2. The running statistics ---------------------------------------------------------------
def bn_running_stats(running_mean, running_var, x, momentum=0.1):
    n = x.size // x.shape[1]  # values per channel: N·H·W
    mean = x.mean(axis=(0, 2, 3))
    # the running variance stores the unbiased one
    var_unbiased = x.var(axis=(0, 2, 3)) * n / (n - 1)
    # torch's momentum weighs the new batch
    new_mean = (1 - momentum) * running_mean + momentum * mean
    new_var = (1 - momentum) * running_var + momentum * var_unbiased
    return new_mean, new_var


def _stats_wrong(biased=False, reversed_momentum=False, axes=(0, 2, 3)):
    def wrong(running_mean, running_var, x, momentum=0.1):
        mean = x.mean(axis=axes)
        var = x.var(axis=axes, ddof=0 if biased else 1)
        m = 1 - momentum if reversed_momentum else momentum
        return (1 - m) * running_mean + m * mean, (1 - m) * running_var + m * var
    return wrong


register(Exercise(
    "bn_running_stats", bn_running_stats,
    cases=[((_rng.standard_normal(3), _rng.uniform(0.5, 2, 3), _batch((4, 3, 2, 2))), {}),
           ((np.zeros(2), np.ones(2), _batch((2, 2, 3, 3))), {"momentum": 0.3}),
           ((_rng.standard_normal(4), _rng.uniform(0.5, 2, 4), _batch((3, 4, 1, 2))), {"momentum": 0.05})],
    mistakes=[
        Mistake(_stats_wrong(biased=True), "running_var accumulates the UNBIASED batch variance, "
                "var·n/(n − 1) with n = N·H·W, although training normalizes with the biased one."),
        Mistake(_stats_wrong(reversed_momentum=True), "momentum is applied the wrong way round. In PyTorch it "
                "weighs the new batch: new = (1 − momentum)·old + momentum·batch (Keras's convention is the "
                "opposite)."),
        Mistake(_stats_wrong(biased=True, reversed_momentum=True), "two things: momentum weighs the NEW batch, "
                "new = (1 − momentum)·old + momentum·batch, and running_var takes the unbiased batch variance."),
        Mistake(_stats_wrong(axes=None), "the statistics are per channel: one mean and one variance for each of "
                "the C channels, over axes (0, 2, 3), not one for the whole batch."),
    ],
    shape_hint="Return (new_mean, new_var), each of shape (C,): one value per channel.",
    outputs=("the new running_mean", "the new running_var"),
    keep_inputs=True,  # the text: "Return new arrays; do not change the inputs."
    hints=(
        "Two details from 'Running statistics': which of old and new does PyTorch's momentum weigh, and which "
        "batch variance goes into running_var?",
        "new_mean = (1 − momentum)·running_mean + momentum·x.mean(axis=(0, 2, 3)); the same for the variance with "
        "the UNBIASED x.var(axis=(0, 2, 3), ddof=1). Build new arrays; do not assign into the inputs.",
    ),
))


# --- 3. BN's input gradient --------------------------------------------------------------------
def bn_backward(grad_out, x, gamma, eps=1e-5):
    axes = (0, 2, 3)
    m = x.size // x.shape[1]
    r = 1 / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    x_hat = (x - x.mean(axis=axes, keepdims=True)) * r
    g = grad_out
    d_beta = g.sum(axis=axes, keepdims=True)
    d_gamma = (g * x_hat).sum(axis=axes, keepdims=True)
    return gamma[None, :, None, None] * r / m * (m * g - d_beta - x_hat * d_gamma)


def _bwd_wrong(mean_path=True, var_path=True, axes=(0, 2, 3)):
    def wrong(grad_out, x, gamma, eps=1e-5):
        r = 1 / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
        x_hat = (x - x.mean(axis=axes, keepdims=True)) * r
        g = grad_out
        out = g.copy()
        if mean_path:
            out -= g.mean(axis=axes, keepdims=True)
        if var_path:
            out -= x_hat * (g * x_hat).mean(axis=axes, keepdims=True)
        return gamma[None, :, None, None] * r * out
    return wrong


def _bwd_flat_gamma(grad_out, x, gamma, eps=1e-5):
    return bn_backward(grad_out, x, np.ones_like(gamma), eps) * gamma  # (C,) lines up with W


register(Exercise(
    "bn_backward", bn_backward,
    cases=[((_rng.standard_normal((2, 2, 4, 5)), _batch((2, 2, 4, 5)), _rng.uniform(0.5, 2, 2)), {}),
           ((_rng.standard_normal((4, 3, 3, 3)), _batch((4, 3, 3, 3)), _rng.uniform(0.5, 2, 3)), {}),
           ((_rng.standard_normal((6, 4, 2, 2)), _batch((6, 4, 2, 2)), _rng.uniform(0.5, 2, 4)), {"eps": 0.1})],
    mistakes=[
        Mistake(_bwd_wrong(False, False), "you treated the mean and the variance as constants. In training they "
                "depend on every input of the channel: subtract mean(ĝ) and x̂·mean(ĝ·x̂) (ĝ = γ·g)."),
        Mistake(_bwd_wrong(True, False), "the path through the variance is missing: also subtract "
                "x̂·mean(ĝ·x̂) over the channel."),
        Mistake(_bwd_wrong(False, True), "the path through the mean is missing: also subtract mean(ĝ) over "
                "the channel."),
        Mistake(_bwd_wrong(axes=(0,)), "the means in the formula run over the same set as the forward pass: per "
                "channel over N, H and W (axes (0, 2, 3)), not over the batch axis alone."),
        Mistake(_bwd_flat_gamma, BROADCAST_C, raises=(ValueError, "broadcast")),
    ],
    shape_hint="The input gradient has the input's shape (N, C, H, W).",
    hints=(
        "Every sum in the boxed formula runs over one channel's m = N·H·W values: axes (0, 2, 3), with "
        "keepdims=True so that the results broadcast against x.",
        "r = 1/np.sqrt(var + eps), x̂ = (x − mean)·r, dβ = Σ g and dγ = Σ g·x̂ per channel; return γ·r/m·(m·g − dβ "
        "− x̂·dγ), with gamma reshaped to (1, C, 1, 1).",
    ),
))


# --- 4. GroupNorm, with its rule about num_groups ----------------------------------------------
def gn_forward(x, num_groups, eps=1e-5):
    N, C, H, W = x.shape
    if C % num_groups:
        raise ValueError(f"num_groups={num_groups} must divide the number of channels C={C}")
    groups = x.reshape(N, num_groups, C // num_groups, H, W)  # consecutive channels form a group
    mean = groups.mean(axis=(2, 3, 4), keepdims=True)
    var = groups.var(axis=(2, 3, 4), keepdims=True)
    return ((groups - mean) / np.sqrt(var + eps)).reshape(x.shape)


def _gn_unchecked(x, num_groups, eps=1e-5):
    """The usual shortcut: reshape to (N, G, -1), which also 'works' when G does not divide C."""
    g = x.reshape(x.shape[0], num_groups, -1)
    return ((g - g.mean(axis=2, keepdims=True)) / np.sqrt(g.var(axis=2, keepdims=True) + eps)).reshape(x.shape)


def _gn_interleaved(x, num_groups, eps=1e-5):
    N, C, H, W = x.shape
    groups = x.reshape(N, C // num_groups, num_groups, H, W)  # channel c in group c % G
    mean = groups.mean(axis=(1, 3, 4), keepdims=True)
    var = groups.var(axis=(1, 3, 4), keepdims=True)
    return ((groups - mean) / np.sqrt(var + eps)).reshape(x.shape)


def _gn_with_batch(x, num_groups, eps=1e-5):
    N, C, H, W = x.shape
    groups = x.reshape(N, num_groups, C // num_groups, H, W)
    mean = groups.mean(axis=(0, 2, 3, 4), keepdims=True)
    var = groups.var(axis=(0, 2, 3, 4), keepdims=True)
    return ((groups - mean) / np.sqrt(var + eps)).reshape(x.shape)


def _gn_per_channel(x, num_groups, eps=1e-5):
    return gn_forward(x, x.shape[1], eps)


NOT_DIVIDING = ("num_groups must divide C: a group holds C/num_groups whole channels. x.reshape(N, num_groups, -1) "
                "still runs when it does not (it only needs C·H·W to divide), but then groups cut channels in two. "
                "Check C % num_groups and raise ValueError, as torch does.")

register(Exercise(
    "gn_forward", gn_forward,
    cases=[((_batch((2, 6, 3, 3)), 3), {}), ((_batch((3, 8, 2, 4)), 2), {}), ((_batch((1, 4, 5, 5)), 2), {"eps": 0.1}),
           ((_batch((2, 6, 2, 2)), 1), {})],
    refusals=[((_batch((2, 6, 2, 2)), 4), {}), ((_batch((1, 10, 2, 2)), 4), {})],
    refusal_hint=NOT_DIVIDING,
    mistakes=[
        Mistake(_gn_unchecked, NOT_DIVIDING),
        Mistake(_gn_interleaved, "a group is made of CONSECUTIVE channels: with C=6 and 3 groups, channels 0-1, 2-3 "
                "and 4-5. Reshape to (N, G, C/G, H, W), not (N, C/G, G, H, W)."),
        Mistake(_gn_with_batch, "GN never looks at the other images: the statistics are per image, over the group's "
                "channels and positions (not over the batch axis)."),
        Mistake(_gn_per_channel, "you normalized every channel on its own (InstanceNorm). GN shares one mean and "
                "variance between the C/num_groups channels of a group."),
    ],
    shape_hint="The output has the input's shape (N, C, H, W).",
    hints=(
        "A group is C/G consecutive channels of ONE image. Give the group an axis of its own with a reshape, and "
        "check first that the groups hold whole channels.",
        "If C % num_groups: raise ValueError. Then x.reshape(N, G, C // G, H, W), mean and var over axes (2, 3, 4) "
        "with keepdims=True, normalize, and reshape back to (N, C, H, W).",
    ),
))


# --- 5. Derive: the input gradient of RMS normalization ---------------------------------------
def rms_norm_backward(grad_out, x, eps=1e-5):
    axes = (0, 2, 3)
    r = 1 / np.sqrt((x * x).mean(axis=axes, keepdims=True) + eps)  # no mean: only the second moment
    x_hat = x * r
    return r * (grad_out - x_hat * (grad_out * x_hat).mean(axis=axes, keepdims=True))


def _rms_wrong(var_path=True, mean_path=False, axes=(0, 2, 3)):
    def wrong(grad_out, x, eps=1e-5):
        r = 1 / np.sqrt((x * x).mean(axis=axes, keepdims=True) + eps)
        x_hat, out = x * r, grad_out.copy()
        if mean_path:
            out -= grad_out.mean(axis=axes, keepdims=True)
        if var_path:
            out -= x_hat * (grad_out * x_hat).mean(axis=axes, keepdims=True)
        return r * out
    return wrong


def _rms_as_bn(grad_out, x, eps=1e-5):
    return bn_backward(grad_out, x, np.ones(x.shape[1]), eps)  # BN's formula, with BN's mean and variance


register(Exercise(
    "rms_norm_backward", rms_norm_backward,
    cases=[((_rng.standard_normal((2, 2, 4, 5)), _batch((2, 2, 4, 5))), {}),
           ((_rng.standard_normal((4, 3, 3, 3)), _batch((4, 3, 3, 3))), {}),
           ((_rng.standard_normal((6, 4, 2, 2)), _batch((6, 4, 2, 2))), {"eps": 0.1})],
    mistakes=[
        Mistake(_rms_wrong(var_path=False), "r depends on every input of the channel, so x_j also reaches the "
                "output through r: subtract x̂_j·mean(g·x̂) over the channel."),
        Mistake(_rms_wrong(mean_path=True), "there is no mean in RMS norm, so there is no path through it: drop "
                "the mean(g) term. Only the path through r (the second moment) is left."),
        Mistake(_rms_as_bn, "that is BN's gradient, with BN's mean and variance. RMS norm divides x itself (not "
                "x − μ) by √(mean(x²) + ε)."),
        Mistake(_rms_wrong(axes=(0,)), "the means run over the same set as the forward pass: per channel over N, "
                "H and W (axes (0, 2, 3)), not over the batch axis alone."),
    ],
    shape_hint="The input gradient has the input's shape (N, C, H, W).",
    kind="derive",
    hints=(
        "Take the figure and delete μ: x reaches x̂ = x·r directly and through r = 1/√(mean(x²) + ε). What is "
        "∂r/∂x_j for one channel of m values?",
        "∂r/∂x_j = −r³·x_j/m, so ∂x̂_i/∂x_j = r·(δ_ij − x̂_i·x̂_j/m) and ∂L/∂x_j = r·(g_j − x̂_j·mean(g·x̂)), the "
        "mean per channel over axes (0, 2, 3).",
    ),
))


# --- 6. Predict: how long the running mean takes to warm up -------------------------------------
register(Exercise(
    "bn_warmup_steps", None, [], kind="predict", answer=44, tolerance=0.5,
    choice_hints={43: "0.9^43 ≈ 0.0108 is still above 1 %: ln 0.01 / ln 0.9 ≈ 43.7 rounds UP to whole steps.",
                  10: "momentum 0.1 does not mean 10 steps: each step closes only 10 % of the remaining gap.",
                  100: "1/0.01 = 100 would be right if each step closed a fixed amount; it closes a fixed FRACTION."},
    hints=(
        "Start from running_mean = 0 and feed batches whose mean is always μ. What is the running mean after one "
        "step, two steps, k steps, with momentum 0.1?",
        "After k steps it is μ·(1 − 0.9^k): the gap to μ is 0.9^k·μ. Solve 0.9^k ≤ 0.01, and remember that k is "
        "a whole number of steps.",
    ),
    explanation="The running mean after k steps is μ·(1 − 0.9^k). 0.9^43 ≈ 0.0108 is still above 1 %, 0.9^44 ≈ "
                "0.0097 is below (ln 0.01 / ln 0.9 ≈ 43.7). A model evaluated after a few dozen training steps "
                "normalizes with statistics still pulled towards their initial values 0 and 1.",
))


# --- 7. Debug: a training step that stores the wrong variance -----------------------------------
def bn_train_then_eval(x, momentum=0.1, eps=1e-5):
    # a bug is planted in this function
    axes = (0, 2, 3)
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    train_out = (x - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + eps)
    # one step from the initial running statistics
    running_mean = (1 - momentum) * 0.0 + momentum * mean
    running_var = (1 - momentum) * 1.0 + momentum * var
    eval_out = ((x - running_mean[None, :, None, None])
                / np.sqrt(running_var[None, :, None, None] + eps))
    return train_out, eval_out


_planted_bn_train_then_eval = bn_train_then_eval  # the stub the chapter shows; the fix follows under the same name


def bn_train_then_eval(x, momentum=0.1, eps=1e-5):
    """One training step of a fresh BN without affine parameters on x, then x again in eval mode."""
    axes, n = (0, 2, 3), x.size // x.shape[1]  # n values per channel: N·H·W
    mean, var = x.mean(axis=axes), x.var(axis=axes)  # var: biased, divided by n
    train_out = (x - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + eps)
    running_mean = (1 - momentum) * 0.0 + momentum * mean
    # the running variance is the unbiased one
    running_var = (1 - momentum) * 1.0 + momentum * var * n / (n - 1)
    eval_out = ((x - running_mean[None, :, None, None])
                / np.sqrt(running_var[None, :, None, None] + eps))
    return train_out, eval_out


def _step_wrong(train_ddof=0, run_ddof=1, reversed_momentum=False, eval_batch=False):
    def wrong(x, momentum=0.1, eps=1e-5):
        axes = (0, 2, 3)
        mean = x.mean(axis=axes)
        train_out = (x - mean[None, :, None, None]) / np.sqrt(x.var(axis=axes, ddof=train_ddof)[None, :, None, None]
                                                              + eps)
        m = 1 - momentum if reversed_momentum else momentum
        running_mean, running_var = m * mean, (1 - m) + m * x.var(axis=axes, ddof=run_ddof)
        if eval_batch:
            return train_out, train_out
        return train_out, (x - running_mean[None, :, None, None]) / np.sqrt(running_var[None, :, None, None] + eps)
    return wrong


register(Exercise(
    "bn_train_then_eval", bn_train_then_eval,
    cases=[((_batch((4, 3, 2, 2)),), {}), ((_batch((2, 2, 1, 3)),), {"momentum": 0.3}),
           ((_batch((3, 4, 2, 1)),), {"momentum": 0.05, "eps": 0.1})],
    mistakes=[
        Mistake(_step_wrong(train_ddof=1), "now the evaluation output is right but the training output is not: "
                "training normalizes with the BIASED batch variance (divide by n); only running_var takes the "
                "unbiased one."),
        Mistake(_step_wrong(reversed_momentum=True), "momentum weighs the new batch in PyTorch: "
                "new = (1 − momentum)·old + momentum·batch."),
        Mistake(_step_wrong(eval_batch=True), "evaluation normalizes with the running statistics, not with the "
                "batch's."),
    ],
    shape_hint="Return (train_out, eval_out), both of x's shape (N, C, H, W).",
    outputs=("the training output", "the evaluation output"),
    kind="debug", bug=_planted_bn_train_then_eval,
    choices={"a": "the training output is normalized with the wrong variance",
             "b": "running_var stores the biased batch variance, where PyTorch stores the unbiased one",
             "c": "momentum weighs the old running value instead of the new batch",
             "d": "evaluation normalizes with the batch's statistics instead of the running ones"},
    answer="b",
    choice_hints={"a": "the comparison cell says the training output matches torch's.",
                  "c": "(1 − momentum)·old + momentum·batch is PyTorch's rule, and the running mean follows it.",
                  "d": "the last line does use running_mean and running_var."},
    hints=(
        "Run the comparison cell below the stub. Which of the two outputs differs from nn.BatchNorm2d's, and what "
        "does that output use that the other does not?",
        "Only the evaluation output differs, and only a little, so look at the running statistics. Which batch "
        "variance does running_var accumulate, according to 'Running statistics'? n = N·H·W.",
    ),
    explanation="Training normalizes with the biased batch variance (divide by n = N·H·W), but PyTorch's "
                "running_var accumulates the unbiased one, var·n/(n − 1). The training output is right, so a test of "
                "training mode alone misses the bug; evaluation then divides by a variance slightly too small, most "
                "of all when n is small.",
))
