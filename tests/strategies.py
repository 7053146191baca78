"""Hypothesis strategies shared by the layer tests: window configs, dtypes and seeded arrays.

Every strategy keeps shapes small (spatial sizes up to about a dozen) so that one example runs in
milliseconds, and every config it draws is one torch accepts. `reproducible()` gives the settings
all property tests use, so a failure seen once is seen again on the next run.
"""

from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FLOAT_DTYPES = (np.float32, np.float64)
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")

float_dtypes = st.sampled_from(FLOAT_DTYPES)
padding_modes = st.sampled_from(PADDING_MODES)
pad_modes = st.sampled_from(["constant", "reflect", "replicate", "circular"])  # F.pad's names
seeds = st.integers(0, 2**32 - 1)


def reproducible(max_examples):
    """Settings for a property test: derandomized (same examples every run), no deadline."""
    return settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def random_array(shape, dtype=np.float64, seed=0):
    """Standard-normal array of `shape` and `dtype` from np.random.default_rng(seed)."""
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@st.composite
def int_or_pair(draw, low, high):
    """(value as a user would pass it, (a, b)): an int used for both axes, or a tuple of two ints."""
    if draw(st.booleans()):
        a = draw(st.integers(low, high))
        return a, (a, a)
    pair = (draw(st.integers(low, high)), draw(st.integers(low, high)))
    return pair, pair


def axis_size_bounds(effective_kernel, pad_before, pad_after, padding_mode="zeros"):
    """Smallest input length along one axis that torch accepts for this window and padding."""
    low = max(1, effective_kernel - pad_before - pad_after)
    if padding_mode == "reflect":  # torch: reflect padding must be less than the input size
        low = max(low, max(pad_before, pad_after) + 1)
    if padding_mode == "circular":  # torch: circular padding may wrap around at most once
        low = max(low, max(pad_before, pad_after))
    return low


@dataclass(frozen=True)
class ConvConfig:
    """One valid conv2d call: the arguments as a user passes them, plus the resolved pairs."""

    N: int
    C_in: int
    C_out: int
    groups: int
    H: int
    W: int
    kernel_size: object  # int or (kh, kw), as passed
    stride: object
    padding: object  # int, (ph, pw), "same" or "valid"
    dilation: object
    bias: bool
    dtype: type
    padding_mode: str
    pad4: tuple  # resolved (top, bottom, left, right)
    kernel: tuple  # resolved (kh, kw)

    @property
    def input_shape(self):
        return (self.N, self.C_in, self.H, self.W)

    @property
    def weight_shape(self):
        return (self.C_out, self.C_in // self.groups) + self.kernel

    def conv_kwargs(self):
        """Keyword arguments of conv2d / F.conv2d (zero padding)."""
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups)

    def module_args(self):
        """Positional and keyword arguments of Conv2d / torch.nn.Conv2d."""
        return (self.C_in, self.C_out, self.kernel_size), dict(
            stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups,
            bias=self.bias, padding_mode=self.padding_mode)

    def arrays(self, seed=0, dtype=None):
        """Seeded (input, weight, bias or None) for this config, in `dtype` (default: self.dtype)."""
        dtype = dtype or self.dtype
        x = random_array(self.input_shape, dtype, seed)
        w = random_array(self.weight_shape, dtype, seed + 1)
        b = random_array((self.C_out,), dtype, seed + 2) if self.bias else None
        return x, w, b


@st.composite
def conv_configs(draw, padding_modes=padding_modes, dtypes=float_dtypes, max_channels_per_group=3,
                 max_groups=3, max_kernel=4, max_stride=3, max_dilation=3, max_padding=2, max_extra=5):
    """A conv config torch accepts: groups divide both channel counts, the (dilated) kernel fits the
    padded input, "same" comes only with stride 1, reflect padding < input size, circular <= size."""
    groups = draw(st.integers(1, max_groups))
    C_in = groups * draw(st.integers(1, max_channels_per_group))
    C_out = groups * draw(st.integers(1, max_channels_per_group))
    padding_mode = draw(padding_modes)
    kernel_size, (kh, kw) = draw(int_or_pair(1, max_kernel))
    dilation, (dh, dw) = draw(int_or_pair(1, max_dilation))
    style = draw(st.sampled_from(["int", "pair", "same", "valid"]))
    if style == "same":
        stride = draw(st.sampled_from([1, (1, 1)]))
    else:
        stride, _ = draw(int_or_pair(1, max_stride))
    if style == "same":  # torch splits d*(k-1) in two; the odd extra goes bottom/right
        th, tw = dh * (kh - 1), dw * (kw - 1)
        padding, pad4 = "same", (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    elif style == "valid":
        padding, pad4 = "valid", (0, 0, 0, 0)
    elif style == "int":
        padding = draw(st.integers(0, max_padding))
        pad4 = (padding,) * 4
    else:
        padding = (draw(st.integers(0, max_padding)), draw(st.integers(0, max_padding)))
        pad4 = (padding[0], padding[0], padding[1], padding[1])
    low_h = axis_size_bounds(dh * (kh - 1) + 1, pad4[0], pad4[1], padding_mode)
    low_w = axis_size_bounds(dw * (kw - 1) + 1, pad4[2], pad4[3], padding_mode)
    H = draw(st.integers(low_h, low_h + max_extra))
    W = draw(st.integers(low_w, low_w + max_extra))
    return ConvConfig(
        N=draw(st.integers(1, 3)), C_in=C_in, C_out=C_out, groups=groups, H=H, W=W,
        kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation,
        bias=draw(st.booleans()), dtype=draw(dtypes), padding_mode=padding_mode, pad4=pad4, kernel=(kh, kw))


@st.composite
def pad_configs(draw, modes=pad_modes, max_pad=3):
    """(input shape (N, C, H, W), pad (left, right, top, bottom), mode) that torch.nn.functional.pad accepts."""
    mode = draw(modes)
    pad = tuple(draw(st.integers(0, max_pad)) for _ in range(4))
    H = draw(st.integers(axis_size_bounds(1, pad[2], pad[3], mode), 6))
    W = draw(st.integers(axis_size_bounds(1, pad[0], pad[1], mode), 6))
    return (draw(st.integers(1, 2)), draw(st.integers(1, 3)), H, W), pad, mode
