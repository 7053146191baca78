"""nbutils.layers.pooling against torch: values, argmax indices and ties, gradients, dtypes, modules, refusals.

Every value check runs in float64 against torch with an explicit tolerance; float32 is checked for keeping
its dtype and staying close to torch's float32. Property tests draw their configs from tests/strategies.py
and are derandomized, so every run sees the same examples.

One torch bug shapes these tests: when dilation and padding leave a window with no input cell at all,
torch's max-pooling backward writes to an index outside the input plane (memory it does not own). Such
configs are never sent to torch's backward; test_max_pool_window_of_padding_only_gets_no_gradient covers ours.
"""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import (
    FLOAT_DTYPES,
    adaptive_output_sizes,
    pool_configs,
    pool_output_length,
    random_array,
    reproducible,
    seeds,
)
from torch_twin import to_torch as _t
from torch_twin import torch_raises as _raises

from nbutils.check import check_module, compare, gradcheck
from nbutils.exercises import EXERCISES
from nbutils.layers.pooling import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    MaxPool2d,
    adaptive_avg_pool2d,
    adaptive_avg_pool2d_backward,
    avg_pool2d,
    avg_pool2d_backward,
    max_pool2d,
    max_pool2d_backward,
    pool_output_size,
)

F64 = dict(rtol=1e-9, atol=1e-11)  # float64 against torch float64: only summation order differs
F32 = dict(rtol=1e-4, atol=1e-5)  # our float32 against torch's float32

max_configs = pool_configs(dtypes=st.just(np.float64))
avg_configs = pool_configs(dilation=False, dtypes=st.just(np.float64))
divisors = st.sampled_from([None, None, 1, 3, -2])


def _close(name, ours, theirs, tol=F64):
    """compare() against torch's result read as float64, silently."""
    compare(name, ours, theirs.detach().double().numpy(), **tol, verbose=False)


def _torch_grad(fn, x, grad_out, **kw):
    """Gradient of sum(fn(x) * grad_out) with respect to x, from torch's autograd."""
    xt = _t(x, True)
    fn(xt, **kw).backward(_t(grad_out))
    return xt.grad


# ---------------------------------------------------------------------------------------------
# The output size
# ---------------------------------------------------------------------------------------------


def test_pool_output_size_matches_torch_on_a_grid_including_ceil_mode_and_refusals():
    for H, k, s, p, d, ceil_mode in itertools.product(range(1, 10), range(1, 5), (1, 2, 3), range(3), (1, 2),
                                                      (False, True)):
        if p > k // 2:
            continue
        expected = pool_output_size(H, k, s, p, d, ceil_mode)
        error = _raises(lambda: F.max_pool2d(torch.zeros(1, 1, H, H), k, s, p, d, ceil_mode))  # noqa: B023
        if error is not None:
            assert expected < 1, (H, k, s, p, d, ceil_mode)
        else:
            assert F.max_pool2d(torch.zeros(1, 1, H, H), k, s, p, d, ceil_mode).shape[-1] == expected


def test_ceil_mode_drops_a_last_window_that_would_start_in_the_right_padding():
    # Plain ceiling: ceil((5 + 2 - 2) / 2) + 1 = 4 windows, but the 4th would start at padded cell 6, all padding.
    assert F.max_pool2d(torch.zeros(1, 1, 5, 5), 2, 2, 1, ceil_mode=True).shape[-1] == 3
    assert pool_output_size(5, 2, 2, 1, ceil_mode=True) == 3
    assert max_pool2d(np.zeros((1, 1, 5, 5)), 2, 2, 1, ceil_mode=True).shape == (1, 1, 3, 3)


def test_stride_defaults_to_the_kernel_size_like_torch():
    x = random_array((1, 2, 9, 9))
    assert max_pool2d(x, 3).shape == tuple(F.max_pool2d(_t(x), 3).shape) == (1, 2, 3, 3)
    assert MaxPool2d(3).stride == torch.nn.MaxPool2d(3).stride == 3
    assert AvgPool2d((2, 3)).stride == torch.nn.AvgPool2d((2, 3)).stride == (2, 3)


# ---------------------------------------------------------------------------------------------
# Max pooling: values, indices, ties, NaN, gradients
# ---------------------------------------------------------------------------------------------


@reproducible(200)
@given(cfg=max_configs, seed=seeds, ties=st.booleans())
def test_max_pool2d_values_and_indices_match_torch(cfg, seed, ties):
    x = cfg.array(seed, ties=ties)
    out, idx = max_pool2d(x, **cfg.max_kwargs(), return_indices=True)
    out_t, idx_t = F.max_pool2d(_t(x), **cfg.max_kwargs(), return_indices=True)
    np.testing.assert_array_equal(out, out_t.numpy())  # a max is exact: no tolerance
    np.testing.assert_array_equal(idx, idx_t.numpy())
    assert idx.dtype == np.int64
    np.testing.assert_array_equal(max_pool2d(x, **cfg.max_kwargs()), out)


