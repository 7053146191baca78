"""What every layer accepts from outside: plain arrays only, with messages for common slips, and torch's state dicts.

The array checks live in one place (nbutils/layers/_utils.py), so these tests run them through many layers,
functions and modules alike, to show that each layer really goes through that shared check.
"""

import numpy as np
import pytest
import torch
from strategies import random_array

from nbutils.layers import (
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    CrossEntropyLoss,
    Dropout,
    Flatten,
    GroupNorm,
    InstanceNorm2d,
    LayerNorm,
    Linear,
    MaxPool2d,
    PReLU,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    batch_norm,
    conv2d,
    cross_entropy,
    dropout,
    flatten,
    group_norm,
    layer_norm,
    leaky_relu,
    linear,
    linear_backward,
    load_state_dict,
    log_softmax,
    max_pool2d,
    relu,
    relu_backward,
    sigmoid,
    softmax,
    state_dict,
)

pytestmark = pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")

F64 = np.float64
TARGET = np.array([0, 2, 1, 5])

# Layers that take a 2-D input (4, 6): each a callable of the input, named for the failure report.
TAKES_2D = {
    "relu": relu,
    "sigmoid": sigmoid,
    "leaky_relu": leaky_relu,
    "softmax": lambda x: softmax(x, dim=1),
    "log_softmax": lambda x: log_softmax(x, dim=1),
    "cross_entropy": lambda x: cross_entropy(x, TARGET),
    "linear": lambda x: linear(x, np.ones((3, 6))),
    "flatten": flatten,
    "dropout": lambda x: dropout(x, 0.5, rng=0),
    "batch_norm": lambda x: batch_norm(x, None, None, training=True),
    "group_norm": lambda x: group_norm(x, 2),
    "layer_norm": lambda x: layer_norm(x, (6,)),
    "ReLU": ReLU(),
    "Sigmoid": Sigmoid(),
    "Softmax": Softmax(dim=1),
    "Linear": Linear(6, 3, dtype=F64),
    "Flatten": Flatten(),
    "Dropout": Dropout(0.5, rng=0),
    "BatchNorm1d": BatchNorm1d(6, dtype=F64),
    "LayerNorm": LayerNorm(6, dtype=F64),
    "PReLU": PReLU(dtype=F64),
    "Sequential": Sequential(Linear(6, 3, dtype=F64), ReLU()),
}

# Layers that take a 4-D input (2, 3, 5, 5).
TAKES_4D = {
    "conv2d": lambda x: conv2d(x, np.ones((2, 3, 3, 3))),
    "max_pool2d": lambda x: max_pool2d(x, 2),
    "Conv2d": Conv2d(3, 2, 3, dtype=F64),
    "MaxPool2d": MaxPool2d(2),
    "BatchNorm2d": BatchNorm2d(3, dtype=F64),
    "InstanceNorm2d": InstanceNorm2d(3, dtype=F64),
    "GroupNorm": GroupNorm(1, 3, dtype=F64),
}


def masked(shape):
    """A masked array that hides a huge value: processing it as if unmasked would be visibly wrong."""
    x = random_array(shape)
    x.flat[0] = 1e30
    return np.ma.masked_array(x, mask=np.arange(x.size).reshape(shape) == 0)


@pytest.mark.parametrize("name", list(TAKES_2D) + list(TAKES_4D))
def test_every_layer_refuses_a_masked_array_and_says_how_to_fill_it(name):
    layer, shape = (TAKES_2D[name], (4, 6)) if name in TAKES_2D else (TAKES_4D[name], (2, 3, 5, 5))
    layer(masked(shape).data)  # the plain array is accepted: the refusal is about the mask, not the values
    with pytest.raises(TypeError, match=r"input is a np\.ma\.MaskedArray.*x\.filled\("):
        layer(masked(shape))


