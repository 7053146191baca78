"""Chapter 7 against torch: Sequential, state_dict loading, CrossEntropyLoss, SGD, and a whole CNN trained in lockstep.

Property tests draw from tests/strategies.py and are derandomized, so every run sees the same examples. Everything is
compared in float64 with explicit tolerances; float32 checks only that the dtype is kept.
"""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from strategies import float_dtypes, random_array, reproducible, seeds
from torch import nn

from nbutils.check import gradcheck
from nbutils.layers.activations import ReLU
from nbutils.layers.container import Sequential, load_state_dict, state_dict
from nbutils.layers.conv import Conv2d
from nbutils.layers.dropout import Dropout
from nbutils.layers.linear import Flatten, Linear
from nbutils.layers.loss import CrossEntropyLoss, cross_entropy, cross_entropy_backward
from nbutils.layers.norm import BatchNorm2d
from nbutils.layers.pooling import AdaptiveAvgPool2d, MaxPool2d
from nbutils.optim import SGD

TOL = dict(rtol=1e-9, atol=1e-12)


def _close(ours, theirs, name, rtol=1e-9, atol=1e-12):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=name)


# ---------------------------------------------------------------------------------------------
# Strategies: small CNN stacks that both libraries accept
# ---------------------------------------------------------------------------------------------


