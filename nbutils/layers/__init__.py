"""NumPy layers named and called like torch.nn and torch.nn.functional, forward and backward, NCHW.

One module per chapter topic, each generated from its chapter's `#| export` cells.
"""

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
from nbutils.layers.base import Module
from nbutils.layers.container import Sequential, load_state_dict, state_dict
from nbutils.layers.conv import PADDING_MODES, Conv2d, conv2d, conv2d_backward, conv_output_size, pad, pad_backward
from nbutils.layers.dropout import (
    Dropout,
    Dropout2d,
    apply_dropout_mask,
    dropout,
    dropout2d,
    dropout_backward,
    dropout_mask,
)
from nbutils.layers.linear import Flatten, Linear, flatten, linear, linear_backward
from nbutils.layers.loss import CrossEntropyLoss, cross_entropy, cross_entropy_backward
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

__all__ = [
    "Sequential", "load_state_dict", "state_dict", "CrossEntropyLoss", "cross_entropy", "cross_entropy_backward",
    "Flatten", "Linear", "flatten", "linear", "linear_backward",
    "Module", "PADDING_MODES", "Conv2d", "conv2d", "conv2d_backward", "conv_output_size", "pad", "pad_backward",
    "LeakyReLU", "LogSoftmax", "PReLU", "RReLU", "ReLU", "Sigmoid", "Softmax", "leaky_relu", "leaky_relu_backward",
    "log_softmax", "log_softmax_backward", "prelu", "prelu_backward", "relu", "relu_backward", "rrelu",
    "rrelu_backward", "rrelu_noise", "sigmoid", "sigmoid_backward", "softmax", "softmax_backward",
    "GELU", "SiLU", "gelu", "gelu_backward", "silu", "silu_backward",
    "AdaptiveAvgPool2d", "AvgPool2d", "MaxPool2d", "adaptive_avg_pool2d", "adaptive_avg_pool2d_backward",
    "avg_pool2d", "avg_pool2d_backward", "max_pool2d", "max_pool2d_backward", "pool_output_size", "Dropout",
    "Dropout2d", "apply_dropout_mask", "dropout", "dropout2d", "dropout_backward", "dropout_mask", "BatchNorm1d",
    "BatchNorm2d", "GroupNorm", "InstanceNorm2d", "LayerNorm", "batch_norm", "batch_norm_backward", "group_norm",
    "group_norm_backward", "instance_norm", "instance_norm_backward", "layer_norm", "layer_norm_backward",
]
