"""nbutils.layers.dropout against torch: bit for bit with torch's own mask, statistically, and in eval mode.

torch and NumPy draw different random numbers, so a random layer is checked three ways:
- exactly, by injecting the mask torch drew (read off by dropping out a tensor of ones after the same seed);
- statistically, on large inputs: fraction zeroed, exact scale of the kept values, mean preserved;
- exactly where nothing is random: eval mode, p = 0 and p = 1.
Property tests draw from tests/strategies.py and are derandomized, so every run sees the same examples.
"""

import copy
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from strategies import (
    FLOAT_DTYPES,
    any_shapes,
    float_dtypes,
    nchw_shapes,
    probabilities,
    random_array,
    reproducible,
    seeds,
)
from torch_twin import torch_raises as _raises

from nbutils.check import check_module, gradcheck
from nbutils.layers.dropout import (
    Dropout,
    Dropout2d,
    apply_dropout_mask,
    dropout,
    dropout2d,
    dropout_backward,
    dropout_mask,
)

EXACT = dict(rtol=0, atol=0)
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}


def _array(shape, dtype=np.float64, seed=0):
    """random_array, always an ndarray (a 0-d shape too)."""
    return np.asarray(random_array(shape, dtype, seed))


def _exact(name, ours, theirs):
    """Bitwise equality with torch's result (NaN where torch has NaN), and the same dtype."""
    theirs = theirs.detach().numpy()
    assert ours.dtype == theirs.dtype, f"{name}: dtype {ours.dtype}, torch {theirs.dtype}"
    np.testing.assert_array_equal(ours, theirs, err_msg=name)


def torch_keep_mask(shape, p, seed, dtype=torch.float64, channels=False):
    """The keep mask torch draws after torch.manual_seed(seed): drop out a tensor of ones and see what survives."""
    torch.manual_seed(seed)
    ones = torch.ones(shape, dtype=dtype)
    survivors = (F.dropout2d(ones, p) if channels else F.dropout(ones, p)) != 0
    return survivors[:, :, :1, :1].numpy() if channels else survivors.numpy()


def _torch_dropout(fn, x, g, p, seed):
    """torch's forward after manual_seed(seed), and its autograd gradient for the upstream gradient g."""
    torch.manual_seed(seed)
    xt = torch.tensor(x, requires_grad=True)
    yt = fn(xt, p)
    yt.backward(torch.tensor(g))
    return yt, xt.grad


# ---------------------------------------------------------------------------------------------
# 1. Exactly, with torch's own mask injected
# ---------------------------------------------------------------------------------------------


@reproducible(150)
@given(shape=any_shapes, p=probabilities, dtype=float_dtypes, seed=seeds)
def test_dropout_with_torchs_mask_matches_torch_bit_for_bit_forward_and_backward(shape, p, dtype, seed):
    x, g = _array(shape, dtype, seed), _array(shape, dtype, seed + 1)
    keep = torch_keep_mask(shape, p, seed, TORCH_DTYPE[dtype])
    yt, gt = _torch_dropout(F.dropout, x, g, p, seed)
    _exact("forward", apply_dropout_mask(x, keep, p), yt)
    _exact("backward", dropout_backward(g, keep, p), gt)


@reproducible(100)
@given(shape=nchw_shapes, p=probabilities, dtype=float_dtypes, seed=seeds)
def test_dropout2d_with_torchs_channel_mask_matches_torch_bit_for_bit_forward_and_backward(shape, p, dtype, seed):
    x, g = _array(shape, dtype, seed), _array(shape, dtype, seed + 1)
    keep = torch_keep_mask(shape, p, seed, TORCH_DTYPE[dtype], channels=True)
    assert keep.shape == shape[:2] + (1, 1)
    yt, gt = _torch_dropout(F.dropout2d, x, g, p, seed)
    _exact("forward", apply_dropout_mask(x, keep, p), yt)
    _exact("backward", dropout_backward(g, keep, p), gt)