@reproducible(200)
@given(cfg=max_configs, seed=seeds, ties=st.booleans(), given_indices=st.booleans())
def test_max_pool2d_backward_matches_torch_autograd_including_ties(cfg, seed, ties, given_indices):
    assume(cfg.reads_input_everywhere)  # otherwise torch's backward writes out of bounds (see the module docstring)
    x = cfg.array(seed, ties=ties)
    grad_out = random_array((cfg.N, cfg.C) + cfg.out_size, np.float64, seed + 1)
    indices = max_pool2d(x, **cfg.max_kwargs(), return_indices=True)[1] if given_indices else None
    ours = max_pool2d_backward(grad_out, x, **cfg.max_kwargs(), indices=indices)
    _close("grad input", ours, _torch_grad(F.max_pool2d, x, grad_out, **cfg.max_kwargs()))


@pytest.mark.parametrize("kernel_size, stride, padding", [(2, 2, 0), (3, 2, 1), (3, 1, 1), ((2, 3), (1, 2), (1, 0))])
def test_max_pool_ties_route_gradient_like_torch(kernel_size, stride, padding):
    # A constant input ties every cell of every window; 0/1 stripes tie some. The gradient must go to
    # exactly one cell per window, the first maximum in row-major order, as torch's scan picks it.
    constant = np.full((1, 2, 6, 7), 3.0)
    stripes = np.tile([0.0, 1.0, 1.0], (1, 2, 6, 3))[..., :7]
    for x in (constant, stripes):
        out_t, idx_t = F.max_pool2d(_t(x), kernel_size, stride, padding, return_indices=True)
        np.testing.assert_array_equal(max_pool2d(x, kernel_size, stride, padding, return_indices=True)[1],
                                      idx_t.numpy())
        grad_out = random_array(tuple(out_t.shape), seed=3)
        theirs = _torch_grad(F.max_pool2d, x, grad_out, kernel_size=kernel_size, stride=stride, padding=padding)
        ours = max_pool2d_backward(grad_out, x, kernel_size, stride, padding)
        _close("tied grad", ours, theirs)
        assert np.isclose(ours.sum(), grad_out.sum())  # every window sends its whole gradient to one cell


def test_max_pool_tie_goes_to_the_first_maximum_in_row_major_order():
    x = np.array([[[[5.0, 1.0], [5.0, 5.0]]]])  # three tied cells; the first in row-major order is (0, 0)
    assert max_pool2d(x, 2, return_indices=True)[1].item() == F.max_pool2d(_t(x), 2, return_indices=True)[1].item() == 0
    np.testing.assert_array_equal(max_pool2d_backward(np.ones((1, 1, 1, 1)), x, 2)[0, 0], [[1, 0], [0, 0]])


def test_overlapping_windows_add_their_gradients_at_a_shared_argmax():
    x = np.array([[[[1.0, 2, 0], [0, 9, 0], [3, 0, 1]]]])
    grad = max_pool2d_backward(np.ones((1, 1, 2, 2)), x, 2, stride=1)
    assert grad[0, 0, 1, 1] == 4 and grad.sum() == 4
    _close("overlap", grad, _torch_grad(F.max_pool2d, x, np.ones((1, 1, 2, 2)), kernel_size=2, stride=1))


@reproducible(80)
@given(cfg=max_configs, seed=seeds)
def test_max_pool_nan_and_infinities_follow_torch(cfg, seed):
    # NaN wins (the last NaN of a window, as torch scans); a window of -inf keeps the first cell inside the input.
    x = cfg.array(seed)
    rng = np.random.default_rng(seed)
    x[rng.random(x.shape) < 0.15] = np.nan
    x[rng.random(x.shape) < 0.3] = -np.inf
    x[rng.random(x.shape) < 0.05] = np.inf
    out, idx = max_pool2d(x, **cfg.max_kwargs(), return_indices=True)
    out_t, idx_t = F.max_pool2d(_t(x), **cfg.max_kwargs(), return_indices=True)
    np.testing.assert_array_equal(out, out_t.numpy())  # assert_array_equal treats NaN == NaN
    np.testing.assert_array_equal(idx, idx_t.numpy())
    if cfg.reads_input_everywhere:
        grad_out = random_array(out.shape, seed=seed + 1)
        _close("grad", max_pool2d_backward(grad_out, x, **cfg.max_kwargs()),
               _torch_grad(F.max_pool2d, x, grad_out, **cfg.max_kwargs()))


