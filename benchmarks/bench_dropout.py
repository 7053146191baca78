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


import numpy as np
import torch
import torch.nn.functional as F
from _timing import RatioTable, median_times, parse_args, same_threads

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


def main():
    args = parse_args(__doc__)
    with same_threads(args, "nbutils dropout"):
        table = RatioTable([("case", 24), ("input", 15)], decimals=3, err="max err")
        for name, kind, shape, p in SUITE:
            table.row((name, shape), *bench_case(kind, shape, p, args.repeats, args.warmup))
        table.finish()


if __name__ == "__main__":
    main()
