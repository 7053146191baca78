"""Interactive figures: live sliders in Jupyter and Colab, precomputed frames in the HTML book.

One call, `interact(draw, kernel_size=[1, 3, 5], stride=[1, 2])`, serves both media. `draw(**values)`
returns a matplotlib Figure. In a live kernel the call shows ipywidgets sliders that redraw the figure.
When the book is built (the build sets NBUTILS_STATIC_WIDGETS=1), it renders every combination of
slider values once into one HTML output with native range sliders and a few lines of JavaScript, so the
page responds with no kernel and no network.

Frame geometry, the same for every figure: a figure W inches wide is shown W x 100 CSS px wide (an
8-inch figure fills the text column, like the static figures), and is rendered at 200 dpi, so each CSS
pixel has 2 x 2 image pixels and the frames stay sharp on high-density screens. At that scale a font of
8 pt is 11.1 CSS px, the smallest text the book allows: `check_frame` refuses a frame whose smallest text
is smaller, so a figure that would be hard to read fails the build instead of reaching the page.
Frames are lossless WebP (antialiased, photographs in their own tones); identical frames are stored once.
"""

import base64
import contextlib
import html
import io
import itertools
import json
import os

import matplotlib.pyplot as plt
from matplotlib.backends.backend_agg import RendererAgg
from PIL import Image

STATIC_ENV = "NBUTILS_STATIC_WIDGETS"

CSS_PX_PER_INCH = 100  # a W-inch figure is shown W x 100 CSS px wide
DPI = 200  # image pixels per inch: 2 image px per CSS px
COLUMN_CSS_PX = 820  # the text column at 1366 px; a wider frame is scaled down to it (and its text with it)
MIN_TEXT_CSS_PX = 11.0  # the smallest readable text in a frame: 8 pt at 100 CSS px per inch
MAX_KEYFRAMES = 4  # frames printed in place of the sliders, one per row


def is_static():
    """True when outputs are being rendered for the static HTML book."""
    return os.environ.get(STATIC_ENV, "") not in ("", "0")


def only_first_frame():
    """True when NBUTILS_STATIC_WIDGETS=first: tests that re-run a notebook for its text render one frame only."""
    return os.environ.get(STATIC_ENV, "") == "first"


# ----------------------------------------------------------------------------------------------- one frame


