"""nbutils.widgets: one call gives live sliders in a kernel and precomputed frames in the HTML book."""

import base64
import json
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from nbutils import widgets  # noqa: E402


def _draw(a, b):
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.text(0.5, 0.5, f"{a}{b}")
    return fig


def test_static_html_has_one_frame_per_combination_and_native_sliders(monkeypatch):
    monkeypatch.setenv(widgets.STATIC_ENV, "1")
    html = widgets.interact(_draw, a=[1, 2, 3], b=["x", "y"])._repr_html_()
    frames = json.loads(re.search(r'<script type="application/json">(.*?)</script>', html).group(1))
    assert sorted(frames["index"]) == [f"{i},{j}" for i in range(3) for j in range(2)]
    assert all(base64.b64decode(v).startswith(b"\x89PNG") for v in frames["images"])
    assert sorted(frames["index"].values()) == list(range(6))  # every combination drew a different picture
    assert html.count('type="range"') == 2
    assert "document.currentScript.parentNode" in html and "getElementById" not in html


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
