"""The reading path: a reader who never opens a collapsed cell sees at most 45 % code.

The engineering (argument checks, NaN and tie rules, refusal tables, timing harnesses) stays in the chapter, in cells
tagged `hide-input` (the code folds, its output stays) or `hide-cell`, so the package keeps one source. Shares are
measured in characters of cell source: visible code against visible code plus prose.
"""

import nbformat
import pytest

from nbutils import export

NOTEBOOKS = export.notebooks()
FOLDED = {"hide-input", "hide-cell", "remove-input", "remove-cell"}
TARGET = 0.45


def code_share(path):
    """(visible code characters, prose characters) of a notebook's reading path."""
    code = prose = 0
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            prose += len(cell.source)
        elif cell.cell_type == "code" and not FOLDED & set(cell.metadata.get("tags", [])):
            code += len(cell.source)
    return code, prose


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_a_reader_who_opens_no_folded_cell_sees_at_most_45_percent_code(path):
    code, prose = code_share(path)
    assert code / (code + prose) <= TARGET, f"{path.stem}: {code / (code + prose):.1%} of the reading path is code"


def test_the_measure_counts_folded_cells_out(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("x" * 10),
        nbformat.v4.new_code_cell("y" * 30),
        nbformat.v4.new_code_cell("z" * 50, metadata={"tags": ["hide-input"]}),
    ])
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    assert code_share(path) == (30, 10)


if __name__ == "__main__":
    for p in NOTEBOOKS:
        c, m = code_share(p)
        print(f"{p.stem:20s} {c / (c + m):.1%} code on the reading path ({c} code, {m} prose characters)")
