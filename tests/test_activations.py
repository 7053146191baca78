"""nbutils.layers.activations against torch: values, gradients, dtypes, in-place behaviour, RReLU's randomness,
SiLU and both forms of GELU, and which inputs are refused.

Values are compared with torch in float64 with explicit tolerances; float32 is checked for keeping its dtype and
staying close to torch's float32. Inputs come from tests/strategies.py: any shape from 0-d to 4-d (empty axes
included), values from 0.01 to 100 in scale, and exact zeros at the ReLU family's kink.
"""

import copy
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    FLOAT_DTYPES,
    float_dtypes,
    nchw_shapes,
    random_array,
    reproducible,
    seeds,
    signed_arrays,
    slope_bounds,
    slopes,
)
from torch_twin import ks_distance_from_uniform as _ks_distance_from_uniform
from torch_twin import to_torch as _t
from torch_twin import torch_raises

from nbutils.check import check_module, compare, gradcheck
from nbutils.layers.activations import (
    GELU,
    LeakyReLU,
    LogSoftmax,
    PReLU,
    ReLU,
    RReLU,
    Sigmoid,
    SiLU,
    Softmax,
    gelu,
    gelu_backward,
    leaky_relu,
    leaky_relu_backward,
    log_softmax,
    log_softmax_backward,
    prelu,
    prelu_backward,
    relu,
    relu_backward,
    rrelu,
    rrelu_backward,
    rrelu_noise,
    sigmoid,
    sigmoid_backward,
    silu,
    silu_backward,
    softmax,
    softmax_backward,
)

F64 = dict(rtol=1e-12, atol=1e-14)  # float64 against torch float64: elementwise formulas agree to rounding
F32 = dict(rtol=1e-5, atol=1e-6)  # our float32 against torch's float32
f64_arrays = signed_arrays(dtypes=st.just(np.float64))
batched = st.lists(st.integers(0, 4), min_size=2, max_size=4).map(tuple)  # at least (N, C): a channel axis exists


def _close(name, ours, theirs, tol=F64):
    compare(name, ours, theirs.detach().double().numpy(), **tol, verbose=False)


def _torch_run(torch_fn, x, seed, *params):
    """torch_fn(x, *params) and the gradients of sum(out * g) for x and params, g seeded: (out, g, grads)."""
    xt, pts = _t(x, True), [_t(p, True) for p in params]
    out = torch_fn(xt, *pts)
    g = random_array(tuple(out.shape), x.dtype, seed + 7)
    out.backward(_t(g))
    return out, g, [xt.grad] + [p.grad for p in pts]


def _tol(x):
    return F64 if x.dtype == np.float64 else F32


# ---------------------------------------------------------------------------------------------
# Forward and backward against torch (float64 and float32)
# ---------------------------------------------------------------------------------------------


@reproducible(120)
@given(x=signed_arrays(), seed=seeds)
def test_sigmoid_and_its_backward_from_the_output_match_torch(x, seed):
    out, g, (gx,) = _torch_run(torch.sigmoid, x, seed)
    y = sigmoid(x)
    assert y.dtype == x.dtype
    _close("sigmoid", y, out, _tol(x))
    _close("sigmoid_backward", sigmoid_backward(g, y), gx, _tol(x))


def test_sigmoid_handles_extreme_inputs_without_warnings():
    x = np.array([-1e4, -1000.0, -88.8, 0.0, 88.8, 1000.0, np.inf, -np.inf])
    for dtype in FLOAT_DTYPES:
        with np.errstate(over="raise", invalid="raise", divide="raise"):  # a warning NumPy would print fails
            ours = sigmoid(x.astype(dtype))
        _close(f"sigmoid {dtype.__name__}", ours, torch.sigmoid(_t(x.astype(dtype))), dict(rtol=1e-6, atol=0))


@reproducible(120)
@given(x=signed_arrays(), seed=seeds)
def test_relu_and_its_backward_match_torch_including_zero_at_the_kink(x, seed):
    out, g, (gx,) = _torch_run(F.relu, x, seed)
    y = relu(x)
    assert y.dtype == x.dtype
    _close("relu", y, out, dict(rtol=0, atol=0))
    _close("relu_backward", relu_backward(g, y), gx, dict(rtol=0, atol=0))


@reproducible(150)
@given(x=signed_arrays(), a=slopes, seed=seeds)
def test_leaky_relu_and_its_backward_match_torch_for_any_slope(x, a, seed):
    out, g, (gx,) = _torch_run(lambda t: F.leaky_relu(t, a), x, seed)
    y = leaky_relu(x, a)
    assert y.dtype == x.dtype
    _close("leaky_relu", y, out, _tol(x))
    _close("leaky_relu_backward", leaky_relu_backward(g, x, a), gx, dict(rtol=0, atol=0))  # g or g·a, exactly