def test_torch_mask_read_off_ones_is_the_mask_torch_uses_on_any_input():
    """The premise of the exact tests: torch's mask depends on the seed, shape and dtype, not on the values."""
    x = _array((50, 40), seed=3)
    keep = torch_keep_mask(x.shape, 0.4, seed=5)
    torch.manual_seed(5)
    assert np.array_equal(F.dropout(torch.tensor(x), 0.4).numpy() != 0, keep)


@pytest.mark.filterwarnings("ignore:invalid value encountered in multiply:RuntimeWarning")  # NumPy notes inf * 0
def test_a_dropped_inf_becomes_nan_and_a_kept_one_stays_inf_like_torch():
    x = np.array([1.0, np.inf, -np.inf, np.nan, -2.0] * 4)
    for p in (0.5, 1.0):
        keep = torch_keep_mask(x.shape, p, seed=2)
        torch.manual_seed(2)
        _exact(f"p={p}", apply_dropout_mask(x, keep, p), F.dropout(torch.tensor(x), p))


# ---------------------------------------------------------------------------------------------
# 2. Statistically, on large inputs, with torch passing the same tests as the control
# ---------------------------------------------------------------------------------------------


def _assert_dropout_statistics(label, x, y, p):
    """Fraction zeroed within 5 SE of p, every kept value exactly x * (1/(1-p) in x's dtype), mean within 5 SE."""
    kept = y != 0
    zeroed = 1 - kept.mean()
    assert abs(zeroed - p) < 5 * np.sqrt(p * (1 - p) / x.size), f"{label}: zeroed {zeroed}, p = {p}"
    scale = np.ones((), x.dtype) / x.dtype.type(1 - p)
    assert np.array_equal(y[kept], x[kept] * scale), f"{label}: kept values are not x * 1/(1-p)"
    x64 = x.astype(np.float64)
    se = np.sqrt(p / (1 - p) * np.sum(x64**2)) / x.size
    assert abs(y.astype(np.float64).mean() - x64.mean()) < 5 * se, f"{label}: mean not preserved"


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("p", [0.05, 0.3, 0.7, 0.95])
def test_dropout_zeroes_about_p_scales_exactly_and_keeps_the_mean_like_torch(p, dtype):
    x = np.random.default_rng(0).uniform(0.5, 1.5, (400, 500)).astype(dtype)  # no zeros of its own
    torch.manual_seed(1)
    _assert_dropout_statistics("torch", x, F.dropout(torch.from_numpy(x), p).numpy(), p)
    _assert_dropout_statistics("nbutils", x, dropout(x, p, rng=1), p)
    _assert_dropout_statistics("Dropout module", x, Dropout(p, rng=1)(x), p)


@pytest.mark.parametrize("p", [0.1, 0.3, 0.8])
def test_dropout2d_drops_whole_channels_at_rate_p_like_torch(p):
    x = np.random.default_rng(0).uniform(0.5, 1.5, (100, 300, 2, 3))
    torch.manual_seed(1)
    for label, y in [("torch", F.dropout2d(torch.tensor(x), p).numpy()), ("nbutils", dropout2d(x, p, rng=1)),
                     ("Dropout2d module", Dropout2d(p, rng=1)(x))]:
        zero = (y == 0).reshape(100, 300, 6)
        assert np.all(zero.all(-1) | ~zero.any(-1)), f"{label}: a channel is partly dropped"
        dropped = zero.all(-1).mean()
        assert abs(dropped - p) < 5 * np.sqrt(p * (1 - p) / 30_000), f"{label}: {dropped} of channels dropped"
        kept = ~zero.all(-1)
        np.testing.assert_array_equal(y[kept], x[kept] * (1 / (1 - p)), err_msg=label)