def test_max_pool_window_of_padding_only_gets_no_gradient():
    # kernel 2, dilation 3, padding 1 on 2 columns: the taps sit at columns -1 and 2, both outside the input.
    x = random_array((2, 3, 5, 2), seed=4)
    kw = dict(kernel_size=2, stride=1, padding=1, dilation=(1, 3))
    out, idx = max_pool2d(x, **kw, return_indices=True)
    out_t, idx_t = F.max_pool2d(_t(x), **kw, return_indices=True)  # forward only: torch's backward is unsafe here
    np.testing.assert_array_equal(out, out_t.numpy())
    np.testing.assert_array_equal(idx, idx_t.numpy())  # torch's index lies past the end of a row
    assert np.all(out == -np.inf)
    grad = max_pool2d_backward(np.ones(out.shape), x, **kw)
    np.testing.assert_array_equal(grad, 0)  # the output does not depend on the input at all
    np.testing.assert_array_equal(max_pool2d(x + 1.0, **kw), out)


def test_max_pool2d_matches_central_differences():
    x = random_array((2, 2, 6, 7), seed=11)  # continuous values: no ties, so the max is differentiable
    for kw in [dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=(2, 3), stride=1, dilation=(2, 1)),
               dict(kernel_size=2, ceil_mode=True)]:
        gradcheck(lambda x, kw=kw: max_pool2d(x, **kw), lambda g, x, kw=kw: [max_pool2d_backward(g, x, **kw)], [x])


# ---------------------------------------------------------------------------------------------
# Average pooling
# ---------------------------------------------------------------------------------------------


@reproducible(200)
@given(cfg=avg_configs, seed=seeds, count_include_pad=st.booleans(), divisor_override=divisors)
def test_avg_pool2d_forward_and_backward_match_torch(cfg, seed, count_include_pad, divisor_override):
    x = cfg.array(seed)
    kw = cfg.avg_kwargs(count_include_pad=count_include_pad, divisor_override=divisor_override)
    out = avg_pool2d(x, **kw)
    _close("avg_pool2d", out, F.avg_pool2d(_t(x), **kw))
    grad_out = random_array(out.shape, seed=seed + 1)
    _close("grad input", avg_pool2d_backward(grad_out, x, **kw), _torch_grad(F.avg_pool2d, x, grad_out, **kw))


def test_avg_pool_divisors_follow_torch_at_padding_and_ceil_mode_overhang():
    ones = np.ones((1, 1, 5, 5))
    with_pad = avg_pool2d(ones, 3, 2, 1)[0, 0]
    assert np.isclose(with_pad[0, 0], 4 / 9) and with_pad[1, 1] == 1  # padding counts by default
    assert np.all(avg_pool2d(ones, 3, 2, 1, count_include_pad=False) == 1)
    assert np.all(avg_pool2d(ones, 2, 2, ceil_mode=True) == 1)  # the overhang past the padding never counts
    assert np.all(avg_pool2d(ones, 2, 2, divisor_override=1) == 4)


def test_avg_pool2d_matches_central_differences():
    x = random_array((1, 2, 5, 6), seed=12)
    kw = dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
    gradcheck(lambda x: avg_pool2d(x, **kw), lambda g, x: [avg_pool2d_backward(g, x, **kw)], [x])


# ---------------------------------------------------------------------------------------------
# Adaptive average pooling
# ---------------------------------------------------------------------------------------------


@reproducible(150)
@given(data=st.data(), N=st.integers(1, 3), C=st.integers(0, 3), H=st.integers(1, 9), W=st.integers(1, 9),
       seed=seeds)
def test_adaptive_avg_pool2d_forward_and_backward_match_torch(data, N, C, H, W, seed):
    output_size = data.draw(adaptive_output_sizes(H, W))
    x = random_array((N, C, H, W), seed=seed)
    out = adaptive_avg_pool2d(x, output_size)
    _close("adaptive_avg_pool2d", out, F.adaptive_avg_pool2d(_t(x), output_size))
    if C:
        grad_out = random_array(out.shape, seed=seed + 1)
        _close("grad input", adaptive_avg_pool2d_backward(grad_out, x, output_size),
               _torch_grad(F.adaptive_avg_pool2d, x, grad_out, output_size=output_size))


