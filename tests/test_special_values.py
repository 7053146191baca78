"""NaN, ±inf and ±1e30 in the input and in the upstream gradient: the activations, pooling, fully connected layers and
cross-entropy give torch's values (NaN where torch has NaN, the same infinities, the rest within a tolerance), in
float32 and float64, and none of them prints a NumPy RuntimeWarning, since torch prints none."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import SPECIALS, float_dtypes, seeds, special_array

from nbutils.layers import activations as act
from nbutils.layers import loss
from nbutils.layers import pooling as pool
from nbutils.layers.linear import Flatten, linear, linear_backward

RTOL = {np.float32: 1e-5, np.float64: 1e-12}
SLOPES = (0.0, 0.01, -0.5, 1.5, 1e30, np.inf, -np.inf, np.nan)
# How many values are special: none, a few, most, or all (then whole rows are NaN, inf, or mixed infinities).
fractions = st.sampled_from([0.0, 0.1, 0.5, 1.0])
examples = settings(max_examples=25, deadline=None)


def silently(call, *args, **kwargs):
    """call(*args, **kwargs), failing on any NumPy RuntimeWarning (torch is silent on all of these inputs)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        return call(*args, **kwargs)


def finite_abs(a):
    """|a| with NaN and ±inf replaced by 0, in float64: the size of the terms whose rounding the tolerance covers."""
    a = a.detach().numpy() if isinstance(a, torch.Tensor) else a
    return np.nan_to_num(np.abs(np.asarray(a, np.float64)), nan=0.0, posinf=0.0, neginf=0.0)


def assert_like_torch(ours, theirs, scale=None, name=""):
    """Same dtype and shape, NaN and ±inf in the same places, finite values within RTOL · scale (default |theirs|)."""
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    ours = np.asarray(ours)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape, name
    for where in (np.isnan, np.isposinf, np.isneginf):
        assert np.array_equal(where(ours), where(theirs)), f"{name}: {where.__name__} differs\n{ours}\n{theirs}"
    finite = np.isfinite(theirs)
    scale = finite_abs(theirs) if scale is None else np.broadcast_to(scale, theirs.shape)
    error = np.abs(ours[finite].astype(np.float64) - theirs[finite])
    assert (error <= RTOL[ours.dtype.type] * scale[finite] + 1e-300).all(), f"{name}\n{ours}\n{theirs}"


def torch_grads(f, arrays, grad):
    """torch's output of f(*tensors) and the gradients of every array given upstream gradient `grad`."""
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = f(*ts)
    out.backward(torch.tensor(grad))
    return out, [t.grad for t in ts]


# --- Activations ---------------------------------------------------------------------------------------------------
ELEMENTWISE = {  # name: (ours forward, ours backward from (g, x, y), torch)
    "sigmoid": (act.sigmoid, lambda g, x, y: act.sigmoid_backward(g, y), torch.sigmoid),
    "relu": (act.relu, lambda g, x, y: act.relu_backward(g, y), F.relu),
    "rrelu_eval": (act.rrelu, lambda g, x, y: act.rrelu_backward(g, act.rrelu_noise(x)), F.rrelu),
}


@pytest.mark.parametrize("name", list(ELEMENTWISE))
@given(dtype=float_dtypes, seed=seeds, fx=fractions, fg=fractions)
@examples
def test_elementwise_activations_match_torch_on_special_values_silently(name, dtype, seed, fx, fg):
    forward, backward, reference = ELEMENTWISE[name]
    x, g = special_array((3, 7), dtype, seed, fx), special_array((3, 7), dtype, seed + 1, fg)
    y = silently(forward, x)
    out, (gx,) = torch_grads(reference, [x], g)
    assert_like_torch(y, out, name=f"{name} forward")
    assert_like_torch(silently(backward, g, x, y), gx, name=f"{name} backward")


