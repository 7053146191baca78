"""nbutils.layers.conv against torch: values, gradients, dtypes, init, and which inputs are refused.

Every value check runs in float64 against torch with an explicit tolerance; float32 is checked for
keeping its dtype and staying close to torch's float32. Property tests draw their configs from
tests/strategies.py and are derandomized, so every run sees the same examples.
"""

import itertools
import tracemalloc
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import (
    FLOAT_DTYPES,
    PADDING_MODES,
    conv_configs,
    float_dtypes,
    pad_configs,
    random_array,
    reproducible,
    seeds,
    special_array,
)
from torch_twin import assert_torch_default_init
from torch_twin import to_torch as _t
from torch_twin import torch_raises as _raises

from nbutils.check import check_module, compare, gradcheck, load_torch_params
from nbutils.layers import conv as conv_module
from nbutils.layers.conv import Conv2d, conv2d, conv2d_backward, conv_output_size, pad, pad_backward

F64 = dict(rtol=1e-9, atol=1e-11)  # float64 against torch float64: only summation order differs
F32 = dict(rtol=1e-4, atol=1e-5)  # our float32 against torch's float32: summation orders differ

pytestmark = [  # torch's notes on its own internals; not about our code
    pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths:UserWarning"),
    pytest.mark.filterwarnings("ignore:Initializing zero-element tensors is a no-op:UserWarning"),
]

zero_padded = conv_configs(padding_modes=st.just("zeros"), dtypes=st.just(np.float64))


def _close(name, ours, theirs, tol):
    """compare() against torch's result read as float64 (exact for float32), silently."""
    compare(name, ours, theirs.detach().double().numpy(), **tol, verbose=False)


# ---------------------------------------------------------------------------------------------
# Values and gradients against torch, float64
# ---------------------------------------------------------------------------------------------


@reproducible(150)
@given(cfg=zero_padded, seed=seeds)
def test_conv2d_forward_matches_torch(cfg, seed):
    x, w, b = cfg.arrays(seed)
    ours = conv2d(x, w, b, **cfg.conv_kwargs())
    theirs = F.conv2d(_t(x), _t(w), _t(b), **cfg.conv_kwargs())
    _close("conv2d", ours, theirs, F64)


@reproducible(150)
@given(cfg=zero_padded, seed=seeds)
def test_conv2d_backward_matches_torch_autograd(cfg, seed):
    x, w, b = cfg.arrays(seed)
    xt, wt, bt = _t(x, True), _t(w, True), _t(b, True)
    out = F.conv2d(xt, wt, bt, **cfg.conv_kwargs())
    grad_out = random_array(tuple(out.shape), np.float64, seed + 3)
    out.backward(_t(grad_out))
    gx, gw, gb = conv2d_backward(grad_out, x, w, **cfg.conv_kwargs())
    _close("grad input", gx, xt.grad, F64)
    _close("grad weight", gw, wt.grad, F64)
    if cfg.bias:
        _close("grad bias", gb, bt.grad, F64)
    else:  # torch has no bias to ask, so check the definition: sum over batch and space
        compare("grad bias", gb, grad_out.sum(axis=(0, 2, 3)), **F64, verbose=False)


@reproducible(100)
@given(cfg=zero_padded, seed=seeds)
def test_conv2d_input_gradient_is_torchs_transposed_convolution(cfg, seed):
    """Chapter 1's bridge: the backward to the input is F.conv_transpose2d, with output_padding restoring the rows
    and columns that the forward's floor never read (symmetric padding only: conv_transpose2d has no other)."""
    (top, bottom, left, right), (kh, kw) = cfg.pad4, cfg.kernel
    assume(top == bottom and left == right)
    x, w, _ = cfg.arrays(seed)
    kwargs = cfg.conv_kwargs()
    (sh, sw), (dh, dw) = [(v, v) if isinstance(v, int) else tuple(v) for v in (cfg.stride, cfg.dilation)]
    grad_out = random_array(conv2d(x, w, **kwargs).shape, np.float64, seed + 3)
    H, W = x.shape[2:]
    output_padding = ((H + 2 * top - dh * (kh - 1) - 1) % sh, (W + 2 * left - dw * (kw - 1) - 1) % sw)
    theirs = F.conv_transpose2d(_t(grad_out), _t(w), stride=(sh, sw), padding=(top, left),
                                output_padding=output_padding, groups=cfg.groups, dilation=(dh, dw))
    _close("grad input as conv_transpose2d", conv2d_backward(grad_out, x, w, **kwargs)[0], theirs, F64)