@st.composite
def prelu_calls(draw):
    """(x, weight): one slope, or one per channel of an input with a channel axis; slopes on both sides of 1."""
    x = draw(signed_arrays(shapes=st.one_of(batched, st.lists(st.integers(0, 4), max_size=1).map(tuple))))
    channels = x.shape[1] if x.ndim >= 2 else 1
    count = draw(st.sampled_from([1, channels]))
    values = draw(st.sampled_from(["below 1", "above 1", "mixed"]))
    low, high = {"below 1": (-1.0, 1.0), "above 1": (1.0, 3.0), "mixed": (-1.0, 3.0)}[values]
    w = np.random.default_rng(draw(seeds)).uniform(low, high, count).astype(x.dtype)
    return x, (w.reshape(()) if count == 1 and draw(st.booleans()) else w)  # torch accepts a 0-d weight too


@reproducible(150)
@given(call=prelu_calls(), seed=seeds)
def test_prelu_and_both_gradients_match_torch_with_one_or_per_channel_slopes(call, seed):
    x, w = call
    out, g, (gx, gw) = _torch_run(F.prelu, x, seed, w)
    y = prelu(x, w)
    grad_x, grad_w = prelu_backward(g, x, w)
    assert y.dtype == grad_x.dtype == grad_w.dtype == x.dtype and grad_w.shape == w.shape
    tol = F64 if x.dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)  # grad_w sums many float32 terms
    _close("prelu", y, out, _tol(x))
    _close("prelu grad input", grad_x, gx, _tol(x))
    _close("prelu grad weight", grad_w, gw, tol)


@reproducible(100)
@given(x=signed_arrays(), bounds=slope_bounds(), seed=seeds)
def test_rrelu_in_eval_mode_matches_torch_exactly(x, bounds, seed):
    lower, upper = bounds
    out, g, (gx,) = _torch_run(lambda t: F.rrelu(t, lower, upper, training=False), x, seed)
    noise = rrelu_noise(x, lower, upper, training=False)
    _close("rrelu eval", rrelu(x, lower, upper), out, _tol(x))
    _close("rrelu eval backward", rrelu_backward(g, noise), gx, _tol(x))


@reproducible(60)
@given(x=signed_arrays(dtypes=st.just(np.float64)), bounds=slope_bounds(), seed=seeds)
def test_rrelu_in_training_mode_follows_torchs_rule(x, bounds, seed):
    """Torch's noise and ours obey one rule: 1 where x > 0, U(lower, upper) elsewhere, zero included; output =
    x * noise and grad = g * noise. Our backward, given torch's noise, gives torch's gradient. Torch's noise is read
    through public APIs, as the chapter reads it: the gradient of F.rrelu's output for an upstream gradient of ones."""
    lower, upper = bounds
    xt = _t(x, True)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        out_t = F.rrelu(xt, lower, upper, training=True)
    (theirs,) = torch.autograd.grad(out_t, xt, torch.ones_like(out_t), retain_graph=True)
    g = random_array(x.shape, np.float64, seed)
    (grad_t,) = torch.autograd.grad(out_t, xt, _t(g))
    theirs = theirs.numpy()
    ours = rrelu_noise(x, lower, upper, training=True, rng=seed)
    for name, noise in [("torch", theirs), ("ours", ours)]:
        assert np.all(noise[x > 0] == 1), name
        negative = noise[x <= 0]
        assert np.all((lower <= negative) & (negative <= upper)), name
    np.testing.assert_array_equal(out_t.detach().numpy(), x * theirs)
    np.testing.assert_array_equal(rrelu(x, lower, upper, training=True, rng=seed), x * ours)
    _close("rrelu_backward with torch's noise", rrelu_backward(g, theirs), grad_t, dict(rtol=0, atol=0))


@pytest.mark.parametrize("lower, upper", [(1 / 8, 1 / 3), (-0.5, 0.7)])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_rrelu_training_slopes_are_uniform_like_torchs(lower, upper, dtype):
    x = -np.ones(40_000, dtype)
    ours = rrelu_noise(x, lower, upper, training=True, rng=0)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        theirs = -F.rrelu(_t(x.astype(np.float64)), lower, upper, training=True)  # x = -1: the slopes themselves
    critical = 1.95 / np.sqrt(x.size)  # Kolmogorov-Smirnov at the 0.1 % level
    assert _ks_distance_from_uniform(theirs.numpy(), lower, upper) < critical, "torch's RReLU is not this uniform"
    assert ours.dtype == dtype
    assert _ks_distance_from_uniform(ours, lower, upper) < critical
    assert abs(ours.mean() - (lower + upper) / 2) < 4 * (upper - lower) / np.sqrt(12 * x.size)


