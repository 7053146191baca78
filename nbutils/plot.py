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
    in the whole figure is labelled in the highlight colour; each row's total parameter count sits under its name.
    """
    fig, ax = plt.subplots(figsize=size)
    pitch, box = 4.0, 2.3  # distance between tensor boxes; box width (fits "512×14×14" at 8 in wide)
    biggest = max([s[1] for stages in rows.values() for s in stages[1::2]] + [0])
    totals = {name: sum(s[1] for s in stages[1::2]) for name, stages in rows.items()}
    slots = max(len(stages) for stages in rows.values()) // 2 + 1
    for r, (name, stages) in enumerate(rows.items()):
        y = -1.9 * r
        ax.text(-box / 2 - 0.3, y + 0.12, name, ha="right", va="bottom", fontsize=11, fontweight="bold")
        color = HIGHLIGHT if totals[name] == max(totals.values()) else "#333333"
        ax.text(-box / 2 - 0.3, y - 0.05, f"total {short_count(totals[name])}", ha="right", va="top",
                fontsize=10, color=color)
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
    ax.set_xlim(-4.3, (slots - 1) * pitch + box / 2 + 0.15)
    fig.alt_text = (f"{title}. " if title else "") + " ".join(  # the flow in words, for screen readers
        f"{name}: " + " → ".join(label if i % 2 == 0 else
                                 f"{label} ({short_count(count) + ' parameters' if count else 'no parameters'})"
                                 for i, (label, count) in enumerate(stages))
        + f"; {short_count(totals[name])} parameters in total." for name, stages in rows.items())
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
        a1.text(k, v + 0.02, f"{v:.2f}", ha="center", va="bottom", fontsize=8)
    a1.set_xticks(range(len(values)), [str(k) for k in range(len(values))])
    a1.set_ylim(0, 1.12)
    a1.set_ylabel(ylabel, fontsize=9)
    a1.grid(axis="y", alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


# --- Chapter 1 diagrams (conceptual figures) ---
TAP_COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#9c755f", "#ff9da7"]


def conv_matrix(dense, taps, title=None):
    """A convolution written as a dense layer: the kernel, and the matrix whose entries are its taps.

    taps: the (kh, kw) kernel's shape; dense: an int matrix (outputs, inputs) holding the tap number + 1 of each
    entry (0 where the output does not read that input). Each tap keeps its colour wherever it appears.
    """
    from matplotlib.colors import ListedColormap

    kh, kw = taps
    n_out, n_in = dense.shape
    cmap = ListedColormap(["white"] + TAP_COLORS[: kh * kw])
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(8.4, 2.9), gridspec_kw={"width_ratios": [1, 5.2]})
    a0.imshow(np.arange(1, kh * kw + 1).reshape(kh, kw), cmap=cmap, vmin=0, vmax=kh * kw)
    for i, j in np.ndindex(kh, kw):
        a0.text(j, i, f"w{i}{j}", ha="center", va="center", fontsize=9, color="white")
    a0.set_title(f"kernel {kh}×{kw}", fontsize=10)
    a1.imshow(dense, cmap=cmap, vmin=0, vmax=kh * kw, aspect="equal")
    for ax, (H, W) in ((a0, taps), (a1, dense.shape)):
        ax.set_xticks(np.arange(-0.5, W, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, H, 1), minor=True)
        ax.grid(which="minor", color="#dddddd", lw=0.5)
        ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    a1.set_xlabel(f"{n_in} input pixels", fontsize=9)
    a1.set_ylabel(f"{n_out} outputs", fontsize=9)
    a1.set_title(title or f"the same layer as a {n_out}×{n_in} dense matrix", fontsize=10)
    fig.tight_layout()
    return fig


def _box(ax, x, y, w, h, d, color, edge="#555555", lw=0.8, alpha=1.0, depth=(0.5, 0.35), z=1):
    """A cuboid in oblique projection: front face w×h at (x, y) (lower left), depth d into the page."""
    from matplotlib.patches import Polygon

    dx, dy = depth[0] * d, depth[1] * d
    faces = [[(x, y), (x + w, y), (x + w, y + h), (x, y + h)],                     # front
             [(x, y + h), (x + w, y + h), (x + w + dx, y + h + dy), (x + dx, y + h + dy)],  # top
             [(x + w, y), (x + w + dx, y + dy), (x + w + dx, y + h + dy), (x + w, y + h)]]  # side
    for shade, f in zip((1.0, 0.8, 0.65), faces):
        rgb = np.array(plt.matplotlib.colors.to_rgb(color)) * shade + (1 - shade) * 0.15
        ax.add_patch(Polygon(f, closed=True, facecolor=np.clip(rgb, 0, 1), edgecolor=edge, lw=lw, alpha=alpha,
                             zorder=z))


def conv_volumes(C=3, H=6, W=6, k=3, filters=3, size=(9.8, 3.3)):
    """Multi-channel convolution as volumes: input (C, H, W), filters (C, k, k), one output channel per filter."""
    Ho, Wo = H - k + 1, W - k + 1
    colors = ["#e6a03c", "#59a14f", "#b07aa1", "#76b7b2"][:filters]
    fig, axes = plt.subplots(1, 2, figsize=size)
    style = dict(fontsize=9, ha="center", va="top", color="#333333")
    dx = 0.5 * C  # how far a depth of C shifts to the right
    for ax, n in zip(axes, (1, filters)):
        _box(ax, 0, 0, W, H, C, "#c6dbef")  # the input volume
        _box(ax, 0, H - k, k, k, C, "white", edge=HIGHLIGHT, lw=2, alpha=0.45, z=2)  # the window of output (0, 0)
        ax.text((W + dx) / 2, -0.6, f"input ({C}, {H}, {W})", **style)
        x_f = W + dx + 1.6
        ax.text(x_f - 0.8, H / 2, "⋆", fontsize=24, ha="center", va="center")
        gap, total = 0.9, n * k + (n - 1) * 0.9
        for f in range(n):  # the filters, one above the other
            _box(ax, x_f, H / 2 + total / 2 - (f + 1) * k - f * gap, k, k, C, colors[f])
        ax.text(x_f + (k + dx) / 2, min(-0.6, H / 2 - total / 2 - 0.4),
                f"{n} filter{'s' if n > 1 else ''}\n({C}, {k}, {k}) each" if n > 1 else f"filter ({C}, {k}, {k})",
                **style)
        x_o = x_f + k + dx + 1.7
        ax.text(x_o - 0.85, H / 2, "=", fontsize=15, ha="center", va="center")
        y_o = (H - Ho) / 2
        for f in reversed(range(n)):  # the output channels, front to back: channel f is f slices deep
            _box(ax, x_o + 0.5 * f, y_o + 0.35 * f, Wo, Ho, 1, colors[f], z=3 + n - f)
        ax.add_patch(Rectangle((x_o, y_o + Ho - 1), 1, 1, fill=False, edgecolor=HIGHLIGHT, lw=2, zorder=10))
        ax.text(x_o + (Wo + 0.5 * n) / 2, -0.6, f"output ({n}, {Ho}, {Wo})", **style)
        ax.set_xlim(-0.4, x_o + Wo + 0.5 * n + 0.4)
        ax.set_ylim(-2.2, max(H + 0.35 * C, H / 2 + total / 2 + 0.35 * C) + 0.3)
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.set_title("one filter reads all channels → one output channel" if n == 1 else
                     f"{n} filters → {n} output channels", fontsize=10)
    fig.tight_layout()
    return fig


def im2col_diagram(H=3, W=3, k=2, cols=None):
    """Which input cells become which column: a tiny one-channel input, its windows and the im2col matrix.

    cols: the (k·k, H_out·W_out) matrix of input cell numbers (row = kernel tap, column = output position),
    e.g. from _im2col on np.arange(H·W); computed here by the definition when None.
    """
    Ho, Wo = H - k + 1, W - k + 1
    if cols is None:
        cols = np.array([[(i + u) * W + (j + v) for i in range(Ho) for j in range(Wo)]
                         for u in range(k) for v in range(k)])
    cols = np.asarray(cols, dtype=int)
    cell_colors = plt.get_cmap("Pastel1" if H * W <= 9 else "tab20")(np.arange(H * W) % 20)
    window_colors = TAP_COLORS[: Ho * Wo]
    names = [chr(ord("a") + n) for n in range(H * W)]
    fig, (a0, a1, a2) = plt.subplots(1, 3, figsize=(9.2, 3.1), gridspec_kw={"width_ratios": [1, 1.25, 1.25]})

    def cells(ax, labels, colors, shape):
        R, K = shape
        for (i, j), lab in np.ndenumerate(np.asarray(labels).reshape(R, K)):
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=colors[i * K + j], edgecolor="white", lw=1.5))
            ax.text(j, i, lab, ha="center", va="center", fontsize=11)
        ax.set_xlim(-0.7, K - 0.3)
        ax.set_ylim(R - 0.3, -0.7)
        ax.set_aspect("equal")
        ax.set_axis_off()

    cells(a0, names, cell_colors, (H, W))
    for n, (i, j) in enumerate(np.ndindex(Ho, Wo)):                      # each window, inset a little
        inset = 0.08 + 0.06 * n
        a0.add_patch(Rectangle((j - 0.5 + inset, i - 0.5 + inset), k - 2 * inset, k - 2 * inset, fill=False,
                               edgecolor=window_colors[n], lw=2.2))
    a0.set_title(f"input {H}×{W}, {Ho * Wo} windows {k}×{k}", fontsize=10)
    cells(a1, [names[c] for c in cols.ravel()], [cell_colors[c] for c in cols.ravel()], cols.shape)
    for n in range(Ho * Wo):                                             # each column, outlined like its window
        a1.add_patch(Rectangle((n - 0.45, -0.45), 0.9, cols.shape[0] - 0.1, fill=False, edgecolor=window_colors[n],
                               lw=2.2))
        a1.text(n, -0.75, f"y{n // Wo}{n % Wo}", ha="center", va="bottom", fontsize=9, color=window_colors[n])
    for t in range(cols.shape[0]):
        a1.text(-0.75, t, f"w{t // k}{t % k}", ha="right", va="center", fontsize=9, color="#333333")
    a1.set_ylim(cols.shape[0] - 0.3, -1.2)
    a1.set_xlim(-1.4, cols.shape[1] - 0.3)
    a1.set_title("cols: one column per window", fontsize=10)
    a2.set_axis_off()
    taps = "  ".join(f"w{t // k}{t % k}" for t in range(k * k))
    outs = "  ".join(f"y{n // Wo}{n % Wo}" for n in range(Ho * Wo))
    a2.text(0.5, 0.62, f"[ {taps} ]  @  cols", ha="center", va="center", fontsize=10, family="monospace")
    a2.text(0.5, 0.45, "=", ha="center", va="center", fontsize=12)
    a2.text(0.5, 0.28, f"[ {outs} ]", ha="center", va="center", fontsize=10, family="monospace")
    a2.set_title("the weights as a row: one product", fontsize=10)
    fig.tight_layout()
    return fig


# --- end of chapter 1 diagrams ---


# --- Chapter 2 diagrams (conceptual figures) ---
def descent_paths(paths, target, titles=None, size=(3.4, 3.2)):
    """One panel per weight path {label: (steps + 1, 2) array}: gradient descent in the plane of two weights.

    The path starts at the first row (a grey dot) and the target weights are a star in the highlight colour; both
    panels share their limits, so the two paths compare at a glance.
    """
    points = np.concatenate([np.asarray(p) for p in paths.values()] + [np.asarray([target])])
    pad = 0.15 * np.ptp(points, axis=0).max()
    lo, hi = points.min(axis=0) - pad, points.max(axis=0) + pad
    fig, axes = plt.subplots(1, len(paths), figsize=(size[0] * len(paths), size[1]), squeeze=False)
    for k, (ax, (label, p)) in enumerate(zip(axes[0], paths.items())):
        p = np.asarray(p)
        ax.plot(p[:, 0], p[:, 1], "-o", color="#4c72b0", ms=2.5, lw=1.2)
        ax.plot(*p[0], "o", color="#888888", ms=6)
        ax.plot(*target, "*", color=HIGHLIGHT, ms=14)
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_aspect("equal")
        ax.axhline(0, color="#999999", lw=0.8, zorder=0)
        ax.axvline(0, color="#999999", lw=0.8, zorder=0)
        ax.set_xlabel("weight 1")
        if k == 0:
            ax.set_ylabel("weight 2")
        ax.grid(alpha=0.3)
        ax.set_title(titles[k] if titles else label, fontsize=9)
    fig.tight_layout()
    return fig
# --- end of chapter 2 diagrams ---


# --- Chapter 3 diagrams (conceptual figures) ---
# --- end of chapter 3 diagrams ---


# --- Chapter 4 diagrams (conceptual figures) ---
def network(ax, sizes, keep=None, title=None, kept_label=None, layer_labels=None):
    """One fully connected network on `ax`: a column of units per layer, every kept unit wired to the next layer's.

    keep: one bool array per layer (None for a layer, or for all of them: every unit kept). A dropped unit is drawn
    grey and crossed out in the highlight colour, and its connections are left out. kept_label (e.g. "×2") is
    written in the kept units of the layers that have a mask.
    """
    from matplotlib.collections import LineCollection, PatchCollection  # here: chapter 4's section only
    from matplotlib.patches import Circle

    L, dx, r = len(sizes), 1.7, 0.3  # layers, distance between layers, unit radius (units are 1 apart)
    masked = [k is not None for k in (keep or [None] * L)]
    keep = [np.ones(n, bool) if k is None else np.asarray(k, bool) for n, k in zip(sizes, keep or [None] * L)]
    pos = [[(dx * x, (n - 1) / 2 - i) for i in range(n)] for x, n in enumerate(sizes)]
    wires = [(a, b) for l in range(L - 1) for a, k0 in zip(pos[l], keep[l]) for b, k1 in zip(pos[l + 1], keep[l + 1])
             if k0 and k1]
    ax.add_collection(LineCollection(wires, colors="#8c8c8c", linewidths=0.7, zorder=1))  # one artist: fast
    units = [(xy, k, has_mask) for layer, kept, has_mask in zip(pos, keep, masked) for xy, k in zip(layer, kept)]
    ax.add_collection(PatchCollection([Circle(xy, r) for xy, _, _ in units], zorder=2, linewidths=1.2,
                                      facecolors=["#c6dbef" if k else "#f0f0f0" for _, k, _ in units],
                                      edgecolors=["#4a7db3" if k else "#c8c8c8" for _, k, _ in units]))
    d = 0.7 * r
    crosses = [seg for (x, y), k, _ in units if not k
               for seg in (((x - d, y - d), (x + d, y + d)), ((x - d, y + d), (x + d, y - d)))]
    ax.add_collection(LineCollection(crosses, colors=HIGHLIGHT, linewidths=1.8, zorder=3))
    for (x, y), k, has_mask in units:
        if k and has_mask and kept_label:
            ax.text(x, y, kept_label, ha="center", va="center", fontsize=6.5, zorder=3)
    top = (max(sizes) - 1) / 2
    for x, label in enumerate(layer_labels or []):
        ax.text(dx * x, -top - 0.55, label, ha="center", va="top", fontsize=7.5, color="#555555")
    ax.set_xlim(-0.5, dx * (L - 1) + 0.5)
    ax.set_ylim(-top - (1.1 if layer_labels else 0.5), top + 0.5)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9.5)
    return ax


def thinned_networks(sizes, masks, titles=None, between=None, after=None, size=2.0, **kwargs):
    """A row of networks of the layer `sizes`, one per entry of `masks` (see `network`); returns the Figure.

    between: a short text in a gap after the first panel (e.g. "≈ average of", when the first panel is the full
    network and the others are thinned versions of it); after: a text after the last panel (e.g. "…").
    kwargs go to `network` (kept_label, layer_labels).
    """
    gap, tail = 0.45 if between else 0, 0.3 if after else 0  # widths of the text columns, in panels
    ratios = [1] + ([gap] if between else []) + [1] * (len(masks) - 1) + ([tail] if after else [])
    fig, axes = plt.subplots(1, len(ratios), figsize=(size * sum(ratios), size), squeeze=False,
                             gridspec_kw={"width_ratios": ratios})
    axes = list(axes[0])
    texts = [(axes.pop(1), between, 10, HIGHLIGHT)] if between else []
    texts += [(axes.pop(), after, 12, "black")] if after else []
    for ax, text, fontsize, color in texts:
        ax.set_axis_off()
        ax.text(0.5, 0.45, text, ha="center", va="center", fontsize=fontsize, color=color, transform=ax.transAxes)
    for k, (ax, keep) in enumerate(zip(axes, masks)):
        network(ax, sizes, keep, titles[k] if titles else None, **kwargs)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.87, wspace=0.15)
    return fig


# --- end of chapter 4 diagrams ---


# --- Chapter 5 diagrams (conceptual figures) ---
def bn_backward_graph(size=(9.6, 4.6)):
    """Batch norm's computation graph for one channel, with the three paths by which ∂L/∂x flows back to x.

    Grey arrows are the forward pass; the coloured ones run backward, each labelled with its term of
    ∂L/∂x_j = r·(ĝ_j − mean(ĝ) − x̂_j·mean(ĝ·x̂)), where ĝ = γ·∂L/∂y and r = 1/√(σ² + ε). Returns the Figure.
    Plain Unicode text, no mathtext, and a fixed layout: the figure renders in a fraction of a second.
    """
    from matplotlib.patches import FancyArrowPatch

    fig, ax = plt.subplots(figsize=size)
    nodes = {"x": (0.0, 0.0), "μ": (2.6, 1.55), "σ²": (2.6, -1.55), "x̂": (5.2, 0.0), "y": (7.2, 0.0),
             "γ, β": (7.2, 1.55), "L": (9.0, 0.0)}
    formulas = {"μ": ("mean(x)", 0, 0.55), "σ²": ("mean((x − μ)²)", 0, -0.58), "x̂": ("(x − μ)·r", 0.45, -0.62),
                "y": ("γ·x̂ + β", 0, -0.55)}
    for name, (x, y) in nodes.items():
        ax.text(x, y, name, ha="center", va="center", fontsize=15, zorder=3,
                bbox=dict(boxstyle="circle,pad=0.35" if len(name) < 3 else "round,pad=0.35", fc="white",
                          ec="#333333", lw=1.3))
        if name in formulas:
            text, dx, dy = formulas[name]
            ax.text(x + dx, y + dy, text, ha="center", va="center", fontsize=10, color="#555555")

    def arrow(a, b, color, rad=0.0, lw=1.2, ls="-", shrink=19):
        ax.add_patch(FancyArrowPatch(nodes[a], nodes[b], connectionstyle=f"arc3,rad={rad}", arrowstyle="-|>",
                                     mutation_scale=13, color=color, lw=lw, ls=ls, shrinkA=shrink, shrinkB=shrink,
                                     zorder=2))

    for a, b in [("x", "μ"), ("x", "σ²"), ("x", "x̂"), ("μ", "x̂"), ("σ²", "x̂"), ("x̂", "y"), ("γ, β", "y"),
                 ("y", "L")]:
        arrow(a, b, "#aaaaaa")  # the forward pass
    arrow("μ", "σ²", "#aaaaaa", ls=":")
    ax.text(2.5, -0.5, "adds 0: Σ(x − μ) = 0", ha="right", va="center", fontsize=8, color="#777777")
    arrow("L", "y", "#333333", rad=0.4, lw=2.2)
    arrow("y", "x̂", "#333333", rad=0.4, lw=2.2)
    ax.text(6.2, 0.78, "ĝ = γ·∂L/∂y", ha="center", va="center", fontsize=10, color="#333333",
            bbox=dict(fc="white", ec="none", pad=1))
    paths = [  # (label, colour, backward hops (from, to, curvature), label position)
        ("1. directly through x̂:  r·ĝⱼ", HIGHLIGHT, [("x̂", "x", 0.3)], (2.6, 0.98)),
        ("2. through μ:  − r·mean(ĝ)", SET_COLORS[0], [("x̂", "μ", 0.25), ("μ", "x", 0.25)], (1.1, 2.5)),
        ("3. through σ²:  − r·x̂ⱼ·mean(ĝ·x̂)", SET_COLORS[1], [("x̂", "σ²", -0.25), ("σ²", "x", -0.25)],
         (1.1, -2.55)),
    ]
    for label, color, hops, (tx, ty) in paths:
        for a, b, rad in hops:
            arrow(a, b, color, rad=rad, lw=2.4)
        ax.text(tx, ty, label, ha="center", va="center", fontsize=11, color=color,
                bbox=dict(fc="white", ec="none", pad=1))
    ax.text(4.5, -3.35, "∂L/∂xⱼ = the sum of the three paths = r·(ĝⱼ − mean(ĝ) − x̂ⱼ·mean(ĝ·x̂))", ha="center",
            va="center", fontsize=12)
    ax.set_xlim(-0.8, 9.7)
    ax.set_ylim(-3.7, 2.95)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title("batch norm on one channel: forward (grey), and the three ways back to x", fontsize=11)
    fig.alt_text = ("Batch norm on one channel as a graph. Forward: x gives μ = mean(x) and σ² = mean((x − μ)²); "
                    "x, μ and σ² give x̂ = (x − μ)·r; y = γ·x̂ + β; y gives the loss L. Backward, ĝ = γ·∂L/∂y flows "
                    "from L to x̂ and on to x by three paths: 1. directly through x̂, r·ĝⱼ; 2. through μ, − r·mean(ĝ); "
                    "3. through σ², − r·x̂ⱼ·mean(ĝ·x̂). ∂L/∂xⱼ is their sum, r·(ĝⱼ − mean(ĝ) − x̂ⱼ·mean(ĝ·x̂)), "
                    "with r = 1/√(σ² + ε).")
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.93)  # fixed: no tight_layout pass
    return fig


# --- end of chapter 5 diagrams ---


# --- Chapter 6 diagrams (conceptual figures) ---
def _cells(ax, x0, y0, n, color="#dce6f2"):
    """An n×n block of square cells with its top-left corner at (x0, y0) (y grows downwards)."""
    for i in range(n):
        for j in range(n):
            ax.add_patch(Rectangle((x0 + j, y0 + i), 1, 1, facecolor=color, edgecolor="white", lw=1.2))


def head_as_conv(kernel=4, map_sizes=(4, 6), channels=64, classes=10, size=(9.2, 3.0)):
    """A dense head recast as a kernel×kernel convolution, on the map it was built for and on a larger one.

    Each panel: the feature map (one face of the C channels), the kernel's first and last placements (solid and
    dashed), an arrow, and the score map those placements fill.
    """
    fig, axes = plt.subplots(1, len(map_sizes), figsize=size, squeeze=False,
                             gridspec_kw={"width_ratios": [m + 2 + m - kernel + 1 for m in map_sizes]})
    for ax, m in zip(axes[0], map_sizes):
        out = m - kernel + 1
        _cells(ax, 0, 0, m)
        for k in range(3, 0, -1):  # the channels behind, as offset faces
            ax.add_patch(Rectangle((0.18 * k, -0.18 * k), m, m, facecolor="white", edgecolor="#9aa9bd", lw=0.8,
                                   zorder=0))
        x_out, y_out = m + 1.6, (m - out) / 2
        _cells(ax, x_out, y_out, out, color="#f2e1c9")
        places = [(0, 0)] + ([(out - 1, out - 1)] if out > 1 else [])
        for (i, j), style in zip(places, ["-", "--"]):
            ax.add_patch(Rectangle((j, i), kernel, kernel, fill=False, edgecolor=HIGHLIGHT, lw=2.4, ls=style))
            ax.add_patch(Rectangle((x_out + j, y_out + i), 1, 1, fill=False, edgecolor=HIGHLIGHT, lw=2.4, ls=style))
        ax.annotate("", xy=(x_out - 0.15, m / 2), xytext=(m + 0.2, m / 2),
                    arrowprops=dict(arrowstyle="->", color="#444444", lw=1.4))
        ax.text(m / 2, m + 0.7, f"{channels}×{m}×{m} map", ha="center", va="top", fontsize=9)
        ax.text(x_out + out / 2, y_out + out + 0.7, f"{classes}×{out}×{out} scores", ha="center", va="top",
                fontsize=9)
        where = "fits once" if out == 1 else f"fits {out}×{out} times"
        ax.set_title(f"{m}×{m} map: the {kernel}×{kernel} kernel {where}", fontsize=10)
        ax.set_xlim(-0.3, x_out + out + 0.3)
        ax.set_ylim(m + 1.6, -1.0)
        ax.set_aspect("equal")
        ax.set_axis_off()
    fig.tight_layout()
    return fig


# --- end of chapter 6 diagrams ---


# --- Chapter 7 diagrams (conceptual figures) ---
# --- end of chapter 7 diagrams ---


# --- Alt text: a plain description of a Figure, and its HTML image for the static book ---------------
_TEX = {
    r"\times": "×", r"\cdot": "·", r"\pm": "±", r"\approx": "≈", r"\leq": "≤", r"\le": "≤", r"\geq": "≥",
    r"\ge": "≥", r"\neq": "≠", r"\infty": "∞", r"\sum": "Σ", r"\prod": "Π", r"\partial": "∂", r"\nabla": "∇",
    r"\sqrt": "√", r"\to": "→", r"\rightarrow": "→", r"\leftarrow": "←", r"\in": "∈", r"\ldots": "…",
    r"\dots": "…", r"\cdots": "⋯", r"\circ": "∘", r"\odot": "⊙", r"\ast": "*", r"\%": "%", r"\,": " ", r"\;": " ",
    r"\!": "", r"\ ": " ", r"\quad": " ",
}
_GREEK = dict(zip("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau upsilon "
                  "phi chi psi omega".split(), "αβγδεζηθικλμνξπρστυφχψω"))
_TEX.update({"\\" + name: letter for name, letter in _GREEK.items()})
_TEX.update({"\\Gamma": "Γ", "\\Delta": "Δ", "\\Theta": "Θ", "\\Lambda": "Λ", "\\Sigma": "Σ", "\\Phi": "Φ",
             "\\Omega": "Ω", "\\varepsilon": "ε", "\\ell": "ℓ"})
_SUP = str.maketrans("0123456789+-n", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻ⁿ")


def plain_text(text):
    """Matplotlib text as plain words: mathtext `$...$` becomes Unicode (`$3\\times3$` -> "3×3"), spaces collapse."""
    import re

    def math(m):
        s = m.group(1)
        for _ in range(4):  # innermost braces first: \frac{x - \mu}{\sqrt{\sigma^2}}
            s = re.sub(r"\\(?:math[a-z]+|text[a-z]*|operatorname|boldsymbol)\s*\{([^{}]*)\}", r"\1", s)
            s = re.sub(r"\\sqrt\s*\{([^{}]*)\}", r"√(\1)", s)
            s = re.sub(r"\\frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}", r"(\1)/(\2)", s)
            s = re.sub(r"\\hat\s*\{?(\w)\}?", "\\1\u0302", s)
            s = re.sub(r"\\(?:bar|overline)\s*\{?(\w)\}?", "\\1\u0304", s)
            s = re.sub(r"\\tilde\s*\{?(\w)\}?", "\\1\u0303", s)
        for cmd in sorted(_TEX, key=len, reverse=True):  # longest first: \leq before \le
            s = re.sub(re.escape(cmd) + r"(?![A-Za-z])\s*", lambda _, c=cmd: _TEX[c], s)  # as mathtext: no space
        s = re.sub(r"(\s)([×·±≈≤≥≠→←∈])(?=\S)", r"\1\2 ", s)  # "a \leq b" -> "a ≤ b", "3\times3" -> "3×3"
        s = re.sub(r"\^(?:\{([0-9+\-n]+)\}|([0-9n]))", lambda m: (m.group(1) or m.group(2)).translate(_SUP), s)
        s = re.sub(r"[_^]\{([^{}]*)\}", r"\1", s).replace("_", "").replace("^", "")
        s = re.sub(r"\\(?:left|right|big|Big|displaystyle)", "", s)
        return re.sub(r"\\([A-Za-z]+)", r"\1", s).replace("{", "").replace("}", "")

    text = re.sub(r"(?<!\\)\$(.+?)(?<!\\)\$", math, text or "").replace(r"\$", "$")
    return " ".join(text.split())


def _join(items, last="and"):
    """ "a, b and c"; "a, 1; b, 2 and c, 3" when the items hold commas themselves."""
    items = [i for i in items if i]
    sep = "; " if any("," in i for i in items) else ", "
    return items[0] if len(items) == 1 else sep.join(items[:-1]) + f" {last} " + items[-1] if items else ""


def _a(phrase):
    """ "a" or "an" before a phrase: an 8×8 grid, an image, a 6×6 grid."""
    vowel = phrase[:1] in "aeio8" or phrase.startswith(("11", "18")) and not phrase[2:3].isdigit()
    return ("an " if vowel else "a ") + phrase


def _some(items, most=6, distinct=True):
    """Up to `most` (distinct) non-empty items, in order, then "N more" if there are more."""
    items = [i for i in items if i]
    seen = list(dict.fromkeys(items)) if distinct else items
    return seen[:most] + ([f"{len(seen) - most} more"] if len(seen) > most else [])


def _axes_kind(ax, labels=True):
    """What an Axes shows, in a few words (without its title), e.g. "a 6×6 grid of numbers"; labels=True adds
    the numbers of a small grid and the axis labels ("x axis: epoch; y axis: loss (log scale)")."""
    from matplotlib.collections import PathCollection
    from matplotlib.container import BarContainer
    from matplotlib.ticker import FixedLocator

    parts = []
    texts = [plain_text(t.get_text()) for t in ax.texts if t.get_visible() and t.get_text().strip()]
    for im in ax.images[:1]:
        shape = im.get_array().shape
        size = f"{shape[0]}×{shape[1]}"
        if len(texts) >= 0.5 * shape[0] * shape[1] and len(shape) == 2:
            what = _a(f"{size} grid of numbers")
            cells = sorted((round(t.get_position()[1]), round(t.get_position()[0]), plain_text(t.get_text()))
                           for t in ax.texts if t.get_visible() and t.get_text().strip())
            if labels and len(cells) == shape[0] * shape[1] <= 16:  # small enough to read out, row by row
                rows = [", ".join(c[2] for c in cells if c[0] == r) for r in dict.fromkeys(c[0] for c in cells)]
                what += (", by rows: " if len(rows) > 1 else ": ") + "; ".join(rows)
        elif len(shape) == 3 or (im.get_cmap().name in ("gray", "Greys", "gray_r", "binary")):
            what = _a(f"{size} {'colour' if len(shape) == 3 else 'greyscale'} image")
        else:
            what = _a(f"{size} heatmap")
        if getattr(im, "colorbar", None) is not None:
            label = plain_text(im.colorbar.ax.get_ylabel() or im.colorbar.ax.get_xlabel())
            what += f" with a colour scale{' for ' + label if label else ''}"
        parts.append(what)
    legend = ax.get_legend()
    series = _join(_some([plain_text(t.get_text()) for t in legend.get_texts()] if legend else [], 5))
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    lines = [ln for ln in ax.lines if ln.get_visible() and len(ln.get_xdata()) > 2]
    if bars:
        fixed = isinstance(ax.xaxis.get_major_locator(), FixedLocator)
        cats = _some([plain_text(t.get_text()) for t in ax.get_xticklabels()] if fixed else [], 10)
        kind = "a histogram" if not cats and len(bars[0].patches) >= 10 else "a bar chart"
        parts.append(kind + (f" of {series}" if series else "") + (f" over {_join(cats)}" if cats else ""))
    elif lines and not ax.images:
        n = len(lines)
        parts.append(f"a line plot of {series}" if series else "a line plot" + (f" with {n} curves" if n > 1 else ""))
    if any(isinstance(c, PathCollection) for c in ax.collections):
        parts.append("a scatter plot")
    if not parts and (ax.patches or ax.collections or ax.lines or ax.artists):
        short = [t for t in texts if len(t) <= 40]
        shown = _some(short, 6)
        if shown and shown[-1].endswith(" more"):
            parts.append("a diagram with labels such as " + ", ".join(shown[:-1]))
        else:
            parts.append("a diagram" + (f" labelled {_join(shown)}" if shown else ""))
    if not parts and any(ch.isalnum() for t in texts for ch in t):  # not a lone "…" between panels
        parts.append("the text “" + " ".join(texts[:4]) + ("…" if len(texts) > 4 else "") + "”")
    out = ", ".join(parts)
    if out and labels and ax.axison:
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            label = plain_text(axis.get_label_text())
            if label and ax.images and not len(axis.get_ticklocs()):  # an image's label names its row or column
                out += f"; {'column' if name == 'x' else 'row'}: {label}"
            elif label:
                out += f"; {name} axis: {label}" + (" (log scale)" if axis.get_scale() == "log" else "")
    return out


def _position(spec, rows, cols):
    """"left", "top right", "bottom" (a panel across the figure), "row 2, panel 3"… for a subplot spec in a
    rows × cols grid; None for a panel spanning some but not all rows and columns."""
    rs, cs = spec.rowspan, spec.colspan
    horiz = {2: ["left", "right"], 3: ["left", "middle", "right"]}.get(cols)
    vert = {2: ["top", "bottom"], 3: ["top", "middle", "bottom"]}.get(rows)
    if len(rs) == rows and len(cs) == 1:  # a column (or, in a single row, a panel)
        return horiz[cs.start] if horiz else f"panel {cs.start + 1}"
    if len(cs) == cols and len(rs) == 1:  # a row
        return vert[rs.start] if vert else f"panel {rs.start + 1}"
    if len(rs) == 1 and len(cs) == 1:
        return f"{vert[rs.start]} {horiz[cs.start]}" if horiz and vert else f"row {rs.start + 1}, panel {cs.start + 1}"
    return None


def _sentence(text):
    """A sentence. Only words describe() writes itself are capitalised ("a line plot" -> "A line plot", "left:" ->
    "Left:"); titles stay as written ("lr 0.01", "σ curve", "momentum=0.9")."""
    import re

    text = text.strip()
    if re.match(r"(an? |left|right|middle|top|bottom|panel |row |the text )", text):
        text = text[0].upper() + text[1:]
    return text + ("" if text.endswith((".", "?", "!", "…")) else ".") if text else ""


def describe(fig, most=6):
    """One to three plain sentences about a matplotlib Figure, for alt text: its suptitle, then each panel's
    position, title and content (grid, image, heatmap, line plot, bars, diagram), axis labels and legend entries.

    "Max pooling, 2×2 kernel. Left: input, a 6×6 grid of numbers. Right: output, a 3×3 grid of numbers."
    Mathtext becomes plain Unicode. Never empty. More than `most` panels are summarised by kind and titles.
    Drawing code that knows better sets `fig.alt_text = "..."`, which is returned as it is.
    """
    if getattr(fig, "alt_text", None):
        return plain_text(fig.alt_text)
    colorbars = {id(im.colorbar.ax) for ax in fig.axes for im in ax.images if getattr(im, "colorbar", None)}
    colorbars |= {id(ax) for ax in fig.axes if hasattr(ax, "_colorbar")}
    panels = []
    for ax in fig.axes:
        if id(ax) in colorbars or not ax.get_visible():
            continue
        title = ", ".join(t for t in (plain_text(ax.get_title(loc)) for loc in ("left", "center", "right")) if t)
        kind = _axes_kind(ax, labels=len(fig.axes) - len(colorbars) <= most)
        if title or kind:
            spec = ax.get_subplotspec() if hasattr(ax, "get_subplotspec") else None
            panels.append((ax, spec, title, kind))
    sup = getattr(fig, "_suptitle", None)
    texts = ([sup] if sup else []) + [t for t in fig.texts if t is not sup]
    head = ", ".join([t for t in (plain_text(t.get_text()) for t in texts) if t][:3])
    if not panels:
        n = len([ax for ax in fig.axes if ax.get_visible()])
        tail = f"A figure with {n} empty panel{'s' * (n != 1)}." if n else "An empty figure."
        return _sentence(head) + (" " if head else "") + tail
    if len(panels) == 1:
        _, _, title, kind = panels[0]
        body = f"{title}: {kind}" if title and kind else title or kind
        return " ".join(_sentence(s) for s in (head, body) if s)
    sentences = [head or f"A figure with {len(panels)} panels"]
    if len(panels) <= most:
        specs = [s for _, s, _, _ in panels]
        one_grid = None not in specs and len({id(s.get_gridspec()) for s in specs}) == 1
        rows, cols = (specs[0].get_gridspec().nrows, specs[0].get_gridspec().ncols) if one_grid else (1, 1)
        for k, (_, spec, title, kind) in enumerate(panels):
            where = (_position(spec, rows, cols) if one_grid else None) or f"panel {k + 1}"
            sentences.append(f"{where}: " + ", ".join(x for x in (title, kind) if x))
    else:
        kinds = _some([kind for _, _, _, kind in panels], 3)
        specs = [s for _, s, _, _ in panels]
        grid_rows = {}  # row -> [(column, title, row label)], when the panels share one grid
        if None not in specs and len({id(s.get_gridspec()) for s in specs}) == 1:
            for ax, spec, title, _ in panels:
                r, c = divmod(spec.num1, spec.get_gridspec().ncols)
                grid_rows.setdefault(r, []).append((c, title, plain_text(ax.get_ylabel()) if ax.axison else ""))
        titles = [title for _, _, title, _ in panels if title]
        n = len(grid_rows)
        text = f"{len(panels)} panels" + (f" in {n} rows" if n > 1 else "")
        text += f", each {kinds[0]}" if len(kinds) == 1 else f" ({_join(kinds, last='or')})" if kinds else ""
        if n > 1 and titles and len(titles) <= 4 * most:  # row by row, every title in its place
            names = {2: ["top", "bottom"], 3: ["top", "middle", "bottom"]}.get(n, [str(k + 1) for k in range(n)])
            parts = []
            for name, (_, cells) in zip(names, sorted(grid_rows.items())):
                cells.sort()
                label = next((lab for _, _, lab in cells if lab), "")
                row_titles = ", ".join(t for _, t, _ in cells if t)
                name = f"{name} row" if n <= 3 else f"row {name}"
                parts.append(f"{name} ({label}): {row_titles}" if label and row_titles else
                             f"{name}: {label or row_titles}" if label or row_titles else "")
            text += ". " + _sentence("; ".join(p for p in parts if p))[:-1]
        else:
            text += f", titled {_join(_some(titles, 2 * most, distinct=False))}" if titles else ""
            rows = _some([lab for _, cells in sorted(grid_rows.items()) for _, _, lab in sorted(cells)[:1] if lab],
                         most)
            text += f"; rows: {_join(rows)}" if rows else ""
        if head:
            sentences.append(text)
        else:
            sentences[0] = "A figure with " + text
    return " ".join(_sentence(s) for s in sentences)


def figure_html(fig):
    """A Figure as one HTML <img>, PNG data URI with alt text from `describe`, drawn as the inline backend draws it
    (same dpi, `bbox_inches="tight"`, "retina" if configured: then width/height halve the pixels). None for an empty
    figure. At 1x the <img> has no width/height, like myst-nb's image/png output: the theme's padding (dark mode)
    then adds to the natural size instead of shrinking the picture.

    The static book shows static figures through this: myst-nb takes an <img>'s alt only from cell metadata, so an
    image/png output always gets its file path as alt. _ext/frames.py later moves the data URI into a file.
    """
    import base64
    import html

    from IPython.core.pylabtools import print_figure

    try:
        from matplotlib_inline.config import InlineBackend

        config = InlineBackend.instance()
        kwargs, formats = dict(config.print_figure_kwargs), set(config.figure_formats)
    except ImportError:  # no inline backend: IPython's defaults
        kwargs, formats = {"bbox_inches": "tight"}, {"png"}
    scale = 2 if formats & {"retina", "png2x"} else 1
    png = print_figure(fig, fmt="retina" if scale == 2 else "png", **kwargs)
    if not png:
        return None
    width, height = (int.from_bytes(png[i:i + 4], "big") // scale for i in (16, 20))  # the PNG's IHDR chunk
    src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    size = f'width="{width}" height="{height}" ' if scale != 1 else ""  # 1x: natural size, as the PNG output had
    return (f'<img class="nbutils-figure" src="{src}" alt="{html.escape(describe(fig), quote=True)}" {size}'
            f'style="max-width:100%;height:auto">')


def _html_formatter(fig):
    """text/html for a Figure in the static book build only; live Jupyter and Colab keep their usual PNG output."""
    from nbutils.widgets import is_static

    if is_static():
        return figure_html(fig)
    return fig._repr_html_() if hasattr(fig, "_repr_html_") else None


def register_html_formatter(shell=None):
    """Show Figures as `figure_html` when the static book is built (NBUTILS_STATIC_WIDGETS set). Runs on import.

    Registered for FigureBase, not Figure: the inline backend's `select_figure_formats` (run when the backend loads or
    `%config InlineBackend.figure_formats` changes) drops every formatter registered for Figure itself. The image/png
    output stays too (one output with both types); myst-nb renders text/html first, Jupyter shows the same picture.
    """
    from matplotlib.figure import FigureBase

    try:
        shell = shell or get_ipython()  # noqa: F821 (a builtin inside IPython)
    except NameError:
        return False
    if shell is None or not hasattr(shell, "display_formatter"):
        return False
    shell.display_formatter.formatters["text/html"].for_type(FigureBase, _html_formatter)
    return True


register_html_formatter()
