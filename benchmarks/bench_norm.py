"""Time nbutils normalization layers against torch on CPU, float32, and print the ratios.

    python benchmarks/bench_norm.py [--threads N] [--repeats R] [--warmup W]

Both libraries run in this process with the same thread count: torch.set_num_threads(N) and
threadpoolctl.threadpool_limits(N) for NumPy's BLAS. Each time is the median of R repeats after W
warm-up calls; a repeat loops over enough calls to last about 10 ms. Forward runs in training mode
(batch statistics; batch_norm also updates its running statistics, as torch's does). torch's backward
is torch.autograd.grad of one recorded forward (retain_graph=True): its native backward kernel, which
reuses the mean and 1/std the forward saved, while ours recomputes them from the input. A ratio is
nbutils / torch, so below 1 means nbutils is faster. Nothing here asserts on speed. On a machine shared
with other work, timings swing widely: rerun, or compare with --threads 1.
"""


import numpy as np
import torch
import torch.nn.functional as F
from _timing import RatioTable, median_times, parse_args, same_threads

from nbutils.layers.norm import (
    batch_norm,
    batch_norm_backward,
    group_norm,
    group_norm_backward,
    instance_norm,
    instance_norm_backward,
    layer_norm,
    layer_norm_backward,
)


def _bn(x, w, b):
    C = x.shape[1]
    return batch_norm(x, np.zeros(C, x.dtype), np.ones(C, x.dtype), w, b, training=True)


def _bn_bwd(g, x, w):
    C = x.shape[1]
    return batch_norm_backward(g, x, np.zeros(C, x.dtype), np.ones(C, x.dtype), w, training=True)


def _bn_torch(x, w, b):
    C = x.shape[1]
    return F.batch_norm(x, torch.zeros(C), torch.ones(C), w, b, training=True)


def _bn_eval(x, w, b):
    C = x.shape[1]
    return batch_norm(x, np.full(C, 0.1, x.dtype), np.full(C, 2.0, x.dtype), w, b, training=False)


def _bn_eval_bwd(g, x, w):
    C = x.shape[1]
    return batch_norm_backward(g, x, np.full(C, 0.1, x.dtype), np.full(C, 2.0, x.dtype), w, training=False)


def _bn_eval_torch(x, w, b):
    C = x.shape[1]
    return F.batch_norm(x, torch.full((C,), 0.1), torch.full((C,), 2.0), w, b, training=False)


def _ln_shape(x):
    return tuple(x.shape[1:])


# name, input shape (N, C, H, W), ours forward f(x, w, b), ours backward f(g, x, w), torch forward f(x, w, b);
# None for layer norm, whose weight has the shape (C, H, W) (see bench_case)
SUITE = [
    ("batch_norm train", (32, 16, 32, 32), _bn, _bn_bwd, _bn_torch),
    ("batch_norm train", (16, 64, 28, 28), _bn, _bn_bwd, _bn_torch),
    ("batch_norm train", (8, 256, 14, 14), _bn, _bn_bwd, _bn_torch),
    ("batch_norm train", (128, 64, 8, 8), _bn, _bn_bwd, _bn_torch),
    ("batch_norm eval", (16, 64, 28, 28), _bn_eval, _bn_eval_bwd, _bn_eval_torch),
    ("group_norm G=8", (16, 64, 28, 28), lambda x, w, b: group_norm(x, 8, w, b),
     lambda g, x, w: group_norm_backward(g, x, 8, w), lambda x, w, b: F.group_norm(x, 8, w, b)),
    ("group_norm G=32", (8, 256, 14, 14), lambda x, w, b: group_norm(x, 32, w, b),
     lambda g, x, w: group_norm_backward(g, x, 32, w), lambda x, w, b: F.group_norm(x, 32, w, b)),
    ("instance_norm", (16, 64, 28, 28), lambda x, w, b: instance_norm(x, weight=w, bias=b),
     lambda g, x, w: instance_norm_backward(g, x, weight=w), lambda x, w, b: F.instance_norm(x, weight=w, bias=b)),
    ("layer_norm (C,H,W)", (16, 64, 28, 28), None, None, None),
]


def bench_case(shape, ours_fwd, ours_bwd, torch_fwd, repeats, warmup, seed=0):
    """Seconds for (ours forward, torch forward, ours backward, torch backward), and the largest difference
    between our output or gradients and torch's, relative to torch's largest entry."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape, dtype=np.float32) * 2 + 0.5
    wshape = shape[1:] if ours_fwd is None else shape[1:2]
    w = 1 + 0.1 * rng.standard_normal(wshape, dtype=np.float32)
    b = 0.1 * rng.standard_normal(wshape, dtype=np.float32)
    g = rng.standard_normal(shape, dtype=np.float32)
    if ours_fwd is None:  # layer norm over (C, H, W): weight and bias of that shape
        ours_fwd = lambda x, w, b: layer_norm(x, _ln_shape(x), w, b)
        ours_bwd = lambda g, x, w: layer_norm_backward(g, x, _ln_shape(x), w)
        torch_fwd = lambda x, w, b: F.layer_norm(x, _ln_shape(x), w, b)
    xt, wt, bt, gt = (torch.from_numpy(a.copy()) for a in (x, w, b, g))
    xr, wr, br = (t.clone().requires_grad_() for t in (xt, wt, bt))
    out_t = torch_fwd(xr, wr, br)

    def torch_forward():
        with torch.no_grad():
            return torch_fwd(xt, wt, bt)

    def torch_backward():
        return torch.autograd.grad(out_t, (xr, wr, br), gt, retain_graph=True)

    ours = (ours_fwd(x, w, b), *ours_bwd(g, x, w))
    theirs = (torch_forward(), *torch_backward())
    err = max(float(np.abs(o - t.numpy()).max() / np.abs(t.numpy()).max()) for o, t in zip(ours, theirs))
    times = median_times([lambda: ours_fwd(x, w, b), torch_forward, lambda: ours_bwd(g, x, w), torch_backward],
                         repeats, warmup)
    return (*times, err)


def main():
    args = parse_args(__doc__)
    with same_threads(args, "nbutils norm layers"):
        table = RatioTable([("case", 20), ("input", 15)])
        for name, shape, ours_fwd, ours_bwd, torch_fwd in SUITE:
            table.row((name, shape), *bench_case(shape, ours_fwd, ours_bwd, torch_fwd, args.repeats, args.warmup))
        table.finish()


if __name__ == "__main__":
    main()
