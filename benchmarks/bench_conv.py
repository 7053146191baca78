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

import argparse
import math
import platform
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_info, threadpool_limits

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


def median_times(fns, repeats, warmup, target=0.01):
    """Median seconds per call of each fn: `warmup` calls, then `repeats` loops of about `target` s each.

    Each fn is timed in one block. Interleaving torch and NumPy calls would make each pay for the
    other's idle worker threads, which keep spinning for a while after a parallel call.
    """
    medians = []
    for fn in fns:
        for _ in range(warmup):
            fn()
        start = time.perf_counter()
        fn()
        n = max(1, int(target / max(time.perf_counter() - start, 1e-9)))
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(n):
                fn()
            times.append((time.perf_counter() - start) / n)
        medians.append(statistics.median(times))
    return medians


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


def geometric_mean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(),
                        help="threads for torch and for NumPy's BLAS (default: torch.get_num_threads())")
    parser.add_argument("--repeats", type=int, default=15, help="timed repeats per measurement; the median is kept")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls before timing")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    with threadpool_limits(limits=args.threads):
        pools = ", ".join(f"{i['internal_api']} {i['num_threads']}" for i in threadpool_info())
        print(f"nbutils conv2d vs torch {torch.__version__}, numpy {np.__version__}, {platform.processor() or 'cpu'}")
        print(f"float32, {args.threads} thread(s): torch {torch.get_num_threads()}; threads per pool: {pools}")
        print(f"median of {args.repeats} repeats after {args.warmup} warm-up calls; ratio = nbutils / torch\n")
        head = (f"{'case':28s} {'input':>17s} {'weight':>15s} | {'fwd ours':>9s} {'torch':>8s} {'ratio':>6s} | "
                f"{'bwd ours':>9s} {'torch':>8s} {'ratio':>6s} | {'rel err':>7s}")
        print(head)
        print("-" * len(head))
        fwd_ratios, bwd_ratios = [], []
        for name, x_shape, w_shape, kwargs in SUITE:
            of, tf, ob, tb, err = bench_case(x_shape, w_shape, kwargs, args.repeats, args.warmup)
            fwd_ratios.append(of / tf)
            bwd_ratios.append(ob / tb)
            print(f"{name:28s} {'x'.join(map(str, x_shape)):>17s} {'x'.join(map(str, w_shape)):>15s} | "
                  f"{of * 1e3:7.2f}ms {tf * 1e3:6.2f}ms {of / tf:6.2f} | "
                  f"{ob * 1e3:7.2f}ms {tb * 1e3:6.2f}ms {ob / tb:6.2f} | {err:7.1e}")
        print("-" * len(head))
        fwd, bwd = geometric_mean(fwd_ratios), geometric_mean(bwd_ratios)
        print(f"geometric mean ratio (nbutils / torch): forward {fwd:.2f}, backward {bwd:.2f}")


if __name__ == "__main__":
    main()