def test_dropout_mask_keeps_each_entry_with_probability_one_minus_p():
    for p in (0.0, 0.25, 0.6, 1.0):
        keep = dropout_mask((1000, 1000), p, rng=0)
        assert keep.dtype == bool
        assert abs(keep.mean() - (1 - p)) < 5 * np.sqrt(p * (1 - p) / 1e6) + 1e-7


@pytest.mark.parametrize("p1,p2", [(0.5, 0.5), (0.2, 0.7)])
def test_two_dropouts_in_a_row_act_as_one_with_the_combined_rate_as_chapter_4_predicts(p1, p2):
    """Chapter 4's prediction exercise: a unit survives both with probability (1-p1)(1-p2), scaled by its inverse."""
    x = np.ones(400_000)
    y = dropout(dropout(x, p1, rng=1), p2, rng=2)
    p = 1 - (1 - p1) * (1 - p2)
    kept = y != 0
    assert abs((1 - kept.mean()) - p) < 5 * np.sqrt(p * (1 - p) / x.size)
    np.testing.assert_allclose(y[kept], 1 / (1 - p), rtol=1e-15)
    assert abs(y.mean() - 1) < 5 * np.sqrt(p / (1 - p) / x.size)


# ---------------------------------------------------------------------------------------------
# 3. Exactly, where nothing is random: eval mode, p = 0, p = 1
# ---------------------------------------------------------------------------------------------


@reproducible(80)
@given(shape=nchw_shapes, p=probabilities, dtype=float_dtypes, seed=seeds)
def test_eval_mode_is_the_identity_and_returns_the_input_itself_like_torch(shape, p, dtype, seed):
    x = _array(shape, dtype, seed)
    xt = torch.from_numpy(x)
    for ours, theirs in [(dropout, F.dropout), (dropout2d, F.dropout2d)]:
        assert theirs(xt, p, training=False) is xt
        assert ours(x, p, training=False) is x


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_p_zero_is_the_identity_and_p_one_zeroes_everything_in_training_like_torch(dtype):
    x = _array((2, 3, 4, 5), dtype, seed=4)
    xt = torch.from_numpy(x)
    for ours, theirs in [(dropout, F.dropout), (dropout2d, F.dropout2d)]:
        assert theirs(xt, 0.0) is xt and ours(x, 0.0) is x
        _exact("p=1", ours(x, 1.0, rng=0), theirs(xt, 1.0))
        assert not ours(x, 1.0, rng=0).any()


def test_eval_mode_and_p_zero_draw_no_random_numbers_like_torch():
    x = _array((3, 4, 2, 2))
    state = torch.get_rng_state()
    F.dropout(torch.from_numpy(x), 0.5, training=False)
    F.dropout(torch.from_numpy(x), 0.0)
    assert torch.equal(state, torch.get_rng_state()), "torch consumed random numbers: the test is out of date"
    for fn in (dropout, dropout2d):
        g = np.random.default_rng(3)
        fn(x, 0.5, training=False, rng=g)
        fn(x, 0.0, rng=g)
        assert g.random() == np.random.default_rng(3).random()


# ---------------------------------------------------------------------------------------------
# Masks are reproducible from the rng; backward uses the forward's mask
# ---------------------------------------------------------------------------------------------


@reproducible(60)
@given(shape=any_shapes, p=probabilities, seed=seeds)
def test_dropout_is_its_mask_applied_and_the_same_seed_gives_the_same_mask(shape, p, seed):
    x = _array(shape, seed=seed)
    expected = apply_dropout_mask(x, dropout_mask(shape, p, rng=seed), p)
    np.testing.assert_array_equal(dropout(x, p, rng=seed), expected)
    np.testing.assert_array_equal(dropout(x, p, rng=np.random.default_rng(seed)), expected)


@reproducible(40)
@given(shape=nchw_shapes, p=probabilities, seed=seeds)
def test_dropout2d_is_a_channel_mask_applied_and_reproducible(shape, p, seed):
    x = _array(shape, seed=seed)
    expected = apply_dropout_mask(x, dropout_mask(shape[:2] + (1, 1), p, rng=seed), p)
    np.testing.assert_array_equal(dropout2d(x, p, rng=seed), expected)


