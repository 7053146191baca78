"""Time one training epoch of the chapter 7 CNN in nbutils against the same network in torch, and print the ratio.

    python benchmarks/bench_capstone.py [--threads N] [--repeats R] [--warmup W] [--batch-size B] [--width K ...]

The network is Conv-BN-ReLU-MaxPool-Conv-BN-ReLU-Dropout-GAP-Linear on scikit-learn's 8x8 digits (1347 training
images, the chapter's split), float32, SGD with momentum and weight decay. An epoch is every step of forward, loss,
backward and update over shuffled batches of B. Both libraries run in this process with the same thread count
(benchmarks/_timing.py). Each time is the median of R epochs after W warm-up epochs, each library timed in one block.
--width multiplies the channel counts (16 and 32), to see how the gap changes as arithmetic grows. A ratio is
nbutils / torch, so below 1 means nbutils is faster. Nothing here asserts on speed. On a machine shared with other
work, timings swing widely: rerun, or compare with --threads 1 (the chapter times one thread).
"""

import numpy as np
import torch
from _timing import median_times, parse_args, same_threads
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

from nbutils.layers.activations import ReLU
from nbutils.layers.container import Sequential
from nbutils.layers.conv import Conv2d
from nbutils.layers.dropout import Dropout
from nbutils.layers.linear import Flatten, Linear
from nbutils.layers.loss import CrossEntropyLoss
from nbutils.layers.norm import BatchNorm2d
from nbutils.layers.pooling import AdaptiveAvgPool2d, MaxPool2d
from nbutils.optim import SGD

SETTINGS = dict(lr=0.1, momentum=0.9, weight_decay=5e-4)


def ours(c1, c2, p=0.2):
    g = np.random.default_rng(0)
    return Sequential(Conv2d(1, c1, 3, padding=1, bias=False, rng=g), BatchNorm2d(c1), ReLU(), MaxPool2d(2),
                      Conv2d(c1, c2, 3, padding=1, bias=False, rng=g), BatchNorm2d(c2), ReLU(), Dropout(p, rng=g),
                      AdaptiveAvgPool2d(1), Flatten(), Linear(c2, 10, rng=g))


def theirs(c1, c2, p=0.2):
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, c1, 3, padding=1, bias=False), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(c1, c2, 3, padding=1, bias=False), nn.BatchNorm2d(c2), nn.ReLU(), nn.Dropout(p),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c2, 10))


def batches(n, batch_size, seed):
    order = np.random.default_rng(seed).permutation(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def numpy_epoch(model, opt, loss_fn, X, y, batch_size, seed):
    for idx in batches(len(X), batch_size, seed):
        loss_fn(model(X[idx]), y[idx])
        opt.zero_grad()
        model.backward(loss_fn.backward())
        opt.step()


def torch_epoch(model, opt, loss_fn, X, y, batch_size, seed):
    for idx in batches(len(X), batch_size, seed):
        idx = torch.from_numpy(idx)
        loss = loss_fn(model(X[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()


def time_width(c1, c2, data, args):
    """(nbutils seconds, torch seconds, parameter count) for one epoch of the network with c1, c2 channels."""
    X, y, Xt, yt = data
    model, model_t = ours(c1, c2), theirs(c1, c2)
    opt, opt_t = SGD(model, **SETTINGS), torch.optim.SGD(model_t.parameters(), **SETTINGS)
    loss_fn, loss_fn_t = CrossEntropyLoss(), nn.CrossEntropyLoss()
    t_ours, t_torch = median_times([lambda: numpy_epoch(model, opt, loss_fn, X, y, args.batch_size, 0),
                                    lambda: torch_epoch(model_t, opt_t, loss_fn_t, Xt, yt, args.batch_size, 0)],
                                   args.repeats, args.warmup)
    return t_ours, t_torch, sum(p.size for p in model.params.values())


def main():
    args = parse_args(__doc__, batch_size=dict(type=int, default=32, help="images per step (default 32)"),
                      width=dict(type=int, nargs="+", default=[1, 2, 4], help="channel multipliers to time"))
    digits = load_digits()
    X, y = digits.images[:, None].astype(np.float32) / 16, digits.target.astype(np.int64)
    X, _, y, _ = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    X = (X - X.mean()) / X.std()
    data = (X, y, torch.from_numpy(X), torch.from_numpy(y))
    with same_threads(args, f"one training epoch ({len(X)} digits, batch {args.batch_size}), nbutils"):
        head = f"{'channels':>10s} {'parameters':>11s} | {'nbutils':>9s} {'torch':>9s} {'ratio':>6s}"
        print(head)
        print("-" * len(head))
        for w in args.width:
            t_ours, t_torch, count = time_width(16 * w, 32 * w, data, args)
            print(f"{f'{16 * w}, {32 * w}':>10s} {count:>11,} | {t_ours * 1e3:7.1f}ms {t_torch * 1e3:7.1f}ms "
                  f"{t_ours / t_torch:6.2f}")


if __name__ == "__main__":
    main()
