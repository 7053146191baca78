"""NumPy layers named and called like torch.nn and torch.nn.functional, forward and backward, NCHW."""

from nbutils.layers.base import Module
from nbutils.layers.conv import PADDING_MODES, Conv2d, conv2d, conv2d_backward, conv_output_size, pad, pad_backward

__all__ = ["Module", "PADDING_MODES", "Conv2d", "conv2d", "conv2d_backward", "conv_output_size", "pad", "pad_backward"]
