"""Time nbutils conv2d / conv2d_backward against torch on CPU, float32, and print the ratios.

    python benchmarks/bench_conv.py [--threads N] [--repeats R] [--warmup W]

Both libraries run in this process with the same thread count: torch.set_num_threads(N) and
threadpoolctl.threadpool_limits(N) for NumPy's BLAS. Each time is the median of R repeats after W
warm-up calls; a repeat loops over enough calls to last about 10 ms. torch's backward is
torch.nn.grad.conv2d_input + conv2d_weight + the bias sum: the three gradients conv2d_backward
returns. A ratio is nbutils / torch, so below 1 means nbutils is faster. Nothing here asserts on
speed. On a machine shared with other work, multi-threaded timings swing widely: rerun, or compare
with --threads 1.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F
from _timing import RatioTable, median_times, parse_args, same_threads

from nbutils.layers.conv import conv2d, conv2d_backward

# name, input shape (N, C, H, W), weight shape (O, C/groups, kH, kW), conv2d keyword arguments
SUITE = [
    ("3x3, 3->25, stride 2, 31x31", (100, 3, 31, 31), (25, 3, 3, 3), dict(stride=2, padding=1)),
    ("3x3, 16->32 at 32x32", (32, 16, 32, 32), (32, 16, 3, 3), dict(padding=1)),
    ("3x3, 64->64 at 28x28", (16, 64, 28, 28), (64, 64, 3, 3), dict(padding=1)),
    ("depthwise 3x3, 64 ch", (32, 64, 32, 32), (64, 1, 3, 3), dict(padding=1, groups=64)),
    ("1x1, 64->128 at 16x16", (32, 64, 16, 16), (128, 64, 1, 1), dict()),
    ("dilated 3x3 (d=2), 16->16", (16, 16, 32, 32), (16, 16, 3, 3), dict(padding=2, dilation=2)),
]


def bench_case(x_shape, w_shape, kwargs, repeats, warmup, seed=0):
    """Seconds for (ours forward, torch forward, ours backward, torch backward), and the largest
    difference between our output or gradients and torch's, relative to torch's largest entry."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape, dtype=np.float32)
    w = rng.standard_normal(w_shape, dtype=np.float32) / math.sqrt(np.prod(w_shape[1:]))
    b = rng.standard_normal(w_shape[0], dtype=np.float32)
    out = conv2d(x, w, b, **kwargs)
    grad_out = rng.standard_normal(out.shape, dtype=np.float32)
    xt, wt, bt, gt = (torch.from_numpy(a.copy()) for a in (x, w, b, grad_out))

    def torch_forward():
        with torch.no_grad():
            return F.conv2d(xt, wt, bt, **kwargs)

    def torch_backward():  # the same three gradients conv2d_backward returns, without autograd's bookkeeping
        return (torch.nn.grad.conv2d_input(xt.shape, wt, gt, **kwargs),
                torch.nn.grad.conv2d_weight(xt, wt.shape, gt, **kwargs), gt.sum(dim=(0, 2, 3)))

    def ours_backward():
        return conv2d_backward(grad_out, x, w, **kwargs)

    err = max(float(np.abs(ours - theirs.numpy()).max() / np.abs(theirs.numpy()).max())
              for ours, theirs in zip((out, *ours_backward()), (torch_forward(), *torch_backward())))
    times = median_times([lambda: conv2d(x, w, b, **kwargs), torch_forward, ours_backward, torch_backward],
                         repeats, warmup)
    return (*times, err)


def main():
    args = parse_args(__doc__)
    with same_threads(args, "nbutils conv2d"):
        table = RatioTable([("case", 28), ("input", 17), ("weight", 15)])
        for name, x_shape, w_shape, kwargs in SUITE:
            table.row((name, x_shape, w_shape), *bench_case(x_shape, w_shape, kwargs, args.repeats, args.warmup))
        table.finish()


if __name__ == "__main__":
    main()