def test_rrelu_draws_new_slopes_every_call_and_repeats_them_from_the_same_seed():
    x = -np.ones((3, 4))
    assert np.array_equal(rrelu(x, training=True, rng=5), rrelu(x, training=True, rng=5))
    rng = np.random.default_rng(5)
    assert not np.array_equal(rrelu(x, training=True, rng=rng), rrelu(x, training=True, rng=rng))
    layer = RReLU(rng=5)
    first = layer(x)
    assert not np.array_equal(layer(x), first)
    np.testing.assert_array_equal(RReLU(rng=5)(x), first)


@reproducible(150)
@given(x=signed_arrays(zeros=False), data=st.data(), seed=seeds)
def test_softmax_and_log_softmax_match_torch_forward_and_backward_along_any_dim(x, data, seed):
    n = max(x.ndim, 1)
    dim = data.draw(st.integers(-n, n - 1), label="dim")
    for fn, backward, torch_fn in [(softmax, softmax_backward, F.softmax),
                                   (log_softmax, log_softmax_backward, F.log_softmax)]:
        out, g, (gx,) = _torch_run(lambda t: torch_fn(t, dim), x, seed)  # noqa: B023
        y = fn(x, dim)
        assert y.dtype == x.dtype and y.shape == x.shape
        tol = F64 if x.dtype == np.float64 else dict(rtol=1e-5, atol=1e-5)
        _close(fn.__name__, y, out, tol)
        _close(f"{fn.__name__}_backward", backward(g, y, dim), gx, tol)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_softmax_and_log_softmax_stay_finite_and_match_torch_on_huge_scores(dtype):
    big = 1e30 if dtype == np.float32 else 1e300
    x = np.array([[big, big / 2, 0.0, -big], [-big, -big, -big / 3, 0.0], [800.0, 799.0, -800.0, 0.0]], dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        p, lp = softmax(x, 1), log_softmax(x, 1)
    assert np.isfinite(p).all() and np.isfinite(lp).all()
    _close("softmax", p, F.softmax(_t(x), 1), dict(rtol=1e-6, atol=0))
    _close("log_softmax", lp, F.log_softmax(_t(x), 1), dict(rtol=1e-6, atol=0))


GELU_FORMS = ["none", "tanh"]
F32_SMOOTH = dict(rtol=1e-5, atol=1e-5)  # float32: NumPy's and torch's tanh and exp differ by an ulp near saturation


@reproducible(150)
@given(x=signed_arrays(), seed=seeds)
def test_silu_and_its_backward_from_the_input_match_torch(x, seed):
    out, g, (gx,) = _torch_run(F.silu, x, seed)
    y, d = silu(x), silu_backward(g, x)
    assert y.dtype == d.dtype == x.dtype and y.shape == d.shape == x.shape
    tol = F64 if x.dtype == np.float64 else F32_SMOOTH
    _close("silu", y, out, tol)
    _close("silu_backward", d, gx, tol)


@reproducible(150)
@given(x=signed_arrays(), approximate=st.sampled_from(GELU_FORMS), seed=seeds)
def test_gelu_and_its_backward_match_torch_in_both_forms(x, approximate, seed):
    out, g, (gx,) = _torch_run(lambda t: F.gelu(t, approximate=approximate), x, seed)
    y, d = gelu(x, approximate), gelu_backward(g, x, approximate)
    assert y.dtype == d.dtype == x.dtype and y.shape == d.shape == x.shape
    tol = F64 if x.dtype == np.float64 else F32_SMOOTH
    _close(f"gelu {approximate}", y, out, tol)
    _close(f"gelu_backward {approximate}", d, gx, tol)


@pytest.mark.parametrize("name, ours, ours_backward, theirs", [
    ("silu", silu, silu_backward, F.silu),
    ("gelu", gelu, gelu_backward, F.gelu),
    ("gelu tanh", lambda x: gelu(x, "tanh"), lambda g, x: gelu_backward(g, x, "tanh"),
     lambda t: F.gelu(t, approximate="tanh")),
], ids=["silu", "gelu", "gelu-tanh"])
def test_silu_and_gelu_match_torch_on_special_values_silently(name, ours, ours_backward, theirs):
    """float64: ±inf, NaN, ±1000 and ±40 (saturated), 0; torch's NaN at -inf (inf·0) is ours too."""
    x = np.array([-np.inf, -1000.0, -40.0, -5.2, -1e-300, 0.0, 1e-300, 5.2, 40.0, 1000.0, np.inf, np.nan])
    g = np.linspace(-1.0, 1.0, x.size)
    xt = _t(x, True)
    out = theirs(xt)
    out.backward(_t(g))
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # a warning NumPy would print fails
        y, d = ours(x), ours_backward(g, x)
    np.testing.assert_allclose(y, out.detach().numpy(), rtol=1e-12, atol=1e-14, equal_nan=True)
    np.testing.assert_allclose(d, xt.grad.numpy(), rtol=1e-12, atol=1e-14, equal_nan=True)


def test_silu_and_gelu_derivatives_follow_the_text():
    """SiLU' = σ(1 + x(1 - σ)) and GELU' = Φ + xφ, the formulas the chapter derives, and GELU's tanh form is close."""
    x = np.linspace(-6, 6, 241)
    s = 1 / (1 + np.exp(-x))
    phi = np.exp(-x**2 / 2) / np.sqrt(2 * np.pi)
    cdf = np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x])
    ones = np.ones_like(x)
    np.testing.assert_allclose(silu_backward(ones, x), s * (1 + x * (1 - s)), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(gelu_backward(ones, x), cdf + x * phi, rtol=1e-13, atol=1e-15)
    assert np.abs(gelu(x, "tanh") - gelu(x)).max() < 1e-3


def test_two_class_softmax_is_the_sigmoid_of_the_difference():
    v = random_array((500, 2), seed=3) * 10
    compare("2-class softmax", softmax(v, 1)[:, 0], sigmoid(v[:, 0] - v[:, 1]), rtol=1e-12, atol=1e-15, verbose=False)


def test_gradients_match_central_differences():
    x = random_array((2, 3, 2, 2), seed=4)
    w = np.array([0.3, -0.2, 1.4])
    kw = dict(rtol=1e-6, atol=1e-8)
    gradcheck(sigmoid, lambda g, x: (sigmoid_backward(g, sigmoid(x)),), [x], **kw)
    gradcheck(lambda x: leaky_relu(x, 0.3), lambda g, x: (leaky_relu_backward(g, x, 0.3),), [x], **kw)
    gradcheck(prelu, lambda g, x, w: prelu_backward(g, x, w), [x, w], **kw)
    gradcheck(lambda x: softmax(x, 1), lambda g, x: (softmax_backward(g, softmax(x, 1), 1),), [x], **kw)
    gradcheck(lambda x: log_softmax(x, -1), lambda g, x: (log_softmax_backward(g, log_softmax(x, -1), -1),), [x], **kw)
    gradcheck(silu, lambda g, x: (silu_backward(g, x),), [x], **kw)
    for form in GELU_FORMS:
        gradcheck(lambda x: gelu(x, form), lambda g, x: (gelu_backward(g, x, form),), [x], **kw)  # noqa: B023


def test_derivatives_at_zero_are_torchs():
    """The kink: relu uses 0, the leaky family the negative-side slope (torch tests x > 0)."""
    x = np.zeros(3)
    g = np.ones(3)
    cases = [(relu_backward(g, relu(x)), lambda t: F.relu(t)),
             (leaky_relu_backward(g, x, 0.04), lambda t: F.leaky_relu(t, 0.04)),
             (prelu_backward(g, x, np.array([0.25]))[0], lambda t: F.prelu(t, torch.tensor([0.25], dtype=t.dtype))),
             (rrelu_backward(g, rrelu_noise(x)), lambda t: F.rrelu(t, training=False))]
    for ours, torch_fn in cases:
        xt = _t(x, True)
        torch_fn(xt).sum().backward()
        np.testing.assert_array_equal(ours, xt.grad.numpy())


# ---------------------------------------------------------------------------------------------
# In place, as torch does it
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ours, theirs", [
    (lambda x: relu(x, inplace=True), lambda t: F.relu(t, inplace=True)),
    (lambda x: leaky_relu(x, 0.04, inplace=True), lambda t: F.leaky_relu(t, 0.04, inplace=True)),
    (lambda x: leaky_relu(x, 1.5, inplace=True), lambda t: F.leaky_relu(t, 1.5, inplace=True)),
    (lambda x: rrelu(x, 0.1, 0.3, False, True), lambda t: F.rrelu(t, 0.1, 0.3, False, True)),
    (lambda x: ReLU(inplace=True)(x), lambda t: torch.nn.ReLU(inplace=True)(t)),
    (lambda x: LeakyReLU(0.04, True)(x), lambda t: torch.nn.LeakyReLU(0.04, True)(t)),
    (lambda x: RReLU(0.1, 0.3, True).eval()(x), lambda t: torch.nn.RReLU(0.1, 0.3, True).eval()(t)),
], ids=["relu", "leaky_relu", "leaky_relu slope 1.5", "rrelu", "ReLU", "LeakyReLU", "RReLU"])
def test_inplace_overwrites_the_input_and_returns_it_like_torch(ours, theirs):
    x = random_array((2, 3, 4), seed=9)
    xt = _t(x.copy())
    y, yt = ours(x), theirs(xt)
    assert np.shares_memory(x, y) and yt.data_ptr() == xt.data_ptr()
    np.testing.assert_array_equal(x, xt.numpy())