def test_a_generator_passed_in_keeps_its_stream_so_successive_calls_differ():
    x = _array((20, 30))
    g = np.random.default_rng(7)
    first, second = dropout(x, 0.5, rng=g), dropout(x, 0.5, rng=g)
    assert not np.array_equal(first, second)
    g2 = np.random.default_rng(7)
    np.testing.assert_array_equal(first != 0, dropout_mask(x.shape, 0.5, g2))
    np.testing.assert_array_equal(second != 0, dropout_mask(x.shape, 0.5, g2))
    assert not np.array_equal(dropout_mask(x.shape, 0.5, rng=7), dropout_mask(x.shape, 0.5, rng=8))


@pytest.mark.parametrize("cls, shape, mask_shape", [(Dropout, (3, 4, 5), (3, 4, 5)),
                                                    (Dropout2d, (3, 4, 5, 2), (3, 4, 1, 1))])
def test_module_draws_from_its_rng_and_backward_reuses_the_forward_mask(cls, shape, mask_shape):
    fn = dropout if cls is Dropout else dropout2d
    x, g = _array(shape, seed=1), _array(shape, seed=2)
    layer, twin = cls(0.4, rng=11), cls(0.4, rng=11)
    y = layer(x)
    np.testing.assert_array_equal(y, fn(x, 0.4, rng=11))
    assert layer.mask.shape == mask_shape
    np.testing.assert_array_equal(layer.backward(g), dropout_backward(g, layer.mask, 0.4))
    first = layer.mask
    layer(x)
    assert not np.array_equal(first, layer.mask), "a second forward must draw a new mask"
    twin(x)
    np.testing.assert_array_equal(twin.mask, first)
    twin(x)
    np.testing.assert_array_equal(twin.mask, layer.mask)


def test_backward_belongs_to_the_last_forward_even_after_a_mode_switch():
    x, g = _array((4, 6), seed=1), _array((4, 6), seed=2)
    layer = Dropout(0.5, rng=0)
    layer(x)
    mask = layer.mask
    layer.eval()  # switching mode between forward and backward does not change what forward did
    np.testing.assert_array_equal(layer.backward(g), dropout_backward(g, mask, 0.5))
    assert layer(x) is x and layer.mask is None and layer.backward(g) is g


@pytest.mark.parametrize("cls, shape", [(Dropout, (4, 1, 3)), (Dropout2d, (2, 3, 4, 4))])
@pytest.mark.parametrize("training", [True, False])
def test_module_backward_refuses_a_gradient_of_another_shape(cls, shape, training):
    layer = cls(0.5, rng=0).train(training)
    layer(_array(shape))
    bigger = shape[:-2] + (shape[-2] + 1, shape[-1])  # a mask of size-1 axes would broadcast to it silently
    with pytest.raises(ValueError, match=r"grad_out must have the output's shape"):
        layer.backward(_array(bigger))


@pytest.mark.parametrize("cls, shape", [(Dropout, (4, 1, 3)), (Dropout2d, (2, 3, 4, 4))])
@pytest.mark.parametrize("training", [True, False])
def test_module_backward_refuses_a_gradient_that_is_not_a_numpy_array_in_both_modes(cls, shape, training):
    layer = cls(0.5, rng=0).train(training)
    g = _array(shape)
    for wrong in (torch.tensor(g), g.tolist(), np.ma.masked_array(g)):
        layer(_array(shape))
        with pytest.raises(TypeError, match=r"grad_out (must be a NumPy array|is a np\.ma\.MaskedArray)"):
            layer.backward(wrong)