@pytest.mark.parametrize("padding_mode", PADDING_MODES)
@reproducible(60)
@given(data=st.data(), seed=seeds)
def test_conv2d_module_matches_torch_forward_and_backward_in_every_padding_mode(padding_mode, data, seed):
    cfg = data.draw(conv_configs(padding_modes=st.just(padding_mode), dtypes=st.just(np.float64)))
    args, kwargs = cfg.module_args()
    ours = Conv2d(*args, **kwargs, rng=seed, dtype=np.float64)
    theirs = torch.nn.Conv2d(*args, **kwargs)
    x, _, _ = cfg.arrays(seed)
    errors = check_module(ours, theirs, x, **F64, seed=seed)
    expected = {"weight", "bias"} if cfg.bias else {"weight"}
    assert set(errors) == {"forward", "grad input"} | {f"grad {k}" for k in expected}


@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_module_params_and_grads_are_named_like_torch(bias):
    ours = Conv2d(4, 6, (3, 2), padding=1, groups=2, bias=bias, rng=0, dtype=np.float64)
    theirs = load_torch_params(ours, torch.nn.Conv2d(4, 6, (3, 2), padding=1, groups=2, bias=bias))
    named = dict(theirs.named_parameters())
    assert set(ours.params) == set(named)
    assert ours.params["weight"] is ours.weight  # the arrays themselves, so an optimizer can update them
    x = random_array((2, 4, 5, 5), np.float64, 1)
    out = ours(x)
    ours.backward(np.ones_like(out))
    assert set(ours.grads) == set(named)
    for k, p in named.items():
        assert ours.grads[k].shape == tuple(p.shape), k


# ---------------------------------------------------------------------------------------------
# dtype is kept
# ---------------------------------------------------------------------------------------------


@reproducible(60)
@given(cfg=conv_configs(padding_modes=st.just("zeros")), seed=seeds)
def test_conv2d_functions_keep_the_input_dtype(cfg, seed):
    x, w, b = cfg.arrays(seed)
    out = conv2d(x, w, b, **cfg.conv_kwargs())
    grads = conv2d_backward(np.ones_like(out), x, w, **cfg.conv_kwargs())
    assert out.dtype == cfg.dtype
    assert [g.dtype for g in grads] == [cfg.dtype] * 3
    theirs = F.conv2d(_t(x), _t(w), _t(b), **cfg.conv_kwargs())  # same dtype as ours
    _close("conv2d", out, theirs, F32 if cfg.dtype == np.float32 else F64)


@reproducible(60)
@given(cfg=conv_configs(), seed=seeds)
def test_conv2d_module_keeps_its_dtype_forward_and_backward(cfg, seed):
    args, kwargs = cfg.module_args()
    ours = Conv2d(*args, **kwargs, rng=seed, dtype=cfg.dtype)
    assert all(p.dtype == cfg.dtype for p in ours.params.values())
    x, _, _ = cfg.arrays(seed)
    out = ours(x)
    grad_in = ours.backward(np.ones_like(out))
    assert out.dtype == grad_in.dtype == cfg.dtype
    assert all(g.dtype == cfg.dtype for g in ours.grads.values())


def test_conv2d_module_defaults_to_float32_like_torch():
    assert Conv2d(2, 3, 3).weight.dtype == np.float32
    assert torch.nn.Conv2d(2, 3, 3).weight.dtype == torch.float32


