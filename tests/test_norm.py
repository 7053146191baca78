"""nbutils.layers.norm against torch: values, gradients, running statistics, modules, and which inputs are refused.

Every value check runs in float64 against torch with an explicit tolerance; float32 is checked for keeping its
dtype and staying close to torch's float32. Property tests draw their inputs from tests/strategies.py and are
derandomized, so every run sees the same examples.
"""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from strategies import FLOAT_DTYPES, norm_configs, random_array, reproducible, seeds
from torch_twin import to_torch as _t

from nbutils.check import check_module, compare, gradcheck, load_torch_params
from nbutils.layers.norm import (
    BatchNorm1d,
    BatchNorm2d,
    GroupNorm,
    InstanceNorm2d,
    LayerNorm,
    batch_norm,
    batch_norm_backward,
    group_norm,
    group_norm_backward,
    instance_norm,
    instance_norm_backward,
    layer_norm,
    layer_norm_backward,
)

F64 = dict(rtol=1e-8, atol=1e-10)  # float64 against torch float64: only summation order differs

pytestmark = [pytest.mark.filterwarnings("ignore:input's size at dim=1 does not match num_features:UserWarning")]

f64_configs = norm_configs(dtypes=st.just(np.float64))
momenta = st.sampled_from([0.0, 0.1, 0.5, 1.0])


def _close(name, ours, theirs, tol):
    compare(name, ours, theirs.detach().double().numpy() if hasattr(theirs, "detach") else theirs, **tol,
            verbose=False)


def _torch_grads(fn, x, w, b, grad_out):
    """(output, grad input, grad weight, grad bias) of torch's fn(x, w, b) for grad_out; None where not given."""
    xt, wt, bt = _t(x, True), _t(w, True), _t(b, True)
    out = fn(xt, wt, bt)
    out.backward(_t(grad_out))
    return out, xt.grad, None if wt is None else wt.grad, None if bt is None else bt.grad


def _check_grads(name, ours, theirs, tol=F64):
    """Compare our (grad_input, grad_weight, grad_bias) with torch's, skipping parameters torch did not have."""
    for label, o, t in zip(("input", "weight", "bias"), ours, theirs):
        if t is not None:
            _close(f"{name} grad {label}", o, t, tol)


# ---------------------------------------------------------------------------------------------
# Functions against torch, float64
# ---------------------------------------------------------------------------------------------


@reproducible(120)
@given(cfg=f64_configs, seed=seeds, momentum=momenta)
def test_batch_norm_training_output_and_running_stats_match_torch(cfg, seed, momentum):
    x, w, b = cfg.arrays(seed)
    rm, rv = random_array(cfg.C, seed=seed + 1), random_array(cfg.C, seed=seed + 2) ** 2 + 0.5
    rm_t, rv_t = _t(rm), _t(rv)
    ours = batch_norm(x, rm, rv, w, b, training=True, momentum=momentum)
    theirs = F.batch_norm(_t(x), rm_t, rv_t, _t(w), _t(b), training=True, momentum=momentum)
    _close("batch_norm", ours, theirs, F64)
    _close("running_mean updated in place", rm, rm_t, F64)
    _close("running_var updated in place", rv, rv_t, F64)


@reproducible(80)
@given(cfg=f64_configs, seed=seeds)
def test_batch_norm_eval_uses_running_stats_like_torch(cfg, seed):
    x, w, b = cfg.arrays(seed)
    rm, rv = random_array(cfg.C, seed=seed + 1), random_array(cfg.C, seed=seed + 2) ** 2 + 0.5
    before = rm.copy(), rv.copy()
    ours = batch_norm(x, rm, rv, w, b, training=False)
    _close("batch_norm eval", ours, F.batch_norm(_t(x), _t(rm), _t(rv), _t(w), _t(b), training=False), F64)
    assert np.array_equal(rm, before[0]) and np.array_equal(rv, before[1])


@reproducible(120)
@given(cfg=f64_configs, seed=seeds, training=st.booleans())
def test_batch_norm_backward_matches_torch_autograd(cfg, seed, training):
    x, w, b = cfg.arrays(seed)
    rm, rv = random_array(cfg.C, seed=seed + 1), random_array(cfg.C, seed=seed + 2) ** 2 + 0.5
    g = random_array(cfg.shape, seed=seed + 3)
    theirs = _torch_grads(lambda xt, wt, bt: F.batch_norm(xt, _t(rm), _t(rv), wt, bt, training=training), x, w, b, g)
    _check_grads("batch_norm", batch_norm_backward(g, x, rm, rv, w, training=training), theirs[1:])


