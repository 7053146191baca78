"""Argument checks shared by every layer: each raises with a sentence a learner can act on."""

import numbers

import numpy as np


def _pair(value, name, minimum=None):
    """Turn an int or a pair of ints into a tuple (a, b), checking each against `minimum`."""
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool):
        pair = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        pair = tuple(value)
    else:
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    if not all(isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool) for v in pair):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    pair = (int(pair[0]), int(pair[1]))
    if minimum is not None and min(pair) < minimum:
        rule = "positive" if minimum == 1 else f"at least {minimum}"
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return pair


def _check_array(x, name, ndim, layout="NCHW"):
    """Check that x is a floating NumPy array with `ndim` dimensions."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array, got {type(x).__name__}")
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} must be float32 or float64, got dtype {x.dtype}")
    if x.ndim != ndim:
        hint = " (add a batch axis with x[None])" if x.ndim == ndim - 1 and layout == "NCHW" else ""
        raise ValueError(f"{name} must be {ndim}-D ({layout}), got shape {x.shape}{hint}")
    return x


def _check_same_dtype(**arrays):
    """Check that all given arrays share one dtype, as torch requires."""
    dtypes = {name: a.dtype for name, a in arrays.items() if a is not None}
    if len(set(dtypes.values())) > 1:
        listing = ", ".join(f"{n} is {d}" for n, d in dtypes.items())
        raise TypeError(f"all arrays must have the same dtype: {listing}")


def _as_rng(rng):
    """Accept None, a seed, or a np.random.Generator; return a Generator."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (numbers.Integral, np.integer)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be None, an int seed or a np.random.Generator, got {type(rng).__name__}")
