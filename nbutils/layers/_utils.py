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
    """Check that x is a float32/float64 NumPy array with `ndim` dimensions."""
    _check_float(x, name)
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
    if rng is None or (isinstance(rng, (numbers.Integral, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be None, an int seed or a np.random.Generator, got {type(rng).__name__}")


def _check_ndarray(x, name):
    """Check that x is a plain NumPy array (not a number, a masked array or a matrix); return it."""
    if isinstance(x, (numbers.Number, np.generic)):
        raise TypeError(f"{name} must be a NumPy array, got a single number ({type(x).__name__} {x}): make an "
                        "array with np.full(shape, x, dtype=np.float32) in the shape the layer expects "
                        "(np.array(x, dtype=np.float32) is 0-d)")
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(f"{name} is a np.ma.MaskedArray, but layers would ignore its mask: pass x.filled(value) "
                        "to choose what the masked entries become (np.asarray(x) keeps the hidden values)")
    if isinstance(x, np.matrix):
        raise TypeError(f"{name} is a np.matrix, which is always 2-D and multiplies as matrices: "
                        "convert it with np.asarray(x)")
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array, got {type(x).__name__}")
    return x


def _check_float(x, name):
    """Check that x is a float32 or float64 NumPy array of any shape (not a masked array or matrix); return it."""
    x = _check_ndarray(x, name)
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} must be float32 or float64, got dtype {x.dtype}")
    return x


def _check_dim(dim, ndim, name="dim"):
    """Check an axis as torch does (-ndim <= dim < ndim; a 0-d input counts as 1-D); return it as 0..ndim-1."""
    if not isinstance(dim, (numbers.Integral, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{name} must be an int, got {dim!r}")
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise ValueError(f"{name}={dim} is out of range for a {ndim}-D input: it must be between {-n} and {n - 1}")
    return int(dim) % n


def _check_number(value, name):
    """Check that value is a real number (a bool is refused: it is usually a misplaced flag); return a float."""
    if not isinstance(value, (numbers.Real, np.floating, np.integer)) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    return float(value)


def _check_array_min(x, name, ndim, layout="(N, C, *)"):
    """Check that x is a non-empty float32/float64 NumPy array with at least `ndim` dimensions."""
    _check_float(x, name)
    if x.ndim < ndim:
        raise ValueError(f"{name} must have at least {ndim} dimensions {layout}, got shape {x.shape}")
    if x.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {x.shape}")
    return x


def _positive_int(value, name):
    """Check that value is a positive int (not a bool); return it as an int."""
    if not isinstance(value, (numbers.Integral, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _nhwc_hint(x, channels):
    """A hint when x (4-D) looks channels-last: its last axis, not axis 1, holds the `channels` channels."""
    if np.ndim(x) == 4 and x.shape[3] == channels and x.shape[1] != channels:
        return (f". Shape {x.shape} looks channels-last (N, H, W, C), but layers expect (N, C, H, W): "
                "use x.transpose(0, 3, 1, 2)")
    return ""