@reproducible(120)
@given(cfg=f64_configs, seed=seeds)
def test_group_norm_forward_and_backward_match_torch(cfg, seed):
    x, w, b = cfg.arrays(seed)
    g = random_array(cfg.shape, seed=seed + 3)
    G = cfg.num_groups
    theirs = _torch_grads(lambda xt, wt, bt: F.group_norm(xt, G, wt, bt), x, w, b, g)
    _close("group_norm", group_norm(x, G, w, b), theirs[0], F64)
    _check_grads("group_norm", group_norm_backward(g, x, G, w), theirs[1:])


@reproducible(120)
@given(cfg=norm_configs(dtypes=st.just(np.float64), min_spatial_dims=1, min_spatial=2), seed=seeds,
       use_input_stats=st.booleans(), momentum=momenta, track=st.booleans())
def test_instance_norm_forward_backward_and_running_stats_match_torch(cfg, seed, use_input_stats, momentum, track):
    x, w, b = cfg.arrays(seed)
    g = random_array(cfg.shape, seed=seed + 3)
    track = track or not use_input_stats  # evaluation needs running statistics
    rm = random_array(cfg.C, seed=seed + 1) if track else None
    rv = random_array(cfg.C, seed=seed + 2) ** 2 + 0.5 if track else None
    rm_t, rv_t = _t(rm), _t(rv)
    theirs = _torch_grads(lambda xt, wt, bt: F.instance_norm(xt, rm_t, rv_t, wt, bt, use_input_stats, momentum),
                          x, w, b, g)
    grads = instance_norm_backward(g, x, rm, rv, w, use_input_stats)  # before the forward updates rm, rv
    _close("instance_norm", instance_norm(x, rm, rv, w, b, use_input_stats, momentum), theirs[0], F64)
    _check_grads("instance_norm", grads, theirs[1:])
    if track:
        _close("instance_norm running_mean", rm, rm_t, F64)
        _close("instance_norm running_var", rv, rv_t, F64)


@reproducible(120)
@given(cfg=norm_configs(dtypes=st.just(np.float64), max_spatial_dims=3), seed=seeds, data=st.data())
def test_layer_norm_over_the_last_dims_matches_torch(cfg, seed, data):
    k = data.draw(st.integers(1, len(cfg.shape)), label="normalized dims")
    shape = cfg.shape[-k:]
    x = cfg.arrays(seed)[0]
    w = random_array(shape, seed=seed + 1) if cfg.affine else None
    b = random_array(shape, seed=seed + 2) if cfg.affine else None
    g = random_array(cfg.shape, seed=seed + 3)
    theirs = _torch_grads(lambda xt, wt, bt: F.layer_norm(xt, shape, wt, bt), x, w, b, g)
    _close("layer_norm", layer_norm(x, shape, w, b), theirs[0], F64)
    _check_grads("layer_norm", layer_norm_backward(g, x, shape, w), theirs[1:])


def _close32(name, ours, reference):
    """float32 against the float64 reference: errors relative to the reference's largest entry."""
    ref = reference.detach().numpy() if hasattr(reference, "detach") else reference
    compare(name, ours, ref, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(ref).max())), verbose=False)


@reproducible(40)
@given(cfg=norm_configs(dtypes=st.just(np.float32), min_spatial_dims=1, min_spatial=4), seed=seeds)
def test_float32_stays_float32_and_close_to_the_float64_result(cfg, seed):
    x, w, b = cfg.arrays(seed, np.float32)
    g = random_array(cfg.shape, np.float32, seed + 3)
    G, rm, rv = cfg.num_groups, np.zeros(cfg.C, np.float32), np.ones(cfg.C, np.float32)
    cases = {
        "batch_norm": (lambda: batch_norm(x, rm.copy(), rv.copy(), w, b, True),
                       lambda: batch_norm_backward(g, x, rm, rv, w, True),
                       lambda xt, wt, bt: F.batch_norm(xt, None, None, wt, bt, True)),
        "group_norm": (lambda: group_norm(x, G, w, b), lambda: group_norm_backward(g, x, G, w),
                       lambda xt, wt, bt: F.group_norm(xt, G, wt, bt)),
        "instance_norm": (lambda: instance_norm(x, None, None, w, b), lambda: instance_norm_backward(g, x, weight=w),
                          lambda xt, wt, bt: F.instance_norm(xt, None, None, wt, bt)),
    }
    as64 = [None if a is None else a.astype(np.float64) for a in (x, w, b, g)]
    for name, (forward, backward, torch_fn) in cases.items():
        out, grads = forward(), backward()
        assert out.dtype == np.float32 and all(a.dtype == np.float32 for a in grads), name
        reference = _torch_grads(torch_fn, *as64)
        _close32(name, out, reference[0])
        for label, o, t in zip(("input", "weight", "bias"), grads, reference[1:]):
            if t is not None:
                _close32(f"{name} grad {label}", o, t)
    out = layer_norm(x, x.shape[1:])
    assert out.dtype == np.float32
    _close32("layer_norm", out, F.layer_norm(_t(as64[0]), x.shape[1:]))