# ---------------------------------------------------------------------------------------------
# Initialisation and train/eval
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("in_ch, out_ch, kernel_size, groups", [(64, 128, 3, 1), (8, 256, (3, 5), 4), (6, 600, 1, 6)])
def test_conv2d_init_is_uniform_within_torch_bound(in_ch, out_ch, kernel_size, groups):
    ours = Conv2d(in_ch, out_ch, kernel_size, groups=groups, rng=0, dtype=np.float64)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        theirs = torch.nn.Conv2d(in_ch, out_ch, kernel_size, groups=groups)
    kh, kw = ours.weight.shape[2:]
    bound = 1 / np.sqrt(in_ch // groups * kh * kw)  # torch: kaiming_uniform_(a=sqrt(5)) = U(±1/sqrt(fan_in))
    assert_torch_default_init(ours, theirs, bound)


def test_conv2d_init_is_reproducible_from_rng():
    def weights(rng):
        m = Conv2d(4, 6, 3, rng=rng)
        return m.weight, m.bias

    same = [weights(7), weights(7), weights(np.random.default_rng(7))]
    for w, b in same[1:]:
        np.testing.assert_array_equal(w, same[0][0])
        np.testing.assert_array_equal(b, same[0][1])
    assert not np.array_equal(weights(8)[0], same[0][0])


def test_conv2d_starts_in_training_mode_and_train_eval_return_self():
    m = Conv2d(2, 3, 3)
    assert m.training and torch.nn.Conv2d(2, 3, 3).training
    assert m.eval() is m and not m.training
    assert m.train() is m and m.training
    assert m.train(False) is m and not m.training


# ---------------------------------------------------------------------------------------------
# Output size, padding, numerical gradients
# ---------------------------------------------------------------------------------------------


def _torch_output_height(size, k, s, p, d):
    """Output height torch gives for a size x 1 input and a k x 1 kernel, or None if it refuses."""
    try:
        return F.conv2d(torch.zeros(1, 1, size, 1), torch.zeros(1, 1, k, 1), stride=s, padding=(p, 0),
                        dilation=d).shape[2]
    except RuntimeError:
        return None


def test_conv_output_size_matches_torch_and_is_nonpositive_exactly_where_torch_refuses():
    grid = itertools.product(range(1, 9), range(1, 5), range(1, 4), range(3), range(1, 4))
    refused = 0
    for size, k, s, p, d in grid:
        ours, theirs = conv_output_size(size, k, s, p, d), _torch_output_height(size, k, s, p, d)
        if theirs is None:
            assert ours < 1, (size, k, s, p, d)
            refused += 1
        else:
            assert ours == theirs, (size, k, s, p, d)
    assert 0 < refused < 8 * 4 * 3 * 3 * 3 / 2  # the grid covers both sides of the boundary


@reproducible(120)
@given(cfg=pad_configs(), dtype=float_dtypes, seed=seeds)
def test_pad_matches_torch_in_every_mode(cfg, dtype, seed):
    shape, p, mode = cfg
    x = random_array(shape, dtype, seed)
    out = pad(x, p, mode)
    assert out.dtype == dtype
    _close(f"pad {mode}", out, F.pad(_t(x), p, mode=mode), dict(rtol=0, atol=0))  # copies are exact


@reproducible(120)
@given(cfg=pad_configs(), seed=seeds)
def test_pad_backward_matches_torch_autograd(cfg, seed):
    shape, p, mode = cfg
    xt = _t(random_array(shape, np.float64, seed), True)
    out = F.pad(xt, p, mode=mode)
    grad_out = random_array(tuple(out.shape), np.float64, seed + 1)
    out.backward(_t(grad_out))
    _close(f"pad {mode} backward", pad_backward(grad_out, p, mode, shape), xt.grad, F64)


def test_conv2d_gradients_match_central_differences():
    kw = dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)
    x, w, b = random_array((2, 4, 5, 6), seed=0), random_array((4, 2, 3, 2), seed=1), random_array((4,), seed=2)
    errors = gradcheck(lambda x, w, b: conv2d(x, w, b, **kw),
                       lambda g, x, w, b: conv2d_backward(g, x, w, **kw),
                       [x, w, b], rtol=1e-6, atol=1e-8, names=["input", "weight", "bias"])
    assert set(errors) == {"input", "weight", "bias"}


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_gradient_matches_central_differences(mode):
    p, shape = (2, 1, 0, 3), (1, 2, 4, 3)
    gradcheck(lambda x: pad(x, p, mode), lambda g, x: (pad_backward(g, p, mode, x.shape),),
              [random_array(shape, seed=3)], rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------------------------------------
# Refusals: wherever torch refuses, we refuse, with a message naming the offending parameter
# ---------------------------------------------------------------------------------------------

X = random_array((2, 4, 5, 5), seed=10)
WT = random_array((6, 2, 3, 3), seed=11)
B = random_array((6,), seed=12)


def _conv_case(name, exc, match, x=X, w=WT, b=None, marks=(), **kw):
    """One bad F.conv2d call; groups defaults to 2 so that X and WT agree."""
    kw = {"groups": 2, **kw}
    return pytest.param(lambda: F.conv2d(_t(x), _t(w), _t(b), **kw), lambda: conv2d(x, w, b, **kw),
                        exc, match, id=name, marks=marks)


CONV_REFUSALS = [
    _conv_case("5-D input", ValueError, r"input must be 4-D", x=X[None]),
    _conv_case("3-D weight", ValueError, r"weight must be 4-D", w=WT[0]),
    _conv_case("channel mismatch", ValueError, r"input has 4 channels", groups=1),
    _conv_case("groups do not divide in_channels", ValueError, r"groups=3", groups=3),
    _conv_case("groups do not divide out_channels", ValueError, r"out_channels=5 .* groups=2", w=WT[:5]),
    _conv_case("groups 0", ValueError, r"groups must be a positive int", groups=0),
    _conv_case("kernel larger than padded input", ValueError, r"kernel 7x7 .* padded input 5x5",
               w=random_array((6, 2, 7, 7))),
    _conv_case("dilated kernel larger than input", ValueError, r"kernel 7x1 \(after dilation\)",
               w=random_array((6, 2, 3, 1)), dilation=3),
    _conv_case("stride 0", ValueError, r"stride must be positive", stride=0),
    _conv_case("stride negative", ValueError, r"stride must be positive", stride=-1),
    _conv_case("stride (1, 0)", ValueError, r"stride must be positive", stride=(1, 0)),
    _conv_case("stride 1.5", TypeError, r"stride must be an int or a pair", stride=1.5),
    _conv_case("stride of three ints", TypeError, r"stride must be an int or a pair", stride=(1, 1, 1)),
    _conv_case("dilation 0", ValueError, r"dilation must be positive", dilation=0),
    _conv_case("padding negative", ValueError, r"padding must be at least 0", padding=-1),
    _conv_case("padding (0, -1)", ValueError, r"padding must be at least 0", padding=(0, -1)),
    _conv_case("same with stride 2", ValueError, r"padding='same' needs stride 1", padding="same", stride=2),
    _conv_case("unknown padding string", ValueError, r"padding must be .*'full'", padding="full"),
    _conv_case("bias of wrong length", ValueError, r"bias must have shape \(6,\)", b=B[:5]),
    _conv_case("2-D bias", ValueError, r"bias must be 1-D", b=B[:, None]),
    _conv_case("float32 input, float64 weight", TypeError, r"input is float32, weight is float64",
               x=X.astype(np.float32)),
    _conv_case("float32 bias", TypeError, r"bias is float32", b=B.astype(np.float32)),
    # torch convolves integers when input and weight are both integer; we refuse every integer dtype,
    # since nothing here can be trained in integers. With a float weight torch refuses too:
    _conv_case("integer input", TypeError, r"input must be float32 or float64", x=X.astype(np.int64)),
    _conv_case("integer weight", TypeError, r"weight must be float32 or float64", w=WT.astype(np.int64)),
    _conv_case("bool input and weight", TypeError, r"input must be float32 or float64",
               x=X > 0, w=WT > 0),
    # torch refuses empty spatial axes and weights without output channels.
    _conv_case("zero-height input made to fit by padding", ValueError, r"input", x=X[:, :, :0], padding=2),
    _conv_case("weight without output channels", ValueError, r"weight", w=WT[:0]),
]


@pytest.mark.parametrize("torch_call, our_call, exc, match", CONV_REFUSALS)
def test_conv2d_refuses_what_torch_refuses_naming_the_parameter(torch_call, our_call, exc, match):
    assert _raises(torch_call) is not None, "torch accepts this call: the case is wrong"
    with pytest.raises(exc, match=match):
        our_call()


def _pad_case(name, exc, match, x=X, p=(1, 1, 1, 1), mode="constant", marks=()):
    return pytest.param(lambda: F.pad(_t(x), p, mode=mode), lambda: pad(x, p, mode), exc, match, id=name, marks=marks)


PAD_REFUSALS = [
    _pad_case("reflect padding equal to the width", ValueError, r"reflect padding 5 must be less than the input size 5",
              p=(5, 0, 0, 0), mode="reflect"),
    _pad_case("reflect padding past the height", ValueError, r"reflect padding 6", p=(0, 0, 1, 6), mode="reflect"),
    _pad_case("circular padding past the height", ValueError, r"circular padding 6 must be at most the input size 5",
              p=(0, 0, 6, 0), mode="circular"),
    _pad_case("unknown mode", ValueError, r"mode must be one of .*'wrap'", mode="wrap"),
    _pad_case("odd pad length", ValueError, r"pad must be four", p=(1, 1, 1)),
    _pad_case("1-D input", ValueError, r"input", x=X[0, 0, 0]),
    _pad_case("mode 'zeros' (a Conv2d padding_mode, not an F.pad mode)", ValueError, r"mode", mode="zeros"),
]
# torch also crops with negative constant padding, which pad refuses; we never need it.


@pytest.mark.parametrize("torch_call, our_call, exc, match", PAD_REFUSALS)
def test_pad_refuses_what_torch_refuses_naming_the_parameter(torch_call, our_call, exc, match):
    assert _raises(torch_call) is not None, "torch accepts this call: the case is wrong"
    with pytest.raises(exc, match=match):
        our_call()


def _module_case(name, exc, match, args=(4, 6, 3), x=X, marks=(), **kw):
    """One bad Conv2d, refused when built or at its first forward (torch defers some checks to forward)."""
    def torch_call():
        torch.nn.Conv2d(*args, **kw).double()(_t(x))

    def our_call():
        Conv2d(*args, **kw, dtype=np.float64)(x)

    return pytest.param(torch_call, our_call, exc, match, id=name, marks=marks)


MODULE_REFUSALS = [
    _module_case("unknown padding_mode", ValueError, r"padding_mode must be one of .*'wrap'", padding_mode="wrap"),
    _module_case("unknown padding string", ValueError, r"padding must be .*'full'", padding="full"),
    _module_case("same with stride 2", ValueError, r"padding='same' needs stride 1", padding="same", stride=2),
    _module_case("groups do not divide out_channels", ValueError, r"out_channels=6 .* groups=4", groups=4),
    _module_case("groups do not divide in_channels", ValueError, r"in_channels=3 .* groups=2", args=(3, 6, 3),
                 groups=2),
    _module_case("stride 0", ValueError, r"stride must be positive", stride=0),
    _module_case("dilation 0", ValueError, r"dilation must be positive", dilation=0),
    _module_case("kernel_size 0", ValueError, r"kernel_size must be positive", args=(4, 6, 0)),
    _module_case("negative padding", ValueError, r"padding must be at least 0", padding=-1),
    _module_case("reflect padding equal to the input size", ValueError, r"reflect padding 5", padding=5,
                 padding_mode="reflect"),
    _module_case("circular padding past the input size", ValueError, r"circular padding 6", padding=(6, 0),
                 padding_mode="circular"),
    _module_case("5-D input", ValueError, r"input must be 4-D", x=X[None]),
    _module_case("channel mismatch", ValueError, r"input has 3 channels", x=X[:, :3]),
    _module_case("kernel larger than input", ValueError, r"kernel 7x7", args=(4, 6, 7)),
    _module_case("integer input", TypeError, r"input must be float32 or float64", x=X.astype(np.int64)),
]
# Stricter than torch: it builds Conv2d(0, 6, 3) and runs it on an (N, 0, H, W) input; we refuse
# in_channels=0. It also defers stride/dilation/kernel_size checks to forward; we refuse when built.


@pytest.mark.parametrize("torch_call, our_call, exc, match", MODULE_REFUSALS)
def test_conv2d_module_refuses_what_torch_refuses_naming_the_parameter(torch_call, our_call, exc, match):
    assert _raises(torch_call) is not None, "torch accepts this module and input: the case is wrong"
    with pytest.raises(exc, match=match):
        our_call()


def test_conv2d_module_refuses_an_input_of_another_dtype():
    x32 = X.astype(np.float32)
    assert _raises(lambda: torch.nn.Conv2d(4, 6, 3).double()(_t(x32)))
    with pytest.raises(TypeError, match=r"input is float32, weight is float64"):
        Conv2d(4, 6, 3, dtype=np.float64)(x32)


def test_conv2d_module_refuses_an_integer_dtype_like_torch():
    assert _raises(lambda: torch.nn.Conv2d(4, 6, 3, dtype=torch.int32))
    with pytest.raises((TypeError, ValueError), match="dtype"):
        Conv2d(4, 6, 3, dtype=np.int32)


def test_conv2d_backward_refuses_grad_output_of_the_wrong_shape():
    xt, wt = _t(X, True), _t(WT, True)
    out = F.conv2d(xt, wt, groups=2)
    assert _raises(lambda: out.backward(torch.ones(2, 6, 4, 3, dtype=torch.float64)))
    with pytest.raises(ValueError, match=r"grad_output must have the output's shape \(2, 6, 3, 3\)"):
        conv2d_backward(np.ones((2, 6, 4, 3)), X, WT, groups=2)


def test_conv2d_backward_keeps_float32_even_with_a_float64_grad_output():
    # torch.nn.grad.conv2d_input refuses the mix; autograd casts the gradient to float32. Either is fine.
    x, w = X.astype(np.float32), WT.astype(np.float32)
    try:
        grads = conv2d_backward(np.ones((2, 6, 3, 3)), x, w, groups=2)
    except (TypeError, ValueError):
        return
    assert [g.dtype for g in grads] == [np.float32] * 3


def test_conv2d_refuses_unbatched_input_that_torch_accepts():
    # A deliberate difference: torch reads a 3-D input as one unbatched (C, H, W) image. We want one
    # layout everywhere, so we refuse it and say how to add the batch axis.
    assert F.conv2d(_t(X[0]), _t(WT), groups=2).shape == (6, 3, 3)
    with pytest.raises(ValueError, match=r"input must be 4-D .*\(add a batch axis with x\[None\]\)"):
        conv2d(X[0], WT, groups=2)
    with pytest.raises(ValueError, match=r"add a batch axis"):
        Conv2d(4, 6, 3, groups=2, padding=1, padding_mode="reflect", dtype=np.float64)(X[0])


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_keeps_nan_and_inf_in_the_cells_torch_keeps_them(mode):
    x = random_array((1, 1, 4, 4), seed=5)
    x[0, 0, 1, 2], x[0, 0, 2, 1] = np.inf, np.nan
    np.testing.assert_array_equal(pad(x, (1, 2, 2, 1), mode), F.pad(_t(x), (1, 2, 2, 1), mode=mode).numpy())


# ---------------------------------------------------------------------------------------------
# Random, possibly invalid calls: torch refuses => we refuse cleanly; torch accepts => we agree
# ---------------------------------------------------------------------------------------------

BREAKABLE = ("groups", "out_channels", "channels", "size", "input ndim", "weight", "stride", "dilation", "padding",
             "bias", "dtypes")


@st.composite
def conv_calls(draw):
    """A conv2d call that breaks none, one or two of torch's rules, chosen among BREAKABLE.

    Shapes are never empty; empty axes have their own refusal cases above.
    """
    n_broken = {0: 0, 1: 0, 2: 1, 3: 1, 4: 2}[draw(st.integers(0, 4))]
    broken = set(draw(st.permutations(BREAKABLE))[:n_broken])

    def pick(knob, valid, bad):
        return draw(bad if knob in broken else valid)

    ints = st.integers(-1, 3)
    groups = pick("groups", st.sampled_from([1, 2, 3]), st.sampled_from([0, -1, 4]))
    g = max(groups, 1)
    Cg = draw(st.integers(1, 3))
    O = pick("out_channels", st.integers(1, 2).map(lambda k: k * g), st.integers(1, 5))
    C = pick("channels", st.just(Cg * g), st.integers(1, 6))
    H, W = (pick("size", st.integers(3, 7), st.integers(1, 2)) for _ in range(2))
    x_shape = pick("input ndim", st.tuples(st.integers(1, 2), st.just(C), st.just(H), st.just(W)),
                   st.sampled_from([(C, H, W), (1, 1, C, H, W), (C * H, W)]))
    w_shape = pick("weight", st.tuples(st.just(O), st.just(Cg), st.integers(1, 3), st.integers(1, 3)),
                   st.sampled_from([(O, Cg, 3), (O, Cg, 9, 9), (O, Cg, 1, 1, 1)]))
    stride = pick("stride", st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))),
                  st.one_of(ints, st.tuples(ints, ints), st.just((1, 1, 1))))
    dilation = pick("dilation", st.one_of(st.integers(1, 2), st.tuples(st.integers(1, 2), st.integers(1, 2))),
                    st.one_of(ints, st.tuples(ints, ints)))
    padding = pick("padding", st.one_of(st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2)),
                                        st.just("same" if stride in (1, (1, 1)) else "valid")),
                   st.one_of(ints, st.tuples(ints, ints), st.sampled_from(["same", "full", "SAME"])))
    b_shape = pick("bias", st.sampled_from([None, (O,)]), st.sampled_from([(O + 1,), (O, 1), ()]))
    base = draw(st.sampled_from(FLOAT_DTYPES))
    dtypes = pick("dtypes", st.just([base] * 3),
                  st.lists(st.sampled_from(FLOAT_DTYPES + (np.int64, np.bool_)), min_size=3, max_size=3))
    seed = draw(seeds)
    x = random_array(x_shape, dtypes[0], seed)
    w = random_array(w_shape, dtypes[1], seed + 1)
    b = None if b_shape is None else random_array(b_shape, dtypes[2], seed + 2)
    return x, w, b, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


