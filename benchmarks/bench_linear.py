"""Time nbutils linear / linear_backward against torch on CPU, float32, and print the ratios.

    python benchmarks/bench_linear.py [--threads N] [--repeats R] [--warmup W]

Both libraries run in this process with the same thread count: torch.set_num_threads(N) and
threadpoolctl.threadpool_limits(N) for NumPy's BLAS. Each time is the median of R repeats after W
warm-up calls; a repeat loops over enough calls to last about 10 ms. torch's backward is the three
products autograd would compute (grad_output @ weight, grad_outputᵀ @ input, the bias sum), without
autograd's bookkeeping: the three gradients linear_backward returns. A ratio is nbutils / torch, so
below 1 means nbutils is faster. Nothing here asserts on speed. Both sides call a BLAS matrix product,
so ratios near 1 are expected; on a shared machine multi-threaded timings swing: rerun, or use --threads 1.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F
from _timing import RatioTable, median_times, parse_args, same_threads

from nbutils.layers.linear import linear, linear_backward

# name, input shape (*, in_features), weight shape (out_features, in_features)
SUITE = [
    ("digits GAP head 64->10", (32, 64), (10, 64)),
    ("digits FC head 1024->10", (32, 1024), (10, 1024)),
    ("hidden 512->512, batch 128", (128, 512), (512, 512)),
    ("article fixed: 3136->4096", (2, 3136), (4096, 3136)),
    ("VGG fc7 4096->4096, batch 8", (8, 4096), (4096, 4096)),
    ("tokens (16, 49, 256)->256", (16, 49, 256), (256, 256)),
]


def bench_case(x_shape, w_shape, repeats, warmup, seed=0):
    """Seconds for (ours forward, torch forward, ours backward, torch backward), and the largest
    difference between our output or gradients and torch's, relative to torch's largest entry."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape, dtype=np.float32)
    w = rng.standard_normal(w_shape, dtype=np.float32) / math.sqrt(w_shape[1])
    b = rng.standard_normal(w_shape[0], dtype=np.float32)
    out = linear(x, w, b)
    grad_out = rng.standard_normal(out.shape, dtype=np.float32)
    xt, wt, bt, gt = (torch.from_numpy(a.copy()) for a in (x, w, b, grad_out))

    def torch_forward():
        with torch.no_grad():
            return F.linear(xt, wt, bt)

    def torch_backward():
        g2, x2 = gt.reshape(-1, w_shape[0]), xt.reshape(-1, w_shape[1])
        return (gt @ wt, g2.T @ x2, g2.sum(dim=0))

    def ours_backward():
        return linear_backward(grad_out, x, w)

    err = max(float(np.abs(ours - theirs.numpy()).max() / np.abs(theirs.numpy()).max())
              for ours, theirs in zip((out, *ours_backward()), (torch_forward(), *torch_backward())))
    times = median_times([lambda: linear(x, w, b), torch_forward, ours_backward, torch_backward], repeats, warmup)
    return (*times, err)


def main():
    args = parse_args(__doc__)
    with same_threads(args, "nbutils linear"):
        table = RatioTable([("case", 28), ("input", 12), ("weight", 10)], decimals=3)
        for name, x_shape, w_shape in SUITE:
            table.row((name, x_shape, w_shape), *bench_case(x_shape, w_shape, args.repeats, args.warmup))
        table.finish()


if __name__ == "__main__":
    main()
