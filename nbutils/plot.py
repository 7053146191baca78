"""Figure helpers with one visual style: annotated grids, sliding windows, images and curves."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

CMAP = "Blues"  # values on small grids
IMAGE_CMAP = "gray"  # images and feature maps
HIGHLIGHT = "#d62728"  # the active window, kernel tap or output cell
PAD_COLOR = "#e8e8e8"  # cells that padding added
FIGSIZE = 2.6  # inches per panel


def grid(ax, a, title=None, highlight=(), padded=None, fmt="{:g}", vmin=None, vmax=None, fontsize=None, fill=True):
    """Draw a 2-D array as a grid of annotated cells; outline `highlight` cells, grey out `padded`.

    fill=False leaves the cells white (cheaper frames, and the outlines stand out more).
    """
    a = np.asarray(a)
    H, W = a.shape
    ax.imshow(a if fill else np.zeros_like(a, dtype=float), cmap=CMAP if fill else "Greys", vmin=vmin, vmax=vmax)
    if padded is not None:
        ax.imshow(np.where(padded, 1.0, np.nan), cmap="Greys", vmin=0, vmax=6, alpha=0.9)
    size = fontsize or max(5, min(11, 90 / max(H, W)))
    mid = np.nanmean(a) if vmax is None else (vmin + vmax) / 2
    for (i, j), v in np.ndenumerate(a):
        dark = fill and (padded is None or not padded[i, j]) and v > mid and np.ptp(a) > 0
        color = "white" if dark else "black"
        ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=size, color=color)
    for i, j in highlight:
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor=HIGHLIGHT, lw=2.8))
    ax.set_xticks(np.arange(-0.5, W, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, H, 1), minor=True)
    ax.grid(which="minor", color="white" if fill else "#bbbbbb", lw=1)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def grids(arrays, titles=None, highlights=None, fmt="{:g}", size=FIGSIZE, padded=None):
    """A row of annotated grids, one per array (padded: optional masks of padding cells); returns the Figure."""
    fig, axes = plt.subplots(1, len(arrays), figsize=(size * len(arrays), size), squeeze=False)
    for k, (ax, a) in enumerate(zip(axes[0], arrays)):
        grid(ax, a, titles[k] if titles else None, highlights[k] if highlights else (), fmt=fmt,
             padded=padded[k] if padded else None)
    fig.tight_layout()
    return fig


def images(imgs, titles=None, size=FIGSIZE, cmap=IMAGE_CMAP, vlim=None):
    """A row of images (2-D arrays) without axes; returns the Figure."""
    fig, axes = plt.subplots(1, len(imgs), figsize=(size * len(imgs), size), squeeze=False)
    for k, (ax, img) in enumerate(zip(axes[0], imgs)):
        lim = vlim[k] if vlim else (None, None)
        ax.imshow(img, cmap=cmap, vmin=lim[0], vmax=lim[1])
        ax.set_axis_off()
        if titles:
            ax.set_title(titles[k], fontsize=10)
    fig.tight_layout()
    return fig


def window_taps(i, j, kernel_size, stride, dilation):
    """Cells of the padded input read by output cell (i, j): a list of (row, col)."""
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    return [(i * sh + a * dh, j * sw + b * dw) for a in range(kh) for b in range(kw)]


def sliding_window(x_padded, padded_mask, out, kernel_size, stride, dilation, cell=(0, 0), title=None):
    """Padded input with the taps of output `cell` outlined, next to the output with that cell outlined."""
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(7.2, 3.6), gridspec_kw={"width_ratios": [1.35, 1]})
    taps = window_taps(*cell, kernel_size, stride, dilation)
    grid(a0, x_padded, "padded input (grey = padding)", highlight=taps, padded=padded_mask, fill=False)
    grid(a1, out, f"output {out.shape[0]}×{out.shape[1]}", highlight=[cell], fmt="{:.3g}", fill=False)
    a1.set_xlim(-0.5, max(out.shape[1], x_padded.shape[1] * 0.74) - 0.5)
    a1.set_ylim(max(out.shape[0], x_padded.shape[0] * 0.74) - 0.5, -0.5)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def message(text, size=(7.2, 3.6)):
    """A figure that only states a message, e.g. why a slider setting is invalid."""
    fig, ax = plt.subplots(figsize=size)
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=11, color=HIGHLIGHT)
    ax.set_axis_off()
    return fig


def curves(x, series, title=None, xlabel="x", ylabel=None, size=(5, 3.2), logy=False):
    """Plot several named curves over the same x; returns the Figure."""
    fig, ax = plt.subplots(figsize=size)
    for label, y in series.items():
        ax.plot(x, y, label=label, lw=2)
    ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    if title:
        ax.set_title(title, fontsize=11)
    fig.tight_layout()
    return fig
