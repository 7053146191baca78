"""nbutils.layers.linear against torch: values, gradients, dtypes, init, and which inputs are refused.

Values are compared with torch in float64 with an explicit tolerance; float32 is checked for keeping its
dtype and staying close to torch's float32. Property tests draw from tests/strategies.py and are derandomized.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    any_shapes,
    batch_shapes,
    feature_counts,
    flatten_dims,
    float_dtypes,
    random_array,
    reproducible,
    seeds,
)
from torch_twin import assert_torch_default_init
from torch_twin import to_torch as _t

from nbutils.check import check_module, compare, gradcheck, load_torch_params
from nbutils.layers.conv import conv2d
from nbutils.layers.linear import Flatten, Linear, flatten, linear, linear_backward

F64 = dict(rtol=1e-10, atol=1e-12)  # float64 against torch float64: only summation order differs
F32 = dict(rtol=1e-4, atol=1e-5)  # float32 against torch's float32

pytestmark = pytest.mark.filterwarnings("ignore:Initializing zero-element tensors is a no-op:UserWarning")


def _close(name, ours, theirs, tol):
    compare(name, ours, theirs.detach().double().numpy(), **tol, verbose=False)


def _arrays(batch, K, O, bias, dtype, seed):
    x = random_array(batch + (K,), dtype, seed)
    w = random_array((O, K), dtype, seed + 1)
    b = random_array((O,), dtype, seed + 2) if bias else None
    return x, w, b


# ---------------------------------------------------------------------------------------------
# linear: values and gradients against torch
# ---------------------------------------------------------------------------------------------


@reproducible(120)
@given(batch=batch_shapes, K=feature_counts, O=feature_counts, bias=st.booleans(), seed=seeds)
def test_linear_forward_matches_torch_for_any_batch_shape(batch, K, O, bias, seed):
    x, w, b = _arrays(batch, K, O, bias, np.float64, seed)
    out = linear(x, w, b)
    assert out.shape == batch + (O,)
    _close("linear", out, F.linear(_t(x), _t(w), _t(b)), F64)


@reproducible(120)
@given(batch=batch_shapes, K=feature_counts, O=feature_counts, seed=seeds)
def test_linear_backward_matches_torch_autograd(batch, K, O, seed):
    x, w, b = _arrays(batch, K, O, True, np.float64, seed)
    xt, wt, bt = _t(x, True), _t(w, True), _t(b, True)
    out = F.linear(xt, wt, bt)
    g = random_array(tuple(out.shape), np.float64, seed + 3)
    out.backward(_t(g))
    gx, gw, gb = linear_backward(g, x, w)
    _close("grad input", gx, xt.grad, F64)
    _close("grad weight", gw, wt.grad, F64)
    _close("grad bias", gb, bt.grad, F64)


@reproducible(60)
@given(batch=batch_shapes, K=feature_counts, O=feature_counts, bias=st.booleans(), dtype=float_dtypes, seed=seeds)
def test_linear_keeps_the_dtype_and_matches_torch_in_float32(batch, K, O, bias, dtype, seed):
    x, w, b = _arrays(batch, K, O, bias, dtype, seed)
    out = linear(x, w, b)
    grads = linear_backward(np.ones_like(out), x, w)
    assert out.dtype == dtype and all(g.dtype == dtype for g in grads)
    _close("linear", out, F.linear(_t(x), _t(w), _t(b)), F32 if dtype == np.float32 else F64)


def test_linear_gradients_match_central_differences():
    x, w, b = random_array((3, 2, 5), seed=0), random_array((4, 5), seed=1), random_array((4,), seed=2)
    errors = gradcheck(linear, lambda g, x, w, b: linear_backward(g, x, w), [x, w, b],
                       names=["input", "weight", "bias"])
    assert set(errors) == {"input", "weight", "bias"}


# ---------------------------------------------------------------------------------------------
# Linear module
# ---------------------------------------------------------------------------------------------


@reproducible(60)
@given(batch=batch_shapes, K=feature_counts, O=feature_counts, bias=st.booleans(), seed=seeds)
def test_linear_module_matches_torch_forward_and_backward(batch, K, O, bias, seed):
    ours = Linear(K, O, bias=bias, rng=seed, dtype=np.float64)
    errors = check_module(ours, torch.nn.Linear(K, O, bias=bias), random_array(batch + (K,), seed=seed), **F64,
                          seed=seed)
    expected = {"weight", "bias"} if bias else {"weight"}
    assert set(errors) == {"forward", "grad input"} | {f"grad {k}" for k in expected}


@pytest.mark.parametrize("bias", [True, False])
def test_linear_module_params_and_grads_are_named_like_torch(bias):
    ours = Linear(5, 3, bias=bias, rng=0, dtype=np.float64)
    named = dict(load_torch_params(ours, torch.nn.Linear(5, 3, bias=bias)).named_parameters())
    assert set(ours.params) == set(named)
    assert ours.params["weight"] is ours.weight  # the arrays themselves, so an optimizer can update them
    out = ours(random_array((4, 5), seed=1))
    ours.backward(np.ones_like(out))
    assert set(ours.grads) == set(named)
    for k, p in named.items():
        assert ours.grads[k].shape == tuple(p.shape), k


@reproducible(40)
@given(K=feature_counts, O=feature_counts, dtype=float_dtypes, seed=seeds)
def test_linear_module_keeps_its_dtype_forward_and_backward(K, O, dtype, seed):
    ours = Linear(K, O, rng=seed, dtype=dtype)
    assert all(p.dtype == dtype for p in ours.params.values())
    out = ours(random_array((3, K), dtype, seed))
    grad_in = ours.backward(np.ones_like(out))
    assert out.dtype == grad_in.dtype == dtype
    assert all(g.dtype == dtype for g in ours.grads.values())


def test_linear_module_defaults_to_float32_like_torch():
    assert Linear(2, 3).weight.dtype == np.float32
    assert torch.nn.Linear(2, 3).weight.dtype == torch.float32


@pytest.mark.parametrize("K, O", [(64, 128), (3136, 10), (7, 600)])
def test_linear_init_is_uniform_within_torch_bound(K, O):
    ours = Linear(K, O, rng=0, dtype=np.float64)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        theirs = torch.nn.Linear(K, O)
    bound = 1 / np.sqrt(K)  # torch: kaiming_uniform_(a=sqrt(5)) for the weight = U(±1/sqrt(in_features)), same bias
    assert_torch_default_init(ours, theirs, bound)


def test_linear_init_is_reproducible_from_rng():
    def weights(rng):
        m = Linear(6, 4, rng=rng)
        return m.weight, m.bias

    first = weights(7)
    for w, b in [weights(7), weights(np.random.default_rng(7))]:
        np.testing.assert_array_equal(w, first[0])
        np.testing.assert_array_equal(b, first[1])
    assert not np.array_equal(weights(8)[0], first[0])


def test_modules_start_in_training_mode_and_train_eval_return_self():
    for m in (Linear(2, 3), Flatten()):
        assert m.training
        assert m.eval() is m and not m.training
        assert m.train() is m and m.training


def test_linear_repr_reads_like_torch():
    assert repr(Linear(3, 4, bias=False)) == repr(torch.nn.Linear(3, 4, bias=False))
    assert repr(Flatten(0, 2)) == repr(torch.nn.Flatten(0, 2))


# ---------------------------------------------------------------------------------------------
# flatten and Flatten
# ---------------------------------------------------------------------------------------------


@reproducible(150)
@given(data=st.data(), shape=any_shapes, dtype=float_dtypes, seed=seeds)
def test_flatten_matches_torch_for_every_valid_dim_pair(data, shape, dtype, seed):
    s, e = data.draw(flatten_dims(len(shape)))
    x = random_array(shape, dtype, seed)
    out = flatten(x, s, e)
    theirs = torch.flatten(_t(x), s, e)
    assert out.shape == tuple(theirs.shape) and out.dtype == dtype
    _close("flatten", out, theirs, dict(rtol=0, atol=0))


@reproducible(100)
@given(data=st.data(), shape=any_shapes.filter(lambda s: len(s) >= 1), seed=seeds)
def test_flatten_module_matches_torch_forward_and_backward(data, shape, seed):
    s, e = data.draw(flatten_dims(len(shape)))
    errors = check_module(Flatten(s, e), torch.nn.Flatten(s, e), random_array(shape, seed=seed), rtol=0, atol=0)
    assert set(errors) == {"forward", "grad input"}


def test_flatten_turns_the_articles_feature_map_into_3136_features():
    x = random_array((2, 64, 7, 7), np.float32)
    assert Flatten()(x).shape == (2, 3136) == tuple(torch.nn.Flatten()(_t(x)).shape)


# ---------------------------------------------------------------------------------------------
# Refusals: wherever torch refuses, we raise ValueError/TypeError naming the parameter
# ---------------------------------------------------------------------------------------------


def _torch_refuses(call):
    try:
        call()
    except (RuntimeError, IndexError, TypeError, ValueError):
        return True
    return False


@pytest.mark.parametrize("x_shape, K", [((2, 3136), 1024), ((2, 64, 7, 7), 1024), ((5,), 4), ((3, 2, 6), 5)])
def test_linear_in_features_mismatch_names_both_numbers(x_shape, K):
    x = np.zeros(x_shape)
    assert _torch_refuses(lambda: torch.nn.Linear(K, 8).double()(_t(x)))
    with pytest.raises(ValueError, match=rf"input has {x_shape[-1]} features.*in_features={K}"):
        Linear(K, 8, dtype=np.float64)(x)


def test_linear_on_an_unflattened_feature_map_suggests_flatten_and_the_right_size():
    with pytest.raises(ValueError, match=r"Flatten\(\) turns \(2, 64, 7, 7\) into \(2, 3136\).*in_features=3136"):
        Linear(1024, 4096)(np.zeros((2, 64, 7, 7), np.float32))


F64_, F32_, I64_ = np.float64, np.float32, np.int64


@pytest.mark.parametrize("x, w, b, match", [
    (((), F64_), ((2, 1), F64_), None, "input must have at least 1 dimension"),
    (((2, 3), F64_), ((4, 3, 1), F64_), None, "weight must be 2-D"),
    (((2, 3), F64_), ((4, 3), F64_), ((5,), F64_), r"bias must have shape \(4,\)"),
    (((2, 3), F32_), ((4, 3), F64_), None, "same dtype"),
    (((2, 3), F64_), ((4, 3), F32_), ((4,), F32_), "same dtype"),
], ids=["0-d input", "3-d weight", "bias size", "float32 input", "float32 weight"])
def test_linear_refuses_what_torch_refuses(x, w, b, match):
    arrays = [None if spec is None else np.zeros(*spec) for spec in (x, w, b)]
    assert _torch_refuses(lambda: F.linear(*[_t(a) for a in arrays]))
    with pytest.raises((ValueError, TypeError), match=match):
        linear(*arrays)


def test_linear_refuses_integer_arrays_every_layer_of_the_book_is_float():
    with pytest.raises(TypeError, match="input must be float32 or float64"):
        linear(np.zeros((2, 3), I64_), np.zeros((4, 3), I64_))


def test_linear_refuses_a_torch_tensor_with_a_type_error():
    with pytest.raises(TypeError, match="input must be a NumPy array"):
        linear(torch.zeros(2, 3), np.zeros((4, 3)))


def test_linear_backward_refuses_a_grad_output_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"grad_output must have the output's shape \(2, 4\)"):
        linear_backward(np.zeros((2, 3)), np.zeros((2, 5)), np.zeros((4, 5)))


@pytest.mark.parametrize("args, match", [((0, 3), "in_features"), ((3, 0), "out_features"), ((-1, 3), "in_features"),
                                         ((3.0, 2), "in_features")])
def test_linear_module_refuses_bad_feature_counts(args, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Linear(*args)


def test_linear_module_refuses_integer_dtypes():
    with pytest.raises(TypeError, match="dtype"):
        Linear(2, 3, dtype=np.int64)


@pytest.mark.parametrize("shape, s, e, match", [
    ((2, 3, 4), 2, 1, "start_dim=2 must not come after end_dim=1"),
    ((2, 3, 4), -1, 1, "start_dim=-1 must not come after end_dim=1"),
    ((2, 3, 4), 1, 5, "end_dim=5 is out of range"),
    ((2, 3, 4), -4, -1, "start_dim=-4 is out of range"),
    ((3,), 1, -1, "start_dim=1 is out of range"),
])
def test_flatten_refuses_dims_torch_refuses(shape, s, e, match):
    assert _torch_refuses(lambda: torch.nn.Flatten(s, e)(torch.zeros(shape)))
    with pytest.raises(ValueError, match=match):
        Flatten(s, e)(np.zeros(shape))


@pytest.mark.parametrize("s, e", [(1.0, 2), (1, "2"), (True, 2)])
def test_flatten_refuses_non_integer_dims(s, e):
    with pytest.raises(TypeError, match="start_dim|end_dim"):
        Flatten(s, e)


def test_flatten_backward_refuses_a_grad_of_the_wrong_shape():
    f = Flatten()
    f(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"grad_out must have the output's shape \(2, 12\)"):
        f.backward(np.zeros((2, 3, 4)))


@pytest.mark.parametrize("forward, backward", [(np.float32, np.float64), (np.float64, np.float32)])
def test_flatten_backward_refuses_a_grad_of_another_dtype_like_every_layer(forward, backward):
    x = np.zeros((2, 3, 4), forward)
    f, lin = Flatten(), Linear(4, 2, dtype=forward)
    f(x), lin(x)
    with pytest.raises(TypeError, match="same dtype"):  # the other layers' rule, which Flatten now follows
        lin.backward(np.zeros((2, 3, 2), backward))
    with pytest.raises(TypeError, match=f"grad_out must have the input's dtype {np.dtype(forward)}"):
        f.backward(np.zeros((2, 12), backward))
    assert f.backward(np.zeros((2, 12), forward)).dtype == forward  # the refusal consumed nothing


# ---------------------------------------------------------------------------------------------
# A dense layer after Flatten is a convolution (chapter 6): the recast agrees with torch
# ---------------------------------------------------------------------------------------------


@reproducible(40)
@given(N=st.integers(1, 3), C=st.integers(1, 4), H=st.integers(1, 5), W=st.integers(1, 5), O=feature_counts,
       extra=st.tuples(st.integers(0, 3), st.integers(0, 3)), seed=seeds)
def test_a_linear_after_flatten_is_a_conv_whose_kernel_is_the_weight_reshaped(N, C, H, W, O, extra, seed):
    x = random_array((N, C, H + extra[0], W + extra[1]), seed=seed)
    w, b = random_array((O, C * H * W), seed=seed + 1), random_array((O,), seed=seed + 2)
    kernel = w.reshape(O, C, H, W)  # Flatten's order: channel, row, column
    scores = conv2d(x, kernel, b)  # on a larger map the kernel slides: a map of scores
    assert scores.shape == (N, O, extra[0] + 1, extra[1] + 1)
    _close("recast head", scores, F.conv2d(_t(x), _t(kernel), _t(b)), F64)
    for i in range(extra[0] + 1):  # each score is the dense layer on the window it covers
        for j in range(extra[1] + 1):
            window = x[:, :, i:i + H, j:j + W]
            _close("window", scores[:, :, i, j], F.linear(_t(flatten(window, 1)), _t(w), _t(b)), F64)


@reproducible(30)
@given(N=st.integers(1, 3), C=feature_counts, H=st.integers(1, 5), W=st.integers(1, 5), O=feature_counts, seed=seeds)
def test_a_1x1_convolution_is_a_linear_layer_at_every_pixel(N, C, H, W, O, seed):
    x = random_array((N, C, H, W), seed=seed)
    w, b = random_array((O, C), seed=seed + 1), random_array((O,), seed=seed + 2)
    per_pixel = np.moveaxis(linear(np.moveaxis(x, 1, -1), w, b), -1, 1)
    _close("1×1 conv", conv2d(x, w[:, :, None, None], b), F.conv2d(_t(x), _t(w[:, :, None, None]), _t(b)), F64)
    compare("1×1 conv vs Linear per pixel", per_pixel, conv2d(x, w[:, :, None, None], b), **F64, verbose=False)
