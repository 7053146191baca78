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

import argparse
import math
import platform
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_info, threadpool_limits

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


def median_times(fns, repeats, warmup, target=0.01):
    """Median seconds per call of each fn: `warmup` calls, then `repeats` loops of about `target` s each.

    Each fn is timed in one block, so NumPy's and torch's idle worker threads do not slow each other down.
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
        print(f"nbutils linear vs torch {torch.__version__}, numpy {np.__version__}, {platform.processor() or 'cpu'}")
        print(f"float32, {args.threads} thread(s): torch {torch.get_num_threads()}; threads per pool: {pools}")
        print(f"median of {args.repeats} repeats after {args.warmup} warm-up calls; ratio = nbutils / torch\n")
        head = (f"{'case':28s} {'input':>12s} {'weight':>10s} | {'fwd ours':>9s} {'torch':>8s} {'ratio':>6s} | "
                f"{'bwd ours':>9s} {'torch':>8s} {'ratio':>6s} | {'rel err':>7s}")
        print(head)
        print("-" * len(head))
        fwd_ratios, bwd_ratios = [], []
        for name, x_shape, w_shape in SUITE:
            of, tf, ob, tb, err = bench_case(x_shape, w_shape, args.repeats, args.warmup)
            fwd_ratios.append(of / tf)
            bwd_ratios.append(ob / tb)
            print(f"{name:28s} {'x'.join(map(str, x_shape)):>12s} {'x'.join(map(str, w_shape)):>10s} | "
                  f"{of * 1e3:7.3f}ms {tf * 1e3:6.3f}ms {of / tf:6.2f} | "
                  f"{ob * 1e3:7.3f}ms {tb * 1e3:6.3f}ms {ob / tb:6.2f} | {err:7.1e}")
        print("-" * len(head))
        fwd, bwd = geometric_mean(fwd_ratios), geometric_mean(bwd_ratios)
        print(f"geometric mean ratio (nbutils / torch): forward {fwd:.2f}, backward {bwd:.2f}")


if __name__ == "__main__":
    main()