def test_float32_statistics_survive_a_large_mean():
    """Two-pass variance: a channel with mean 1000 and spread 1 still normalizes to torch's float32 result."""
    x = (random_array((8, 3, 6, 6), seed=5) + 1000).astype(np.float32)
    x64 = _t(x.astype(np.float64))
    _close32("batch_norm, mean 1000", batch_norm(x, None, None, training=True),
             F.batch_norm(x64, None, None, training=True))
    _close32("group_norm, mean 1000", group_norm(x, 3), F.group_norm(x64, 3))


def _norm_pair(name, x, use_batch):
    """(ours forward, ours backward, torch forward) for one norm function on x (2, 4, 3, 3), affine, eval or not."""
    dt = x.dtype
    w, b = random_array((4,), dt, seed=2), random_array((4,), dt, seed=3)
    rm, rv = random_array((4,), dt, seed=4), np.abs(random_array((4,), dt, seed=5)) + dt.type(0.5)
    if name == "layer_norm":
        w, b = random_array((3, 3), dt, seed=2), random_array((3, 3), dt, seed=3)
        return (lambda: layer_norm(x, (3, 3), w, b), lambda g: layer_norm_backward(g, x, (3, 3), w),
                lambda X, W, B: F.layer_norm(X, (3, 3), W, B), w, b)
    if name == "group_norm":
        return (lambda: group_norm(x, 2, w, b), lambda g: group_norm_backward(g, x, 2, w),
                lambda X, W, B: F.group_norm(X, 2, W, B), w, b)
    ours, ours_backward, theirs = {"batch_norm": (batch_norm, batch_norm_backward, F.batch_norm),
                                   "instance_norm": (instance_norm, instance_norm_backward, F.instance_norm)}[name]
    return (lambda: ours(x, rm.copy(), rv.copy(), w, b, use_batch),
            lambda g: ours_backward(g, x, rm, rv, w, use_batch),
            lambda X, W, B: theirs(X, _t(rm.copy()), _t(rv.copy()), W, B, use_batch), w, b)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("value", [np.inf, -np.inf, 1e30])
@pytest.mark.parametrize("name, use_batch", [("batch_norm", True), ("batch_norm", False), ("group_norm", True),
                                             ("instance_norm", True), ("instance_norm", False), ("layer_norm", True)])
def test_an_inf_in_the_input_gives_torchs_values_without_a_numpy_warning(name, use_batch, value, dtype):
    x = random_array((2, 4, 3, 3), dtype, seed=1)
    x[1, 2, 1, 0] = value  # with batch statistics the set holding an inf turns NaN (inf − inf), as in torch
    g = random_array(x.shape, dtype, seed=6)
    forward, backward, theirs, w, b = _norm_pair(name, x, use_batch)
    X, W, B = _t(x, grad=True), _t(w, grad=True), _t(b, grad=True)
    torch_y = theirs(X, W, B)
    torch_y.backward(_t(g))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        y, (gx, gw, gb) = forward(), backward(g)
    tol = F64 if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    for what, mine, ref in [("output", y, torch_y), ("grad_input", gx, X.grad), ("grad_weight", gw, W.grad),
                            ("grad_bias", gb, B.grad)]:
        np.testing.assert_allclose(mine, ref.detach().numpy(), **tol, equal_nan=True, err_msg=f"{name} {what}")