@contextlib.contextmanager
def _recording_text(sizes):
    """Record (text, size in points) of every text the Agg renderer draws while the block runs."""
    original = RendererAgg.draw_text

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if str(s).strip():
            sizes.append((str(s), prop.get_size_in_points()))
        return original(self, gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

    RendererAgg.draw_text = draw_text
    try:
        yield sizes
    finally:
        RendererAgg.draw_text = original


def css_size(fig):
    """(width, height) in CSS px at which the book shows `fig`: 100 CSS px per inch of figure."""
    w, h = fig.get_size_inches()
    return round(w * CSS_PX_PER_INCH), round(h * CSS_PX_PER_INCH)


def text_css_px(points, css_width):
    """CSS px of a `points` font in a frame whose intrinsic width is `css_width` (scaled down past the column)."""
    return points / 72 * CSS_PX_PER_INCH * min(1.0, COLUMN_CSS_PX / css_width)


def describe(fig):
    """The figure's description for alt text, without its final full stop (the page adds "; name=value, ...")."""
    from nbutils import plot

    return " ".join(plot.describe(fig).split()).rstrip(". ")


def render_frame(fig):
    """Render and close `fig`: {"webp": bytes, "size": (css_w, css_h), "alt": str, "texts": [(text, css px)]}.

    The frame is fig's full canvas at DPI (no tight bounding box: every frame of a figure has one size).
    """
    alt = describe(fig)
    css_w, css_h = css_size(fig)
    sizes = []
    buf = io.BytesIO()
    with _recording_text(sizes):
        fig.savefig(buf, format="rgba", dpi=DPI, facecolor="white")
    width, height = (round(v * DPI) for v in fig.get_size_inches())
    plt.close(fig)
    img = Image.frombuffer("RGBA", (width, height), buf.getvalue(), "raw", "RGBA", 0, 1).convert("RGB")
    out = io.BytesIO()
    img.save(out, format="WEBP", lossless=True, quality=100, method=2)  # method 2: as small as 4, 4x faster
    texts = [(s, text_css_px(pt, css_w)) for s, pt in sizes]
    return {"webp": out.getvalue(), "size": (css_w, css_h), "alt": alt, "texts": texts}


def check_frame(frame, where="frame"):
    """Raise ValueError if the frame's smallest text is below MIN_TEXT_CSS_PX; return that smallest size."""
    if not frame["texts"]:
        return None
    text, px = min(frame["texts"], key=lambda t: t[1])
    if px < MIN_TEXT_CSS_PX - 1e-6:
        raise ValueError(
            f"{where}: the text {text[:60]!r} is {px:.1f} CSS px, below {MIN_TEXT_CSS_PX:g}: use a font of at "
            f"least 8 pt in a figure at most {COLUMN_CSS_PX / CSS_PX_PER_INCH:g} in wide"
        )
    return px


def data_uri(webp):
    return "data:image/webp;base64," + base64.b64encode(webp).decode("ascii")


# ----------------------------------------------------------------------------------------------- all frames


def _knobs(controls, idx):
    return ", ".join(f"{n}={opts[i]}" for (n, opts), i in zip(controls.items(), idx))


def render_frames(draw, controls):
    """Every combination of control values, rendered and checked.

    Returns {"images": [data URIs], "alts": [descriptions], "sizes": [[css w, css h]], "index": {"i,j,...": n},
    "min_text_px": smallest text over all frames}. Identical pictures are stored once (with the description
    of the first combination that drew them); the knob values are added to the alt text by the page.
    """
    images, alts, sizes, index, seen = [], [], [], {}, {}
    smallest = None
    for idx in itertools.product(*(range(len(v)) for v in controls.values())):
        values = {n: opts[i] for (n, opts), i in zip(controls.items(), idx)}
        frame = render_frame(draw(**values))
        px = check_frame(frame, f"{getattr(draw, '__name__', 'draw')}({_knobs(controls, idx)})")
        if px is not None:
            smallest = px if smallest is None else min(smallest, px)
        if frame["webp"] not in seen:  # identical pictures (e.g. a knob that has no effect here) are stored once
            seen[frame["webp"]] = len(images)
            images.append(data_uri(frame["webp"]))
            alts.append(frame["alt"])
            sizes.append(list(frame["size"]))
        index[",".join(map(str, idx))] = seen[frame["webp"]]
    return {"images": images, "alts": alts, "sizes": sizes, "index": index, "min_text_px": smallest}


def keyframes(controls, start):
    """Up to MAX_KEYFRAMES index tuples for print: the start, then each control at its far end, then the near ends.

    A control's far end is the extreme (first or last value) farther from its start, so the printed frames show
    each knob's largest change first; the other ends follow while there is room.
    """
    first = tuple(start[n] for n in controls)
    far, near = [], []
    for k, opts in enumerate(controls.values()):
        ends = sorted({0, len(opts) - 1} - {first[k]}, key=lambda i: (-abs(i - first[k]), -i))
        picks = [first[:k] + (i,) + first[k + 1:] for i in ends]
        far += picks[:1]
        near += picks[1:]
    return list(dict.fromkeys([first] + far + near))[:MAX_KEYFRAMES]


# ----------------------------------------------------------------------------------------------- the HTML

_CSS = """
.nbutils-interact { margin: 1rem 0 1.5rem; }
.nbutils-controls { display: flex; flex-wrap: wrap; gap: .1rem 1.6rem; margin-bottom: .4rem; }
.nbutils-control { display: flex; align-items: center; gap: .6em; min-height: 28px; margin: 0;
  color: var(--pst-color-text-base, #222); font-size: .9rem; }
.nbutils-control code { color: inherit; background: transparent; border: 0; padding: 0; font-weight: 600; }
.nbutils-control input[type=range] { width: 11em; height: 28px; margin: 0; cursor: pointer;
  accent-color: var(--pst-color-primary, #0a7d91); }
.nbutils-control output { min-width: 3.5em; font-variant-numeric: tabular-nums; }
.nbutils-frame-wrap { background: #fff; border-radius: .25rem; max-width: 100%; }
html[data-theme=dark] .nbutils-frame-wrap { padding: .4rem; }
html[data-theme=dark] .nbutils-interact img { filter: none; opacity: 1; }
.nbutils-interact img.nbutils-frame { display: block; max-width: 100%; height: auto; margin: 0; }
.nbutils-status { position: absolute !important; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; margin: 0; padding: 0; }
.nbutils-keyframes { display: none; }
@media print {
  .nbutils-interact .nbutils-controls, .nbutils-interact .nbutils-frame-wrap { display: none; }
  .nbutils-keyframes { display: grid; grid-template-columns: 1fr; gap: .6rem; }
  .nbutils-keyframes figure { margin: 0; break-inside: avoid; }
  .nbutils-keyframes img { display: block; width: 100%; height: auto; }
  .nbutils-keyframes figcaption { font-size: 8pt; font-family: monospace; }
}
"""

_JS = """(function () {
  var root = document.currentScript.closest('.nbutils-interact');
  var data = JSON.parse(root.querySelector('script[type="application/json"]').textContent);
  var inputs = root.querySelectorAll('.nbutils-controls input[type=range]');
  var img = root.querySelector('img.nbutils-frame');
  var status = root.querySelector('.nbutils-status');
  var timer = null;
  function update(ev) {
    var key = [], knobs = [], moved = '';
    inputs.forEach(function (el) {
      var label = JSON.parse(el.dataset.labels)[el.value];
      el.parentNode.querySelector('output').textContent = label;
      el.setAttribute('aria-valuetext', label);
      key.push(el.value);
      knobs.push(el.dataset.name + '=' + label);
      if (ev && ev.target === el) moved = el.dataset.name + ' ' + label;
    });
    var n = data.index[key.join(',')];
    img.src = data.images[n];
    img.width = data.sizes[n][0];
    img.height = data.sizes[n][1];
    img.alt = data.alts[n] + '; ' + knobs.join(', ');
    if (moved) {
      clearTimeout(timer);
      timer = setTimeout(function () { status.textContent = moved + ': ' + img.alt; }, 300);
    }
  }
  inputs.forEach(function (el) { el.addEventListener('input', update); });
})();"""

_styled = False  # the widget CSS is written once per kernel (one kernel renders one page)


def _img(src, alt, size, attrs=""):
    return (f'<img{attrs} src="{src}" alt="{html.escape(alt)}" width="{size[0]}" height="{size[1]}">')


def static_html(draw, controls, start):
    """Render every combination of control values; return one self-contained HTML snippet."""
    global _styled
    frames = render_frames(draw, controls)
    names = list(controls)
    first = tuple(start[n] for n in names)

    def knobs(idx):
        return ", ".join(f"{n}={controls[n][i]}" for n, i in zip(names, idx))

    def frame(idx):
        return frames["index"][",".join(map(str, idx))]

    rows = []
    for n, options in controls.items():
        labels = [str(o) for o in options]
        value = labels[start[n]]
        rows.append(
            f'<label class="nbutils-control"><code>{html.escape(n)}</code>'
            f'<input type="range" min="0" max="{len(options) - 1}" step="1" value="{start[n]}" '
            f'aria-label="{html.escape(n)}" aria-valuetext="{html.escape(value)}" data-name="{html.escape(n)}" '
            f'data-labels="{html.escape(json.dumps(labels))}">'
            f"<output>{html.escape(value)}</output></label>"
        )
    n0 = frame(first)
    main = _img(frames["images"][n0], f"{frames['alts'][n0]}; {knobs(first)}", frames["sizes"][n0],
                ' class="nbutils-frame"')
    keys = []
    for idx in keyframes(controls, start):
        n = frame(idx)
        if n in [k for k, _ in keys]:
            continue
        keys.append((n, idx))
    printed = "".join(
        "<figure>" + _img(frames["images"][n], f"{frames['alts'][n]}; {knobs(idx)}", frames["sizes"][n],
                          ' loading="lazy"')
        + f"<figcaption>{html.escape(knobs(idx))}</figcaption></figure>"
        for n, idx in keys
    )
    payload = {k: frames[k] for k in ("images", "alts", "sizes", "index")}
    payload = json.dumps(payload, ensure_ascii=False).replace("</", "<\\/")
    style = "" if _styled else f"<style>{_CSS}</style>"
    _styled = True
    min_px = frames["min_text_px"]
    return (
        f'<figure class="nbutils-interact" data-min-text-px="{min_px:.1f}">' if min_px is not None
        else '<figure class="nbutils-interact">'
    ) + (
        f'{style}<div class="nbutils-controls">{"".join(rows)}</div>'
        f'<div class="nbutils-frame-wrap">{main}</div>'
        '<p class="nbutils-status" aria-live="polite"></p>'
        f'<div class="nbutils-keyframes">{printed}</div>'
        f'<script type="application/json">{payload}</script><script>{_JS}</script></figure>'
    )


def _start_indices(controls, start):
    """Index of each slider's first value: `start[name]` if given, else the middle option."""
    start = start or {}
    unknown = set(start) - set(controls)
    if unknown:
        raise ValueError(f"start names unknown controls: {sorted(unknown)}")
    for n, v in start.items():
        if v not in controls[n]:
            raise ValueError(f"start value {n}={v!r} is not one of the options {controls[n]}")
    return {n: opts.index(start[n]) if n in start else (len(opts) - 1) // 2 for n, opts in controls.items()}


class StaticFigure:
    """An output that displays as the precomputed HTML snippet."""

    def __init__(self, snippet):
        self.snippet = snippet

    def _repr_html_(self):
        return self.snippet

    def __repr__(self):
        return "Interactive figure (precomputed frames; run the notebook for live sliders)"


def live_widget(draw, controls, start):
    """ipywidgets sliders (one per control) that redraw `draw(**values)` in an Output area."""
    import ipywidgets as w
    from IPython.display import display

    sliders = {
        n: w.SelectionSlider(options=[(str(o), o) for o in opts], value=opts[start[n]], description=n,
                             continuous_update=False, style={"description_width": "initial"})
        for n, opts in controls.items()
    }
    out = w.Output()

    def redraw(_=None):
        with out:
            out.clear_output(wait=True)
            display(draw(**{n: s.value for n, s in sliders.items()}))
            plt.close("all")

    for s in sliders.values():
        s.observe(redraw, names="value")
    redraw()
    return w.VBox([*sliders.values(), out])


def interact(draw, start=None, **controls):
    """Show draw(**values) with one slider per control (a list of values), live or precomputed.

    start maps control names to their first value (default: the middle option).
    """
    controls = {n: list(v) for n, v in controls.items()}
    for n, v in controls.items():
        if not v:
            raise ValueError(f"control {n!r} needs at least one value")
    first = _start_indices(controls, start)
    if only_first_frame():  # the build renders every frame; a re-run for text needs none but the first
        controls = {n: [opts[first[n]]] for n, opts in controls.items()}
        first = dict.fromkeys(controls, 0)
    if is_static():
        return StaticFigure(static_html(draw, controls, first))
    return live_widget(draw, controls, first)
