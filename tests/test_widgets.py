"""nbutils.widgets: one call gives live sliders in a kernel and precomputed frames in the HTML book."""

import base64
import html as html_lib
import importlib.util
import io
import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from nbutils import widgets  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _draw(a, b):
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.text(0.5, 0.5, f"{a}{b}", fontsize=10)
    ax.set_title("letters", fontsize=9)
    ax.set_axis_off()
    return fig


def _payload(snippet):
    found = re.search(r'<script type="application/json">(.*?)</script>', snippet, re.S)
    return json.loads(found.group(1).replace("<\\/", "</"))


def _decode(uri):
    assert uri.startswith("data:image/webp;base64,"), uri[:40]
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))


def test_static_html_has_one_frame_per_combination_and_native_sliders(monkeypatch):
    monkeypatch.setenv(widgets.STATIC_ENV, "1")
    html = widgets.interact(_draw, a=[1, 2, 3], b=["x", "y"])._repr_html_()
    frames = _payload(html)
    assert sorted(frames["index"]) == [f"{i},{j}" for i in range(3) for j in range(2)]
    assert all(_decode(v).format == "WEBP" for v in frames["images"])
    assert sorted(frames["index"].values()) == list(range(6))  # every combination drew a different picture
    assert len(frames["alts"]) == len(frames["sizes"]) == 6
    assert html.count('type="range"') == 2
    assert "document.currentScript" in html and "getElementById" not in html
    assert html.startswith('<figure class="nbutils-interact"') and html.endswith("</figure>")


def test_frames_have_two_image_pixels_per_css_pixel_at_100_css_px_per_inch(monkeypatch):
    monkeypatch.setenv(widgets.STATIC_ENV, "1")
    html = widgets.interact(_draw, a=[1, 2], b=["x"])._repr_html_()
    frames = _payload(html)
    assert frames["sizes"][0] == [200, 150]  # a 2 x 1.5 in figure is shown 200 x 150 CSS px
    assert 'class="nbutils-frame"' in html and 'width="200" height="150"' in html
    for uri in frames["images"]:
        assert _decode(uri).size == (400, 300)


def test_frames_are_antialiased_and_photographs_keep_their_tones(monkeypatch):
    def photo(k):
        fig, ax = plt.subplots(figsize=(2, 2))
        ax.imshow(np.add.outer(np.arange(256), np.arange(256)) * k, cmap="gray", interpolation="nearest")
        ax.plot([0, 255], [0, 200], color="red", lw=1)  # an oblique line: antialiased edges add in-between colours
        ax.set_axis_off()
        return fig

    frame = widgets.render_frame(photo(1))
    img = Image.open(io.BytesIO(frame["webp"])).convert("RGB")
    assert len(img.getcolors(1 << 20)) > 300  # no quantisation to a few colours
    greys = {r for r, g, b in np.asarray(img).reshape(-1, 3) if r == g == b}
    assert len(greys) > 200  # the gradient's grey levels survive


def test_identical_frames_are_stored_once(monkeypatch):
    monkeypatch.setenv(widgets.STATIC_ENV, "1")
    frames = widgets.render_frames(lambda a, b: _draw(a, ""), {"a": [1, 2], "b": ["x", "y", "z"]})
    assert len(frames["images"]) == 2 and frames["index"]["0,0"] == frames["index"]["0,2"] != frames["index"]["1,0"]


def test_start_picks_the_first_value_and_rejects_unknown_values(monkeypatch):
    monkeypatch.setenv(widgets.STATIC_ENV, "1")
    html = widgets.interact(_draw, start={"a": 3}, a=[1, 2, 3], b=["x", "y"])._repr_html_()
    assert 'max="2" step="1" value="2"' in html
    with pytest.raises(ValueError, match="not one of the options"):
        widgets.interact(_draw, start={"a": 7}, a=[1, 2, 3], b=["x"])


def test_sliders_announce_values_and_frames_describe_their_knobs(monkeypatch):
    monkeypatch.setenv(widgets.STATIC_ENV, "1")
    html = widgets.interact(_draw, start={"a": 30}, a=[10, 30, 50], b=["x", "y"])._repr_html_()
    assert 'aria-label="a" aria-valuetext="30"' in html  # the value, not the position 1
    assert re.search(r"<output>30</output>", html) and re.search(r"<output>x</output>", html)
    alt = html_lib.unescape(re.search(r'<img class="nbutils-frame" src="[^"]*" alt="([^"]*)"', html).group(1))
    assert alt.endswith("; a=30, b=x") and "letters" in alt.lower() and ".;" not in alt  # description; knobs
    assert '<p class="nbutils-status" aria-live="polite"></p>' in html
    for piece in ("img.alt = data.alts[n]", "setAttribute('aria-valuetext', label)", "status.textContent"):
        assert piece in html