@pytest.mark.parametrize("name", ["batch_norm", "group_norm", "instance_norm", "layer_norm"])
def test_gradients_match_central_differences(name):
    x = random_array((3, 4, 2, 3), seed=7) * 2 + 1
    w = random_array(4, seed=8) + 2
    calls = {
        "batch_norm": (lambda v, w_: batch_norm(v, None, None, w_, None, True),
                       lambda g, v, w_: batch_norm_backward(g, v, None, None, w_, True)[:2]),
        "group_norm": (lambda v, w_: group_norm(v, 2, w_), lambda g, v, w_: group_norm_backward(g, v, 2, w_)[:2]),
        "instance_norm": (lambda v, w_: instance_norm(v, weight=w_),
                          lambda g, v, w_: instance_norm_backward(g, v, weight=w_)[:2]),
        "layer_norm": (lambda v, w_: layer_norm(v, 3, w_[:3]),
                       lambda g, v, w_: (layer_norm_backward(g, v, 3, w_[:3])[0],
                                         np.pad(layer_norm_backward(g, v, 3, w_[:3])[1], (0, 1)))),
    }
    f, grad_f = calls[name]
    gradcheck(f, grad_f, [x, w], names=["input", "weight"])


@pytest.mark.parametrize("eps", [1e-5, 1.0, 100.0])
def test_bn_input_gradient_sums_to_zero_per_channel_for_every_eps(eps):
    x, g = random_array((4, 3, 5, 5), seed=1) * 3 + 2, random_array((4, 3, 5, 5), seed=2)
    gx = batch_norm_backward(g, x, None, None, random_array(3, seed=3), training=True, eps=eps)[0]
    assert np.all(np.abs(gx.sum(axis=(0, 2, 3))) < 1e-12 * np.abs(gx).sum(axis=(0, 2, 3)))


@pytest.mark.parametrize("eps", [1e-5, 1.0, 100.0])
def test_bn_input_gradient_dot_x_hat_is_exactly_the_eps_term(eps):
    """Σ dx·x̂ = ε/(σ²+ε) · r · Σ γ·g·x̂ per channel: zero only for ε = 0."""
    x, g, w = random_array((4, 3, 5, 5), seed=1) * 3 + 2, random_array((4, 3, 5, 5), seed=2), random_array(3, seed=3)
    gx = batch_norm_backward(g, x, None, None, w, training=True, eps=eps)[0]
    var = x.var(axis=(0, 2, 3))
    x_hat = (x - x.mean(axis=(0, 2, 3), keepdims=True)) / np.sqrt(var + eps)[:, None, None]
    eps_term = eps / (var + eps) / np.sqrt(var + eps) * w * (g * x_hat).sum(axis=(0, 2, 3))
    size = np.abs(gx * x_hat).sum(axis=(0, 2, 3))
    np.testing.assert_allclose((gx * x_hat).sum(axis=(0, 2, 3)), eps_term, rtol=1e-6, atol=1e-12 * size.max())


def test_group_norm_extremes_are_layer_norm_and_instance_norm():
    x = random_array((3, 6, 4, 5), seed=11) * 2 + 1
    _close("G=1", group_norm(x, 1), F.layer_norm(_t(x), x.shape[1:]), F64)
    _close("G=C", group_norm(x, 6), F.instance_norm(_t(x)), F64)


def test_group_norm_of_an_image_does_not_depend_on_the_rest_of_the_batch():
    x = random_array((16, 6, 3, 3), seed=12)
    assert np.array_equal(group_norm(x[:1], 3), group_norm(x, 3)[:1])
    assert not np.allclose(batch_norm(x[:2], None, None, training=True)[:1],
                           batch_norm(x, None, None, training=True)[:1])


# ---------------------------------------------------------------------------------------------
# Modules
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("momentum", [0.1, 0.7, None])
@pytest.mark.parametrize("ours_cls,torch_cls,shape", [(BatchNorm2d, torch.nn.BatchNorm2d, (4, 3, 5, 5)),
                                                      (BatchNorm1d, torch.nn.BatchNorm1d, (16, 3)),
                                                      (BatchNorm1d, torch.nn.BatchNorm1d, (4, 3, 7))])