def test_adaptive_windows_are_torchs_floor_and_ceil_windows():
    # Output i depends exactly on the input cells of window [floor(i*n/o), ceil((i+1)*n/o)).
    for n, o in [(5, 3), (7, 3), (3, 5), (10, 4), (1, 4)]:
        for i in range(o):
            xt = _t(np.zeros((1, 1, 1, n)), True)
            F.adaptive_avg_pool2d(xt, (1, o))[0, 0, 0, i].backward()
            cells = np.nonzero(xt.grad[0, 0, 0].numpy())[0]
            g = adaptive_avg_pool2d_backward(np.eye(o)[i].reshape(1, 1, 1, o), np.zeros((1, 1, 1, n)), (1, o))
            np.testing.assert_array_equal(np.nonzero(g[0, 0, 0])[0], cells)
            assert list(cells) == list(range((i * n) // o, -(-(i + 1) * n // o)))


def test_adaptive_output_size_zero_is_an_empty_output_and_has_no_backward_like_torch():
    x = random_array((1, 2, 4, 4))
    assert adaptive_avg_pool2d(x, 0).shape == tuple(F.adaptive_avg_pool2d(_t(x), 0).shape) == (1, 2, 0, 0)
    assert adaptive_avg_pool2d(x, (0, 3)).shape == (1, 2, 0, 3)
    y = F.adaptive_avg_pool2d(_t(x, True), 0)
    assert _raises(lambda: y.sum().backward()) is not None
    with pytest.raises(ValueError, match="output_size"):
        adaptive_avg_pool2d_backward(np.zeros((1, 2, 0, 0)), x, 0)


def test_global_average_pooling_keeps_infinities_and_nan_where_torch_does():
    x = random_array((2, 3, 4, 5), seed=6)
    x[0, 0, 1, 1], x[0, 1, 2, 2], x[0, 1, 3, 3], x[1, 2, 0, 0] = np.inf, np.inf, -np.inf, np.nan
    for size in (1, (2, 3), (4, 5)):
        with np.errstate(invalid="ignore"):  # inf - inf is NaN in torch too
            np.testing.assert_allclose(adaptive_avg_pool2d(x, size), F.adaptive_avg_pool2d(_t(x), size).numpy(),
                                       **F64)  # equal NaN and equal infinities count as equal


def test_adaptive_avg_pool2d_matches_central_differences():
    x = random_array((1, 2, 5, 7), seed=13)
    for size in [(3, 4), 1, (7, 9)]:
        gradcheck(lambda x, s=size: adaptive_avg_pool2d(x, s),
                  lambda g, x, s=size: [adaptive_avg_pool2d_backward(g, x, s)], [x])


# ---------------------------------------------------------------------------------------------
# Modules
# ---------------------------------------------------------------------------------------------


@reproducible(80)
@given(cfg=max_configs, seed=seeds, training=st.booleans())
def test_max_pool_module_matches_torch_forward_and_backward(cfg, seed, training):
    assume(cfg.reads_input_everywhere)
    kw = cfg.max_kwargs()
    ours, theirs = MaxPool2d(**kw).train(training), torch.nn.MaxPool2d(**kw).train(training)
    errors = check_module(ours, theirs, cfg.array(seed), **F64, seed=seed)
    assert set(errors) == {"forward", "grad input"}


@reproducible(80)
@given(cfg=avg_configs, seed=seeds, count_include_pad=st.booleans(), divisor_override=divisors)
def test_avg_pool_module_matches_torch_forward_and_backward(cfg, seed, count_include_pad, divisor_override):
    kw = cfg.avg_kwargs(count_include_pad=count_include_pad, divisor_override=divisor_override)
    check_module(AvgPool2d(**kw), torch.nn.AvgPool2d(**kw), cfg.array(seed), **F64, seed=seed)


@reproducible(60)
@given(data=st.data(), H=st.integers(1, 9), W=st.integers(1, 9), seed=seeds)
def test_adaptive_avg_pool_module_matches_torch_forward_and_backward(data, H, W, seed):
    size = data.draw(adaptive_output_sizes(H, W))
    x = random_array((2, 3, H, W), seed=seed)
    check_module(AdaptiveAvgPool2d(size), torch.nn.AdaptiveAvgPool2d(size), x, **F64, seed=seed)


def test_max_pool_module_with_return_indices_returns_torchs_pair_and_still_backpropagates():
    x = random_array((2, 3, 7, 6), seed=2)
    ours, theirs = MaxPool2d(3, 2, 1, return_indices=True), torch.nn.MaxPool2d(3, 2, 1, return_indices=True)
    (out, idx), (out_t, idx_t) = ours(x), theirs(_t(x))
    np.testing.assert_array_equal(out, out_t.numpy())
    np.testing.assert_array_equal(idx, idx_t.numpy())
    grad_out = random_array(out.shape, seed=5)
    _close("grad", ours.backward(grad_out), _torch_grad(lambda t: theirs(t)[0], x, grad_out))


def test_max_pool_module_backward_works_after_an_eval_forward():
    x = random_array((1, 2, 6, 6), seed=8)
    m = MaxPool2d(2, 1).eval()
    out = m(x)
    assert m._indices is None  # eval skips the argmax ...
    _close("grad", m.backward(np.ones(out.shape)), _torch_grad(F.max_pool2d, x, np.ones(out.shape), kernel_size=2,
                                                                stride=1))  # ... and backward finds it again


@pytest.mark.parametrize("ours, theirs", [
    (MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True)),
    (MaxPool2d((2, 3), dilation=2), torch.nn.MaxPool2d((2, 3), dilation=2)),
    (AvgPool2d(3, padding=1), torch.nn.AvgPool2d(3, padding=1)),
    (AdaptiveAvgPool2d((5, None)), torch.nn.AdaptiveAvgPool2d((5, None))),
], ids=["max", "max-pair", "avg", "adaptive"])
def test_pooling_modules_have_no_parameters_and_print_like_torch(ours, theirs):
    assert repr(ours) == repr(theirs)
    assert ours.params == {} and list(theirs.parameters()) == []
    out = ours(random_array((1, 2, 8, 8)))
    ours.backward(np.ones_like(out))
    assert ours.grads == {}


@pytest.mark.parametrize("module", [MaxPool2d(2), AvgPool2d(2), AdaptiveAvgPool2d(1)], ids=["max", "avg", "adaptive"])
def test_pooling_modules_start_in_training_mode_and_train_eval_return_self(module):
    assert module.training
    assert module.eval() is module and not module.training
    assert module.train() is module and module.training


# ---------------------------------------------------------------------------------------------
# dtype is kept
# ---------------------------------------------------------------------------------------------


@reproducible(60)
@given(cfg=pool_configs(), seed=seeds)
def test_pooling_functions_keep_the_input_dtype(cfg, seed):
    assume(cfg.reads_input_everywhere)
    x = cfg.array(seed)
    tol = F32 if cfg.dtype == np.float32 else F64
    out, idx = max_pool2d(x, **cfg.max_kwargs(), return_indices=True)
    avg_kw = cfg.avg_kwargs() if cfg.dilations == (1, 1) else None
    outputs = [out, max_pool2d_backward(np.ones_like(out), x, **cfg.max_kwargs(), indices=idx),
               adaptive_avg_pool2d(x, (2, 3)), adaptive_avg_pool2d(x, 1),
               adaptive_avg_pool2d_backward(np.ones((cfg.N, cfg.C, 2, 3), cfg.dtype), x, (2, 3))]
    _close("max_pool2d", out, F.max_pool2d(_t(x), **cfg.max_kwargs()), tol)
    _close("adaptive", outputs[2], F.adaptive_avg_pool2d(_t(x), (2, 3)), tol)
    if avg_kw:
        avg = avg_pool2d(x, **avg_kw)
        outputs += [avg, avg_pool2d_backward(np.ones_like(avg), x, **avg_kw)]
        _close("avg_pool2d", avg, F.avg_pool2d(_t(x), **avg_kw), tol)
    assert [o.dtype for o in outputs] == [cfg.dtype] * len(outputs)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_pooling_modules_keep_the_input_dtype(dtype):
    x = random_array((2, 3, 6, 6), dtype)
    for m in (MaxPool2d(2), AvgPool2d(3, 1, 1, divisor_override=np.int64(4)), AdaptiveAvgPool2d((4, 3))):
        out = m(x)
        assert out.dtype == m.backward(np.ones_like(out)).dtype == dtype


# ---------------------------------------------------------------------------------------------
# Refusals: torch refuses => we raise ValueError/TypeError naming the parameter
# ---------------------------------------------------------------------------------------------

X = random_array((2, 3, 5, 5), seed=1)


def _case(name, exc, match, torch_call, our_call):
    return pytest.param(torch_call, our_call, exc, match, id=name)


REFUSALS = [
    _case("kernel 0", ValueError, r"kernel_size must be positive",
          lambda: F.max_pool2d(_t(X), 0, 1), lambda: max_pool2d(X, 0, 1)),
    _case("negative kernel", ValueError, r"kernel_size must be positive",
          lambda: F.avg_pool2d(_t(X), (2, -1)), lambda: avg_pool2d(X, (2, -1))),
    _case("stride 0", ValueError, r"stride must be positive",
          lambda: F.max_pool2d(_t(X), 2, 0), lambda: max_pool2d(X, 2, 0)),
    _case("negative stride", ValueError, r"stride must be positive",
          lambda: F.avg_pool2d(_t(X), 2, -1), lambda: avg_pool2d(X, 2, -1)),
    _case("dilation 0", ValueError, r"dilation must be positive",
          lambda: F.max_pool2d(_t(X), 2, dilation=0), lambda: max_pool2d(X, 2, dilation=0)),
    _case("negative padding", ValueError, r"padding must be at least 0",
          lambda: F.max_pool2d(_t(X), 2, padding=-1), lambda: max_pool2d(X, 2, padding=-1)),
    _case("padding more than half the kernel", ValueError, r"padding=\(2, 2\) must be at most half of kernel_size",
          lambda: F.max_pool2d(_t(X), 3, padding=2), lambda: max_pool2d(X, 3, padding=2)),
    _case("padding more than half the kernel, one axis", ValueError, r"padding=\(0, 1\) must be at most half",
          lambda: F.avg_pool2d(_t(X), (2, 1), padding=(0, 1)), lambda: avg_pool2d(X, (2, 1), padding=(0, 1))),
    _case("padding more than half the kernel, despite dilation", ValueError, r"padding=\(2, 2\) must be at most",
          lambda: F.max_pool2d(_t(X), 3, padding=2, dilation=2), lambda: max_pool2d(X, 3, padding=2, dilation=2)),
    _case("kernel larger than the input", ValueError, r"kernel_size=6 spans 6x6 cells, more than the input 5x5",
          lambda: F.max_pool2d(_t(X), 6), lambda: max_pool2d(X, 6)),
    _case("kernel larger than the padded input", ValueError, r"kernel_size=8 spans 8x8 cells, more than the input",
          lambda: F.avg_pool2d(_t(X), 8, padding=1), lambda: avg_pool2d(X, 8, padding=1)),
    _case("dilated kernel larger than the input", ValueError, r"kernel_size=3 with dilation=\(3, 3\) spans 7x7",
          lambda: F.max_pool2d(_t(X), 3, dilation=3), lambda: max_pool2d(X, 3, dilation=3)),
    _case("kernel too large even with ceil_mode", ValueError, r"spans 7x7 cells",
          lambda: F.max_pool2d(_t(X), 7, 2, ceil_mode=True), lambda: max_pool2d(X, 7, 2, ceil_mode=True)),
    _case("divisor_override 0", ValueError, r"divisor_override must not be zero",
          lambda: F.avg_pool2d(_t(X), 2, divisor_override=0), lambda: avg_pool2d(X, 2, divisor_override=0)),
    _case("divisor_override float", TypeError, r"divisor_override must be an int",
          lambda: F.avg_pool2d(_t(X), 2, divisor_override=2.0), lambda: avg_pool2d(X, 2, divisor_override=2.0)),
    _case("ceil_mode not a bool", TypeError, r"ceil_mode must be True or False",
          lambda: F.max_pool2d(_t(X), 2, ceil_mode=1), lambda: max_pool2d(X, 2, ceil_mode=1)),
    _case("kernel_size float", TypeError, r"kernel_size must be an int or a pair",
          lambda: F.max_pool2d(_t(X), 2.0), lambda: max_pool2d(X, 2.0)),
    _case("kernel_size triple", TypeError, r"kernel_size must be an int or a pair",
          lambda: F.max_pool2d(_t(X), (2, 2, 2)), lambda: max_pool2d(X, (2, 2, 2))),
    _case("2-D input", ValueError, r"input must be 4-D",
          lambda: F.max_pool2d(_t(X[0, 0]), 2), lambda: max_pool2d(X[0, 0], 2)),
    _case("5-D input", ValueError, r"input must be 4-D",
          lambda: F.avg_pool2d(_t(X[None]), 2), lambda: avg_pool2d(X[None], 2)),
    _case("no channels", ValueError, r"input must have channels, height and width",
          lambda: F.max_pool2d(torch.zeros(1, 0, 4, 4, dtype=torch.float64), 2),
          lambda: max_pool2d(np.zeros((1, 0, 4, 4)), 2)),
    _case("no width", ValueError, r"input must have channels, height and width",
          lambda: F.avg_pool2d(torch.zeros(1, 1, 4, 0, dtype=torch.float64), 1),
          lambda: avg_pool2d(np.zeros((1, 1, 4, 0)), 1)),
    _case("adaptive: negative output_size", ValueError, r"output_size must be at least 0",
          lambda: F.adaptive_avg_pool2d(_t(X), -1), lambda: adaptive_avg_pool2d(X, -1)),
    _case("adaptive: negative output_size in a pair", ValueError, r"output_size must be at least 0",
          lambda: F.adaptive_avg_pool2d(_t(X), (2, -3)), lambda: adaptive_avg_pool2d(X, (2, -3))),
    _case("adaptive: output_size of length 3", TypeError, r"output_size must be an int or a pair",
          lambda: F.adaptive_avg_pool2d(_t(X), (2, 2, 2)), lambda: adaptive_avg_pool2d(X, (2, 2, 2))),
    _case("adaptive: float output_size", TypeError, r"output_size must be an int or a pair",
          lambda: F.adaptive_avg_pool2d(_t(X), 2.0), lambda: adaptive_avg_pool2d(X, 2.0)),
    _case("adaptive: empty height", ValueError, r"input must have height and width of at least 1",
          lambda: F.adaptive_avg_pool2d(torch.zeros(1, 1, 0, 4, dtype=torch.float64), 2),
          lambda: adaptive_avg_pool2d(np.zeros((1, 1, 0, 4)), 2)),
]


@pytest.mark.parametrize("torch_call, our_call, exc, match", REFUSALS)
def test_pooling_refuses_what_torch_refuses_naming_the_parameter(torch_call, our_call, exc, match):
    assert _raises(torch_call) is not None, "torch accepts this call: the case is wrong"
    with pytest.raises(exc, match=match):
        our_call()


MODULE_REFUSALS = [
    _case("MaxPool2d kernel 0", ValueError, r"kernel_size must be positive",
          lambda: torch.nn.MaxPool2d(0)(_t(X)), lambda: MaxPool2d(0)),
    _case("MaxPool2d padding too large", ValueError, r"must be at most half of kernel_size",
          lambda: torch.nn.MaxPool2d(2, padding=2)(_t(X)), lambda: MaxPool2d(2, padding=2)),
    _case("AvgPool2d divisor_override 0", ValueError, r"divisor_override must not be zero",
          lambda: torch.nn.AvgPool2d(2, divisor_override=0)(_t(X)), lambda: AvgPool2d(2, divisor_override=0)),
    _case("AvgPool2d count_include_pad not a bool", TypeError, r"count_include_pad must be True or False",
          lambda: F.avg_pool2d(_t(X), 2, count_include_pad=None), lambda: AvgPool2d(2, count_include_pad=None)),
    _case("AdaptiveAvgPool2d negative size", ValueError, r"output_size must be at least 0",
          lambda: torch.nn.AdaptiveAvgPool2d(-2)(_t(X)), lambda: AdaptiveAvgPool2d(-2)),
    _case("MaxPool2d kernel larger than the input", ValueError, r"kernel_size=6",
          lambda: torch.nn.MaxPool2d(6)(_t(X)), lambda: MaxPool2d(6)(X)),
]
# torch builds these modules and refuses them at the first forward; we refuse them when built.


@pytest.mark.parametrize("torch_call, our_call, exc, match", MODULE_REFUSALS)
def test_pooling_modules_refuse_what_torch_refuses_naming_the_parameter(torch_call, our_call, exc, match):
    assert _raises(torch_call) is not None, "torch accepts this: the case is wrong"
    with pytest.raises(exc, match=match):
        our_call()


def test_pooling_refuses_unbatched_input_that_torch_accepts():
    # A deliberate difference, as in conv2d: torch reads a 3-D input as one unbatched (C, H, W) image.
    assert F.max_pool2d(_t(X[0]), 2).shape == (3, 2, 2)
    for call in (lambda: max_pool2d(X[0], 2), lambda: avg_pool2d(X[0], 2), lambda: adaptive_avg_pool2d(X[0], 2),
                 lambda: MaxPool2d(2)(X[0])):
        with pytest.raises(ValueError, match=r"input must be 4-D .*\(add a batch axis with x\[None\]\)"):
            call()


def test_pooling_refuses_integer_input_that_torch_pools():
    # Deliberate, as in conv2d: the book's layers are float32/float64 only.
    assert F.max_pool2d(torch.zeros(1, 1, 4, 4, dtype=torch.int64), 2).shape == (1, 1, 2, 2)
    for fn in (max_pool2d, avg_pool2d):
        with pytest.raises(TypeError, match="input must be float32 or float64"):
            fn(np.zeros((1, 1, 4, 4), np.int64), 2)


def test_backward_functions_refuse_a_grad_output_of_the_wrong_shape_or_dtype():
    with pytest.raises(ValueError, match=r"grad_output must have the output's shape \(2, 3, 2, 2\)"):
        max_pool2d_backward(np.ones((2, 3, 3, 3)), X, 2)
    with pytest.raises(ValueError, match=r"grad_output must have the output's shape \(2, 3, 3, 3\)"):
        avg_pool2d_backward(np.ones((2, 3, 2, 2)), X, 3, 2, 1)
    with pytest.raises(ValueError, match=r"grad_output must have the output's shape \(2, 3, 4, 4\)"):
        adaptive_avg_pool2d_backward(np.ones((2, 3, 3, 3)), X, 4)
    with pytest.raises(TypeError, match=r"grad_output is float32, input is float64"):
        max_pool2d_backward(np.ones((2, 3, 2, 2), np.float32), X, 2)
    with pytest.raises(ValueError, match=r"indices must be max_pool2d's integer indices"):
        max_pool2d_backward(np.ones((2, 3, 2, 2)), X, 2, indices=np.zeros((2, 3, 2, 2)))
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 25\)"):
        max_pool2d_backward(np.ones((2, 3, 2, 2)), X, 2, indices=np.full((2, 3, 2, 2), 25))


