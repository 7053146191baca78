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
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.84, wspace=0.1)  # fixed: frames render fast
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


def image_grid(rows, titles=None, row_labels=None, vlim=(None, None), size=1.9, cmap=IMAGE_CMAP):
    """Images in rows (a list of lists of 2-D arrays), one shared colour scale; returns the Figure.

    titles: a list of lists like rows (or None); row_labels: one label per row, on the left.
    Pixels stay square blocks (no smoothing), so masks show as they are.
    """
    R, K = len(rows), max(len(r) for r in rows)
    fig, axes = plt.subplots(R, K, figsize=(size * K + (0.4 if row_labels else 0), size * R + 0.1), squeeze=False)
    for i, row in enumerate(rows):
        for j, ax in enumerate(axes[i]):
            if j >= len(row):
                ax.set_axis_off()
                continue
            ax.imshow(row[j], cmap=cmap, vmin=vlim[0], vmax=vlim[1], interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if titles and titles[i][j]:
                ax.set_title(titles[i][j], fontsize=9)
        if row_labels:
            axes[i][0].set_ylabel(row_labels[i], fontsize=10)
    fig.tight_layout()
    return fig


def curve_panel(ax, x, series, title=None, xlabel=None, ylabel=None, styles=None, logx=False, logy=False,
                legend=True):
    """Draw named curves on an existing axis (for figures with several panels); styles: label -> plot kwargs."""
    for label, y in series.items():
        ax.plot(x, y, label=label, **{"lw": 2, **(styles or {}).get(label, {})})
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel or "")
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if legend:
        ax.legend(frameon=False, fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def grouped_bars(ax, categories, series, title=None, ylabel=None, colors=None):
    """Side-by-side bars: one group per category, one bar per named series (label -> values)."""
    width = 0.8 / len(series)
    for k, (label, values) in enumerate(series.items()):
        offset = (k - (len(series) - 1) / 2) * width
        ax.bar(np.arange(len(categories)) + offset, values, width, label=label,
               color=(colors or {}).get(label))
    ax.set_xticks(np.arange(len(categories)), [str(c) for c in categories])
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(frameon=False, fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def curve_panels(x, panels, titles=None, xlabel="x", ylabel=None, ylims=None, logy=False, size=(3.3, 2.7),
                 suptitle=None, styles=None, legend_loc="best"):
    """A row of line plots over the same x, one per dict {label: y}; fixed y-limits keep slider frames comparable.

    styles maps a label to matplotlib keyword arguments (e.g. {"ReLU": {"color": HIGHLIGHT}}). Panels with fixed
    y-limits get a thin line at y = 0.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(size[0] * len(panels), size[1]), squeeze=False)
    for k, (ax, series) in enumerate(zip(axes[0], panels)):
        for label, y in series.items():
            ax.plot(x, y, label=label, **{"lw": 2, **(styles or {}).get(label, {})})
        if logy:
            ax.set_yscale("log")
        if ylims and ylims[k]:
            ax.set_ylim(*ylims[k])
            if not logy:
                ax.axhline(0, color="#999999", lw=0.8, zorder=0)
        ax.set_xlabel(xlabel)
        if ylabel and k == 0:
            ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if len(series) > 1:
            ax.legend(frameon=False, fontsize=9, loc=legend_loc)
        if titles:
            ax.set_title(titles[k], fontsize=10)
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    fig.tight_layout()
    return fig


def bars(labels, values, title=None, ylim=(0, 1), highlight=None, size=(5, 2.8), fmt="{:.2f}", xlabel=None):
    """Annotated vertical bars, e.g. class probabilities; bar `highlight` (an index) in the highlight colour."""
    fig, ax = plt.subplots(figsize=size)
    if xlabel:
        ax.set_xlabel(xlabel)
    colors = [HIGHLIGHT if i == highlight else "#4c72b0" for i in range(len(values))]
    ax.bar(range(len(values)), values, color=colors)
    for i, v in enumerate(values):
        ax.text(i, v + 0.02 * (ylim[1] - ylim[0]), fmt.format(v), ha="center", va="bottom", fontsize=9)
    ax.set_xticks(range(len(values)), labels)
    ax.set_ylim(*ylim)
    ax.grid(axis="y", alpha=0.3)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


# --- Chapter 5: normalization ---------------------------------------------------------------
SET_COLORS = ["#4a90c8", "#f28e2b", "#59a14f", "#b07aa1", "#e15759", "#76b7b2", "#edc948", "#9c755f"]


def norm_sets(ax, members, title=None, spatial=5, depth=(0.55, 0.4)):
    """The GN paper's picture of a feature tensor: a box with axes C (across), H·W (down) and N (into the page).

    members is an int array (N, C): 0 leaves cell (n, c) white, k > 0 paints it with SET_COLORS[k - 1].
    Every normalization set spans all of H·W, so a set is a choice of (n, c) pairs.
    """
    from matplotlib.patches import Polygon

    members = np.asarray(members)
    N, C = members.shape
    dx, dy = depth

    def face(corners, k):
        color = SET_COLORS[(k - 1) % len(SET_COLORS)] if k else "white"
        ax.add_patch(Polygon(corners, closed=True, facecolor=color, edgecolor="#555555", lw=0.6))

    for n in range(N - 1, -1, -1):  # top face: row n at depth n, drawn back to front
        for c in range(C):
            x0, y0 = c + n * dx, n * dy
            face([(x0, y0), (x0 + 1, y0), (x0 + 1 + dx, y0 + dy), (x0 + dx, y0 + dy)], members[n, c])
    for n in range(N - 1, -1, -1):  # right face: the last channel of every sample
        for s in range(spatial):
            x0, y0 = C + n * dx, -s + n * dy
            face([(x0, y0), (x0 + dx, y0 + dy), (x0 + dx, y0 + dy - 1), (x0, y0 - 1)], members[n, C - 1])
    for c in range(C):  # front face: sample 0, every channel and position
        for s in range(spatial):
            face([(c, -s), (c + 1, -s), (c + 1, -s - 1), (c, -s - 1)], members[0, c])
    style = dict(fontsize=9, color="#333333")
    ax.annotate("", xy=(C, -spatial - 0.5), xytext=(0, -spatial - 0.5), arrowprops=dict(arrowstyle="->", lw=1))
    ax.text(C / 2, -spatial - 0.7, "C", ha="center", va="top", **style)
    ax.annotate("", xy=(-0.5, -spatial), xytext=(-0.5, 0), arrowprops=dict(arrowstyle="->", lw=1))
    ax.text(-0.7, -spatial / 2, "H, W", ha="right", va="center", rotation=90, **style)
    x0, y0 = C + 0.35, -spatial - 0.2  # the N arrow runs under the right face, into the page
    ax.annotate("", xy=(x0 + N * dx, y0 + N * dy), xytext=(x0, y0), arrowprops=dict(arrowstyle="->", lw=1))
    ax.text(x0 + N * dx / 2 + 0.25, y0 + N * dy / 2 - 0.15, "N", ha="left", va="top", **style)
    ax.set_xlim(-1.6, C + N * dx + 1.2)
    ax.set_ylim(-spatial - 1.6, N * dy + 0.9)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def norm_sets_row(panels, size=2.6, **kwargs):
    """A row of norm_sets diagrams; panels maps titles to (N, C) member arrays. Returns the Figure."""
    fig, axes = plt.subplots(1, len(panels), figsize=(size * len(panels), size * 0.95), squeeze=False)
    for ax, (title, members) in zip(axes[0], panels.items()):
        norm_sets(ax, members, title, **kwargs)
    fig.tight_layout()
    return fig


def hist_panel(ax, series, bins=30, marks=None, title=None, xlabel=None, xlim=None):
    """Overlaid histograms on an existing axis (series: label -> values); marks: label -> x, drawn as dashed lines."""
    for label, values in series.items():
        ax.hist(values, bins=bins, range=xlim, alpha=0.6, label=label)
    for k, (label, x) in enumerate((marks or {}).items()):
        for v in np.atleast_1d(x):
            ax.axvline(v, color=["black", "#777777"][k % 2], ls=["--", ":"][k % 2], lw=1.4, label=label)
            label = None  # one legend entry per mark
    ax.set_xlabel(xlabel or "")
    ax.set_yticks([])
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def scatter_panel(ax, x, y, lim, title=None, xlabel=None, ylabel=None):
    """Points (x, y) on an existing axis with the diagonal y = x dashed: on it, the two agree."""
    ax.plot(lim, lim, color="black", lw=1, ls="--", zorder=0)
    ax.scatter(x, y, s=5, alpha=0.5, color=SET_COLORS[0], lw=0)
    ax.set_xlim(*lim)
    ax.set_ylim(*lim)
    ax.set_aspect("equal")
    ax.set_xlabel(xlabel or "")
    ax.set_ylabel(ylabel or "")
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def channel_maps(maps, groups, titles=None, members=None, cols=4, vlim=3.0, size=1.6, title=None, cmap="gray"):
    """Feature maps (C, H, W) in rows of `cols`, each framed in its group's colour (groups: one int per channel).

    members, an (N, C) array as for norm_sets, adds the box picture of the groups on the left.
    """
    C, box = len(maps), int(members is not None)
    rows = -(-C // cols)
    fig = plt.figure(figsize=(size * (cols + 1.7 * box), size * 1.3 * rows + 0.3))
    spec = fig.add_gridspec(rows, cols + box, width_ratios=[1.7] * box + [1] * cols)
    if box:
        norm_sets(fig.add_subplot(spec[:, 0]), members)
    for c in range(C):
        ax = fig.add_subplot(spec[c // cols, box + c % cols])
        ax.imshow(maps[c], cmap=cmap, vmin=-vlim, vmax=vlim)
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_edgecolor(SET_COLORS[groups[c] % len(SET_COLORS)])
            spine.set_linewidth(4)
        if titles:
            ax.set_title(titles[c], fontsize=9)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def pixel_images(imgs, titles=None, size=FIGSIZE, cmap=IMAGE_CMAP, vlim=None, same_scale=False, suptitle=None):
    """A row of images drawn pixel for pixel, without smoothing; returns the Figure.

    same_scale=True draws every image at one pixel size, top-left aligned and outlined, so a smaller array
    looks smaller (a pooled map next to its input). vlim: one (vmin, vmax) shared by all images.
    """
    H, W = max(im.shape[0] for im in imgs), max(im.shape[1] for im in imgs)
    fig, axes = plt.subplots(1, len(imgs), figsize=(size * len(imgs), size + (0.35 if suptitle else 0)), squeeze=False)
    for k, (ax, img) in enumerate(zip(axes[0], imgs)):
        h, w = img.shape
        ax.imshow(img, cmap=cmap, vmin=vlim[0] if vlim else None, vmax=vlim[1] if vlim else None,
                  interpolation="nearest", extent=(0, w, h, 0))
        if same_scale:
            ax.add_patch(Rectangle((0, 0), w, h, fill=False, edgecolor="#999999", lw=0.8))
            ax.set_xlim(-0.5, W + 0.5)
            ax.set_ylim(H + 0.5, -0.5)
        ax.set_axis_off()
        if titles:
            ax.set_title(titles[k], fontsize=10, loc="left" if same_scale else "center")
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    fig.tight_layout()
    return fig


# --- Chapter 6: fully connected layers and global average pooling ------------------------------
def short_count(n):
    """A count for a label: 123.6M, 513.0k, 650."""
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= div:
            return f"{n / div:.1f}{unit}"
    return f"{n:,}"


def head_flow(rows, title=None, size=(9.4, 2.9)):
    """Network heads as a flow of tensor boxes and layer arrows, one row per head; returns the Figure.

    rows maps a head's name to a list that alternates tensors, (shape label, number of values), and layers,
    (layer name, parameter count). Box heights grow with log10(values). The layer holding the most parameters
    in the whole figure is labelled in the highlight colour; each row ends with its total parameter count.
    """
    fig, ax = plt.subplots(figsize=size)
    pitch, box = 3.3, 2.0  # distance between tensor boxes; box width
    biggest = max([s[1] for stages in rows.values() for s in stages[1::2]] + [0])
    totals = {name: sum(s[1] for s in stages[1::2]) for name, stages in rows.items()}
    slots = max(len(stages) for stages in rows.values()) // 2 + 1
    for r, (name, stages) in enumerate(rows.items()):
        y = -1.9 * r
        ax.text(-box / 2 - 0.25, y, name, ha="right", va="center", fontsize=11, fontweight="bold")
        for i, (label, count) in enumerate(stages):
            x = i // 2 * pitch
            if i % 2 == 0:  # a tensor
                h = 0.3 + 0.11 * np.log10(max(count, 1))
                ax.add_patch(Rectangle((x - box / 2, y - h / 2), box, h, facecolor="#c6dbef", edgecolor="#4a7db3"))
                ax.text(x, y, label, ha="center", va="center", fontsize=9.5)
                if label.replace(",", "") != str(count):  # a shape like 512×7×7: say how many values it holds
                    ax.text(x, y - h / 2 - 0.12, f"{count:,}", ha="center", va="top", fontsize=8.5, color="#555555")
            else:  # a layer, drawn as an arrow to the next tensor
                x0, x1 = x + box / 2 + 0.05, x + pitch - box / 2 - 0.05
                ax.annotate("", xy=(x1, y), xytext=(x0, y), arrowprops=dict(arrowstyle="->", lw=1.2))
                ax.text((x0 + x1) / 2, y + 0.1, label, ha="center", va="bottom", fontsize=9)
                color = HIGHLIGHT if count == biggest and count > 0 else "#333333"
                ax.text((x0 + x1) / 2, y - 0.1, short_count(count) if count else "0 params", ha="center",
                        va="top", fontsize=8.5, color=color)
        color = HIGHLIGHT if totals[name] == max(totals.values()) else "#333333"
        ax.text((slots - 1) * pitch + box / 2 + 0.4, y, f"total\n{short_count(totals[name])}", ha="left",
                va="center", fontsize=10.5, color=color)
    ax.set_xlim(-3.4, (slots - 1) * pitch + box / 2 + 1.6)
    ax.set_ylim(-1.9 * (len(rows) - 1) - 0.9, 0.8)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=11)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.88)  # fixed: frames render fast
    return fig


def cam_panel(ax, cam, outline=None, title=None, vlim=None, cmap="RdBu_r"):
    """A signed heat map (e.g. an upsampled class activation map) with the strokes of `outline` drawn over it.

    The colour scale is symmetric about 0 unless vlim is given: red raises the class score, blue lowers it.
    outline, an image of the same 2-D size, is drawn as a black contour at half its range.
    """
    lim = vlim or (-float(np.abs(cam).max()), float(np.abs(cam).max()))
    ax.imshow(cam, cmap=cmap, vmin=lim[0], vmax=lim[1], interpolation="nearest")
    if outline is not None:
        ax.contour(outline, levels=[(np.min(outline) + np.max(outline)) / 2], colors="black", linewidths=1.2)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def bar_panel(ax, values, labels=None, highlight=None, title=None, ylim=(0, 1)):
    """Vertical bars on an existing axis (e.g. class probabilities); bar `highlight` in the highlight colour."""
    colors = [HIGHLIGHT if i == highlight else "#4c72b0" for i in range(len(values))]
    ax.bar(range(len(values)), values, color=colors)
    ax.set_xticks(range(len(values)), labels if labels is not None else range(len(values)))
    ax.set_ylim(*ylim)
    ax.grid(axis="y", alpha=0.3)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


# --- Chapter 7: the capstone ----------------------------------------------------------------
def class_matrix(ax, matrix, title=None, xlabel="predicted class", ylabel="true class", fmt="{:g}", vmax=None,
                 hide_below=None):
    """A per-class table (a confusion matrix, or probabilities) as annotated cells with the classes on both axes.

    Cells below `hide_below` stay unannotated, so that the few large numbers stand out.
    """
    matrix = np.asarray(matrix)
    R, K = matrix.shape
    vmax = matrix.max() if vmax is None else vmax
    ax.imshow(matrix, cmap=CMAP, vmin=0, vmax=vmax)
    for (i, j), v in np.ndenumerate(matrix):
        if hide_below is None or v >= hide_below:
            color = "white" if v > vmax / 2 else "black"
            ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=8, color=color)
    ax.set_xticks(range(K), [str(k) for k in range(K)], fontsize=8)
    ax.set_yticks(range(R), [str(r) for r in range(R)], fontsize=8)
    ax.set_xticks(np.arange(-0.5, K, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, R, 1), minor=True)
    ax.grid(which="minor", color="#dddddd", lw=0.6)
    ax.tick_params(which="both", length=0)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def image_with_bars(img, values, title=None, highlight=None, mark=None, ylabel="probability", size=(6.4, 2.5)):
    """An image beside annotated bars, one per class: bar `highlight` in HIGHLIGHT, bar `mark` outlined in black
    (e.g. a digit, its predicted class and its true class). Returns the Figure."""
    fig, (a0, a1) = plt.subplots(1, 2, figsize=size, gridspec_kw={"width_ratios": [1, 2.6]})
    a0.imshow(img, cmap=IMAGE_CMAP, interpolation="nearest")
    a0.set_axis_off()
    colors = [HIGHLIGHT if k == highlight else "#4c72b0" for k in range(len(values))]
    a1.bar(range(len(values)), values, color=colors, edgecolor=["black" if k == mark else "none"
                                                                for k in range(len(values))], linewidth=2)
    for k, v in enumerate(values):
        a1.text(k, v + 0.02, f"{v:.2f}", ha="center", va="bottom", fontsize=7)
    a1.set_xticks(range(len(values)), [str(k) for k in range(len(values))])
    a1.set_ylim(0, 1.12)
    a1.set_ylabel(ylabel, fontsize=9)
    a1.grid(axis="y", alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


# --- Chapter 1 diagrams (conceptual figures) ---
# --- end of chapter 1 diagrams ---


# --- Chapter 2 diagrams (conceptual figures) ---
# --- end of chapter 2 diagrams ---


# --- Chapter 3 diagrams (conceptual figures) ---
# --- end of chapter 3 diagrams ---


# --- Chapter 4 diagrams (conceptual figures) ---
# --- end of chapter 4 diagrams ---


# --- Chapter 5 diagrams (conceptual figures) ---
# --- end of chapter 5 diagrams ---


# --- Chapter 6 diagrams (conceptual figures) ---
# --- end of chapter 6 diagrams ---


# --- Chapter 7 diagrams (conceptual figures) ---
# --- end of chapter 7 diagrams ---
