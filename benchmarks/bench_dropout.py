"""Time nbutils dropout / dropout2d and their backward against torch on CPU, float32, and print the ratios.

    python benchmarks/bench_dropout.py [--threads N] [--repeats R] [--warmup W]

Both libraries run in this process with the same thread count: torch.set_num_threads(N) and
threadpool_limits(N) for NumPy. Each time is the median of R repeats after W warm-up calls; a repeat
loops over enough calls to last about 10 ms.

Forward: our dropout(x, p, rng=generator), drawing a fresh mask on every call, against torch's
F.dropout(x, p) under no_grad, which draws a fresh mask too. Backward: on CPU, torch's dropout is
`input * noise` (noise = mask / (1 - p)), so its autograd backward is MulBackward0: `grad * noise`, with
the noise tensor autograd saved. We time exactly that product against our dropout_backward(grad, mask, p),
without autograd's bookkeeping on either side. The error column compares our forward and backward, given
torch's own mask, with torch's (0 means bit for bit). A ratio is nbutils / torch: below 1 means nbutils is
faster. Nothing here asserts on speed.
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

from nbutils.layers.dropout import apply_dropout_mask, dropout, dropout2d, dropout_backward

# name, function ("dropout" or "dropout2d"), input shape, p
SUITE = [
    ("fully connected, p=0.5", "dropout", (256, 4096), 0.5),
    ("fully connected, p=0.1", "dropout", (256, 4096), 0.1),
    ("conv features, p=0.2", "dropout", (32, 64, 32, 32), 0.2),
    ("conv features, p=0.5", "dropout", (16, 128, 28, 28), 0.5),
    ("small batch, p=0.5", "dropout", (8, 512), 0.5),
    ("dropout2d, p=0.5", "dropout2d", (32, 64, 32, 32), 0.5),
    ("dropout2d, p=0.2", "dropout2d", (16, 256, 14, 14), 0.2),
]
OURS = {"dropout": dropout, "dropout2d": dropout2d}
THEIRS = {"dropout": F.dropout, "dropout2d": F.dropout2d}


def median_times(fns, repeats, warmup, target=0.01):
    """Median seconds per call of each fn: `warmup` calls, then `repeats` loops of about `target` s each.

    Each fn is timed in one block, so that neither library pays for the other's idle worker threads.
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


def bench_case(kind, shape, p, repeats, warmup, seed=0):
    """Seconds for (ours forward, torch forward, ours backward, torch backward), and the largest difference
    between our forward or backward, given torch's mask, and torch's."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape, dtype=np.float32)
    g = rng.standard_normal(shape, dtype=np.float32)
    xt, gt = torch.from_numpy(x).requires_grad_(), torch.from_numpy(g)
    yt = THEIRS[kind](xt, p)
    noise = yt.grad_fn._saved_other  # what torch's backward multiplies by: mask / (1 - p)
    (grad_t,) = torch.autograd.grad(yt, xt, gt)
    assert torch.equal(grad_t, gt * noise), "torch's dropout backward is no longer grad * noise: update this script"
    mask = (noise != 0).numpy()
    err = max(float(np.abs(apply_dropout_mask(x, mask, p) - yt.detach().numpy()).max()),
              float(np.abs(dropout_backward(g, mask, p) - grad_t.numpy()).max()))
    xd = x.copy()
    generator = np.random.default_rng(seed)

    def torch_forward():
        with torch.no_grad():
            return THEIRS[kind](xt, p)

    times = median_times([lambda: OURS[kind](xd, p, rng=generator), torch_forward,
                          lambda: dropout_backward(g, mask, p), lambda: gt * noise], repeats, warmup)
    return (*times, err)


def geometric_mean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(),
                        help="threads for torch and for NumPy's pools (default: torch.get_num_threads())")
    parser.add_argument("--repeats", type=int, default=15, help="timed repeats per measurement; the median is kept")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls before timing")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    with threadpool_limits(limits=args.threads):
        pools = ", ".join(f"{i['internal_api']} {i['num_threads']}" for i in threadpool_info())
        print(f"nbutils dropout vs torch {torch.__version__}, numpy {np.__version__}, {platform.processor() or 'cpu'}")
        print(f"float32, {args.threads} thread(s): torch {torch.get_num_threads()}; threads per pool: {pools}")
        print(f"median of {args.repeats} repeats after {args.warmup} warm-up calls; ratio = nbutils / torch\n")
        head = (f"{'case':24s} {'input':>15s} | {'fwd ours':>9s} {'torch':>8s} {'ratio':>6s} | "
                f"{'bwd ours':>9s} {'torch':>8s} {'ratio':>6s} | {'max err':>7s}")
        print(head)
        print("-" * len(head))
        fwd_ratios, bwd_ratios = [], []
        for name, kind, shape, p in SUITE:
            of, tf, ob, tb, err = bench_case(kind, shape, p, args.repeats, args.warmup)
            fwd_ratios.append(of / tf)
            bwd_ratios.append(ob / tb)
            print(f"{name:24s} {'x'.join(map(str, shape)):>15s} | {of * 1e3:7.3f}ms {tf * 1e3:6.3f}ms {of / tf:6.2f} | "
                  f"{ob * 1e3:7.3f}ms {tb * 1e3:6.3f}ms {ob / tb:6.2f} | {err:7.1e}")
        print("-" * len(head))
        fwd, bwd = geometric_mean(fwd_ratios), geometric_mean(bwd_ratios)
        print(f"geometric mean ratio (nbutils / torch): forward {fwd:.2f}, backward {bwd:.2f}")


if __name__ == "__main__":
    main()
