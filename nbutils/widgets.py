"""Interactive figures: live sliders in Jupyter and Colab, precomputed frames in the HTML book.

One call, `interact(draw, kernel_size=[1, 3, 5], stride=[1, 2])`, serves both media. `draw(**values)`
returns a matplotlib Figure. In a live kernel the call shows ipywidgets sliders that redraw the figure.
When the book is built (the build sets NBUTILS_STATIC_WIDGETS=1), it renders every combination of
slider values once, as quantized PNG frames, into one HTML output with native range sliders and a few
lines of JavaScript, so the page responds with no kernel and no network.
"""

import base64
import html
import io
import itertools
import json
import os

import matplotlib.pyplot as plt
from PIL import Image

STATIC_ENV = "NBUTILS_STATIC_WIDGETS"


def is_static():
    """True when outputs are being rendered for the static HTML book."""
    return os.environ.get(STATIC_ENV, "") not in ("", "0")


def only_first_frame():
    """True when NBUTILS_STATIC_WIDGETS=first: tests that re-run a notebook for its text render one frame only."""
    return os.environ.get(STATIC_ENV, "") == "first"


def png_frame(fig, colors=16, dpi=64):
    """A matplotlib Figure as a base64 PNG quantized to `colors` colours (closes the figure)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    img = Image.open(buf).convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return base64.b64encode(out.getvalue()).decode("ascii")


_JS = """(function () {
  var root = document.currentScript.parentNode;
  var data = JSON.parse(root.querySelector('script[type="application/json"]').textContent);
  var inputs = root.querySelectorAll('input[type=range]');
  var img = root.querySelector('img');
  function update() {
    var key = [];
    inputs.forEach(function (el) {
      var labels = JSON.parse(el.dataset.labels);
      el.nextElementSibling.textContent = labels[el.value];
      key.push(el.value);
    });
    img.src = 'data:image/png;base64,' + data.images[data.index[key.join(',')]];
  }
  inputs.forEach(function (el) { el.addEventListener('input', update); });
  update();
})();"""


CRISP = {"text.antialiased": False, "lines.antialiased": False, "patch.antialiased": False}


def render_frames(draw, controls, colors=16, dpi=64, crisp=False):
    """Every combination of control values as {"images": [unique PNGs], "index": {"i,j,...": image number}}."""
    images, index, seen = [], {}, {}
    for idx in itertools.product(*(range(len(v)) for v in controls.values())):
        values = {n: opts[i] for (n, opts), i in zip(controls.items(), idx)}
        with plt.rc_context(CRISP if crisp else {}):
            png = png_frame(draw(**values), colors, dpi)
        if png not in seen:  # identical pictures (e.g. a knob that has no effect here) are stored once
            seen[png] = len(images)
            images.append(png)
        index[",".join(map(str, idx))] = seen[png]
    return {"images": images, "index": index}


def static_html(draw, controls, start, colors=16, dpi=64, crisp=False):
    """Render every combination of control values; return one self-contained HTML snippet.

    crisp=True draws without antialiasing: diagrams of grids and text compress to about half the bytes.
    """
    frames = render_frames(draw, controls, colors, dpi, crisp)
    rows = []
    for n, options in controls.items():
        labels = html.escape(json.dumps([str(o) for o in options]))
        rows.append(
            f'<label style="display:flex;gap:.6em;align-items:center;margin:.15em 0">'
            f'<code style="min-width:9em">{html.escape(n)}</code>'
            f'<input type="range" min="0" max="{len(options) - 1}" step="1" value="{start[n]}" '
            f'data-name="{html.escape(n)}" data-labels="{labels}" style="width:14em">'
            f"<span></span></label>"
        )
    return (
        '<div class="nbutils-interact">' + "".join(rows) + '<img alt="interactive figure" style="max-width:100%">'
        f'<script type="application/json">{json.dumps(frames)}</script><script>{_JS}</script></div>'
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


def interact(draw, start=None, colors=16, dpi=64, crisp=False, **controls):
    """Show draw(**values) with one slider per control (a list of values), live or precomputed.

    start maps control names to their first value (default: the middle option). colors, dpi and crisp
    only shape the precomputed frames of the HTML book.
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
        return StaticFigure(static_html(draw, controls, first, colors, dpi, crisp))
    return live_widget(draw, controls, first)