@st.composite
def cnn_specs(draw):
    """(input shape, layer specs, nest): 1-2 conv blocks (conv [bn] [relu] [maxpool]), then a GAP or flatten head."""
    N, C, H = draw(st.integers(2, 3)), draw(st.integers(1, 3)), draw(st.integers(3, 7))
    specs, c, h = [], C, H
    for _ in range(draw(st.integers(1, 2))):
        out, k = draw(st.integers(1, 4)), draw(st.sampled_from([1, 3]))
        specs.append(("conv", c, out, k, k // 2, draw(st.booleans())))
        c = out
        if draw(st.booleans()):
            specs.append(("bn", c))
        if draw(st.booleans()):
            specs.append(("relu",))
        if h >= 4 and draw(st.booleans()):
            specs.append(("maxpool", 2))
            h //= 2
    if draw(st.booleans()):
        specs += [("gap",), ("flatten",), ("linear", c, draw(st.integers(1, 5)))]
    else:
        specs += [("flatten",), ("linear", c * h * h, draw(st.integers(1, 5)))]
    return (N, C, H, H), specs, draw(st.booleans())


def _ours(spec, dtype=np.float64):
    kind, *a = spec
    return {"conv": lambda: Conv2d(a[0], a[1], a[2], padding=a[3], bias=a[4], rng=0, dtype=dtype),
            "bn": lambda: BatchNorm2d(a[0], dtype=dtype), "relu": ReLU, "maxpool": lambda: MaxPool2d(a[0]),
            "gap": lambda: AdaptiveAvgPool2d(1), "flatten": Flatten,
            "linear": lambda: Linear(a[0], a[1], rng=0, dtype=dtype)}[kind]()


def _theirs(spec):
    kind, *a = spec
    return {"conv": lambda: nn.Conv2d(a[0], a[1], a[2], padding=a[3], bias=a[4]), "bn": lambda: nn.BatchNorm2d(a[0]),
            "relu": nn.ReLU, "maxpool": lambda: nn.MaxPool2d(a[0]), "gap": lambda: nn.AdaptiveAvgPool2d(1),
            "flatten": nn.Flatten, "linear": lambda: nn.Linear(a[0], a[1])}[kind]()


def build_pair(specs, nest=False, dtype=np.float64):
    """The same stack in nbutils and torch (torch's default init, copied into ours). nest: the blocks in an inner
    Sequential, so that keys read "0.0.weight"."""
    ours, theirs = [_ours(s, dtype) for s in specs], [_theirs(s) for s in specs]
    if nest:
        head = 3 if specs[-3][0] == "gap" else 2
        ours = [Sequential(*ours[:-head]), *ours[-head:]]
        theirs = [nn.Sequential(*theirs[:-head]), *theirs[-head:]]
    ours, theirs = Sequential(*ours), nn.Sequential(*theirs).double()
    load_state_dict(ours, theirs.state_dict())
    return ours, theirs


# ---------------------------------------------------------------------------------------------
# Sequential
# ---------------------------------------------------------------------------------------------


@reproducible(60)
@given(spec=cnn_specs(), training=st.booleans(), seed=seeds)
def test_sequential_matches_torch_forward_input_grad_and_every_parameter_grad(spec, training, seed):
    shape, specs, nest = spec
    ours, theirs = build_pair(specs, nest)
    with torch.no_grad():  # move torch's running statistics away from 0 and 1, then copy them as well
        theirs(torch.tensor(random_array(shape, seed=seed + 7) * 2 + 1))
    load_state_dict(ours, theirs.state_dict())
    ours.train(training), theirs.train(training)
    x = random_array(shape, seed=seed)
    xt = torch.tensor(x, requires_grad=True)
    yt = theirs(xt)
    _close(ours(x), yt, "forward")
    g = random_array(tuple(yt.shape), seed=seed + 1)
    yt.backward(torch.tensor(g))
    _close(ours.backward(g), xt.grad, "grad input", atol=1e-10)
    named = dict(theirs.named_parameters())
    assert list(ours.grads) == list(named), "gradient keys must be torch's parameter names, in order"
    for key, grad in ours.grads.items():
        _close(grad, named[key].grad, f"grad {key}", atol=1e-10)
    for key, value in state_dict(ours).items():  # in training, the running statistics move alike
        _close(value, theirs.state_dict()[key], f"state {key}")


@reproducible(30)
@given(spec=cnn_specs())
def test_params_and_state_dict_keys_are_torchs_in_torchs_order(spec):
    _, specs, nest = spec
    ours, theirs = build_pair(specs, nest)
    assert list(ours.params) == [k for k, _ in theirs.named_parameters()]
    assert list(state_dict(ours)) == list(theirs.state_dict())


def test_params_are_the_layers_arrays_so_updates_reach_the_layers():
    model = Sequential(Linear(3, 2, rng=0), ReLU(), Linear(2, 1, rng=1))
    model.params["2.bias"][...] = 5.0
    assert model[2].bias[0] == 5.0


def test_train_and_eval_reach_every_layer_of_nested_sequentials_and_return_self():
    inner = Sequential(BatchNorm2d(2), Dropout(0.5, rng=0))
    model = Sequential(Conv2d(1, 2, 3, rng=0), inner, ReLU())
    assert model.eval() is model
    assert not any(m.training for m in [model, inner, *inner, *model])
    assert model.train() is model
    assert all(m.training for m in [model, inner, *inner, *model])


def test_backward_runs_the_layers_in_reverse_order():
    calls = []

    class Tap(ReLU):
        def __init__(self, name):
            super().__init__()
            self.name = name

        def backward(self, grad_out):
            calls.append(self.name)
            return super().backward(grad_out)

    model = Sequential(Tap("a"), Tap("b"), Tap("c"))
    model(np.ones(3))
    model.backward(np.ones(3))
    assert calls == ["c", "b", "a"]


def test_a_shape_error_names_the_layer_that_failed_and_keeps_the_layers_message():
    model = Sequential(Conv2d(1, 4, 3, padding=1, rng=0), ReLU(), AdaptiveAvgPool2d(1), Flatten(), Linear(8, 10, rng=0))
    with pytest.raises(ValueError, match=r"layer 4 \(Linear\) forward, on shape \(2, 4\): in_features mismatch.*"
                                         r"4 features.*in_features=8"):
        model(np.zeros((2, 1, 8, 8), np.float32))


def test_a_dtype_error_is_a_type_error_naming_the_layer():
    model = Sequential(Conv2d(1, 2, 3, rng=0, dtype=np.float32), ReLU())
    with pytest.raises(TypeError, match=r"layer 0 \(Conv2d\) forward.*same dtype"):
        model(np.zeros((1, 1, 5, 5), np.float64))
    with pytest.raises(ValueError, match=r"layer 0 \(Conv2d\) forward.*4-D"):  # torch refuses a 2-D input too
        model(np.zeros((5, 5), np.float32))


def test_a_backward_error_names_the_layer():
    model = Sequential(Linear(3, 2, rng=0), ReLU(), Flatten())
    model(np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match=r"layer 2 \(Flatten\) backward, on shape \(4, 5\)"):
        model.backward(np.zeros((4, 5), np.float32))


def test_nested_errors_name_every_level():
    model = Sequential(Sequential(Linear(3, 2, rng=0), Linear(4, 1, rng=0)))
    with pytest.raises(ValueError, match=r"layer 0 \(Sequential\).*layer 1 \(Linear\)"):
        model(np.zeros((1, 3), np.float32))


def test_sequential_refuses_what_is_not_a_layer():
    with pytest.raises(TypeError, match="argument 1 is a Linear"):
        Sequential(ReLU(), nn.Linear(2, 2))


def test_zero_grad_clears_every_layer_and_grads_cannot_be_set_on_the_container():
    model = Sequential(Linear(3, 2, rng=0), ReLU(), Linear(2, 1, rng=0))
    model(np.ones((4, 3), np.float32))
    model.backward(np.ones((4, 1), np.float32))
    assert set(model.grads) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    model.zero_grad()
    assert model.grads == {} and model[0].grads == {}
    with pytest.raises(ValueError, match="can only be cleared"):
        model.grads = {"0.weight": np.zeros((2, 3))}


def test_indexing_slicing_len_and_repr_follow_torch():
    layers = [Linear(3, 2, rng=0), ReLU(), Linear(2, 1, rng=0)]
    model = Sequential(*layers)
    assert len(model) == 3 and model[-1] is layers[2] and list(model) == layers
    head = model[1:]
    assert isinstance(head, Sequential) and list(head) == layers[1:]
    text = repr(Sequential(Sequential(ReLU()), Flatten()))
    assert text.splitlines()[:3] == ["Sequential(", "  (0): Sequential(", "    (0): ReLU()"]


# ---------------------------------------------------------------------------------------------
# state_dict and load_state_dict
# ---------------------------------------------------------------------------------------------


def _small_pair():
    torch.manual_seed(0)
    return build_pair([("conv", 1, 2, 3, 1, True), ("bn", 2), ("relu",), ("gap",), ("flatten",), ("linear", 2, 3)])


def test_load_state_dict_copies_parameters_and_bn_buffers_in_place_keeping_our_dtype():
    torch.manual_seed(1)
    theirs = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    theirs(torch.randn(4, 1, 5, 5))  # one training batch: running statistics and num_batches_tracked move
    ours = Sequential(Conv2d(1, 2, 3, rng=0), BatchNorm2d(2))
    weight = ours[0].weight
    load_state_dict(ours, theirs.state_dict())
    assert ours[0].weight is weight and weight.dtype == np.float32  # in place: optimizers keep their references
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(state_dict(ours)[key], value.numpy(), rtol=1e-7, err_msg=key)
    assert ours[1].num_batches_tracked == 1 and isinstance(ours[1].num_batches_tracked, int)


def test_state_dict_round_trips_into_torch():
    ours, theirs = _small_pair()
    for p in ours.params.values():
        p += 0.5  # now ours differs from torch's init
    fresh = copy.deepcopy(theirs)
    fresh.load_state_dict({k: torch.from_numpy(v) for k, v in state_dict(ours).items()})
    x = random_array((2, 1, 5, 5), seed=3)
    _close(ours.eval()(x), fresh.eval()(torch.tensor(x)), "outputs after the round trip")


def test_state_dict_returns_copies():
    ours, _ = _small_pair()
    saved = state_dict(ours)
    saved["0.weight"][...] = 9.0
    assert not np.any(ours[0].weight == 9.0)


def test_load_state_dict_refuses_missing_and_unexpected_keys_and_copies_nothing():
    ours, theirs = _small_pair()
    before = state_dict(ours)
    sd = {k: v + 1 for k, v in theirs.state_dict().items() if k != "1.running_var"}
    sd["7.weight"] = torch.zeros(1)
    with pytest.raises(ValueError, match=r"missing keys \['1.running_var'\].*unexpected keys \['7.weight'\]"):
        load_state_dict(ours, sd)
    assert all(np.array_equal(before[k], v) for k, v in state_dict(ours).items())
    missing, unexpected = load_state_dict(ours, sd, strict=False)
    assert (missing, unexpected) == (["1.running_var"], ["7.weight"])


def test_load_state_dict_refuses_a_size_mismatch_naming_the_key_and_both_shapes():
    ours, _ = _small_pair()
    sd = state_dict(ours)
    sd["5.weight"] = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"size mismatch for '5.weight'.*\(3, 4\).*\(3, 2\)"):
        load_state_dict(ours, sd)


# ---------------------------------------------------------------------------------------------
# Cross-entropy
# ---------------------------------------------------------------------------------------------


@st.composite
def ce_cases(draw):
    """(logits (N, C), int64 targets, ignore_index): some targets ignored, logits from tiny to saturating."""
    N, C, seed = draw(st.integers(1, 6)), draw(st.integers(1, 7)), draw(seeds)
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((N, C)) * draw(st.sampled_from([0.01, 1.0, 30.0, 1000.0]))
    target = rng.integers(0, C, N)
    ignore_index = draw(st.sampled_from([-100, 0, C + 2]))
    if draw(st.booleans()):
        target[rng.random(N) < 0.3] = ignore_index
    return logits, target.astype(np.int64), ignore_index


@reproducible(120)
@given(case=ce_cases(), reduction=st.sampled_from(["mean", "sum"]), grad_out=st.sampled_from([1.0, -2.5]))
def test_cross_entropy_matches_torch_forward_and_backward(case, reduction, grad_out):
    logits, target, ignore_index = case
    xt = torch.tensor(logits, requires_grad=True)
    lt = F.cross_entropy(xt, torch.from_numpy(target), ignore_index=ignore_index, reduction=reduction)
    lt.backward(torch.tensor(grad_out, dtype=torch.float64))
    loss = cross_entropy(logits, target, ignore_index, reduction)
    assert isinstance(loss, float)
    if np.isnan(lt.item()):
        assert np.isnan(loss)  # every target ignored: 0/0, as torch
    else:
        np.testing.assert_allclose(loss, lt.item(), **TOL)
    _close(cross_entropy_backward(logits, target, ignore_index, reduction, grad_out), xt.grad, "grad", **TOL)


@reproducible(40)
@given(case=ce_cases(), dtype=float_dtypes)
def test_cross_entropy_module_matches_the_functions_and_keeps_the_dtype(case, dtype):
    logits, target, ignore_index = case
    logits = logits.astype(dtype)
    loss_fn = CrossEntropyLoss(ignore_index=ignore_index)
    loss = loss_fn(logits, target)
    assert isinstance(loss, float)
    np.testing.assert_equal(loss, cross_entropy(logits, target, ignore_index))
    grad = loss_fn.backward()
    assert grad.dtype == dtype and grad.shape == logits.shape
    np.testing.assert_array_equal(grad, cross_entropy_backward(logits, target, ignore_index))
    loss_fn(logits, target)  # each backward needs its own forward, as in torch
    np.testing.assert_allclose(loss_fn.backward(np.array(3.0)), 3 * grad, rtol=1e-6, atol=1e-30)  # 0-d, as torch


def test_cross_entropy_float32_is_close_to_torch_float32():
    logits, target = random_array((8, 10), np.float32, seed=1) * 5, np.arange(8) % 10
    xt = torch.tensor(logits, requires_grad=True)
    lt = F.cross_entropy(xt, torch.from_numpy(target))
    lt.backward()
    np.testing.assert_allclose(cross_entropy(logits, target), lt.item(), rtol=1e-6)
    _close(cross_entropy_backward(logits, target), xt.grad, "grad float32", rtol=1e-5, atol=1e-7)


def test_uint8_targets_work_as_in_torch():
    logits, target = random_array((4, 3), seed=2), np.array([0, 2, 1, 2], np.uint8)
    expected = F.cross_entropy(torch.tensor(logits), torch.from_numpy(target)).item()
    np.testing.assert_allclose(cross_entropy(logits, target), expected, **TOL)


@pytest.mark.parametrize("target,error,match", [
    (np.array([0, 1, 2], np.int32), TypeError, r"target must hold class indices as int64.*int32"),
    (np.array([0.0, 1.0, 2.0]), TypeError, r"int64.*float64 \(class probabilities are not supported\)"),
    (np.array([True, False, True]), TypeError, "int64"),
    ([0, 1, 2], TypeError, "target must be a NumPy array"),
    (np.array([0, 1, 4]), ValueError, r"target 4 is out of range: class indices must be in 0\.\.3"),
    (np.array([0, -1, 2]), ValueError, "target -1 is out of range"),
    (np.array([0, 1]), ValueError, r"target must have shape \(3,\)"),
    (np.array([[0, 1, 2]]), ValueError, r"target must have shape \(3,\)"),
], ids=["int32", "float", "bool", "list", "too-large", "negative", "short", "2-d"])
def test_cross_entropy_refuses_targets_torch_refuses(target, error, match):
    logits = random_array((3, 4), seed=0)
    if isinstance(target, np.ndarray):  # torch refuses too (RuntimeError, IndexError or ValueError)
        with pytest.raises((RuntimeError, IndexError, ValueError)):
            F.cross_entropy(torch.tensor(logits), torch.from_numpy(target))
    with pytest.raises(error, match=match):
        cross_entropy(logits, target)
    with pytest.raises(error, match=match):
        cross_entropy_backward(logits, target)


def test_cross_entropy_refuses_bad_logits_and_options():
    target = np.array([0, 1])
    with pytest.raises(TypeError, match="input must be float32 or float64"):
        cross_entropy(np.zeros((2, 3), np.int64), target)
    with pytest.raises(ValueError, match=r"input must be 2-D \(N, C\).*input\[None\]"):
        cross_entropy(np.zeros(3), np.array(1))
    with pytest.raises(ValueError, match="reduction must be one of"):
        CrossEntropyLoss(reduction="avg")
    with pytest.raises(TypeError, match="ignore_index must be an int"):
        CrossEntropyLoss(ignore_index=1.5)
    with pytest.raises(TypeError, match="grad_output must be a number"):
        cross_entropy_backward(np.zeros((2, 3)), target, grad_output=np.ones(2))


def test_cross_entropy_of_extreme_logits_is_finite_and_exact():
    logits = np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 0.0]])
    target = np.array([2, 1])
    assert cross_entropy(logits, target) == pytest.approx(1000.0)  # (2000 + 0) / 2, no overflow
    assert np.isfinite(cross_entropy_backward(logits, target)).all()