@pytest.mark.parametrize("name", list(TAKES_2D) + list(TAKES_4D))
def test_every_layer_refuses_a_np_matrix_and_says_to_use_asarray(name):
    layer = TAKES_2D.get(name) or TAKES_4D[name]
    with pytest.raises(TypeError, match=r"input is a np\.matrix.*np\.asarray\(x\)"):
        layer(np.asmatrix(random_array((4, 6))))


def test_backward_refuses_masked_and_matrix_gradients_naming_the_parameter():
    x = random_array((4, 6))
    with pytest.raises(TypeError, match=r"grad_output is a np\.ma\.MaskedArray"):
        relu_backward(masked((4, 6)), relu(x))
    with pytest.raises(TypeError, match=r"grad_output is a np\.matrix"):
        linear_backward(np.asmatrix(random_array((4, 3))), x, np.ones((3, 6)))
    for layer, g in ((ReLU(), masked((4, 6))), (Linear(6, 3, dtype=F64), np.asmatrix(random_array((4, 3))))):
        layer(x)
        with pytest.raises(TypeError, match=r"grad_out(put)? is a np\.(ma\.MaskedArray|matrix)"):
            layer.backward(g)


@pytest.mark.parametrize("value", [np.float32(1.5), np.float64(1.5), 1.5, 2])
@pytest.mark.parametrize("name", ["relu", "softmax", "linear", "layer_norm", "ReLU", "Linear", "Conv2d",
                                  "BatchNorm2d", "Dropout", "Sequential"])
def test_a_single_number_is_refused_with_how_to_make_an_array(name, value):
    layer = TAKES_2D.get(name) or TAKES_4D[name]
    with pytest.raises(TypeError, match=r"input must be a NumPy array, got a single number .*np\.full\(shape, x"):
        layer(value)


@pytest.mark.parametrize("layer", [BatchNorm2d(3, dtype=F64), InstanceNorm2d(3, dtype=F64), GroupNorm(1, 3, dtype=F64),
                                   Conv2d(3, 4, 3, dtype=F64)], ids=type)
def test_a_channels_last_input_gets_the_transpose_that_fixes_it(layer):
    x = random_array((2, 5, 5, 3))  # NHWC: the 3 channels sit on the last axis
    twin = {BatchNorm2d: torch.nn.BatchNorm2d(3), InstanceNorm2d: torch.nn.InstanceNorm2d(3, affine=True),
            GroupNorm: torch.nn.GroupNorm(1, 3), Conv2d: torch.nn.Conv2d(3, 4, 3)}[type(layer)]
    with pytest.raises(Exception):  # noqa: B017  torch refuses it too, with some message
        twin(torch.tensor(x, dtype=torch.float32))
    with pytest.raises(ValueError, match=r"looks channels-last.*x\.transpose\(0, 3, 1, 2\)"):
        layer(x)
    assert layer(x.transpose(0, 3, 1, 2)).shape[:2] == (2, getattr(layer, "out_channels", 3))  # the fix works


def test_a_plain_channel_mismatch_gets_no_channels_last_hint():
    with pytest.raises(ValueError, match="channels") as info:
        BatchNorm2d(3, dtype=F64)(random_array((2, 4, 5, 5)))
    assert "transpose" not in str(info.value)


