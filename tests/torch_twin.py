"""Helpers shared by the layer tests: moving arrays to torch, catching torch's refusals, checking init."""

import numpy as np
import torch


def to_torch(a, grad=False):
    """NumPy array (or None) -> torch tensor of the same dtype."""
    return None if a is None else torch.tensor(a, requires_grad=grad)


def torch_raises(call):
    """The exception call() raises, or None."""
    try:
        call()
    except Exception as e:  # torch signals refusals with several types; any of them counts
        return e
    return None


def ks_distance_from_uniform(sample, low, high):
    """Kolmogorov-Smirnov distance between the sample's empirical CDF and U(low, high)'s CDF."""
    u = np.sort((np.ravel(sample) - low) / (high - low))
    n = u.size
    return max((np.arange(1, n + 1) / n - u).max(), (u - np.arange(n) / n).max())


def assert_torch_default_init(ours, theirs, bound, names=("weight", "bias")):
    """Our parameters and torch's both look like U(-bound, bound): same shapes, within bound, KS test at 0.1 %."""
    for name in names:
        mine, ref = ours.params[name], getattr(theirs, name).detach().numpy()
        assert mine.shape == ref.shape
        critical = 1.95 / np.sqrt(mine.size)
        assert np.abs(ref).max() <= bound * (1 + 1e-6), "torch's own bound differs: the test is out of date"
        assert ks_distance_from_uniform(ref, -bound, bound) < critical, "torch's init is not uniform: test out of date"
        assert np.abs(mine).max() <= bound
        assert ks_distance_from_uniform(mine, -bound, bound) < critical, f"{name} is not U(-{bound:.4g}, {bound:.4g})"
