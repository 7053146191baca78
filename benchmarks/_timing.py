"""What the benchmark scripts share: their flags, the thread set-up and header, timing, and the ratio table."""

import argparse
import math
import platform
import statistics
import time
from contextlib import contextmanager

import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits


def parse_args(doc, **extra):
    """--threads, --repeats, --warmup, plus extra flags (name=add_argument kwargs); description: doc's first line."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(),
                        help="threads for torch and for NumPy's thread pools (default: torch.get_num_threads())")
    parser.add_argument("--repeats", type=int, default=15, help="timed repeats per measurement; the median is kept")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls before timing")
    for name, kwargs in extra.items():
        parser.add_argument("--" + name.replace("_", "-"), **kwargs)
    return parser.parse_args()


@contextmanager
def same_threads(args, title):
    """Give torch and NumPy's pools args.threads threads, and print the header: versions, pools, method."""
    torch.set_num_threads(args.threads)
    with threadpool_limits(limits=args.threads):
        pools = ", ".join(f"{i['internal_api']} {i['num_threads']}" for i in threadpool_info())
        print(f"{title} vs torch {torch.__version__}, numpy {np.__version__}, {platform.processor() or 'cpu'}")
        print(f"float32, {args.threads} thread(s): torch {torch.get_num_threads()}; threads per pool: {pools}")
        print(f"median of {args.repeats} repeats after {args.warmup} warm-up calls; ratio = nbutils / torch\n")
        yield


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


def geometric_mean(values):
    """The geometric mean: the right average for ratios."""
    return math.exp(sum(math.log(v) for v in values) / len(values))


def _text(cell):
    """A table cell as text: a shape tuple as 32x3x8x8, anything else as str()."""
    return "x".join(map(str, cell)) if isinstance(cell, tuple) else str(cell)


class RatioTable:
    """The forward/backward table: case columns, nbutils and torch times with their ratios, an error column."""

    def __init__(self, columns, decimals=2, err="rel err"):
        """Print the head; columns are (heading, width) pairs, the first left-aligned; times get `decimals` in ms."""
        self.widths = [width for _, width in columns]
        self.decimals = decimals
        self.fwd, self.bwd = [], []
        self.head = (f"{self._cells(heading for heading, _ in columns)} | {'fwd ours':>9s} {'torch':>8s} "
                     f"{'ratio':>6s} | {'bwd ours':>9s} {'torch':>8s} {'ratio':>6s} | {err:>7s}")
        print(self.head)
        print("-" * len(self.head))

    def _cells(self, cells):
        """The case columns of one line: the first padded on the right, the others on the left."""
        texts = [_text(c) for c in cells]
        return " ".join([texts[0].ljust(self.widths[0])] + [t.rjust(w) for t, w in zip(texts[1:], self.widths[1:])])

    def row(self, cells, of, tf, ob, tb, err):
        """Print one case: its cells, then forward and backward seconds (ours, torch) and the error; keep the ratios."""
        self.fwd.append(of / tf)
        self.bwd.append(ob / tb)
        d = self.decimals
        print(f"{self._cells(cells)} | {of * 1e3:7.{d}f}ms {tf * 1e3:6.{d}f}ms {of / tf:6.2f} | "
              f"{ob * 1e3:7.{d}f}ms {tb * 1e3:6.{d}f}ms {ob / tb:6.2f} | {err:7.1e}")

    def finish(self, overall=False):
        """Print the closing rule and the geometric-mean ratios (with overall=True, also of both together)."""
        print("-" * len(self.head))
        line = (f"geometric mean ratio (nbutils / torch): forward {geometric_mean(self.fwd):.2f}, "
                f"backward {geometric_mean(self.bwd):.2f}")
        print(line + (f", all {geometric_mean(self.fwd + self.bwd):.2f}" if overall else ""))