BREAKABLE = ("kernel", "stride", "padding", "dilation", "size", "ndim", "ceil_mode")


@st.composite
def pool_calls(draw):
    """A max/avg pooling call that breaks none, one or two of torch's rules, chosen among BREAKABLE."""
    n_broken = {0: 0, 1: 0, 2: 1, 3: 1, 4: 2}[draw(st.integers(0, 4))]
    broken = set(draw(st.permutations(BREAKABLE))[:n_broken])

    def pick(knob, valid, bad):
        return draw(bad if knob in broken else valid)

    small = st.integers(-1, 4)
    kernel = pick("kernel", st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))),
                  st.one_of(st.integers(-1, 0), st.tuples(small, small)))
    stride = pick("stride", st.one_of(st.none(), st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))),
                  st.one_of(st.integers(-1, 0), st.tuples(small, small)))
    padding = pick("padding", st.one_of(st.integers(0, 1), st.tuples(st.integers(0, 1), st.integers(0, 1))),
                   st.one_of(st.integers(-1, 3), st.tuples(small, small)))
    dilation = pick("dilation", st.one_of(st.integers(1, 2), st.tuples(st.integers(1, 2), st.integers(1, 2))),
                    st.one_of(st.integers(-1, 0), st.tuples(small, small)))
    H, W = (pick("size", st.integers(3, 7), st.integers(1, 2)) for _ in range(2))
    shape = pick("ndim", st.tuples(st.integers(0, 2), st.integers(1, 2), st.just(H), st.just(W)),
                 st.sampled_from([(H, W), (1, 1, 1, H, W), (1, 0, H, W), (1, 1, 0, W)]))
    ceil_mode = pick("ceil_mode", st.booleans(), st.sampled_from([0, 1, None]))
    return random_array(shape, seed=draw(seeds)), dict(kernel_size=kernel, stride=stride, padding=padding,
                                                        dilation=dilation, ceil_mode=ceil_mode)