@reproducible(400)
@given(call=conv_calls())
def test_random_conv2d_calls_are_refused_exactly_where_torch_refuses_them(call):
    x, w, b, kw = call
    torch_error = _raises(lambda: F.conv2d(_t(x), _t(w), _t(b), **kw))
    try:
        ours = conv2d(x, w, b, **kw)
    except (ValueError, TypeError):  # any other exception fails the test
        ours = None
    if torch_error is not None:
        assert ours is None, f"torch refuses ({torch_error}) but conv2d returned shape {ours.shape}"
        return
    # Where we are deliberately stricter: unbatched 3-D input and integer dtypes (see above).
    if x.ndim == 3 or x.dtype not in FLOAT_DTYPES:
        assert ours is None, "conv2d accepted an unbatched or integer input"
        return
    assert ours is not None, "torch accepts this valid float NCHW call but conv2d refused it"
    theirs = F.conv2d(_t(x), _t(w), _t(b), **kw)
    _close("conv2d", ours, theirs, F64 if x.dtype == np.float64 else F32)


@st.composite
def module_calls(draw):
    """A Conv2d and an input that may break any rule, including the padding-mode size limits."""
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    in_ch = draw(st.sampled_from([groups, 2 * groups, draw(st.integers(1, 5))]))
    out_ch = draw(st.sampled_from([groups, 2 * groups, draw(st.integers(1, 5))]))
    kernel_size = draw(st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4))))
    small = st.integers(0, 2)
    kw = dict(stride=draw(st.one_of(st.integers(1, 2), small)), dilation=draw(st.one_of(st.integers(1, 2), small)),
              padding=draw(st.one_of(st.integers(0, 4), st.tuples(small, small), st.sampled_from(["same", "valid"]))),
              groups=groups, bias=draw(st.booleans()), padding_mode=draw(st.sampled_from(PADDING_MODES)))
    x_ch = draw(st.sampled_from([in_ch, in_ch, in_ch, draw(st.integers(1, 6))]))
    seed = draw(seeds)
    x = random_array((draw(st.integers(1, 2)), x_ch, draw(st.integers(1, 6)), draw(st.integers(1, 6))), seed=seed)
    return (in_ch, out_ch, kernel_size), kw, x, seed