# ---------------------------------------------------------------------------------------------
# SGD
# ---------------------------------------------------------------------------------------------


@st.composite
def sgd_settings(draw):
    momentum = draw(st.sampled_from([0.0, 0.5, 0.9]))
    nesterov = momentum > 0 and draw(st.booleans())
    return dict(lr=draw(st.sampled_from([0.01, 0.1, 1.0])), momentum=momentum,
                dampening=0.0 if nesterov else draw(st.sampled_from([0.0, 0.3])),
                weight_decay=draw(st.sampled_from([0.0, 1e-3, 0.1])), nesterov=nesterov)


@reproducible(60)
@given(settings=sgd_settings(), steps=st.integers(1, 4), seed=seeds)
def test_sgd_matches_torch_step_after_step(settings, steps, seed):
    ours = Sequential(Linear(3, 2, rng=seed % 1000, dtype=np.float64), ReLU(), Linear(2, 2, bias=False, rng=1,
                                                                                          dtype=np.float64))
    params = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in ours.params.items()}
    opt, topt = SGD(ours, **settings), torch.optim.SGD(params.values(), **settings)
    rng = np.random.default_rng(seed)
    for step in range(steps):
        grads = {k: rng.standard_normal(p.shape) for k, p in ours.params.items()}
        for k, g in grads.items():
            index, name = k.split(".")
            ours[int(index)].grads[name] = g
            params[k].grad = torch.tensor(g)
        opt.step()
        topt.step()
        for k, p in ours.params.items():
            _close(p, params[k], f"{k} after step {step + 1}", rtol=1e-12, atol=1e-14)  # torch may fuse a*b+c
    if settings["momentum"]:
        for k, t in params.items():
            _close(opt.state[0, k], topt.state[t]["momentum_buffer"], f"momentum buffer {k}", rtol=1e-12, atol=1e-14)