def _our_result(call):
    try:
        return call()
    except (ValueError, TypeError):  # any other exception fails the test
        return None


@reproducible(400)
@given(call=pool_calls(), kind=st.sampled_from(["max", "avg"]))
def test_random_pooling_calls_are_refused_exactly_where_torch_refuses_them(call, kind):
    x, kw = call
    if kind == "avg":
        kw.pop("dilation")
    ours_fn, theirs_fn = (max_pool2d, F.max_pool2d) if kind == "max" else (avg_pool2d, F.avg_pool2d)
    torch_error = _raises(lambda: theirs_fn(_t(x), **kw))
    ours = _our_result(lambda: ours_fn(x, **kw))
    if torch_error is not None:
        assert ours is None, f"torch refuses ({torch_error}) but {kind}_pool2d returned shape {ours.shape}"
        return
    if x.ndim == 3:  # deliberately stricter: no unbatched input
        assert ours is None
        return
    assert ours is not None, f"torch accepts this valid call but {kind}_pool2d refused it"
    _close(f"{kind}_pool2d", ours, theirs_fn(_t(x), **kw))


# ---------------------------------------------------------------------------------------------
# The chapter's exercises agree with torch
# ---------------------------------------------------------------------------------------------


def test_exercise_solutions_agree_with_torch():
    ex = EXERCISES["ceil_mode_output_size"]
    for (n, k, s), kw in ex.cases:
        assert ex.solution(n, k, s, **kw) == F.max_pool2d(torch.zeros(1, 1, n, n), k, s, kw["padding"],
                                                          ceil_mode=True).shape[-1]
        assert ex.solution(n, k, s, **kw) == pool_output_length(n, k, s, kw["padding"], 1, True)
    ex = EXERCISES["max_pool_backward"]
    for (x, g, k, s), _ in ex.cases:
        theirs = _torch_grad(F.max_pool2d, x[None, None], g[None, None], kernel_size=k, stride=s)[0, 0]
        _close("max_pool_backward", ex.solution(x, g, k, s), theirs)
    ex = EXERCISES["avg_pool_padded"]
    for (x, k, s, p, c), _ in ex.cases:
        theirs = F.avg_pool2d(_t(x)[None, None], k, s, p, count_include_pad=c)[0, 0]
        _close("avg_pool_padded", ex.solution(x, k, s, p, c), theirs)
    ex = EXERCISES["adaptive_windows"]
    for (n, o), _ in ex.cases:
        windows = ex.solution(n, o)
        x = random_array((1, 1, 1, n), seed=n)
        means = [x[0, 0, 0, a:b].mean() for a, b in windows]
        _close("adaptive_windows", np.array(means), F.adaptive_avg_pool2d(_t(x), (1, o))[0, 0, 0])