@pytest.mark.parametrize("ours, theirs", [
    (lambda x: silu(x, inplace=True), lambda t: F.silu(t, inplace=True)),
    (lambda x: SiLU(inplace=True)(x), lambda t: torch.nn.SiLU(inplace=True)(t)),
], ids=["silu", "SiLU"])
def test_inplace_silu_overwrites_the_input_and_returns_it_like_torch(ours, theirs):
    """As above, to rounding: NumPy's exp and torch's vectorised exp may differ in the last bit."""
    x = random_array((2, 3, 4), seed=9)
    xt = _t(x.copy())
    y, yt = ours(x), theirs(xt)
    assert np.shares_memory(x, y) and yt.data_ptr() == xt.data_ptr()
    _close("silu in place", x, xt)


def test_not_inplace_leaves_the_input_alone():
    x = random_array((2, 3, 4), seed=9)
    before = x.copy()
    for fn in (sigmoid, relu, lambda v: leaky_relu(v, 0.1), lambda v: prelu(v, np.full(3, 0.2)),
               lambda v: rrelu(v, training=True, rng=0), lambda v: softmax(v, 1), lambda v: log_softmax(v, 1),
               silu, gelu, lambda v: gelu(v, "tanh")):
        assert not np.shares_memory(fn(x), x)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("slope", [0.0, 0.04, 2.0])
