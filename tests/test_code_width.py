"""Code and printed output fit the book's column: no line longer than 100 characters.

At 1366 px the column holds about 100 characters of code; a longer line makes its block scroll sideways (issue 11).
Every code cell counts, folded ones too: hide-input and hide-cell cells are read when a reader unfolds them, and
remove-* cells in Jupyter and Colab. Code blocks in the prose count as well. Printed output is checked on the
notebooks as the book build executed them.
"""

import re

import nbformat
import pytest

from nbutils import export

NOTEBOOKS = export.notebooks()
WIDTH = 100  # characters, not bytes: "×" or "σ" is one character wide on the page
FENCE = re.compile(r"^\s*(```|~~~)")


def code_lines(nb):
    """(cell index, line number, line) for every line of code a reader can see: code cells and fenced blocks."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            yield from ((i, n, line) for n, line in enumerate(cell.source.splitlines(), 1))
        elif cell.cell_type == "markdown":
            inside = False
            for n, line in enumerate(cell.source.splitlines(), 1):
                if FENCE.match(line):
                    inside = not inside
                elif inside:
                    yield i, n, line


def too_wide(lines):
    return [f"  cell {i}, line {n} ({len(line)} characters): {line.strip()[:60]}…"
            for i, n, line in lines if len(line) > WIDTH]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_code_line_is_wider_than_the_column(path):
    wide = too_wide(code_lines(nbformat.read(path, as_version=4)))
    assert not wide, f"{path.name}: wrap these at {WIDTH} characters:\n" + "\n".join(wide)


def test_the_check_finds_a_wide_line_in_a_folded_cell_and_in_a_fenced_block():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1\n" + "y = " + "1 + " * 30 + "1"),
        nbformat.v4.new_code_cell("z" * WIDTH, metadata={"tags": ["hide-input"]}),
        nbformat.v4.new_code_cell("w" * (WIDTH + 1), metadata={"tags": ["remove-cell"]}),
        nbformat.v4.new_markdown_cell("prose " * 40 + "\n\n```python\n" + "v" * (WIDTH + 1) + "\n```"),
    ])
    assert [line.split(" (")[0] for line in too_wide(code_lines(nb))] == [
        "  cell 0, line 2", "  cell 2, line 1", "  cell 3, line 4"]  # long prose is not code


def printed_lines(nb):
    """(cell index, line number, line) for every line of printed text and plain-text results."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                text = out.text
            elif out.output_type in ("execute_result", "display_data") and "text/html" not in out.data:
                text = out.data.get("text/plain", "") if "image/png" not in out.data else ""
            else:
                continue
            yield from ((i, n, line) for n, line in enumerate(text.splitlines(), 1))


@pytest.mark.book
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_printed_line_is_wider_than_the_column(path, book_html):
    from test_notebooks import _executed_by_the_build

    wide = too_wide(printed_lines(_executed_by_the_build(path)))
    assert not wide, f"{path.name}: these cells print lines wider than {WIDTH} characters:\n" + "\n".join(wide)


def test_the_output_check_reads_streams_and_results_but_not_figures():
    cell = nbformat.v4.new_code_cell("print(...)")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="ok\n" + "s" * (WIDTH + 1) + "\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": "r" * (WIDTH + 1)}, execution_count=1),
        nbformat.v4.new_output("display_data", data={"text/plain": "<Figure " + "f" * WIDTH + ">",
                                                     "image/png": "iVBORw0KGgo="}),
    ]
    nb = nbformat.v4.new_notebook(cells=[cell])
    assert [line.split(" (")[0] for line in too_wide(printed_lines(nb))] == ["  cell 0, line 2", "  cell 0, line 1"]