def test_print_key_frames_are_the_start_and_each_controls_ends(monkeypatch):
    monkeypatch.setenv(widgets.STATIC_ENV, "1")
    monkeypatch.setattr(widgets, "_styled", False)
    html = widgets.interact(_draw, start={"a": 2}, a=[1, 2, 3], b=["x", "y", "z"])._repr_html_()
    block = re.search(r'<div class="nbutils-keyframes">(.*?)</div>', html).group(1)
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", block)
    assert captions == ["a=2, b=y", "a=3, b=y", "a=2, b=z", "a=1, b=y"]  # start, far ends, then near ends
    assert block.count('loading="lazy"') == len(captions)
    assert ".nbutils-keyframes { display: none; }" in html and "@media print" in html
    many = widgets.keyframes({f"k{i}": [0, 1, 2] for i in range(5)}, dict.fromkeys([f"k{i}" for i in range(5)], 1))
    assert many == [(1, 1, 1, 1, 1), (2, 1, 1, 1, 1), (1, 2, 1, 1, 1), (1, 1, 2, 1, 1)] == many[: widgets.MAX_KEYFRAMES]
    assert widgets.keyframes({"k": [1, 2, 3, 4]}, {"k": 0}) == [(0,), (3,)]  # the start is an end: one other frame


def test_the_widget_style_is_written_once_per_kernel(monkeypatch):
    monkeypatch.setenv(widgets.STATIC_ENV, "1")
    monkeypatch.setattr(widgets, "_styled", False)
    first = widgets.interact(_draw, a=[1], b=["x"])._repr_html_()
    second = widgets.interact(_draw, a=[1], b=["x"])._repr_html_()
    assert first.count("<style>") == 1 and "<style>" not in second


def _text_figure(points, width=4.0):
    def draw(k):
        fig, ax = plt.subplots(figsize=(width, 2))
        ax.plot([0, 1], [0, k])
        ax.tick_params(labelsize=points)
        ax.set_title("title", fontsize=max(points, 10))
        return fig

    return draw


@pytest.mark.parametrize("points", [6, 7.5])
def test_a_frame_with_text_under_8_points_is_refused(monkeypatch, points):
    monkeypatch.setenv(widgets.STATIC_ENV, "1")
    with pytest.raises(ValueError, match=r"draw\(k=1\): the text .* CSS px, below 11"):
        widgets.interact(_text_figure(points), k=[1, 2])


def test_text_of_8_points_and_more_passes_and_its_size_is_recorded(monkeypatch):
    monkeypatch.setenv(widgets.STATIC_ENV, "1")
    html = widgets.interact(_text_figure(8), k=[1, 2])._repr_html_()
    assert 'data-min-text-px="11.1"' in html  # 8 pt at 100 CSS px per inch


def test_a_figure_wider_than_the_column_is_shrunk_with_its_text():
    frame = widgets.render_frame(_text_figure(8, width=12)(1))  # shown at 820 of its 1200 CSS px
    with pytest.raises(ValueError, match="below 11"):
        widgets.check_frame(frame)


def test_every_text_artist_is_measured():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1], label="curve")
    ax.legend(fontsize=9)
    ax.set_xlabel("x label", fontsize=12)
    ax.annotate("note", (0.5, 0.5), fontsize=8)
    fig.suptitle("suptitle", fontsize=14)
    texts = dict(widgets.render_frame(fig)["texts"])
    for text, points in {"curve": 9, "x label": 12, "note": 8, "suptitle": 14, "0.0": 10}.items():
        assert texts[text] == pytest.approx(points / 72 * 100)


def test_live_mode_builds_ipywidgets_sliders(monkeypatch):
    import ipywidgets

    monkeypatch.delenv(widgets.STATIC_ENV, raising=False)
    box = widgets.interact(_draw, a=[1, 2, 3], b=["x", "y"])
    sliders = [w for w in box.children if isinstance(w, ipywidgets.SelectionSlider)]
    assert [s.description for s in sliders] == ["a", "b"]
    assert sliders[0].value == 2  # starts in the middle, as the static version does
    assert isinstance(box.children[-1], ipywidgets.Output)