def test_inplace_leaky_relu_module_has_the_right_backward(slope):
    x = random_array((2, 5), seed=2)
    g = random_array((2, 5), seed=3)
    ours = LeakyReLU(slope, inplace=True)
    ours(x.copy())
    np.testing.assert_array_equal(ours.backward(g), leaky_relu_backward(g, x, slope))


def test_inplace_silu_module_keeps_its_input_for_backward_like_torch():
    """torch's autograd saves the input of an in-place silu before overwriting it; so does SiLU(inplace=True)."""
    x = random_array((2, 5), seed=2)
    g = random_array((2, 5), seed=3)
    xt = _t(x, True)
    h = xt * 1  # in place needs a non-leaf
    torch.nn.SiLU(inplace=True)(h).backward(_t(g))
    layer = SiLU(inplace=True)
    layer(x.copy())
    _close("SiLU(inplace=True) backward", layer.backward(g), xt.grad)


def test_inplace_leaky_relu_with_a_negative_slope_refuses_backward_like_torch():
    xt = torch.randn(4, requires_grad=True)
    with pytest.raises(RuntimeError, match="negative slope"):
        F.leaky_relu(xt * 1, -0.5, inplace=True).sum().backward()
    layer = LeakyReLU(-0.5, inplace=True)
    layer(random_array((4,), seed=1))
    with pytest.raises(ValueError, match=r"negative_slope < 0.*inplace=False"):
        layer.backward(np.ones(4))


# ---------------------------------------------------------------------------------------------
# Modules
# ---------------------------------------------------------------------------------------------


@st.composite
def module_pairs(draw):
    """(ours, torch's, input): every activation module, with its arguments drawn, on an input it accepts."""
    kind = draw(st.sampled_from(["Sigmoid", "ReLU", "LeakyReLU", "PReLU", "RReLU", "Softmax", "LogSoftmax", "SiLU",
                                 "GELU"]))
    shape = draw(nchw_shapes if kind == "PReLU" else batched.filter(lambda s: 0 not in s))
    x = random_array(shape, np.float64, draw(seeds)) * draw(st.sampled_from([1.0, 10.0]))
    if kind == "LeakyReLU":
        a = draw(slopes)
        return LeakyReLU(a), torch.nn.LeakyReLU(a), x
    if kind == "PReLU":
        n = draw(st.sampled_from([1, shape[1]]))
        ours = PReLU(n, init=draw(st.floats(-1, 2)), dtype=np.float64)
        ours.weight[:] = np.random.default_rng(draw(seeds)).uniform(-1, 2, n)
        return ours, torch.nn.PReLU(n), x
    if kind == "RReLU":
        lower, upper = draw(slope_bounds())
        return RReLU(lower, upper).eval(), torch.nn.RReLU(lower, upper).eval(), x
    if kind == "GELU":
        form = draw(st.sampled_from(GELU_FORMS))
        return GELU(form), torch.nn.GELU(form), x
    if kind in ("Softmax", "LogSoftmax"):
        dim = draw(st.integers(-len(shape), len(shape) - 1))
        return globals()[kind](dim), getattr(torch.nn, kind)(dim), x
    return globals()[kind](), getattr(torch.nn, kind)(), x


