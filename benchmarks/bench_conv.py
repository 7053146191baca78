"""Time nbutils conv2d / conv2d_backward against torch on CPU, float32, measure their peak memory, print the ratios.

    python benchmarks/bench_conv.py [--threads N] [--repeats R] [--warmup W] [--memory-only]

Both libraries run in this process with the same thread count: torch.set_num_threads(N) and
threadpoolctl.threadpool_limits(N) for NumPy's BLAS. Each time is the median of R repeats after W
warm-up calls; a repeat loops over enough calls to last about 10 ms. torch's backward is
torch.nn.grad.conv2d_input + conv2d_weight + the bias sum: the three gradients conv2d_backward
returns. A ratio is nbutils / torch, so below 1 means nbutils is faster. Nothing here asserts on
speed. On a machine shared with other work, multi-threaded timings swing widely: rerun, or compare
with --threads 1.

Peak memory is measured in a fresh process per case and library (this script, run with --probe):
both libraries are imported and warmed up on a tiny convolution, the inputs are built, the kernel's
peak-RSS mark is reset (/proc/self/clear_refs), then one forward and one backward run, keeping their
results. The number is the peak resident set size (VmHWM) minus the resident size just before:
everything the two calls allocate, NumPy's and torch's alike, which tracemalloc could not see.
"""

import argparse
import math
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F
from _timing import RatioTable, geometric_mean, median_times, parse_args, same_threads
from threadpoolctl import threadpool_limits

from nbutils.layers.conv import conv2d, conv2d_backward

# name, input shape (N, C, H, W), weight shape (O, C/groups, kH, kW), conv2d keyword arguments
SUITE = [
    ("3x3, 3->25, stride 2, 31x31", (100, 3, 31, 31), (25, 3, 3, 3), dict(stride=2, padding=1)),
    ("3x3, 16->32 at 32x32", (32, 16, 32, 32), (32, 16, 3, 3), dict(padding=1)),
    ("3x3, 64->64 at 28x28", (16, 64, 28, 28), (64, 64, 3, 3), dict(padding=1)),
    ("depthwise 3x3, 64 ch", (32, 64, 32, 32), (64, 1, 3, 3), dict(padding=1, groups=64)),
    ("1x1, 64->128 at 16x16", (32, 64, 16, 16), (128, 64, 1, 1), dict()),
    ("dilated 3x3 (d=2), 16->16", (16, 16, 32, 32), (16, 16, 3, 3), dict(padding=2, dilation=2)),
    ("3x3, 64->64 at 56x56", (16, 64, 56, 56), (64, 64, 3, 3), dict(padding=1)),
    ("3x3, 128->128 at 28x28", (8, 128, 28, 28), (128, 128, 3, 3), dict(padding=1)),
    ("depthwise 3x3, 128 ch at 56x56", (16, 128, 56, 56), (128, 1, 3, 3), dict(padding=1, groups=128)),
    ("padding = stride = 4000, 4x4", (1, 1, 4, 4), (1, 1, 3, 3), dict(stride=4000, padding=4000)),
]


def make_inputs(x_shape, w_shape, kwargs, seed=0):
    """float32 input, weight, bias and an upstream gradient of the output's shape (found without computing it)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape, dtype=np.float32)
    w = rng.standard_normal(w_shape, dtype=np.float32) / math.sqrt(np.prod(w_shape[1:]))
    b = rng.standard_normal(w_shape[0], dtype=np.float32)
    out_shape = F.conv2d(torch.empty(x_shape, device="meta"), torch.empty(w_shape, device="meta"), **kwargs).shape
    return x, w, b, rng.standard_normal(tuple(out_shape), dtype=np.float32)


def bench_case(x_shape, w_shape, kwargs, repeats, warmup, seed=0):
    """Seconds for (ours forward, torch forward, ours backward, torch backward), and the largest
    difference between our output or gradients and torch's, relative to torch's largest entry."""
    x, w, b, grad_out = make_inputs(x_shape, w_shape, kwargs, seed)
    out = conv2d(x, w, b, **kwargs)
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


def _status_bytes(field):
    """A memory line of /proc/self/status (VmRSS, VmHWM) in bytes."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(field + ":"))


