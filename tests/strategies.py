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


# --- Dropout (chapter 4) ------------------------------------------------------------------------
# Drop probabilities in [0, 1]; the endpoints, where dropout is the identity or zeroes everything, come up often.
probabilities = st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0))
# Any shape dropout accepts, from 0-d to 4-d, including empty axes.
any_shapes = st.lists(st.integers(0, 5), min_size=0, max_size=4).map(tuple)
# NCHW shapes with every axis at least 1.
nchw_shapes = st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 5), st.integers(1, 5))

# Activations: signed scales from tiny to saturating, and torch's slope ranges.
value_scales = st.sampled_from([0.01, 1.0, 10.0, 100.0])
slopes = st.one_of(st.sampled_from([0.0, 0.01, 0.04, 0.25, 1.0]), st.floats(-3.0, 3.0, allow_nan=False))


@st.composite
def signed_arrays(draw, shapes=any_shapes, dtypes=float_dtypes, zeros=True):
    """A seeded array of a drawn shape and dtype, scaled by value_scales; with zeros=True, sometimes exact zeros
    (the kink of the ReLU family) replace about a fifth of the values."""
    shape, dtype, seed = draw(shapes), draw(dtypes), draw(seeds)
    x = np.array(random_array(shape, np.float64, seed) * draw(value_scales))  # np.array: 0-d stays an array
    if zeros and draw(st.booleans()):
        x[np.random.default_rng(seed + 1).random(shape) < 0.2] = 0.0
    return x.astype(dtype)


@st.composite
def slope_bounds(draw):
    """(lower, upper) with lower <= upper, as RReLU needs; sometimes equal, sometimes negative or above 1."""
    a, b = sorted(draw(st.lists(st.floats(-1.0, 2.0, allow_nan=False), min_size=2, max_size=2)))
    return draw(st.sampled_from([(a, b), (a, a), (1 / 8, 1 / 3)]))


# --- Normalization (chapter 5) -------------------------------------------------------------------
@dataclass(frozen=True)
class NormConfig:
    """An (N, C, *spatial) input with a group count that divides C; enough values per channel for BN training."""

    shape: tuple
    num_groups: int
    dtype: type
    affine: bool

    @property
    def C(self):
        return self.shape[1]

    def arrays(self, seed=0, dtype=None):
        """Seeded (input with per-channel offsets and scales, weight or None, bias or None) in `dtype`."""
        dtype = dtype or self.dtype
        rng = np.random.default_rng(seed)
        per_channel = (1, self.C) + (1,) * (len(self.shape) - 2)
        x = rng.standard_normal(self.shape) * rng.uniform(0.5, 3, per_channel) + rng.uniform(-3, 3, per_channel)
        w = rng.uniform(0.5, 2, self.C) if self.affine else None
        b = rng.standard_normal(self.C) if self.affine else None
        return tuple(None if a is None else a.astype(dtype) for a in (x, w, b))


@st.composite
def norm_configs(draw, dtypes=float_dtypes, min_spatial_dims=0, max_spatial_dims=2, min_spatial=1):
    """A config every normalization function accepts in training: N·H·W > 1 (BN), (C/G)·N·H·W > 1 (GN),
    and at least `min_spatial` values per map (instance norm needs 2)."""
    G = draw(st.integers(1, 3))
    C = G * draw(st.integers(1, 3))
    spatial = tuple(draw(st.lists(st.integers(1, 4), min_size=min_spatial_dims, max_size=max_spatial_dims)))
    if int(np.prod(spatial)) < min_spatial:
        spatial = spatial[:-1] + (min_spatial,) if spatial else (min_spatial,)
    N = draw(st.integers(1, 4))
    if N * int(np.prod(spatial)) == 1:
        N = 2
    return NormConfig((N, C) + spatial, G, draw(dtypes), draw(st.booleans()))


def pool_output_length(n, k, s, p, d, ceil_mode):
    """torch's pooling output length along one axis (a spec for the strategies, independent of nbutils)."""
    span = n + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    return out - 1 if ceil_mode and (out - 1) * s >= n + p else out


def every_window_reads_input(n, k, s, p, d, n_out):
    """True if every window along this axis has a tap inside [0, n). With dilation and padding, not always."""
    return all(any(0 <= i * s - p + a * d < n for a in range(k)) for i in range(n_out))