@reproducible(120)
@given(pair=module_pairs(), seed=seeds)
def test_modules_match_torch_forward_and_backward(pair, seed):
    ours, theirs, x = pair
    errors = check_module(ours, theirs, x, **F64, seed=seed)
    assert set(errors) == {"forward", "grad input"} | ({"grad weight"} if isinstance(ours, PReLU) else set())
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("ours, theirs", [
    (Sigmoid(), torch.nn.Sigmoid()), (ReLU(), torch.nn.ReLU()), (ReLU(True), torch.nn.ReLU(True)),
    (LeakyReLU(), torch.nn.LeakyReLU()), (LeakyReLU(0.04, True), torch.nn.LeakyReLU(0.04, True)),
    (PReLU(), torch.nn.PReLU()), (PReLU(3), torch.nn.PReLU(3)), (RReLU(), torch.nn.RReLU()),
    (RReLU(0.1, 0.3, True), torch.nn.RReLU(0.1, 0.3, True)), (Softmax(1), torch.nn.Softmax(1)),
    (LogSoftmax(-1), torch.nn.LogSoftmax(-1)), (SiLU(), torch.nn.SiLU()), (SiLU(True), torch.nn.SiLU(True)),
    (GELU(), torch.nn.GELU()), (GELU("tanh"), torch.nn.GELU("tanh")),
], ids=repr)
def test_modules_print_like_torch_and_start_in_training_mode(ours, theirs):
    assert repr(ours) == repr(theirs)
    assert ours.training and theirs.training
    assert ours.eval() is ours and not ours.training


def test_prelu_module_has_torchs_parameter_names_init_dtype_and_gradients():
    ours, theirs = PReLU(3, init=0.1), torch.nn.PReLU(3, init=0.1)
    assert set(ours.params) == set(dict(theirs.named_parameters())) == {"weight"}
    assert ours.params["weight"] is ours.weight  # the array itself, so an optimizer can update it
    assert ours.weight.dtype == np.float32 and theirs.weight.dtype == torch.float32
    np.testing.assert_array_equal(ours.weight, theirs.weight.detach().numpy())
    x = random_array((2, 3, 4, 4), np.float32, 1)
    out = ours(x)
    grad_in = ours.backward(np.ones_like(out))
    assert out.dtype == grad_in.dtype == ours.grads["weight"].dtype == np.float32
    assert ours.grads["weight"].shape == (3,)
    assert PReLU(2, dtype=np.float64).weight.dtype == np.float64


def test_rrelu_module_in_training_mode_uses_the_noise_of_its_last_forward_pass():
    layer = RReLU(0.1, 0.5, rng=3)
    x = random_array((4, 6), seed=1)
    g = random_array((4, 6), seed=2)
    y = layer(x)
    np.testing.assert_array_equal(y, x * layer.noise)
    np.testing.assert_array_equal(layer.backward(g), g * layer.noise)
    assert np.all(layer.noise[x > 0] == 1) and np.all((0.1 <= layer.noise) & (layer.noise <= 0.5) | (x > 0))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_modules_keep_the_dtype_forward_and_backward(dtype):
    x = random_array((2, 3, 4, 4), dtype, 5)
    for layer in (Sigmoid(), ReLU(), LeakyReLU(0.2), PReLU(3, dtype=dtype), RReLU(rng=0), Softmax(1),
                  LogSoftmax(1), SiLU(), GELU(), GELU("tanh")):
        out = layer(x.copy())
        assert out.dtype == dtype and layer.backward(np.ones_like(out)).dtype == dtype, layer


def test_empty_inputs_give_empty_outputs_like_torch():
    for shape, dim in [((0, 3), 1), ((2, 0), 1), ((2, 0, 3), 1), ((0,), 0)]:
        x = np.zeros(shape)
        for fn, torch_fn in [(softmax, F.softmax), (log_softmax, F.log_softmax)]:
            assert fn(x, dim).shape == torch_fn(_t(x), dim).shape
        assert relu(x).shape == sigmoid(x).shape == shape


# ---------------------------------------------------------------------------------------------
# Refusals: wherever torch refuses, we refuse, with a message naming the offending parameter
# ---------------------------------------------------------------------------------------------