def test_batchnorm_module_running_stats_after_several_steps_then_eval_match_torch(ours_cls, torch_cls, shape,
                                                                                   momentum):
    ours = ours_cls(3, momentum=momentum, dtype=np.float64)
    ours.weight[:], ours.bias[:] = random_array(3, seed=1) + 2, random_array(3, seed=2)
    theirs = load_torch_params(ours, torch_cls(3, momentum=momentum))
    for k in range(5):
        batch = random_array(shape, seed=10 + k) * (1 + k) + 2 * k
        _close(f"training step {k}", ours(batch), theirs(_t(batch)), F64)
    _close("running_mean", ours.running_mean, theirs.running_mean, F64)
    _close("running_var", ours.running_var, theirs.running_var, F64)
    assert ours.num_batches_tracked == theirs.num_batches_tracked.item() == 5
    ours.eval(), theirs.eval()
    check_module(ours, theirs, random_array(shape, seed=99) * 3 + 4, **F64)


@pytest.mark.parametrize("affine,track", [(True, False), (False, True), (False, False)])
def test_batchnorm2d_options_match_torch_in_both_modes(affine, track):
    x = random_array((4, 3, 4, 4), seed=3) * 2 + 1
    ours = BatchNorm2d(3, affine=affine, track_running_stats=track, dtype=np.float64)
    theirs = torch.nn.BatchNorm2d(3, affine=affine, track_running_stats=track).double()
    for mode in ("train", "eval"):
        getattr(ours, mode)(), getattr(theirs, mode)()
        check_module(ours, theirs, x, **F64)
        assert set(ours.params) == ({"weight", "bias"} if affine else set())
    assert (ours.running_mean is None) == (theirs.running_mean is None) == (not track)


@pytest.mark.parametrize("ours,theirs", [
    (GroupNorm(3, 6), torch.nn.GroupNorm(3, 6)),
    (GroupNorm(2, 6, affine=False), torch.nn.GroupNorm(2, 6, affine=False)),
    (LayerNorm((6, 4, 5)), torch.nn.LayerNorm((6, 4, 5))),
    (LayerNorm(5, bias=False), torch.nn.LayerNorm(5, bias=False)),
    (LayerNorm(5, elementwise_affine=False), torch.nn.LayerNorm(5, elementwise_affine=False)),
    (InstanceNorm2d(6), torch.nn.InstanceNorm2d(6)),
    (InstanceNorm2d(6, affine=True), torch.nn.InstanceNorm2d(6, affine=True)),
], ids=["GN", "GN-no-affine", "LN-CHW", "LN-no-bias", "LN-no-affine", "IN", "IN-affine"])
def test_group_layer_instance_modules_match_torch(ours, theirs):
    for k, p in enumerate(ours.params.values()):
        p[...] = random_array(p.shape, seed=20 + k) + 1
    check_module(ours, theirs, random_array((3, 6, 4, 5), seed=4) * 2 + 1, **F64)


@pytest.mark.parametrize("momentum", [0.1, None])
def test_instancenorm2d_running_stats_match_torch(momentum):
    ours = InstanceNorm2d(3, momentum=momentum, track_running_stats=True, dtype=np.float64)
    theirs = torch.nn.InstanceNorm2d(3, momentum=momentum, track_running_stats=True).double()
    for k in range(3):
        batch = random_array((2, 3, 4, 4), seed=30 + k) * (1 + k) + k
        _close("training", ours(batch), theirs(_t(batch)), F64)
    _close("running_mean", ours.running_mean, theirs.running_mean, F64)
    _close("running_var", ours.running_var, theirs.running_var, F64)
    ours.eval(), theirs.eval()
    check_module(ours, theirs, random_array((2, 3, 4, 4), seed=40), **F64)


@pytest.mark.parametrize("cls,args", [(BatchNorm2d, (3,)), (BatchNorm1d, (3,)), (GroupNorm, (1, 3)),
                                      (LayerNorm, ((3, 2),)), (InstanceNorm2d, (3,))])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_modules_start_in_training_mode_with_torch_defaults_in_their_dtype(cls, args, dtype):
    ours = cls(*args, dtype=dtype)
    theirs = getattr(torch.nn, cls.__name__)(*args)
    assert ours.training and set(ours.params) == {n for n, _ in theirs.named_parameters()}
    for name, p in ours.params.items():
        assert p.dtype == dtype and np.array_equal(p, getattr(theirs, name).detach().numpy())
    for name in ("running_mean", "running_var"):
        if getattr(theirs, name, None) is not None:
            assert getattr(ours, name).dtype == dtype
            assert np.array_equal(getattr(ours, name), getattr(theirs, name).numpy())