@reproducible(250)
@given(call=module_calls())
def test_random_conv2d_modules_are_refused_exactly_where_torch_refuses_them(call):
    args, kw, x, seed = call
    try:
        theirs = torch.nn.Conv2d(*args, **kw).double()
        torch_error = _raises(lambda: theirs(_t(x)))
    except Exception as e:  # torch refuses some modules when built, others at the first forward
        torch_error = e
    try:
        ours = Conv2d(*args, **kw, rng=seed, dtype=np.float64)
        ours(x)
    except (ValueError, TypeError):  # any other exception fails the test
        ours = None
    if torch_error is not None:
        assert ours is None, f"torch refuses ({torch_error}) but Conv2d accepted it"
        return
    assert ours is not None, "torch accepts this module and input but Conv2d refused"
    check_module(ours, theirs, x, **F64, seed=seed)


# ---------------------------------------------------------------------------------------------
# Memory: batch chunks, no padded copy of the input; the same values as one chunk
# ---------------------------------------------------------------------------------------------


@reproducible(60)
@given(cfg=conv_configs(padding_modes=st.just("zeros"), dtypes=st.just(np.float64)), seed=seeds)
def test_conv2d_in_one_image_chunks_equals_one_chunk_for_the_whole_batch(cfg, seed):
    x, w, b = cfg.arrays(seed)
    grad_out = random_array((cfg.N, cfg.C_out) + conv2d(x, w, **cfg.conv_kwargs()).shape[2:], np.float64, seed + 3)
    whole = conv2d(x, w, b, **cfg.conv_kwargs()), *conv2d_backward(grad_out, x, w, **cfg.conv_kwargs())
    saved, conv_module._CHUNK_BYTES = conv_module._CHUNK_BYTES, 1  # every chunk is one image
    try:
        chunked = conv2d(x, w, b, **cfg.conv_kwargs()), *conv2d_backward(grad_out, x, w, **cfg.conv_kwargs())
    finally:
        conv_module._CHUNK_BYTES = saved
    for name, ours, one_chunk in zip(("output", "grad input", "grad weight", "grad bias"), chunked, whole):
        compare(name, ours, one_chunk, **F64, verbose=False)  # the weight gradient adds the chunks in another order