def test_new_exercise_solutions_agree_with_torch_and_the_planted_bug_does_not():
    ex = EXERCISES["avg_pool_grad"]
    for (g, size, k, s), _ in ex.cases:
        theirs = _torch_grad(F.avg_pool2d, np.zeros((1, 1) + size), g[None, None], kernel_size=k, stride=s)[0, 0]
        _close("avg_pool_grad", ex.solution(g, size, k, s), theirs)
    ex = EXERCISES["max_pool_grad"]
    overlapping_cases_differ = 0
    for (x, g, k, s), _ in ex.cases:
        theirs = _torch_grad(F.max_pool2d, x[None, None], g[None, None], kernel_size=k, stride=s)[0, 0]
        _close("max_pool_grad", ex.solution(x, g, k, s), theirs)
        overlapping_cases_differ += s < k and not np.allclose(ex.bug(x, g, k, s), theirs.numpy())
    assert overlapping_cases_differ >= 2


def test_the_overlap_prediction_is_what_torch_autograd_does():
    x = torch.zeros(1, 1, 6, 6, dtype=torch.float64)
    x[0, 0, 2, 3] = 5.0
    x.requires_grad_()
    F.max_pool2d(x, 3, stride=1).sum().backward()
    assert int((x.grad != 0).sum()) == EXERCISES["overlap_grad_cells"].answer
    assert x.grad[0, 0, 2, 3] == 9
