"""Alt text: every figure in the book is described in words, not named by its file.

`nbutils.plot.describe(fig)` writes the description from what the drawing code put on the figure (suptitle,
panel titles, axis labels, legend entries, what each panel shows); in the static build a Figure displays as an
HTML <img> carrying it. The last test reads every <img> of the built book.
"""

import base64
import io
import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import matplotlib
import numpy as np
import pytest
import yaml

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from nbutils import plot  # noqa: E402
from nbutils.widgets import STATIC_ENV  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --- describe() --------------------------------------------------------------------------------------------
def test_two_grids_with_a_suptitle():
    x = np.arange(36).reshape(6, 6)
    fig = plot.grids([x, x[::2, ::2]], titles=["input", "output"])
    fig.suptitle(r"Max pooling, $2\times2$ kernel")
    assert plot.describe(fig) == ("Max pooling, 2×2 kernel. Left: input, a 6×6 grid of numbers. "
                                  "Right: output, a 3×3 grid of numbers, by rows: 0, 2, 4; 12, 14, 16; 24, 26, 28.")


def test_a_line_plot_names_its_curves_and_axes():
    x = np.linspace(-2, 2, 20)
    fig = plot.curves(x, {"ReLU": np.maximum(x, 0), r"$\sigma(x)$": 1 / (1 + np.exp(-x))}, title="Activations",
                      xlabel="input", ylabel="output", logy=True)
    assert plot.describe(fig) == ("Activations: a line plot of ReLU and σ(x); x axis: input; "
                                  "y axis: output (log scale).")


def test_images_bars_heatmaps_and_colour_scales():
    fig = plot.images([np.zeros((8, 8)), np.ones((28, 28))], titles=["$x$", "$W_{out}$"])
    assert plot.describe(fig) == ("A figure with 2 panels. Left: x, an 8×8 greyscale image. "
                                  "Right: Wout, a 28×28 greyscale image.")
    fig = plot.bars(["cat", "dog"], [0.3, 0.7], title="class probabilities")
    assert plot.describe(fig) == "class probabilities: a bar chart over cat and dog."
    fig, ax = plt.subplots()
    fig.colorbar(ax.imshow(np.random.default_rng(0).random((5, 7))), label=r"$\mu$")
    assert plot.describe(fig) == "A 5×7 heatmap with a colour scale for μ."


def test_titles_keep_their_case_and_generated_words_start_sentences():
    fig, (a0, a1) = plt.subplots(1, 2)
    a0.plot([0, 1, 2], [1, 2, 3])
    a0.set_title("lr 0.01")
    a1.plot([0, 1, 2], [3, 2, 1])
    a1.set_title(r"$\sigma$ = 2")
    assert plot.describe(fig) == "A figure with 2 panels. Left: lr 0.01, a line plot. Right: σ = 2, a line plot."
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [1, 2, 3])
    ax.set_title("momentum=0.9")
    assert plot.describe(fig) == "momentum=0.9: a line plot."


def test_many_panels_are_summarised_with_their_row_labels():
    fig = plot.image_grid([[np.zeros((4, 4))] * 5] * 3, row_labels=["input", "after ReLU", "after pooling"])
    assert plot.describe(fig) == ("A figure with 15 panels in 3 rows, each a 4×4 greyscale image; rows: input, "
                                  "after ReLU and after pooling.")
    fig, axes = plt.subplots(2, 4)
    for c in range(4):
        plot.grid(axes[0, c], np.full((3, 3), c), f"channel {c}")
        plot.grid(axes[1, c], np.full((3, 3), c * (c % 2) * 2), f"→ ×{2 * (c % 2)}")
    assert plot.describe(fig) == ("A figure with 8 panels in 2 rows, each a 3×3 grid of numbers. Top row: channel 0, "
                                  "channel 1, channel 2, channel 3; bottom row: → ×0, → ×2, → ×0, → ×2.")


def test_never_empty_and_an_explicit_text_wins():
    assert plot.describe(plt.figure()) == "An empty figure."
    fig, axes = plt.subplots(1, 3)
    assert plot.describe(fig) == "A figure with 3 empty panels."
    fig.alt_text = r"Three blank panels, $3\times$ nothing."
    assert plot.describe(fig) == "Three blank panels, 3× nothing."


@pytest.mark.parametrize("tex, text", [
    (r"$3\times3$ kernel", "3×3 kernel"),
    (r"$a \leq b$", "a ≤ b"),
    (r"$\hat{x} = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}$", "x̂ = (x - μ)/(√(σ² + ε))"),
    (r"$\mathrm{ReLU}(x)$ costs \$5", "ReLU(x) costs $5"),
    ("plain  text\nacross lines", "plain text across lines"),
])
def test_mathtext_becomes_plain_text(tex, text):
    assert plot.plain_text(tex) == text