@pytest.mark.parametrize("slope", SLOPES)
@given(dtype=float_dtypes, seed=seeds, fx=fractions, fg=fractions)
@settings(max_examples=8, deadline=None)
def test_leaky_relu_matches_torch_on_special_values_and_slopes_silently(slope, dtype, seed, fx, fg):
    x, g = special_array((3, 7), dtype, seed, fx), special_array((3, 7), dtype, seed + 1, fg)
    out, (gx,) = torch_grads(lambda t: F.leaky_relu(t, slope), [x], g)
    assert_like_torch(silently(act.leaky_relu, x, slope), out, name="leaky_relu")
    assert_like_torch(silently(act.leaky_relu_backward, g, x, slope), gx, name="leaky_relu_backward")
    inplace = x.copy()
    assert_like_torch(silently(act.leaky_relu, inplace, slope, inplace=True), out, name="leaky_relu in place")


@given(dtype=float_dtypes, seed=seeds, fx=fractions, fg=fractions, fw=fractions, per_channel=st.booleans())
@examples
def test_prelu_matches_torch_on_special_values_and_slopes_silently(dtype, seed, fx, fg, fw, per_channel):
    x, g = special_array((2, 3, 4), dtype, seed, fx), special_array((2, 3, 4), dtype, seed + 1, fg)
    w = special_array((3 if per_channel else 1,), dtype, seed + 2, fw)
    out, (gx, gw) = torch_grads(F.prelu, [x, w], g)
    assert_like_torch(silently(act.prelu, x, w), out, name="prelu")
    ours_gx, ours_gw = silently(act.prelu_backward, g, x, w)
    assert_like_torch(ours_gx, gx, name="prelu grad input")
    per_cell = finite_abs(g) * finite_abs(x)  # the weight gradient sums g·x: round-off scales with the terms
    axes = (0, 2) if per_channel else (0, 1, 2)
    assert_like_torch(ours_gw, gw, scale=per_cell.sum(axis=axes).reshape(w.shape), name="prelu grad weight")


def row_scale(*arrays):
    """Per row, the largest finite magnitude among the arrays, at least 1: the size of what a row sum rounds."""
    return np.maximum(1.0, np.max([finite_abs(a).max(axis=1, keepdims=True) for a in arrays], axis=0))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(dtype=float_dtypes, seed=seeds, fx=fractions, fg=fractions, fill=st.sampled_from([None, *SPECIALS]))
@examples
def test_softmax_family_matches_torch_on_special_values_silently(name, dtype, seed, fx, fg, fill):
    x, g = special_array((4, 5), dtype, seed, fx), special_array((4, 5), dtype, seed + 1, fg)
    if fill is not None:
        x[1] = fill  # a whole row of -inf, +inf, NaN or ±1e30
    forward, backward = getattr(act, name), getattr(act, f"{name}_backward")
    out, (gx,) = torch_grads(lambda t: getattr(F, name)(t, dim=1), [x], g)
    y = silently(forward, x, 1)
    assert_like_torch(y, out, scale=row_scale(out), name=f"{name} forward")
    assert_like_torch(silently(backward, g, y, 1), gx, scale=row_scale(out, g), name=f"{name} backward")


def test_relu_backward_gives_zero_for_an_infinite_gradient_where_relu_was_off():
    y = act.relu(np.array([-1.0, 0.0, 2.0, np.nan]))
    g = np.array([np.inf, np.nan, np.inf, 1.0])
    xt = torch.tensor([-1.0, 0.0, 2.0, np.nan], dtype=torch.float64, requires_grad=True)
    F.relu(xt).backward(torch.tensor(g))
    assert_like_torch(silently(act.relu_backward, g, y), xt.grad)
    assert np.array_equal(act.relu_backward(g, y)[:2], [0.0, 0.0])


