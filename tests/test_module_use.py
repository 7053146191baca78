"""Modules under real use, against torch in float64: a module used twice, gradients that accumulate, tied weights,
arrays changed in place between forward and backward, and backward without a matching forward."""

import numpy as np
import pytest
import torch
from torch import nn

from nbutils.layers import (
    BatchNorm2d,
    Conv2d,
    CrossEntropyLoss,
    Dropout,
    LeakyReLU,
    Linear,
    LogSoftmax,
    MaxPool2d,
    ReLU,
    Sequential,
    Sigmoid,
)
from nbutils.layers.base import MAX_CONTEXTS
from nbutils.layers.dropout import dropout_mask
from nbutils.optim import SGD

RNG = np.random.default_rng(0)


def _twin_conv(conv):
    t = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, padding=conv.padding).double()
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(conv.weight))
        t.bias.copy_(torch.from_numpy(conv.bias))
    return t


def _twin_linear(lin):
    t = nn.Linear(lin.in_features, lin.out_features).double()
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(lin.weight))
        t.bias.copy_(torch.from_numpy(lin.bias))
    return t


REUSED = {
    "ReLU": (ReLU, nn.ReLU),
    "Sigmoid": (Sigmoid, nn.Sigmoid),
    "LeakyReLU": (lambda: LeakyReLU(0.2), lambda: nn.LeakyReLU(0.2)),
    "MaxPool2d": (lambda: MaxPool2d(3, stride=1, padding=1), lambda: nn.MaxPool2d(3, stride=1, padding=1)),
    "BatchNorm2d": (lambda: BatchNorm2d(3, dtype=np.float64), lambda: nn.BatchNorm2d(3).double()),
}


