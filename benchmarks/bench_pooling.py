"""Time nbutils max/avg/adaptive pooling, forward and backward, against torch on CPU, float32; print the ratios.

    python benchmarks/bench_pooling.py [--threads N] [--repeats R] [--warmup W]

Both libraries run in this process with the same thread count: torch.set_num_threads(N) and
threadpoolctl.threadpool_limits(N) for NumPy's BLAS (global average pooling uses a matrix-vector
product; everything else in nbutils' pooling is single-threaded NumPy). Each time is the median of R
repeats after W warm-up calls; a repeat loops over enough calls to last about 10 ms.

Forward is the plain function call (F.max_pool2d without indices, as in inference). Backward is the
gradient with respect to the input, given what the forward pass saved: torch's aten backward ops
(max_pool2d_with_indices_backward with the indices, avg_pool2d_backward, _adaptive_avg_pool2d_backward)
against max_pool2d_backward(..., indices=...), avg_pool2d_backward and adaptive_avg_pool2d_backward.
A training forward of max pooling also finds the argmax; that cost is reported on its own line. A
ratio is nbutils / torch, so below 1 means nbutils is faster. Nothing here asserts on speed. On a
machine shared with other work, multi-threaded timings swing widely: rerun, or compare with --threads 1.
"""


import numpy as np
import torch
import torch.nn.functional as F
from _timing import RatioTable, geometric_mean, median_times, parse_args, same_threads

from nbutils.layers.pooling import (
    adaptive_avg_pool2d,
    adaptive_avg_pool2d_backward,
    avg_pool2d,
    avg_pool2d_backward,
    max_pool2d,
    max_pool2d_backward,
)

# name, kind, input shape (N, C, H, W), keyword arguments
SUITE = [
    ("max 2x2, 64 ch at 32x32", "max", (32, 64, 32, 32), dict(kernel_size=2)),
    ("max 3x3/2 pad 1 (ResNet stem)", "max", (8, 64, 112, 112), dict(kernel_size=3, stride=2, padding=1)),
    ("max 3x3/1 pad 1, 32 ch", "max", (32, 32, 32, 32), dict(kernel_size=3, stride=1, padding=1)),
    ("max 2x2 ceil_mode, 31x31", "max", (64, 16, 31, 31), dict(kernel_size=2, ceil_mode=True)),
    ("avg 2x2, 64 ch at 32x32", "avg", (32, 64, 32, 32), dict(kernel_size=2)),
    ("avg 3x3/2 pad 1, excl. pad", "avg", (32, 64, 32, 32), dict(kernel_size=3, stride=2, padding=1,
                                                                count_include_pad=False)),
    ("global avg, 512 ch at 7x7", "adaptive", (32, 512, 7, 7), dict(output_size=1)),
    ("adaptive 28x28 -> 7x7", "adaptive", (32, 64, 28, 28), dict(output_size=7)),
    ("adaptive 10x10 -> 3x3 (overlap)", "adaptive", (64, 64, 10, 10), dict(output_size=3)),
]


def _pairs(kw):
    """torch's aten ops want lists: kernel, stride, padding as pairs."""
    k = kw["kernel_size"]
    s = kw.get("stride") or k
    p = kw.get("padding", 0)
    return [k, k], [s, s], [p, p]


def case_functions(kind, x, kwargs, grad_out):
    """(ours forward, torch forward, ours backward, torch backward) for one case, all without autograd."""
    xt, gt = torch.from_numpy(x), torch.from_numpy(grad_out)
    if kind == "max":
        _, indices = max_pool2d(x, **kwargs, return_indices=True)
        it = torch.from_numpy(indices)
        k, s, p = _pairs(kwargs)
        ceil = kwargs.get("ceil_mode", False)
        return (lambda: max_pool2d(x, **kwargs), lambda: F.max_pool2d(xt, **kwargs),
                lambda: max_pool2d_backward(grad_out, x, **kwargs, indices=indices),
                lambda: torch.ops.aten.max_pool2d_with_indices_backward(gt, xt, k, s, p, [1, 1], ceil, it))
    if kind == "avg":
        k, s, p = _pairs(kwargs)
        include = kwargs.get("count_include_pad", True)
        return (lambda: avg_pool2d(x, **kwargs), lambda: F.avg_pool2d(xt, **kwargs),
                lambda: avg_pool2d_backward(grad_out, x, **kwargs),
                lambda: torch.ops.aten.avg_pool2d_backward(gt, xt, k, s, p, False, include, None))
    size = kwargs["output_size"]
    return (lambda: adaptive_avg_pool2d(x, size), lambda: F.adaptive_avg_pool2d(xt, size),
            lambda: adaptive_avg_pool2d_backward(grad_out, x, size),
            lambda: torch.ops.aten._adaptive_avg_pool2d_backward(gt, xt))


def bench_case(kind, x_shape, kwargs, repeats, warmup, seed=0):
    """Seconds for (ours forward, torch forward, ours backward, torch backward), the largest difference
    from torch relative to torch's largest entry, and (max only) the forward-with-indices times."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape, dtype=np.float32)
    forward = {"max": max_pool2d, "avg": avg_pool2d, "adaptive": adaptive_avg_pool2d}[kind]
    grad_out = rng.standard_normal(forward(x, **kwargs).shape, dtype=np.float32)
    ours_f, torch_f, ours_b, torch_b = case_functions(kind, x, kwargs, grad_out)
    err = max(float(np.abs(a - b.numpy()).max() / np.abs(b.numpy()).max())
              for a, b in ((ours_f(), torch_f()), (ours_b(), torch_b())))
    times = median_times([ours_f, torch_f, ours_b, torch_b], repeats, warmup)
    with_indices = None
    if kind == "max":
        xt = torch.from_numpy(x)
        with_indices = median_times([lambda: max_pool2d(x, **kwargs, return_indices=True),
                                     lambda: F.max_pool2d(xt, **kwargs, return_indices=True)], repeats, warmup)
    return (*times, err, with_indices)


def main():
    args = parse_args(__doc__)
    with same_threads(args, "nbutils pooling"):
        table = RatioTable([("case", 32), ("input", 15)])
        idx_ratios = []
        for name, kind, x_shape, kwargs in SUITE:
            *times, with_indices = bench_case(kind, x_shape, kwargs, args.repeats, args.warmup)
            table.row((name, x_shape), *times)
            if with_indices:
                idx_ratios.append(with_indices[0] / with_indices[1])
        table.finish(overall=True)
        print(f"max pooling forward with indices (what a training step needs): geometric mean ratio "
              f"{geometric_mean(idx_ratios):.2f} over the {len(idx_ratios)} max cases")


if __name__ == "__main__":
    main()