def test_leaky_relu_keeps_plus_inf_with_slope_zero_and_positives_with_a_nan_slope():
    x = np.array([np.inf, 2.0, -1.0])
    assert silently(act.leaky_relu, x, 0.0)[0] == np.inf
    assert np.array_equal(silently(act.leaky_relu, x, np.nan)[:2], [np.inf, 2.0])
    assert np.array_equal(silently(act.prelu, x, np.array([np.nan]))[:2], [np.inf, 2.0])
    assert np.array_equal(silently(act.leaky_relu_backward, np.ones(3), x, np.nan)[:2], [1.0, 1.0])


def test_prelu_weight_gradient_ignores_infinite_gradients_on_positive_inputs():
    x, w, g = np.array([[np.inf, 2.0, -1.0]]), np.array([0.25]), np.array([[np.inf, np.inf, 3.0]])
    _, (_, gw) = torch_grads(F.prelu, [x, w], g)
    assert silently(act.prelu_backward, g, x, w)[1] == pytest.approx(gw.item()) == -3.0


# --- Pooling -------------------------------------------------------------------------------------------------------
POOL_ARGS = [dict(kernel_size=2, stride=1), dict(kernel_size=3, stride=2, padding=1),
             dict(kernel_size=(2, 3), stride=2, ceil_mode=True)]


@pytest.mark.parametrize("args", POOL_ARGS, ids=str)
@given(dtype=float_dtypes, seed=seeds, fx=fractions, fg=fractions)
@settings(max_examples=12, deadline=None)
def test_max_pool_matches_torch_on_special_values_silently(args, dtype, seed, fx, fg):
    x = special_array((2, 2, 5, 6), dtype, seed, fx)
    out, idx = silently(pool.max_pool2d, x, **args, return_indices=True)
    g = special_array(out.shape, dtype, seed + 1, fg)
    t_out, (gx,) = torch_grads(lambda t: F.max_pool2d(t, **args), [x], g)
    t_idx = F.max_pool2d(torch.tensor(x), **args, return_indices=True)[1]
    assert_like_torch(out, t_out, name="max_pool2d")
    assert np.array_equal(idx, t_idx.numpy())
    ours_gx = silently(pool.max_pool2d_backward, g, x, **args)
    assert_like_torch(ours_gx, gx, scale=finite_abs(gx) + 4 * finite_abs(g).max(), name="max_pool2d_backward")


def torch_on_magnitudes(f, a):
    """f applied by torch to |a| (NaN and inf as 0) in float64: a bound on what rounding can reach."""
    return f(torch.tensor(finite_abs(a))).numpy()


@pytest.mark.parametrize("args", POOL_ARGS + [dict(kernel_size=3, padding=1, count_include_pad=False)], ids=str)
@given(dtype=float_dtypes, seed=seeds, fx=fractions, fg=fractions)
@settings(max_examples=12, deadline=None)
def test_avg_pool_matches_torch_on_special_values_silently(args, dtype, seed, fx, fg):
    x = special_array((2, 2, 5, 6), dtype, seed, fx)
    out = silently(pool.avg_pool2d, x, **args)
    g = special_array(out.shape, dtype, seed + 1, fg)
    t_out, (gx,) = torch_grads(lambda t: F.avg_pool2d(t, **args), [x], g)
    assert_like_torch(out, t_out, scale=torch_on_magnitudes(lambda t: F.avg_pool2d(t, **args), x), name="avg_pool2d")
    t_back = torch_grads(lambda t: F.avg_pool2d(t, **args), [finite_abs(x)], finite_abs(g))[1][0].numpy()
    assert_like_torch(silently(pool.avg_pool2d_backward, g, x, **args), gx, scale=t_back, name="avg_pool2d_backward")