def _numpy_peak_bytes(call):
    """The peak of NumPy's allocations (tracemalloc sees them) while call() runs."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_conv2d_with_huge_padding_matches_torch_without_building_the_padded_input():
    x, w = random_array((1, 2, 4, 4), np.float64, 0), random_array((3, 2, 3, 3), np.float64, 1)
    kw = dict(stride=4000, padding=4000)  # a padded copy would be 2 x 8008 x 8008 float64: 978 MiB
    xt, wt = _t(x, True), _t(w, True)
    out = F.conv2d(xt, wt, **kw)
    grad_out = random_array(tuple(out.shape), np.float64, 2)
    out.backward(_t(grad_out))
    _close("conv2d", conv2d(x, w, **kw), out, F64)
    gx, gw, _ = conv2d_backward(grad_out, x, w, **kw)
    _close("grad input", gx, xt.grad, F64)
    _close("grad weight", gw, wt.grad, F64)
    peak = _numpy_peak_bytes(lambda: (conv2d(x, w, **kw), conv2d_backward(grad_out, x, w, **kw)))
    assert peak < 2**20, f"forward + backward allocated {peak / 2**20:.0f} MiB for a 3x3 output"


def test_conv2d_backward_peak_memory_stays_near_one_chunk_not_the_whole_im2col_buffer():
    x, w = random_array((16, 8, 16, 16), np.float32, 0), random_array((8, 8, 3, 3), np.float32, 1)
    grad_out = random_array((16, 8, 16, 16), np.float32, 2)
    whole_cols = x.nbytes * 9  # the unfolded input of the whole batch: 1.1 MiB
    saved, conv_module._CHUNK_BYTES = conv_module._CHUNK_BYTES, whole_cols // 16  # one image per chunk
    try:
        peak = _numpy_peak_bytes(lambda: conv2d_backward(grad_out, x, w, padding=1))
    finally:
        conv_module._CHUNK_BYTES = saved
    # grad_input (x.nbytes) plus one image's columns and their gradient; the whole-batch buffer is 9x x.nbytes
    assert peak < x.nbytes + 3 * whole_cols // 16, f"peak {peak} bytes; the whole im2col buffer is {whole_cols}"


# ---------------------------------------------------------------------------------------------
# NaN, ±inf and ±1e30: torch's values (inf·0 is NaN), and no NumPy RuntimeWarning, as torch prints none
# ---------------------------------------------------------------------------------------------

SPECIAL_RTOL = {np.float32: 1e-5, np.float64: 1e-12}


def _finite_abs(a):
    """|a| in float64 with NaN and ±inf replaced by 0: the size of the terms whose rounding the tolerance covers."""
    return np.nan_to_num(np.abs(np.asarray(a, np.float64)), nan=0.0, posinf=0.0, neginf=0.0)


def _assert_like_torch(name, ours, theirs, scale):
    """Same dtype, NaN and ±inf in the same places, finite values within SPECIAL_RTOL x scale (float64 |terms|)."""
    theirs = theirs.detach().numpy()
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape, name
    for where in (np.isnan, np.isposinf, np.isneginf):
        assert np.array_equal(where(ours), where(theirs)), f"{name}: {where.__name__} differs\n{ours}\n{theirs}"
    finite = np.isfinite(theirs)
    error = np.abs(ours[finite].astype(np.float64) - theirs[finite])
    assert (error <= SPECIAL_RTOL[ours.dtype.type] * scale[finite] + 1e-300).all(), name


def _conv_with_torch(x, w, b, g, kw):
    """Our (output, grad input, grad weight, grad bias) and torch's (autograd), computed silently."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        ours = (conv2d(x, w, b, **kw), *conv2d_backward(g, x, w, **kw))
    ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    out = F.conv2d(*ts, **kw)
    out.backward(torch.tensor(g))
    return ours, (out, *(t.grad for t in ts))