@reproducible(120)
@given(shape=st.lists(st.integers(1, 3), max_size=4).map(tuple), dim=st.integers(-6, 5))
def test_dim_is_refused_exactly_where_torch_refuses_it(shape, dim):
    x = np.zeros(shape)
    for fn, backward, torch_fn in [(softmax, softmax_backward, F.softmax),
                                   (log_softmax, log_softmax_backward, F.log_softmax)]:
        if torch_raises(lambda: torch_fn(_t(x), dim)):  # noqa: B023
            for call in (lambda: fn(x, dim), lambda: backward(x, x, dim)):  # noqa: B023
                with pytest.raises(ValueError, match=rf"dim={dim} is out of range for a {x.ndim}-D input"):
                    call()
        else:
            assert fn(x, dim).shape == backward(x, x, dim).shape == shape


@reproducible(80)
@given(lower=st.floats(-2, 2), upper=st.floats(-2, 2), training=st.booleans())
def test_rrelu_bounds_are_refused_exactly_where_torch_refuses_them(lower, upper, training):
    x = random_array((2, 3), seed=0)
    refused = torch_raises(lambda: F.rrelu(_t(x), lower, upper, training=training)) is not None
    assert refused == (lower > upper)
    if refused:
        with pytest.raises(ValueError, match=r"lower=.* must be at most upper="):
            rrelu(x, lower, upper, training, rng=0)
        with pytest.raises(ValueError, match=r"lower=.* must be at most upper="):
            RReLU(lower, upper)
        assert torch_raises(lambda: torch.nn.RReLU(lower, upper)(_t(x)))
    else:
        rrelu(x, lower, upper, training, rng=0)


@reproducible(150)
@given(shape=st.lists(st.integers(0, 4), max_size=4).map(tuple), count=st.integers(0, 5),
       weight_ndim=st.sampled_from([0, 1, 1, 1, 2]), dtypes=st.tuples(float_dtypes, float_dtypes))
def test_prelu_weights_are_refused_exactly_where_torch_refuses_them(shape, count, weight_ndim, dtypes):
    x = random_array(shape, dtypes[0], 1)
    w_shape = {0: (), 1: (count,), 2: (count, 1)}[weight_ndim]
    w = np.full(w_shape, 0.25, dtypes[1])
    if torch_raises(lambda: F.prelu(_t(x), _t(w))):
        with pytest.raises((ValueError, TypeError), match=r"weight|dtype"):
            prelu(x, w)
    else:
        _close("prelu", prelu(x, w), F.prelu(_t(x), _t(w)), dict(rtol=0, atol=0))


@pytest.mark.parametrize("approximate", ["none", "tanh", "None", "TANH", "tanh ", "", "erf", None, 1, True, 0.5])
def test_gelu_approximate_is_refused_exactly_where_torch_refuses_it(approximate):
    x = random_array((2, 3), seed=0)
    refused = torch_raises(lambda: F.gelu(_t(x), approximate=approximate))
    assert (refused is None) == (approximate in ("none", "tanh"))
    if refused is None:
        assert gelu(x, approximate).shape == GELU(approximate)(x).shape == x.shape
        return
    error = TypeError if not isinstance(approximate, str) else ValueError
    for call in (lambda: gelu(x, approximate), lambda: gelu_backward(x, x, approximate), lambda: GELU(approximate)):
        with pytest.raises(error, match=r"approximate must be .*'none'.*'tanh'"):
            call()


X = random_array((2, 3, 4), seed=10)