def forward_backward(lib, x, w, b, g, kwargs):
    """One forward and one backward with `lib` ("ours" or "torch"); returns every result."""
    if lib == "ours":
        return conv2d(x, w, b, **kwargs), conv2d_backward(g, x, w, **kwargs)
    xt, wt, bt, gt = (torch.from_numpy(a) for a in (x, w, b, g))  # shares the arrays' memory
    with torch.no_grad():
        return (F.conv2d(xt, wt, bt, **kwargs), torch.nn.grad.conv2d_input(xt.shape, wt, gt, **kwargs),
                torch.nn.grad.conv2d_weight(xt, wt.shape, gt, **kwargs), gt.sum(dim=(0, 2, 3)))


def probe_peak(lib, case):
    """Run in a fresh process: bytes that one forward + backward of SUITE[case] adds to the peak resident size."""
    _, x_shape, w_shape, kwargs = SUITE[case]
    for warm in ("ours", "torch"):  # warm up both libraries alike: their one-time set-up is not counted
        tiny = dict(padding=1, groups=2)
        forward_backward(warm, *make_inputs((1, 2, 5, 5), (2, 1, 3, 3), tiny), tiny)
    inputs = make_inputs(x_shape, w_shape, kwargs)
    before = _status_bytes("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak mark (VmHWM) to the current resident size
    kept = forward_backward(lib, *inputs, kwargs)  # noqa: F841 (results stay alive, as in a training step)
    print(_status_bytes("VmHWM") - before)


def peak_memory(case, threads):
    """Peak bytes of forward + backward for (ours, torch), each measured in a fresh process."""
    def one(lib):
        cmd = [sys.executable, __file__, "--probe", lib, "--case", str(case), "--threads", str(threads)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"memory probe {' '.join(cmd[2:])} failed:\n{done.stderr}")
        return int(done.stdout.split()[-1])
    return one("ours"), one("torch")


def memory_table(threads):
    """Print peak memory per case, ours and torch's, and their ratio (the same cases as the time table)."""
    print(f"\npeak memory of forward + backward (fresh process per case and library, {threads} thread(s))")
    print(f"{'case':32s} | {'ours':>9s} {'torch':>9s} {'ratio':>6s}")
    print("-" * 62)
    ratios = []
    for i, (name, *_) in enumerate(SUITE):
        ours, theirs = peak_memory(i, threads)
        ratios.append(max(ours, 1) / max(theirs, 1))
        print(f"{name:32s} | {ours / 2**20:6.1f}MiB {theirs / 2**20:6.1f}MiB {ratios[-1]:6.2f}")
    print("-" * 62)
    print(f"ratio (nbutils / torch): geometric mean {geometric_mean(ratios):.2f}, largest {max(ratios):.2f}")


def main():
    args = parse_args(__doc__, probe=dict(choices=("ours", "torch"), help=argparse.SUPPRESS),
                      case=dict(type=int, help=argparse.SUPPRESS),
                      memory_only=dict(action="store_true", help="skip the timings, measure peak memory only"))
    if args.probe:
        torch.set_num_threads(args.threads)
        with threadpool_limits(limits=args.threads):
            return probe_peak(args.probe, args.case)
    with same_threads(args, "nbutils conv2d"):
        if not args.memory_only:
            table = RatioTable([("case", 30), ("input", 17), ("weight", 15)])
            for name, x_shape, w_shape, kwargs in SUITE:
                table.row((name, x_shape, w_shape), *bench_case(x_shape, w_shape, kwargs, args.repeats, args.warmup))
            table.finish()
        memory_table(args.threads)


if __name__ == "__main__":
    main()