def test_every_figure_of_the_plot_module_gets_a_sentence():
    figures = [plot.bn_backward_graph(), plot.head_as_conv(), plot.conv_volumes(), plot.im2col_diagram(),
               plot.message("stride 3 skips input cells"),
               plot.thinned_networks([3, 4, 2], [None, None, None], titles=["full", "thinned", "thinned"])]
    for fig in figures:
        alt = plot.describe(fig)
        assert alt.endswith(".") and len(alt) > 20 and "$" not in alt and "\\" not in alt, alt


# --- the HTML <img> of the static build -------------------------------------------------------------------
class _Images(HTMLParser):
    """Every <img>'s attributes, in order."""

    def __init__(self):
        super().__init__()
        self.images = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


def _images(html):
    parser = _Images()
    parser.feed(html)
    return parser.images


_PATH = re.compile(r"(^\.{0,2}/|^_images/|\.(png|jpe?g|gif|webp|svg)$)", re.I)
_GENERIC = re.compile(r"^(interactive figure|image|figure|an empty figure\.|a figure with \d+ (empty )?panels?\.?)$",
                      re.I)


def alt_problems(img):
    """Why an <img>'s alt text fails a screen-reader user; empty when it is a description."""
    alt = (img.get("alt") or "").strip()
    if not alt:
        return ["no alt text"]
    if _PATH.search(alt) or alt == img.get("src"):
        return [f"the alt text is a file path: {alt[:80]!r}"]
    if _GENERIC.match(alt):
        return [f"the alt text says nothing about the figure: {alt!r}"]
    return []


def test_the_checker_fails_on_paths_placeholders_and_missing_alts():
    bad = ['<img src="../_images/ab12.png" alt="../_images/ab12.png">', '<img src="x.png">',
           '<img alt="interactive figure" src="data:image/png;base64,AAAA">', '<img alt="  " src="a.webp">',
           '<img alt="A figure with 2 panels." src="a.png">']
    for html in bad:
        assert alt_problems(_images(html)[0]), html
    assert not alt_problems(_images('<img alt="Max pooling: a 3×3 grid of numbers." src="../_images/ab.png">')[0])


def test_a_figure_becomes_one_img_with_a_description(monkeypatch):
    fig = plot.grids([np.eye(3)], titles=["identity"])
    (img,) = _images(plot.figure_html(fig))
    assert img["src"].startswith("data:image/png;base64,")
    assert img["alt"] == "identity: a 3×3 grid of numbers, by rows: 1, 0, 0; 0, 1, 0; 0, 0, 1."
    assert not alt_problems(img)
    assert "width" not in img  # at 1x the picture shows at its natural size, like myst-nb's image/png output
    from matplotlib_inline.config import InlineBackend

    retina = SimpleNamespace(figure_formats={"retina"}, print_figure_kwargs={"bbox_inches": "tight"})
    monkeypatch.setattr(InlineBackend, "instance", lambda: retina)  # %config InlineBackend.figure_formats = {"retina"}
    (img,) = _images(plot.figure_html(fig))
    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(img["src"].split(",", 1)[1]))) as png:
        assert (int(img["width"]), int(img["height"])) == (png.width // 2, png.height // 2)


def test_the_html_formatter_works_only_in_the_static_build(monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    assert plot.register_html_formatter(shell)
    from IPython.core.pylabtools import select_figure_formats

    select_figure_formats(shell, {"png"})  # what the inline backend does when it loads: drops Figure's formatters
    fig = plot.grids([np.eye(2)], titles=["a"])
    monkeypatch.setenv(STATIC_ENV, "1")
    data, _ = shell.display_formatter.format(fig)
    assert {"text/html", "image/png"} <= set(data)
    (img,) = _images(data["text/html"])
    assert img["alt"] == "a: a 2×2 grid of numbers, by rows: 1, 0; 0, 1."
    monkeypatch.setenv(STATIC_ENV, "")
    data, _ = shell.display_formatter.format(fig)
    assert "text/html" not in data and "image/png" in data  # live Jupyter and Colab: the usual PNG only


# --- the built book ---------------------------------------------------------------------------------------
def _toc_pages():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]] + re.findall(r"file: (\S+)", (ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [re.sub(r"\.(md|ipynb|rst)$", "", f) + ".html" for f in dict.fromkeys(files)]


@pytest.mark.book
def test_every_image_in_the_book_has_a_description(book_html):
    problems, count = [], 0
    for page in _toc_pages():
        for n, img in enumerate(_images((book_html / page).read_text(encoding="utf-8")), 1):
            count += 1
            problems += [f"{page}, <img> {n} ({(img.get('src') or '')[:50]}): {p}" for p in alt_problems(img)]
    assert count > 0, "the book has no images"
    assert not problems, f"{len(problems)} of {count} images:\n" + "\n".join(problems[:40])