BAD_CALLS = [
    ("list input", lambda: relu([1.0, -1.0]), TypeError, r"input must be a NumPy array"),
    ("integer input", lambda: sigmoid(np.arange(3)), TypeError, r"input must be float32 or float64"),
    ("bool input", lambda: leaky_relu(X > 0), TypeError, r"input must be float32 or float64"),
    ("dim a float", lambda: softmax(X, 1.0), TypeError, r"dim must be an int"),
    ("dim a bool", lambda: log_softmax(X, True), TypeError, r"dim must be an int"),
    ("dim out of range", lambda: softmax(X, 3), ValueError, r"dim=3 is out of range for a 3-D input: .* -3 and 2"),
    ("slope a string", lambda: leaky_relu(X, "0.04"), TypeError, r"negative_slope must be a number"),
    ("slope True", lambda: LeakyReLU(True), TypeError, r"negative_slope must be a number, got True"),
    ("lower a string", lambda: rrelu(X, "a", 0.5), TypeError, r"lower must be a number"),
    ("lower > upper", lambda: RReLU(0.5, 0.2), ValueError, r"lower=0.5 must be at most upper=0.2"),
    ("PReLU weight count", lambda: prelu(X, np.full(4, 0.25)), ValueError, r"1 slope or one per channel \(3"),
    ("PReLU 2-D weight", lambda: prelu(X, np.full((3, 1), 0.25)), ValueError, r"weight must be a scalar or 1-D"),
    ("PReLU dtypes differ", lambda: prelu(X, np.full(3, 0.25, np.float32)), TypeError, r"weight is float32"),
    ("PReLU(0)", lambda: PReLU(0), ValueError, r"num_parameters must be positive"),
    ("PReLU(2.5)", lambda: PReLU(2.5), TypeError, r"num_parameters must be an int"),
    ("PReLU int dtype", lambda: PReLU(2, dtype=np.int64), TypeError, r"dtype must be float32 or float64"),
    ("PReLU init a string", lambda: PReLU(2, init="a"), TypeError, r"init must be a number"),
    ("Softmax(1.0)", lambda: Softmax(1.0), TypeError, r"dim must be an int"),
    ("grad of the wrong shape", lambda: sigmoid_backward(np.ones((2, 3)), sigmoid(X)), ValueError,
     r"grad_output must have the shape of output, \(2, 3, 4\)"),
    ("grad of another dtype", lambda: relu_backward(X.astype(np.float32), X), TypeError, r"grad_output is float32"),
    ("noise of the wrong shape", lambda: rrelu_backward(X, np.ones(3)), ValueError, r"shape of noise"),
    ("silu integer input", lambda: silu(np.arange(3)), TypeError, r"input must be float32 or float64"),
    ("gelu list input", lambda: gelu([1.0, -1.0]), TypeError, r"input must be a NumPy array"),
    ("gelu unknown approximate", lambda: gelu(X, "TANH"), ValueError, r"approximate must be 'none' .* got 'TANH'"),
    ("GELU(None)", lambda: GELU(None), TypeError, r"approximate must be a string"),
    ("silu grad of the wrong shape", lambda: silu_backward(np.ones(3), X), ValueError,
     r"grad_output must have the shape of input"),
    ("gelu grad of another dtype", lambda: gelu_backward(X.astype(np.float32), X), TypeError,
     r"grad_output is float32"),
]


@pytest.mark.parametrize("name, call, exc, match", BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_calls_raise_a_clear_error(name, call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_inputs_torch_refuses_we_refuse_too():
    """The rows of BAD_CALLS that have a torch counterpart: torch refuses each of them as well."""
    xt = _t(X)
    for call in [lambda: F.softmax(xt, 3), lambda: F.softmax(xt, 1.0), lambda: F.softmax(xt, True),
                 lambda: F.leaky_relu(xt, "0.04"), lambda: F.rrelu(xt, "a", 0.5),
                 lambda: F.rrelu(xt, 0.5, 0.2), lambda: F.prelu(xt, torch.full((4,), 0.25, dtype=xt.dtype)),
                 lambda: F.prelu(xt, torch.full((3, 1), 0.25, dtype=xt.dtype)),
                 lambda: F.prelu(xt, torch.full((3,), 0.25)), lambda: torch.nn.PReLU(2.5),
                 lambda: torch.nn.PReLU(2, init="a"), lambda: F.leaky_relu(torch.arange(3), 0.1),
                 lambda: F.silu(torch.arange(3)), lambda: F.gelu(xt, approximate="TANH"),
                 lambda: torch.nn.GELU(None)(xt)]:
        assert torch_raises(call)


def test_deepcopy_and_eval_keep_rrelu_deterministic():
    layer = RReLU(rng=0).eval()
    x = random_array((3, 3), seed=4)
    np.testing.assert_array_equal(copy.deepcopy(layer)(x), layer(x))


# ---------------------------------------------------------------------------------------------
# The chapter's code keeps to torch's public API
# ---------------------------------------------------------------------------------------------

CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "02_activations.ipynb"
# torch.ops.aten.* operators, torch._* modules, private attributes of autograd nodes, underscore operators
PRIVATE_TORCH = re.compile(r"torch\.ops\.\w+(?:\.\w+)?|\baten\.\w+|\btorch\.(?:\w+\.)*_\w+|grad_fn\._\w+|\._saved_\w+")


def test_chapter_02_uses_no_private_torch_internal():
    """A private operator can vanish or change its arguments with the next torch release, and the chapter's cell
    would then fail on the reader's machine. The chapter reads RReLU's noise and runs softmax's backward through
    public APIs (F.rrelu, torch.autograd); any private name that comes back must be replaced, or guarded in its
    cell and checked here by calling it with the chapter's arguments."""
    cells = json.loads(CHAPTER.read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert code.count("torch.") > 50, "the chapter's code was not read"  # the pattern below has text to search
    found = sorted(set(PRIVATE_TORCH.findall(code)))
    assert not found, f"chapter 2 uses private torch internals: {found}"