def test_sgd_keeps_float32_and_updates_the_layers_arrays_in_place():
    layer = Linear(3, 2, rng=0)
    weight = layer.weight.copy()
    opt = SGD(layer, lr=0.5, momentum=0.9, weight_decay=0.1)
    layer.forward(np.ones((4, 3), np.float32))
    layer.backward(np.ones((4, 2), np.float32))
    opt.step()
    assert layer.weight.dtype == np.float32 and opt.state[0, "weight"].dtype == np.float32
    np.testing.assert_allclose(layer.weight, weight - 0.5 * (4 + 0.1 * weight), rtol=1e-6)


def test_sgd_skips_parameters_without_gradients_as_torch_skips_none():
    a, b = Linear(2, 2, rng=0), Linear(2, 2, rng=1)
    before = b.weight.copy()
    opt = SGD([a, b], lr=0.1, momentum=0.9)
    a.forward(np.ones((1, 2), np.float32))
    a.backward(np.ones((1, 2), np.float32))
    opt.step()
    assert np.array_equal(b.weight, before) and (1, "weight") not in opt.state
    opt.zero_grad()
    assert a.grads == {} and b.grads == {}


@pytest.mark.parametrize("kwargs,match", [
    (dict(lr=-0.1), "lr must be at least 0"),
    (dict(lr=0.1, momentum=-0.5), "momentum must be at least 0"),
    (dict(lr=0.1, weight_decay=-1e-4), "weight_decay must be at least 0"),
    (dict(lr=0.1, nesterov=True), "nesterov=True needs a momentum above 0 and dampening=0"),
    (dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "nesterov=True needs"),
], ids=["lr", "momentum", "weight-decay", "nesterov-no-momentum", "nesterov-dampening"])
def test_sgd_refuses_what_torch_refuses(kwargs, match):
    with pytest.raises(ValueError):
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError, match=match):
        SGD(Linear(2, 2, rng=0), **kwargs)


