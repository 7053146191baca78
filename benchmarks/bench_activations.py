"""Time nbutils activations (forward and backward) against torch on CPU, float32, and print the ratios.

    python benchmarks/bench_activations.py [--threads N] [--repeats R] [--warmup W]

Both libraries run in this process with the same thread count: torch.set_num_threads(N) and
threadpool_limits(N) for NumPy. NumPy's elementwise functions always run on one thread, so with N > 1
torch has threads that NumPy cannot use; --threads 1 compares the kernels like for like. Each time is the
median of R repeats after W warm-up calls (the timing helpers are in _timing.py).

Forward: our function against torch's under no_grad. Backward: against torch's own backward kernel
(sigmoid_backward, threshold_backward, leaky_relu_backward, _prelu_kernel_backward plus the sum to the
weight's shape, rrelu_with_noise_backward, _softmax_backward_data, _log_softmax_backward_data), without
autograd's bookkeeping on either side. RReLU runs in training mode: both sides draw fresh slopes on every
forward call. The error column is the largest difference between our output and gradients and torch's,
relative to torch's largest entry (RReLU: given torch's slopes). A ratio is nbutils / torch: below 1 means
nbutils is faster. Nothing here asserts on speed.
"""


import numpy as np
import torch
import torch.nn.functional as F
from _timing import RatioTable, median_times, parse_args, same_threads

from nbutils.layers import activations as A

aten = torch.ops.aten

# name, input shape, kind (a key of make_case)
SUITE = [
    ("sigmoid", (32, 64, 32, 32), "sigmoid"),
    ("relu", (32, 64, 32, 32), "relu"),
    ("relu, small map", (8, 16, 16, 16), "relu"),
    ("leaky_relu 0.01", (32, 64, 32, 32), "leaky_relu"),
    ("prelu, 64 slopes", (32, 64, 32, 32), "prelu"),
    ("rrelu, training", (32, 64, 32, 32), "rrelu"),
    ("softmax, logits dim 1", (256, 1000), "softmax"),
    ("softmax, seg. map dim 1", (8, 21, 64, 64), "softmax"),
    ("log_softmax, logits", (256, 1000), "log_softmax"),
]


def make_case(kind, x, xt, rng):
    """(ours(x), theirs(xt), ours_backward(g, x, y), theirs_backward(g, x, y)): the four timed functions.

    Backward functions receive the forward input and output of their own library. RReLU's forward calls draw
    fresh slopes; its backward functions both use the slopes torch drew in one call made here, so that the
    error column can compare them.
    """
    if kind == "prelu":
        w = rng.uniform(0.0, 0.5, x.shape[1]).astype(x.dtype)
        wt = torch.from_numpy(w)
        w_view = wt.view(-1, *[1] * (x.ndim - 2))
        not_channel = [k for k in range(x.ndim) if k != 1]

        def theirs_backward(g, x, y):
            grad_input, grad_weight = aten._prelu_kernel_backward(g, x, w_view)
            return grad_input, grad_weight.sum(dim=not_channel)

        return (lambda x: A.prelu(x, w), lambda x: torch.prelu(x, wt), lambda g, x, y: A.prelu_backward(g, x, w),
                theirs_backward)
    if kind == "rrelu":
        lower, upper = 1 / 8, 1 / 3
        noise_t, scratch = torch.empty_like(xt), torch.empty_like(xt)
        aten.rrelu_with_noise(xt, noise_t, lower, upper, True)  # the slopes both backward functions use
        noise = noise_t.numpy().copy()
        return (lambda x: A.rrelu(x, lower, upper, training=True, rng=rng),
                lambda x: aten.rrelu_with_noise(x, scratch, lower, upper, True),
                lambda g, x, y: A.rrelu_backward(g, noise),
                lambda g, x, y: aten.rrelu_with_noise_backward(g, x, noise_t, lower, upper, True, False))
    return {
        "sigmoid": (A.sigmoid, torch.sigmoid, lambda g, x, y: A.sigmoid_backward(g, y),
                    lambda g, x, y: aten.sigmoid_backward(g, y)),
        "relu": (A.relu, torch.relu, lambda g, x, y: A.relu_backward(g, y),
                 lambda g, x, y: aten.threshold_backward(g, y, 0)),
        "leaky_relu": (lambda x: A.leaky_relu(x, 0.01), lambda x: F.leaky_relu(x, 0.01),
                       lambda g, x, y: A.leaky_relu_backward(g, x, 0.01),
                       lambda g, x, y: aten.leaky_relu_backward(g, x, 0.01, False)),
        "softmax": (lambda x: A.softmax(x, 1), lambda x: torch.softmax(x, 1),
                    lambda g, x, y: A.softmax_backward(g, y, 1),
                    lambda g, x, y: aten._softmax_backward_data(g, y, 1, torch.float32)),
        "log_softmax": (lambda x: A.log_softmax(x, 1), lambda x: torch.log_softmax(x, 1),
                        lambda g, x, y: A.log_softmax_backward(g, y, 1),
                        lambda g, x, y: aten._log_softmax_backward_data(g, y, 1, torch.float32)),
    }[kind]


def _tuple(a):
    return a if isinstance(a, tuple) else (a,)


def bench_case(shape, kind, repeats, warmup, seed=0):
    """Seconds for (ours forward, torch forward, ours backward, torch backward) and the largest relative error."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape, dtype=np.float32)
    g = rng.standard_normal(shape, dtype=np.float32)
    xt, gt = torch.from_numpy(x), torch.from_numpy(g)
    ours, theirs, ours_backward, theirs_backward = make_case(kind, x, xt, rng)
    with torch.no_grad():
        y, yt = ours(x), theirs(xt)
        pairs = list(zip(_tuple(ours_backward(g, x, y)), _tuple(theirs_backward(gt, xt, yt))))
        if kind != "rrelu":  # random slopes: the forward outputs differ; the backward pair uses torch's slopes
            pairs.append((y, yt))
        err = max(float(np.abs(o - t.numpy()).max() / np.abs(t.numpy()).max()) for o, t in pairs)
        times = median_times([lambda: ours(x), lambda: theirs(xt), lambda: ours_backward(g, x, y),
                              lambda: theirs_backward(gt, xt, yt)], repeats, warmup)
    return (*times, err)


def main():
    args = parse_args(__doc__)
    with same_threads(args, "nbutils activations"):
        table = RatioTable([("case", 24), ("input", 14)])
        for name, shape, kind in SUITE:
            table.row((name, shape), *bench_case(shape, kind, args.repeats, args.warmup))
        table.finish(overall=True)


if __name__ == "__main__":
    main()