@pytest.mark.parametrize("name", REUSED)
def test_a_module_used_twice_in_sequential_gets_torchs_gradients(name):
    ours_cls, torch_cls = REUSED[name]
    conv1 = Conv2d(3, 3, 3, padding=1, dtype=np.float64, rng=1)
    conv2 = Conv2d(3, 3, 3, padding=1, dtype=np.float64, rng=2)
    act, act_t = ours_cls(), torch_cls()
    x, g = RNG.standard_normal((4, 3, 6, 6)), RNG.standard_normal((4, 3, 6, 6))
    net = Sequential(conv1, act, conv2, act)
    xt = torch.tensor(x, requires_grad=True)
    t1, t2 = _twin_conv(conv1), _twin_conv(conv2)
    nn.Sequential(t1, act_t, t2, act_t)(xt).backward(torch.from_numpy(g))
    net(x)
    grad_x = net.backward(g)
    np.testing.assert_allclose(grad_x, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for ours, theirs in ((conv1, t1), (conv2, t2)):
        np.testing.assert_allclose(ours.grads["weight"], theirs.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
    if name == "BatchNorm2d":  # the weight gradient of both uses, and the running statistics updated twice
        np.testing.assert_allclose(act.grads["weight"], act_t.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(act.running_var, act_t.running_var.numpy(), rtol=1e-12)
        assert act.num_batches_tracked == act_t.num_batches_tracked.item() == 2


def test_dropout_used_twice_back_propagates_each_use_through_its_own_mask():
    lin1, lin2 = Linear(5, 5, dtype=np.float64, rng=1), Linear(5, 5, dtype=np.float64, rng=2)
    drop = Dropout(0.4, rng=7)
    x, g = RNG.standard_normal((6, 5)), RNG.standard_normal((6, 5))
    net = Sequential(lin1, drop, lin2, drop)
    net(x)
    grad_x = net.backward(g)
    same = np.random.default_rng(7)  # the two masks the layer drew, in order
    masks = [torch.from_numpy(dropout_mask((6, 5), 0.4, same) / 0.6) for _ in range(2)]
    xt = torch.tensor(x, requires_grad=True)
    t1, t2 = _twin_linear(lin1), _twin_linear(lin2)
    (t2(t1(xt) * masks[0]) * masks[1]).backward(torch.from_numpy(g))
    np.testing.assert_allclose(grad_x, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(lin1.grads["weight"], t1.weight.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_a_linear_used_twice_trains_like_torch():
    lin = Linear(4, 4, dtype=np.float64, rng=3)
    net, t = Sequential(lin, ReLU(), lin), _twin_linear(lin)
    x, target = RNG.standard_normal((8, 4)), RNG.integers(0, 4, 8)
    loss_fn, opt = CrossEntropyLoss(), SGD(net, lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(t.parameters(), lr=0.1, momentum=0.9)
    for _ in range(3):
        opt.zero_grad()
        loss_fn(net(x), target)
        net.backward(loss_fn.backward())
        opt.step()
        topt.zero_grad()
        nn.functional.cross_entropy(t(torch.relu(t(torch.from_numpy(x)))), torch.from_numpy(target)).backward()
        topt.step()
    np.testing.assert_allclose(lin.weight, t.weight.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_tied_weights_get_the_sum_of_both_gradients_like_torch():
    a, b = Linear(4, 4, dtype=np.float64, rng=4), Linear(4, 4, dtype=np.float64, rng=5)
    b.weight = a.weight
    ta, tb = _twin_linear(a), _twin_linear(b)
    tb.weight = ta.weight
    x, g = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))
    net = Sequential(a, Sigmoid(), b)
    opt, topt = SGD(net, lr=0.5), torch.optim.SGD(nn.Sequential(ta, nn.Sigmoid(), tb).parameters(), lr=0.5)
    net(x)
    net.backward(g)
    opt.step()
    tb(torch.sigmoid(ta(torch.from_numpy(x)))).backward(torch.from_numpy(g))
    topt.step()
    np.testing.assert_allclose(a.weight, ta.weight.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert b.weight is a.weight


def test_gradients_accumulate_over_micro_batches_like_one_large_batch():
    conv = Conv2d(2, 3, 3, dtype=np.float64, rng=6)
    bn_free = Sequential(conv, ReLU(), Conv2d(3, 2, 3, dtype=np.float64, rng=7))
    x, g = RNG.standard_normal((8, 2, 7, 7)), RNG.standard_normal((8, 2, 3, 3))
    bn_free(x)
    bn_free.backward(g)
    whole = {k: v.copy() for k, v in bn_free.grads.items()}
    bn_free.zero_grad()
    for half in (slice(0, 4), slice(4, 8)):
        bn_free(x[half])
        bn_free.backward(g[half])
    for k, v in whole.items():
        np.testing.assert_allclose(bn_free.grads[k], v, rtol=1e-12, atol=1e-12)
    bn_free.zero_grad()
    assert bn_free.grads == {}


@pytest.mark.parametrize("module", [ReLU(), Linear(3, 3), Sequential(Linear(3, 3), ReLU())], ids=repr)
def test_backward_without_a_matching_forward_raises_a_runtime_error_naming_the_module(module):
    name = type(module).__name__
    with pytest.raises(RuntimeError, match=f"{name}.backward has no forward"):
        module.backward(np.ones((2, 3), np.float32))
    module(np.ones((2, 3), np.float32))
    module.backward(np.ones((2, 3), np.float32))
    with pytest.raises(RuntimeError, match="call forward first"):
        module.backward(np.ones((2, 3), np.float32))


def test_sequential_names_the_layer_whose_backward_failed():
    lin, act = Linear(3, 3), ReLU()
    net = Sequential(lin, act)
    net(np.ones((2, 3), np.float32))
    lin._contexts.clear()  # as if lin's forward had been used up elsewhere
    with pytest.raises(RuntimeError, match=r"layer 0 \(Linear\) backward"):
        net.backward(np.ones((2, 3), np.float32))


def test_an_inplace_layer_that_overwrites_a_saved_output_raises_as_torch_does():
    x = RNG.standard_normal((2, 5))
    xt = torch.tensor(x, requires_grad=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        nn.LeakyReLU(0.1, inplace=True)(nn.LogSoftmax(dim=1)(xt)).sum().backward()
    net = Sequential(LogSoftmax(dim=1), LeakyReLU(0.1, inplace=True))
    net(x)
    with pytest.raises(RuntimeError, match=r"layer 0 \(LogSoftmax\).*changed in place"):
        net.backward(np.ones((2, 5)))


def test_a_reused_input_buffer_raises_instead_of_a_wrong_gradient():
    bn = BatchNorm2d(2, dtype=np.float64)
    buffer = RNG.standard_normal((4, 2, 3, 3))
    bn(buffer)
    buffer[...] = RNG.standard_normal(buffer.shape)  # a data loader refills its buffer
    with pytest.raises(RuntimeError, match="changed in place"):
        bn.backward(np.ones_like(buffer))


def test_evaluation_forwards_do_not_pile_up_saved_contexts():
    net, alone = Sequential(Linear(3, 3), ReLU()), Sigmoid()
    for _ in range(40):
        net(np.ones((2, 3), np.float32))
        alone(np.ones((2, 3), np.float32))
    assert all(len(m._contexts) == 1 for m in [net, *net])
    assert len(alone._contexts) == MAX_CONTEXTS


def test_a_module_reused_in_hand_chained_calls_gets_torchs_gradients():
    conv, act = Conv2d(3, 3, 3, padding=1, dtype=np.float64, rng=8), Sigmoid()
    x, g = RNG.standard_normal((2, 3, 5, 5)), RNG.standard_normal((2, 3, 5, 5))
    act(conv(act(x)))
    grad_x = act.backward(conv.backward(act.backward(g)))
    xt, t = torch.tensor(x, requires_grad=True), _twin_conv(conv)
    torch.sigmoid(t(torch.sigmoid(xt))).backward(torch.from_numpy(g))
    np.testing.assert_allclose(grad_x, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(conv.grads["weight"], t.weight.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", ["False", 0, None])
def test_train_refuses_a_mode_that_is_not_a_bool_like_torch(mode):
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        nn.ReLU().train(mode)
    with pytest.raises(ValueError, match="mode must be True or False"):
        ReLU().train(mode)