def test_module_grads_are_keyed_by_torch_names():
    bn = BatchNorm2d(3, dtype=np.float64)
    x = random_array((2, 3, 3, 3), seed=1)
    bn.backward(np.ones_like(bn(x)))
    assert set(bn.grads) == {"weight", "bias"}
    ln = LayerNorm(3, bias=False, dtype=np.float64)
    ln.backward(np.ones_like(ln(x)))
    assert set(ln.grads) == {"weight"}


# ---------------------------------------------------------------------------------------------
# Refused inputs: where torch refuses, we refuse too, with a message naming the parameter
# ---------------------------------------------------------------------------------------------

X = random_array((2, 6, 3, 3))
ONE_PER_CHANNEL = np.ones((1, 3, 1, 1))

BOTH_REFUSE = {  # name: (our call, torch's call, what our message must mention)
    "bn one value per channel": (lambda: batch_norm(ONE_PER_CHANNEL, None, None, training=True),
                                 lambda: F.batch_norm(_t(ONE_PER_CHANNEL), None, None, training=True),
                                 "more than 1 value per channel"),
    "BatchNorm2d one value per channel": (lambda: BatchNorm2d(3, dtype=np.float64)(ONE_PER_CHANNEL),
                                          lambda: torch.nn.BatchNorm2d(3).double()(_t(ONE_PER_CHANNEL)),
                                          "more than 1 value per channel"),
    "bn eps=0 in training": (lambda: batch_norm(X, None, None, training=True, eps=0),
                             lambda: F.batch_norm(_t(X), None, None, training=True, eps=0), "eps"),
    "bn eps<0 in eval": (lambda: batch_norm(X, np.zeros(6), np.ones(6), eps=-1),
                         lambda: F.batch_norm(_t(X), _t(np.zeros(6)), _t(np.ones(6)), eps=-1), "eps"),
    "running stats of the wrong size": (lambda: batch_norm(X, np.zeros(5), np.ones(5)),
                                        lambda: F.batch_norm(_t(X), _t(np.zeros(5)), _t(np.ones(5))), "running_mean"),
    "weight of the wrong size": (lambda: batch_norm(X, None, None, np.ones(5), training=True),
                                 lambda: F.batch_norm(_t(X), None, None, _t(np.ones(5)), training=True), "weight"),
    "eval without running stats": (lambda: batch_norm(X, None, None, training=False),
                                   lambda: F.batch_norm(_t(X), None, None, training=False), "running_mean"),
    "momentum None in the function": (lambda: batch_norm(X, np.zeros(6), np.ones(6), training=True, momentum=None),
                                      lambda: F.batch_norm(_t(X), _t(np.zeros(6)), _t(np.ones(6)), training=True,
                                                           momentum=None), "momentum"),
    "BatchNorm2d channels != num_features": (lambda: BatchNorm2d(4, dtype=np.float64)(X),
                                             lambda: torch.nn.BatchNorm2d(4).double()(_t(X)), "num_features"),
    "BatchNorm2d on 3-D input": (lambda: BatchNorm2d(6, dtype=np.float64)(X[0]),
                                 lambda: torch.nn.BatchNorm2d(6).double()(_t(X[0])), "4-D"),
    "BatchNorm1d on 4-D input": (lambda: BatchNorm1d(6, dtype=np.float64)(X),
                                 lambda: torch.nn.BatchNorm1d(6).double()(_t(X)), "2-D or 3-D"),
    "dtypes differ": (lambda: BatchNorm2d(6)(X), lambda: torch.nn.BatchNorm2d(6)(_t(X)), "dtype"),
    "integer input": (lambda: batch_norm(X.astype(int), None, None, training=True),
                      lambda: F.batch_norm(torch.tensor(X.astype(int)), None, None, training=True), "float"),
    "num_groups does not divide C": (lambda: group_norm(X, 4), lambda: F.group_norm(_t(X), 4), "num_groups"),
    "GroupNorm(4, 6)": (lambda: GroupNorm(4, 6), lambda: torch.nn.GroupNorm(4, 6), "num_groups"),
    "GroupNorm(0, 6)": (lambda: GroupNorm(0, 6), lambda: torch.nn.GroupNorm(0, 6), "num_groups"),
    "group_norm one value per group": (lambda: group_norm(np.ones((1, 4, 1, 1)), 4),
                                       lambda: F.group_norm(torch.ones(1, 4, 1, 1, dtype=torch.float64), 4),
                                       "more than 1 value per group"),
    "GroupNorm channels != num_channels": (lambda: GroupNorm(2, 4, dtype=np.float64)(X),
                                           lambda: torch.nn.GroupNorm(2, 4).double()(_t(X)), "num_channels"),
    "instance_norm one spatial element": (lambda: instance_norm(np.ones((2, 3, 1, 1))),
                                          lambda: F.instance_norm(torch.ones(2, 3, 1, 1)), "spatial"),
    "instance_norm eval without stats": (lambda: instance_norm(X, use_input_stats=False),
                                         lambda: F.instance_norm(_t(X), use_input_stats=False), "running_mean"),
    "InstanceNorm2d(affine) channels != num_features": (
        lambda: InstanceNorm2d(4, affine=True, dtype=np.float64)(X),
        lambda: torch.nn.InstanceNorm2d(4, affine=True).double()(_t(X)), "num_features"),
    "layer_norm shape mismatch": (lambda: layer_norm(X, (3, 4)), lambda: F.layer_norm(_t(X), (3, 4)),
                                  "normalized_shape"),
    "layer_norm weight of the wrong shape": (lambda: layer_norm(X, (3, 3), np.ones(3)),
                                             lambda: F.layer_norm(_t(X), (3, 3), _t(np.ones(3))), "weight"),
}