def _check_like_torch(x, w, b, g, kw):
    """Compare with torch, each value's tolerance scaled by the same convolution of the finite |values|."""
    ours, theirs = _conv_with_torch(x, w, b, g, kw)
    absolute = [_t(_finite_abs(a), True) for a in (x, w, b)]
    scale_out = F.conv2d(*absolute, **kw)
    scale_out.backward(_t(_finite_abs(g)))
    scales = [scale_out.detach().numpy()] + [t.grad.numpy() for t in absolute]
    for name, *args in zip(("output", "grad input", "grad weight", "grad bias"), ours, theirs, scales):
        _assert_like_torch(name, *args)


# An inf or NaN weight, or upstream gradient, on zero padding: torch's float64 path multiplies the padded zeros
# (0·inf = NaN); its float32 path (oneDNN, on most shapes) skips them, so torch's own float32 answer depends on the
# shape. We multiply, always: with padding, float32 is compared on non-finite inputs only.
INF_TIMES_ZERO = [(case, dtype) for case in ("inf input, zero weight", "zero input, inf weight")
                  for dtype in FLOAT_DTYPES]


@pytest.mark.parametrize("case, dtype", INF_TIMES_ZERO + [("inf weight on padding", np.float64)])
def test_conv2d_gives_torchs_nan_for_inf_times_zero_silently(case, dtype):
    x, w = np.ones((2, 2, 4, 4), dtype), np.ones((3, 2, 3, 3), dtype)
    if case == "inf input, zero weight":
        x[0, 1, 2, 2], w[1] = np.inf, 0.0
    elif case == "zero input, inf weight":
        x[1], w[2, 0, 1, 1] = 0.0, -np.inf
    else:
        w[0, 1, 0, 0] = np.inf  # tap (0, 0) reads the zero padding for the first row and column
    b, g = np.zeros(3, dtype), np.ones((2, 3, 4, 4), dtype)
    _check_like_torch(x, w, b, g, dict(padding=1))