@pytest.mark.parametrize("cls, shape", [(Dropout, (4, 1, 3)), (Dropout2d, (2, 3, 4, 4))])
@pytest.mark.parametrize("training", [True, False])
def test_module_backward_never_returns_float64_for_a_float32_forward(cls, shape, training):
    """torch casts such a gradient back to float32; we refuse it, as every other layer here does."""
    xt = torch.tensor(_array(shape, np.float32), requires_grad=True)
    torch.nn.Dropout(0.5).train(training)(xt).backward(torch.tensor(_array(shape)))
    assert xt.grad.dtype == torch.float32
    layer = cls(0.5, rng=0).train(training)
    layer(_array(shape, np.float32))
    with pytest.raises(TypeError, match=r"grad_out must have the output's dtype float32, got float64"):
        layer.backward(_array(shape))
    assert layer.backward(_array(shape, np.float32)).dtype == np.float32  # the refusal consumed nothing


def test_dropout_gradient_matches_central_differences():
    x = _array((2, 3, 3, 4), seed=5)
    gradcheck(lambda x: dropout(x, 0.3, rng=9), lambda g, x: (dropout_backward(g, dropout_mask(x.shape, 0.3, 9), 0.3),),
              [x], rtol=1e-6, atol=1e-8)
    gradcheck(lambda x: dropout2d(x, 0.6, rng=9),
              lambda g, x: (dropout_backward(g, dropout_mask(x.shape[:2] + (1, 1), 0.6, 9), 0.6),),
              [x], rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------------------------------------
# Modules against torch's in eval mode; dtype; the Module interface
# ---------------------------------------------------------------------------------------------


@reproducible(40)
@given(shape=nchw_shapes, p=probabilities, seed=seeds)
def test_modules_in_eval_mode_match_torch_forward_and_backward(shape, p, seed):
    x = _array(shape, seed=seed)
    for ours, theirs in [(Dropout(p), torch.nn.Dropout(p)), (Dropout2d(p), torch.nn.Dropout2d(p))]:
        errors = check_module(ours.eval(), theirs.eval(), x, **EXACT, seed=seed)
        assert set(errors) == {"forward", "grad input"}


@reproducible(60)
@given(shape=nchw_shapes, p=probabilities, dtype=float_dtypes, seed=seeds)
def test_functions_and_modules_keep_the_dtype_forward_and_backward(shape, p, dtype, seed):
    x = _array(shape, dtype, seed)
    for fn, cls in [(dropout, Dropout), (dropout2d, Dropout2d)]:
        assert fn(x, p, rng=seed).dtype == dtype
        layer = cls(p, rng=seed)
        out = layer(x)
        assert out.dtype == layer.backward(np.ones_like(out)).dtype == dtype


def test_modules_start_in_training_mode_have_no_parameters_and_read_like_torch():
    for ours, theirs in [(Dropout(0.3), torch.nn.Dropout(0.3)), (Dropout2d(), torch.nn.Dropout2d())]:
        assert ours.training and theirs.training
        assert ours.eval() is ours and not ours.training and ours.train() is ours and ours.training
        assert ours.params == {} and not list(theirs.parameters())
        x = _array((2, 3, 2, 2))
        ours.backward(np.ones_like(ours(x)))
        assert ours.grads == {}
        assert ours.p == theirs.p
    assert repr(Dropout(0.3)) == "Dropout(p=0.3)" and repr(Dropout2d()) == "Dropout2d(p=0.5)"


def test_modules_copy_with_their_generator_state():
    layer = Dropout(0.5, rng=3)
    clone = copy.deepcopy(layer)
    x = _array((10, 10))
    np.testing.assert_array_equal(layer(x), clone(x))


# ---------------------------------------------------------------------------------------------
# Refusals: wherever torch refuses, we refuse, with a message naming the offending parameter
# ---------------------------------------------------------------------------------------------

X = _array((2, 3, 4, 4), seed=10)
XT = torch.from_numpy(X)


def _case(name, torch_call, our_call, exc, match):
    return pytest.param(torch_call, our_call, exc, match, id=name)


def _module(cls, p):
    """Build and run a module once, so torch's deferred checks (a NaN p fails only in forward) count too."""
    def call():
        layer = cls(p)
        return layer(XT) if isinstance(layer, torch.nn.Module) else layer(X)
    return call


P_RULE = r"p \(the probability to drop a unit\) must be between 0 and 1"
P_TYPE = r"p \(the probability to drop a unit\) must be a number"

REFUSALS = [
    *[_case(f"{fn.__name__} p={p!r}", lambda tfn=tfn, p=p: tfn(XT, p), lambda fn=fn, p=p: fn(X, p), exc, match)
      for fn, tfn in [(dropout, F.dropout), (dropout2d, F.dropout2d)]
      for p, exc, match in [(-0.1, ValueError, P_RULE), (1.5, ValueError, P_RULE), (1 + 1e-12, ValueError, P_RULE),
                            (float("nan"), ValueError, P_RULE), (float("inf"), ValueError, P_RULE),
                            ("0.5", TypeError, P_TYPE), (None, TypeError, P_TYPE)]],
    *[_case(f"{cls.__name__} p={p!r}", _module(tcls, p), _module(cls, p), exc, match)
      for cls, tcls in [(Dropout, torch.nn.Dropout), (Dropout2d, torch.nn.Dropout2d)]
      for p, exc, match in [(-0.5, ValueError, P_RULE), (2, ValueError, P_RULE), (float("nan"), ValueError, P_RULE),
                            ("a", TypeError, P_TYPE)]],
    *[_case(f"{fn.__name__} training={t!r}", lambda tfn=tfn, t=t: tfn(XT, 0.5, t), lambda fn=fn, t=t: fn(X, 0.5, t),
            TypeError, r"training must be True or False")
      for fn, tfn in [(dropout, F.dropout), (dropout2d, F.dropout2d)] for t in ("yes", None, 1)],
    _case("a list", lambda: F.dropout([1.0, 2.0]), lambda: dropout([1.0, 2.0]), TypeError,
          r"input must be a NumPy array"),
    _case("integer input", lambda: F.dropout(torch.arange(6)), lambda: dropout(np.arange(6)), TypeError,
          r"input must be float32 or float64"),
    _case("bool input", lambda: F.dropout(torch.ones(4, dtype=torch.bool)), lambda: dropout(np.ones(4, bool)),
          TypeError, r"input must be float32 or float64"),
    _case("complex input", lambda: F.dropout(torch.ones(4, dtype=torch.complex64)),
          lambda: dropout(np.ones(4, np.complex64)), TypeError, r"input must be float32 or float64"),
    _case("integer input to Dropout2d", lambda: torch.nn.Dropout2d()(torch.ones(1, 2, 3, 3, dtype=torch.long)),
          lambda: Dropout2d()(np.ones((1, 2, 3, 3), np.int64)), TypeError, r"input must be float32 or float64"),
]


@pytest.mark.parametrize("torch_call, our_call, exc, match", REFUSALS)
def test_dropout_refuses_what_torch_refuses_naming_the_parameter(torch_call, our_call, exc, match):
    assert _raises(torch_call) is not None, "torch accepts this call: the case is wrong"
    with pytest.raises(exc, match=match):
        our_call()


@pytest.mark.parametrize("shape", [(2, 4, 4), (4, 4), (1, 2, 3, 3, 3)])
@pytest.mark.parametrize("call", [lambda x: dropout2d(x, 0.5), lambda x: dropout2d(x, 0.5, training=False),
                                  lambda x: Dropout2d()(x), lambda x: Dropout2d().eval()(x)],
                         ids=["function", "function, eval", "module", "module, eval"])
def test_dropout2d_refuses_anything_but_nchw_where_torch_only_warns(shape, call):
    """Stricter than torch: it reads a 3-D input as (N, C, L) and drops rows, and only warns about other ranks."""
    with pytest.warns(UserWarning, match="dropout2d"):
        F.dropout2d(torch.ones(shape), 0.5)
    with pytest.raises(ValueError, match=r"input must be 4-D \(NCHW\)"):
        call(np.ones(shape))


@pytest.mark.parametrize("mask, exc, match", [
    (np.ones((2, 3), bool), ValueError, r"mask of shape \(2, 3\) does not broadcast to shape \(2, 3, 4, 4\)"),
    (np.ones((1, 2, 3, 4, 4), bool), ValueError, r"does not broadcast"),
    (np.ones((2, 3, 4, 4)), TypeError, r"mask must be a NumPy array of bools \(True = keep\), got dtype float64"),
    ([[True]], TypeError, r"mask must be a NumPy array of bools .* got list"),
])
def test_apply_dropout_mask_refuses_a_mask_that_is_not_a_broadcastable_bool_array(mask, exc, match):
    with pytest.raises(exc, match=match):
        apply_dropout_mask(X, mask, 0.5)
    with pytest.raises(exc, match=match):
        dropout_backward(X, mask, 0.5)


def test_stricter_than_torch_on_bool_p_float16_input_and_the_rng():
    """torch reads p=True as 1 and drops float16; we ask for a number and float32/float64. rng must be a seed."""
    assert F.dropout(XT, True).abs().sum() == 0 and F.dropout(XT.half(), 0.5).dtype == torch.float16
    with pytest.raises(TypeError, match=P_TYPE):
        dropout(X, True)
    with pytest.raises(TypeError, match=r"input must be float32 or float64"):
        dropout(X.astype(np.float16))
    with pytest.raises(TypeError, match=r"grad_output must be float32 or float64"):
        dropout_backward(X.astype(np.int64), np.ones(X.shape, bool), 0.5)
    with pytest.raises(TypeError, match=r"rng must be None, an int seed or a np.random.Generator"):
        dropout(X, 0.5, rng="seed")
    with pytest.raises(TypeError, match=r"rng must be None"):
        Dropout(0.5, rng=1.5)


# ---------------------------------------------------------------------------------------------
# What chapter 4 shows of torch's autograd: public APIs only, and they still show it
# ---------------------------------------------------------------------------------------------

CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "04_dropout.ipynb"
# grad_fn._saved_self and friends, torch.ops.aten.*, torch._C, torch._foo: names torch may change without notice
PRIVATE_TORCH = re.compile(r"\._saved_\w+|torch\.ops\.aten\.\w+|\btorch\._\w+")


def test_chapter_4_reaches_no_private_torch_internal():
    """A private name breaks with the next torch. If one is ever needed, guard its cell and test it here."""
    nb = nbformat.read(CHAPTER, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    found = sorted(set(PRIVATE_TORCH.findall(code)))
    assert not found, (f"chapter 4 uses torch internals {found}: show the point with a public API, or guard the "
                       "cell so it explains and moves on, and add a test here that fails when the internal goes")


def test_autograd_saves_only_the_scaled_mask_for_dropout_as_chapter_4_says():
    """Chapter 4 records what autograd saves for F.dropout (saved_tensors_hooks) and says: the mask times 1/(1-p)."""
    x = torch.tensor(_array((4, 5, 6), seed=3), requires_grad=True)
    keep = torch_keep_mask(x.shape, 0.3, seed=7)
    saved = []
    torch.manual_seed(7)
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t.detach()) or t, lambda t: t):
        y = F.dropout(x, 0.3)
    assert [tuple(s.shape) for s in saved] == [x.shape], (
        f"autograd now saves {[(s.dtype, tuple(s.shape)) for s in saved]} for dropout; chapter 4's text says one "
        "tensor, the mask times 1/(1-p): update the text")
    np.testing.assert_array_equal(saved[0].numpy(), keep * (1 / (1 - 0.3)))
    (grad_of_ones,) = torch.autograd.grad(y, x, torch.ones_like(y))
    np.testing.assert_array_equal(grad_of_ones.numpy(), keep * (1 / (1 - 0.3)))
