"""The chapters as files: stripped, in sync with nbutils, lint-clean, and reproducible run to run."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from nbutils import export

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = export.notebooks(ROOT)
TIMING_TAG = "timing"  # cells whose printed numbers are wall-clock times
WIDGET = "application/vnd.jupyter.widget-view+json"


def _ids(paths):
    return [p.stem for p in paths]


def test_there_are_chapters():
    assert NOTEBOOKS, "no notebooks found in chapters/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them (Edit > Clear Outputs of All Cells)"


def test_package_and_setup_cells_match_the_notebooks():
    problems = export.drift(ROOT)
    assert not problems, "\n".join(problems)


def test_exporter_detects_an_edited_module(tmp_path, monkeypatch):
    for part in ("chapters", "nbutils/layers"):
        (tmp_path / part).mkdir(parents=True)
    for name in ("_config.yml", "pyproject.toml"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    for nb in NOTEBOOKS:
        (tmp_path / "chapters" / nb.name).write_text(nb.read_text())
    monkeypatch.setattr(export, "ROOT", tmp_path)
    for module, text in export.exported_modules(export.notebooks(tmp_path)).items():
        target = tmp_path / module.relative_to(tmp_path)
        target.write_text(text + "# a hand edit\n")
    assert any("out of date" in p for p in export.drift(tmp_path))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_setup_cell_does_nothing_where_nbutils_is_installed(path):
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    source = nbformat.read(path, as_version=4).cells[0].source
    shell = InteractiveShell.instance()
    calls = []
    shell.register_magic_function(lambda line: calls.append(line), magic_name="pip")
    with capture_output() as captured:
        result = shell.run_cell(source)
    assert result.success and not calls and not captured.stdout


def test_code_is_ruff_clean():
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def _text_outputs(nb):
    """Per code cell, the printed text and plain-text results, skipping cells tagged as timings."""
    texts = []
    for cell in nb.cells:
        if cell.cell_type != "code" or TIMING_TAG in cell.metadata.get("tags", []):
            continue
        parts = [o.get("text", "") for o in cell.outputs if o.output_type == "stream"]
        parts += [o["data"].get("text/plain", "") for o in cell.outputs  # figures and widgets are not text
                  if o.output_type == "execute_result" and not {"text/html", WIDGET} & set(o["data"])]
        texts.append("".join(parts))
    return texts


def _executed_by_the_build(path, root=ROOT):
    """The notebook as the book build executed it, from its jupyter-cache record.

    (Not _build/jupyter_execute: myst-nb merges stream outputs into that copy twice, repeating text.)
    """
    from jupyter_cache import get_cache

    cache = get_cache(root / "_build" / ".jupyter_cache")
    record = cache.match_cache_notebook(nbformat.read(path, as_version=4))
    return cache.get_cache_bundle(record.pk).nb


_FRESH = {}


def _fresh_run(path):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


@pytest.mark.book
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs_in_a_fresh_kernel_and_prints_what_the_book_shows(path, request, monkeypatch):
    """A fresh kernel on this machine reproduces every printed number of the built book.

    Interactive figures render their first frame only (NBUTILS_STATIC_WIDGETS=first): figures are not compared, the
    build draws every frame, and live ipywidgets can stall nbclient until its timeout (jupyter/nbclient#312). Live
    sliders are tested in a real JupyterLab (test_jupyterlab.py). All notebooks run on first use, two at a time,
    while the book may still be building.
    """
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv("NBUTILS_STATIC_WIDGETS", "first")  # the kernels inherit it; the text needs no other frame
    if not _FRESH:
        with ThreadPoolExecutor(max_workers=2) as pool:
            _FRESH.update(zip(NOTEBOOKS, pool.map(_fresh_run, NOTEBOOKS)))
    request.getfixturevalue("book_html")  # waits for the build
    built = _executed_by_the_build(path)
    ours, theirs = _text_outputs(_FRESH[path]), _text_outputs(built)
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a == b, f"{path.name}, code cell {i}: a fresh run printed\n{a}\nbut the book shows\n{b}"