@dataclass(frozen=True)
class PoolConfig:
    """One max/avg pooling call torch accepts: the arguments as a user passes them, plus the resolved pairs."""

    N: int
    C: int
    H: int
    W: int
    kernel_size: object  # int or (kh, kw), as passed
    stride: object  # None, int or pair
    padding: object
    dilation: object  # int or pair; 1 for average pooling
    ceil_mode: bool
    dtype: type
    kernel: tuple
    strides: tuple
    pads: tuple
    dilations: tuple
    out_size: tuple

    @property
    def input_shape(self):
        return (self.N, self.C, self.H, self.W)

    @property
    def reads_input_everywhere(self):
        """False when some window holds only padding (torch's backward then writes out of bounds)."""
        return all(every_window_reads_input(*a) for a in zip((self.H, self.W), self.kernel, self.strides, self.pads,
                                                               self.dilations, self.out_size))

    def max_kwargs(self):
        return dict(kernel_size=self.kernel_size, stride=self.stride, padding=self.padding, dilation=self.dilation,
                    ceil_mode=self.ceil_mode)

    def avg_kwargs(self, **extra):
        return dict(kernel_size=self.kernel_size, stride=self.stride, padding=self.padding, ceil_mode=self.ceil_mode,
                    **extra)

    def array(self, seed=0, ties=False, dtype=None):
        """Seeded input; ties=True draws small integers, so that many windows hold their maximum twice."""
        dtype = dtype or self.dtype
        if ties:
            return np.random.default_rng(seed).integers(0, 3, self.input_shape).astype(dtype)
        return random_array(self.input_shape, dtype, seed)


@st.composite
def pool_configs(draw, dilation=True, dtypes=float_dtypes, max_kernel=4, max_stride=3, max_dilation=3, max_extra=5):
    """A pooling config torch accepts: padding at most half the kernel, and an output of at least 1x1.

    dilation=False gives average-pooling configs (dilation 1). Windows of padding only can occur; filter on
    `reads_input_everywhere` before asking torch for a gradient.
    """
    kernel_size, kernel = draw(int_or_pair(1, max_kernel))
    stride, strides = draw(st.one_of(st.just((None, kernel)), int_or_pair(1, max_stride)))
    if draw(st.booleans()):
        p = draw(st.integers(0, min(kernel) // 2))
        padding, pads = p, (p, p)
    else:
        pads = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
        padding = pads
    dilation, dilations = draw(int_or_pair(1, max_dilation)) if dilation else (1, (1, 1))
    ceil_mode = draw(st.booleans())
    sizes = []
    for k, s, p, d in zip(kernel, strides, pads, dilations):  # ceil_mode lets the window overhang by up to s - 1
        low = max(1, d * (k - 1) + 1 - 2 * p - (s - 1 if ceil_mode else 0))
        sizes.append(draw(st.integers(low, low + max_extra)))
    out_size = tuple(pool_output_length(n, k, s, p, d, ceil_mode)
                     for n, k, s, p, d in zip(sizes, kernel, strides, pads, dilations))
    return PoolConfig(N=draw(st.integers(1, 3)), C=draw(st.integers(1, 3)), H=sizes[0], W=sizes[1],
                      kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode,
                      dtype=draw(dtypes), kernel=kernel, strides=strides, pads=pads, dilations=dilations,
                      out_size=out_size)


@st.composite
def adaptive_output_sizes(draw, H, W, allow_zero=False):
    """An output_size as a user passes it to adaptive pooling: an int, a pair, or a pair with None."""
    low = 0 if allow_zero else 1
    a, b = draw(st.integers(low, H + 3)), draw(st.integers(low, W + 3))
    return draw(st.sampled_from([a, (a, b), (None, b), (a, None), 1]))


# --- Fully connected layers (chapter 6) ------------------------------------------------------------
# Leading (batch) axes of a linear input: none (a single vector) up to three, sometimes of length 0.
batch_shapes = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple)
feature_counts = st.integers(1, 9)


@st.composite
def flatten_dims(draw, ndim):
    """(start_dim, end_dim) that torch.flatten accepts for an ndim-D input, each given as non-negative or negative."""
    n = max(ndim, 1)
    s = draw(st.integers(0, n - 1))
    e = draw(st.integers(s, n - 1))
    return tuple(d - n if draw(st.booleans()) else d for d in (s, e))


SPECIALS = (np.nan, np.inf, -np.inf, 1e30, -1e30)


def special_array(shape, dtype, seed, fraction, zeros=0.1):
    """Seeded normal values with a share `zeros` of exact zeros, and a `fraction` replaced by NaN, ±inf or ±1e30."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    x[rng.random(shape) < zeros] = 0.0
    special = rng.random(shape) < fraction
    x[special] = rng.choice(SPECIALS, special.sum())
    return x.astype(dtype)