def test_sgd_refuses_empty_and_foreign_parameters_and_says_it_takes_modules():
    with pytest.raises(ValueError, match="no parameters"):
        SGD(Sequential(ReLU(), Flatten()), lr=0.1)
    layer = Linear(2, 2, rng=0)
    with pytest.raises(TypeError, match="SGD takes modules, not their params"):
        SGD(layer.params, lr=0.1)
    with pytest.raises(TypeError, match=r"modules\[0\] is a Linear"):
        SGD([nn.Linear(2, 2)], lr=0.1)
    with pytest.raises(TypeError, match="lr must be a number"):
        SGD(layer, lr="0.1")


# ---------------------------------------------------------------------------------------------
# The whole CNN: gradient check and lockstep training
# ---------------------------------------------------------------------------------------------


def capstone_pair(c1=4, c2=6, p=0.25, share_masks=True):
    """The chapter's network, Conv-BN-ReLU-MaxPool-Conv-BN-ReLU-Dropout-GAP-Linear, in both libraries (float64).
    share_masks: torch's Dropout uses our mask (a forward hook), so both drop the same units."""
    torch.manual_seed(0)
    theirs = nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1, bias=False), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1, bias=False), nn.BatchNorm2d(c2), nn.ReLU(), nn.Dropout(p),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c2, 10)).double()
    f64 = dict(dtype=np.float64)
    ours = Sequential(
        Conv2d(1, c1, 3, padding=1, bias=False, **f64), BatchNorm2d(c1, **f64), ReLU(), MaxPool2d(2),
        Conv2d(c1, c2, 3, padding=1, bias=False, **f64), BatchNorm2d(c2, **f64), ReLU(), Dropout(p, rng=0),
        AdaptiveAvgPool2d(1), Flatten(), Linear(c2, 10, **f64))
    load_state_dict(ours, theirs.state_dict())
    if share_masks:
        theirs[7].register_forward_hook(shared_mask(ours[7]))
    return ours, theirs