@pytest.mark.parametrize("size", [1, (2, 3), (4, 4)], ids=str)
@given(dtype=float_dtypes, seed=seeds, fx=fractions, fg=fractions)
@settings(max_examples=12, deadline=None)
def test_adaptive_avg_pool_matches_torch_on_special_values_silently(size, dtype, seed, fx, fg):
    x = special_array((2, 2, 5, 6), dtype, seed, fx)
    out = silently(pool.adaptive_avg_pool2d, x, size)
    g = special_array(out.shape, dtype, seed + 1, fg)
    f = lambda t: F.adaptive_avg_pool2d(t, size)  # noqa: E731
    t_out, (gx,) = torch_grads(f, [x], g)
    assert_like_torch(out, t_out, scale=torch_on_magnitudes(f, x), name="adaptive_avg_pool2d")
    t_back = torch_grads(f, [finite_abs(x)], finite_abs(g))[1][0].numpy()
    assert_like_torch(silently(pool.adaptive_avg_pool2d_backward, g, x, size), gx, scale=t_back,
                      name="adaptive_avg_pool2d_backward")


# --- Fully connected layers ----------------------------------------------------------------------------------------
@given(dtype=float_dtypes, seed=seeds, fx=fractions, fw=st.sampled_from([0.0, 0.1]), fg=fractions)
@examples
def test_linear_matches_torch_on_special_values_silently(dtype, seed, fx, fw, fg):
    x, w = special_array((4, 5), dtype, seed, fx), special_array((3, 5), dtype, seed + 1, fw)
    b, g = special_array((3,), dtype, seed + 2, fw), special_array((4, 3), dtype, seed + 3, fg)
    out, (gx, gw, gb) = torch_grads(F.linear, [x, w, b], g)
    ax, aw, ab, ag = (finite_abs(a) for a in (x, w, b, g))  # round-off of a dot product scales with sum |a_k b_k|
    assert_like_torch(silently(linear, x, w, b), out, scale=ax @ aw.T + ab, name="linear")
    ours = silently(linear_backward, g, x, w)
    for mine, theirs, scale, name in zip(ours, (gx, gw, gb), (ag @ aw, ag.T @ ax, ag.sum(axis=0)), "xwb"):
        assert_like_torch(mine, theirs, scale=scale, name=f"linear grad {name}")


@given(dtype=float_dtypes, seed=seeds, fx=fractions, fg=fractions)
@settings(max_examples=12, deadline=None)
def test_flatten_passes_special_values_through_both_ways(dtype, seed, fx, fg):
    x, g = special_array((2, 3, 2, 2), dtype, seed, fx), special_array((2, 12), dtype, seed + 1, fg)
    layer = Flatten()
    out, (gx,) = torch_grads(torch.nn.Flatten(), [x], g)
    assert_like_torch(silently(layer, x), out)
    assert_like_torch(silently(layer.backward, g), gx)


# --- Cross-entropy -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@given(dtype=float_dtypes, seed=seeds, fx=fractions, grad=st.sampled_from([1.0, *SPECIALS]),
       ignored=st.booleans(), fill=st.sampled_from([None, *SPECIALS]))
@examples
def test_cross_entropy_matches_torch_on_special_values_silently(reduction, dtype, seed, fx, grad, ignored, fill):
    x = special_array((4, 3), dtype, seed, fx)
    if fill is not None:
        x[1] = fill
    target = np.random.default_rng(seed).integers(0, 3, 4)
    if ignored:
        target[1] = -100  # the special row is ignored: it must not reach the loss, and its gradient is torch's
    xt = torch.tensor(x, requires_grad=True)
    t_loss = F.cross_entropy(xt, torch.tensor(target), reduction=reduction)
    t_loss.backward(torch.tensor(grad, dtype=xt.dtype))
    ours = silently(loss.cross_entropy, x, target, reduction=reduction)
    assert_like_torch(np.asarray(ours, dtype), t_loss, scale=max(1.0, finite_abs(t_loss.item())), name="loss")
    ours_grad = silently(loss.cross_entropy_backward, x, target, reduction=reduction, grad_output=grad)
    assert_like_torch(ours_grad, xt.grad, scale=max(1.0, finite_abs(grad)), name="cross_entropy_backward")