def test_empty_control_is_refused():
    with pytest.raises(ValueError, match="control 'a'"):
        widgets.interact(_draw, a=[], b=[1])


def test_first_mode_renders_only_the_starting_frame(monkeypatch):
    monkeypatch.setenv(widgets.STATIC_ENV, "first")
    drawn = []

    def draw(k, s):
        drawn.append((k, s))
        fig = plt.figure(figsize=(1, 1))
        fig.text(0.5, 0.5, f"{k}{s}")
        return fig

    snippet = widgets.interact(draw, start={"k": 3}, k=[1, 3, 5], s=[1, 2])._repr_html_()
    assert drawn == [(3, 1)]
    assert snippet.count('type="range"') == 2 and 'max="0"' in snippet


def _frames_extension():
    spec = importlib.util.spec_from_file_location("frames", ROOT / "_ext" / "frames.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_build_moves_embedded_frames_into_shared_files(tmp_path, monkeypatch):
    monkeypatch.setenv(widgets.STATIC_ENV, "1")
    snippet = widgets.interact(_draw, a=[1, 2], b=["x"])._repr_html_()
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "x.html").write_text(f"<html><body>{snippet}</body></html>", encoding="utf-8")
    (tmp_path / "index.html").write_text(snippet, encoding="utf-8")
    pages, moved = _frames_extension().externalize(tmp_path)
    assert pages == 2 and moved > 0
    page = (tmp_path / "chapters" / "x.html").read_text(encoding="utf-8")
    assert "data:image" not in page
    urls = _payload(page)["images"]
    assert all(re.fullmatch(r"\.\./_images/frames/[0-9a-f]{16}\.webp", u) for u in urls)
    assert re.search(r'class="nbutils-frame" src="\.\./_images/frames/[0-9a-f]{16}\.webp"', page)
    assert _payload((tmp_path / "index.html").read_text(encoding="utf-8"))["images"][0] == urls[0][3:]
    files = sorted((tmp_path / "_images" / "frames").iterdir())
    assert len(files) == 2 and all(Image.open(f).format == "WEBP" for f in files)  # one file per picture


# --- the built book ------------------------------------------------------------------------------------------


def _figures(page_html):
    return re.findall(r'<figure class="nbutils-interact".*?</script><script>.*?</script></figure>', page_html, re.S)


@pytest.mark.book
def test_built_interactive_figures_are_sharp_readable_and_within_the_page_budget(book_html):
    """Every frame: WebP at 2 image px per CSS px, text >= 11 CSS px; each page with ALL its frames <= 1.5 MB."""
    problems, seen_figures = [], 0
    for page in sorted((book_html / "chapters").glob("*.html")):
        text = page.read_text(encoding="utf-8")
        files = {}
        for src in re.findall(r'<img[^>]*?\ssrc="([^"]+)"', text):
            if not src.startswith(("data:", "http")):
                files[src] = (page.parent / src).resolve()
        for k, figure in enumerate(_figures(text), 1):
            seen_figures += 1
            where = f"{page.name} figure {k}"
            data = _payload(figure)
            min_px = re.search(r'data-min-text-px="([\d.]+)"', figure)
            if not min_px or float(min_px.group(1)) < widgets.MIN_TEXT_CSS_PX:
                problems.append(f"{where}: smallest text {min_px and min_px.group(1)} CSS px")
            if not (len(data["images"]) == len(data["alts"]) == len(data["sizes"])):
                problems.append(f"{where}: images, alts and sizes differ in number")
            if len(re.findall(r"<figcaption>", figure)) > widgets.MAX_KEYFRAMES:
                problems.append(f"{where}: more than {widgets.MAX_KEYFRAMES} key frames")
            for url, (w, _) in zip(data["images"], data["sizes"]):
                if url.startswith("data:"):
                    problems.append(f"{where}: a frame is still a data: URI")
                    continue
                path = (page.parent / url).resolve()
                files[url] = path
                with Image.open(path) as img:
                    if img.format != "WEBP" or img.width != 2 * w:
                        problems.append(f"{where}: {url} is {img.format} {img.width} px wide for {w} CSS px")
        total = page.stat().st_size + sum(p.stat().st_size for p in set(files.values()))
        if total > 1_500_000:
            problems.append(f"{page.name}: {total:,} bytes with every image and frame > 1,500,000")
    assert seen_figures > 0
    assert not problems, "\n".join(problems)