# Every module with parameters or buffers, ours and torch's built with the same options.
STATEFUL = {
    "Conv2d": (lambda: Conv2d(3, 4, 3, dtype=F64), lambda: torch.nn.Conv2d(3, 4, 3)),
    "Conv2d(bias=False, groups=3)": (lambda: Conv2d(3, 6, 3, groups=3, bias=False, dtype=F64),
                                     lambda: torch.nn.Conv2d(3, 6, 3, groups=3, bias=False)),
    "Linear": (lambda: Linear(6, 3, dtype=F64), lambda: torch.nn.Linear(6, 3)),
    "Linear(bias=False)": (lambda: Linear(6, 3, bias=False, dtype=F64), lambda: torch.nn.Linear(6, 3, bias=False)),
    "PReLU": (lambda: PReLU(dtype=F64), lambda: torch.nn.PReLU()),
    "PReLU(3)": (lambda: PReLU(3, dtype=F64), lambda: torch.nn.PReLU(3)),
    "BatchNorm1d": (lambda: BatchNorm1d(3, dtype=F64), lambda: torch.nn.BatchNorm1d(3)),
    "BatchNorm2d": (lambda: BatchNorm2d(3, dtype=F64), lambda: torch.nn.BatchNorm2d(3)),
    "BatchNorm2d(affine=False)": (lambda: BatchNorm2d(3, affine=False, dtype=F64),
                                  lambda: torch.nn.BatchNorm2d(3, affine=False)),
    "BatchNorm2d(track_running_stats=False)": (lambda: BatchNorm2d(3, track_running_stats=False, dtype=F64),
                                               lambda: torch.nn.BatchNorm2d(3, track_running_stats=False)),
    "GroupNorm": (lambda: GroupNorm(2, 4, dtype=F64), lambda: torch.nn.GroupNorm(2, 4)),
    "LayerNorm": (lambda: LayerNorm((3, 4), dtype=F64), lambda: torch.nn.LayerNorm((3, 4))),
    "LayerNorm(bias=False)": (lambda: LayerNorm(4, bias=False, dtype=F64), lambda: torch.nn.LayerNorm(4, bias=False)),
    **{f"InstanceNorm2d(affine={a}, track_running_stats={t})": (
        lambda a=a, t=t: InstanceNorm2d(3, affine=a, track_running_stats=t, dtype=F64),
        lambda a=a, t=t: torch.nn.InstanceNorm2d(3, affine=a, track_running_stats=t))
       for a in (False, True) for t in (False, True) if a or t},
    "Sequential": (lambda: Sequential(Conv2d(3, 4, 3, dtype=F64), BatchNorm2d(4, dtype=F64), ReLU(),
                                      InstanceNorm2d(4, track_running_stats=True, dtype=F64)),
                   lambda: torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                                               torch.nn.InstanceNorm2d(4, track_running_stats=True))),
}


def _scrambled(sd, seed):
    """The same keys with new values: floats drawn at random (positive, so variances stay valid), counters 7."""
    rng = np.random.default_rng(seed)
    return {k: np.asarray(7 if k.endswith("num_batches_tracked") else rng.uniform(0.5, 2, np.shape(v)))
            for k, v in sd.items()}


@pytest.mark.parametrize("name", STATEFUL)
def test_state_dict_round_trips_with_torch_key_for_key_in_both_directions(name):
    make_ours, make_theirs = STATEFUL[name]
    ours, theirs = make_ours(), make_theirs().double()
    assert list(state_dict(ours)) == list(theirs.state_dict()), "keys, in torch's order"

    sent = _scrambled(theirs.state_dict(), seed=1)  # torch -> ours
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in sent.items()}, strict=True)
    assert load_state_dict(ours, theirs.state_dict(), strict=True) == ([], [])
    for k, v in state_dict(ours).items():
        np.testing.assert_array_equal(v, sent[k], err_msg=k)

    mine = _scrambled(state_dict(ours), seed=2)  # ours -> torch
    load_state_dict(ours, mine, strict=True)
    result = theirs.load_state_dict({k: torch.from_numpy(v) for k, v in state_dict(ours).items()}, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), mine[k], err_msg=k)


@pytest.mark.parametrize("kind", ["masked", "matrix"])
def test_cross_entropy_refuses_a_masked_or_matrix_target_naming_it(kind):
    target = np.ma.masked_array([1, 0], mask=[0, 1]) if kind == "masked" else np.asmatrix([1, 0])
    with pytest.raises(TypeError, match=r"target is a np\.(ma\.MaskedArray|matrix)"):
        CrossEntropyLoss()(random_array((2, 3)), target)