def shared_mask(dropout):
    """A forward hook for torch's Dropout: replace its output by input · mask / (1 - p) with OUR layer's last mask,
    the mask scaled in the input's dtype as torch scales its own."""
    def hook(module, inputs, output):
        if not module.training or dropout.mask is None:  # eval mode or p = 0: dropout is the identity
            return output
        x = inputs[0]
        return x * (torch.from_numpy(dropout.mask).to(x.dtype) / (1 - dropout.p))
    return hook


def _digits(n):
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images[:n, None] / 16.0 - 0.3) / 0.4
    return x, digits.target[:n].astype(np.int64)


def test_numpy_cnn_trains_step_for_step_with_torch():
    """Two epochs of 8 batches with momentum, weight decay and dropout: the losses agree at every step, and so do
    the final weights and BN running statistics; in eval mode the two models then predict alike."""
    ours, theirs = capstone_pair()
    x, y = _digits(128)
    kwargs = dict(lr=0.1, momentum=0.9, weight_decay=5e-4)
    opt, topt = SGD(ours, **kwargs), torch.optim.SGD(theirs.parameters(), **kwargs)
    loss_fn, rng, gaps = CrossEntropyLoss(), np.random.default_rng(0), []
    for _ in range(2):
        for idx in rng.permutation(len(x)).reshape(8, 16):
            loss = loss_fn(ours(x[idx]), y[idx])
            opt.zero_grad()
            ours.backward(loss_fn.backward())
            opt.step()
            topt.zero_grad()
            tloss = F.cross_entropy(theirs(torch.from_numpy(x[idx])), torch.from_numpy(y[idx]))
            tloss.backward()
            topt.step()
            gaps.append(abs(loss - tloss.item()))
    assert max(gaps) < 1e-10, f"largest loss difference {max(gaps):.1e}"
    for key, value in theirs.state_dict().items():
        _close(state_dict(ours)[key], value, key, rtol=1e-8, atol=1e-10)
    ours.eval(), theirs.eval()
    _close(ours(x), theirs(torch.from_numpy(x)), "eval-mode logits", rtol=1e-8, atol=1e-10)