@reproducible(60)
@given(cfg=conv_configs(padding_modes=st.just("zeros")), seed=seeds,
       fractions=st.tuples(*[st.sampled_from([0.0, 0.1, 0.5, 1.0])] * 4), special=st.sampled_from([0, 1, 3]))
def test_conv2d_matches_torch_on_nan_inf_and_1e30_silently(cfg, seed, fractions, special):
    if cfg.dtype == np.float32:  # torch's float32 kernels overflow 1e30·1e30 in their own order: one operand only
        fractions = tuple(f if i == special else 0.0 for i, f in enumerate(fractions))
    shapes = (cfg.input_shape, cfg.weight_shape, (cfg.C_out,))
    x, w, b = (special_array(s, cfg.dtype, seed + i, f, zeros=0.2) for i, (s, f) in enumerate(zip(shapes, fractions)))
    out_shape = (cfg.N, cfg.C_out) + conv2d(np.zeros_like(x), np.zeros_like(w), **cfg.conv_kwargs()).shape[2:]
    g = special_array(out_shape, cfg.dtype, seed + 3, fractions[3], zeros=0.2)
    if any(cfg.pad4) and cfg.dtype == np.float32:  # see INF_TIMES_ZERO: torch's float32 skips padded zeros
        w[~np.isfinite(w)], g[~np.isfinite(g)] = 1e30, -1e30
    _check_like_torch(x, w, b, g, cfg.conv_kwargs())