@pytest.mark.parametrize("name", BOTH_REFUSE)
def test_what_torch_refuses_is_refused_with_a_message_naming_the_rule(name):
    ours, theirs, words = BOTH_REFUSE[name]
    with pytest.raises(Exception):  # noqa: B017 -- torch signals refusals with several types; any of them counts
        theirs()
    with pytest.raises((ValueError, TypeError), match=words):
        ours()


STRICTER_THAN_TORCH = {  # refused by the issue's rules or nbutils' NCHW contract, although torch accepts them
    "eps=0 for group_norm": (lambda: group_norm(X, 2, eps=0), "eps"),
    "eps<0 for layer_norm": (lambda: layer_norm(X, 3, eps=-1e-5), "eps"),
    "eps=0 for batch_norm in eval": (lambda: batch_norm(X, np.zeros(6), np.ones(6), eps=0), "eps"),
    "eps=0 for BatchNorm2d": (lambda: BatchNorm2d(3, eps=0), "eps"),
    "eps=0 for GroupNorm": (lambda: GroupNorm(1, 3, eps=0), "eps"),
    "InstanceNorm2d channels != num_features": (lambda: InstanceNorm2d(4, dtype=np.float64)(X), "num_features"),
    "InstanceNorm2d on 3-D input": (lambda: InstanceNorm2d(6, dtype=np.float64)(X[0]), "batch axis"),
    "empty input": (lambda: batch_norm(np.zeros((0, 6, 3, 3)), None, None, training=True), "empty"),
    "num_features=0": (lambda: BatchNorm2d(0), "num_features"),
    "normalized_shape=()": (lambda: LayerNorm(()), "normalized_shape"),
}


@pytest.mark.parametrize("name", STRICTER_THAN_TORCH)
def test_inputs_nbutils_refuses_although_torch_accepts_them(name):
    call, words = STRICTER_THAN_TORCH[name]
    with pytest.raises((ValueError, TypeError), match=words):
        call()


def test_backward_refuses_a_grad_output_of_the_wrong_shape():
    with pytest.raises(ValueError, match="grad_output"):
        batch_norm_backward(np.ones((2, 6, 3, 2)), X, None, None, training=True)
    with pytest.raises(ValueError, match="grad_output"):
        group_norm_backward(np.ones((2, 6)), X, 2)


def test_a_refused_training_batch_is_not_counted():
    bn = BatchNorm2d(3, dtype=np.float64)
    with pytest.raises(ValueError):
        bn(ONE_PER_CHANNEL)
    assert bn.num_batches_tracked == 0 and np.array_equal(bn.running_mean, np.zeros(3))


def test_eval_mode_accepts_a_single_value_per_channel_like_torch():
    bn = BatchNorm2d(3, dtype=np.float64).eval()
    _close("eval, 1x1", bn(ONE_PER_CHANNEL), torch.nn.BatchNorm2d(3).double().eval()(_t(ONE_PER_CHANNEL)), F64)