def test_without_shared_masks_the_two_runs_differ():
    """The shared mask is what makes the lockstep test pass: torch's own dropout gives another loss."""
    ours, theirs = capstone_pair(share_masks=False)
    x, y = _digits(32)
    torch.manual_seed(0)
    gap = abs(CrossEntropyLoss()(ours(x), y) - F.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(y)).item())
    assert gap > 1e-4


def test_gradient_of_the_whole_network_matches_central_differences():
    ours, _ = capstone_pair(c1=2, c2=3)
    x, y = random_array((3, 1, 8, 8), seed=4), np.array([1, 7, 3])  # noise: no exact ties in max pooling
    loss_fn, names = CrossEntropyLoss(), list(ours.params)

    def loss(x, *values):
        for p, v in zip(ours.params.values(), values):
            p[...] = v
        ours[7].rng = np.random.default_rng(1)  # the same dropout mask on every call
        return loss_fn(ours(x), y)

    def grads(g, x, *values):
        loss(x, *values)
        gx = ours.backward(loss_fn.backward(g))
        return [gx, *(ours.grads[n] for n in names)]

    inputs = [x, *(p.copy() for p in ours.params.values())]
    errors = gradcheck(loss, grads, inputs, names=["input", *names], rtol=1e-5, atol=1e-8)
    assert set(errors) == {"input", *names}


# ---------------------------------------------------------------------------------------------
# The chapter's exercises state facts about torch: check them against torch
# ---------------------------------------------------------------------------------------------


def test_the_label_smoothing_exercise_expects_the_gradient_torch_computes():
    from nbutils.exercises import EXERCISES

    exercise = EXERCISES["label_smoothing_grad"]
    for (logits, target, smoothing), _ in exercise.cases:
        z = torch.tensor(logits, requires_grad=True)
        F.cross_entropy(z, torch.from_numpy(target), label_smoothing=smoothing).backward()
        _close(exercise.solution(logits, target, smoothing), z.grad, f"label smoothing {smoothing}")


def _torch_linear_classifier(weight, x, target, lr, steps):
    w = torch.tensor(weight, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(torch.from_numpy(x) @ w.T, torch.from_numpy(target)).backward()
        opt.step()
    return w


def test_the_training_loop_exercise_agrees_with_torch_and_its_bug_only_after_the_first_step():
    from nbutils.exercises import EXERCISES

    exercise = EXERCISES["train_linear_classifier"]
    for args, _ in exercise.cases:
        _close(exercise.solution(*args), _torch_linear_classifier(*args), f"fixed, {args[-1]} steps")
        weight, x, target, lr, _ = args
        _close(exercise.bug(weight, x, target, lr, 1), _torch_linear_classifier(weight, x, target, lr, 1), "1 step")
        assert not np.allclose(exercise.bug(weight, x, target, lr, 3),
                               _torch_linear_classifier(weight, x, target, lr, 3).detach().numpy(), rtol=1e-6)
