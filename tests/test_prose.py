"""Numbers in the prose come from the code: a result typed into a markdown cell is a test failure.

A markdown cell may state a result (a percentage, a ratio such as 3.8×, a decimal with two or more places, a power
of ten) only through {glue:text}, pasted from the cell that computes it. Math, inline code and glue roles are not
prose. The few typed numbers that are not results (parameters, thresholds, definitions) are listed in KNOWN with
the reason they may be typed.
"""

import re

import nbformat
import pytest

from nbutils import export

NOTEBOOKS = export.notebooks()
NOT_PROSE = re.compile(r"\{glue(?::text)?\}`[^`]*`|`[^`]*`|\$\$.*?\$\$|\$[^$\n]*\$", re.S)
RESULT = re.compile(
    r"(?<![\w.])\d+(?:[.,]\d+)*\s?(?:%|×(?!\s?\d))"  # 97%, 89 %, 3.8×  (not 64×64)
    r"|(?<![\w.§])\d+\.\d{2,}(?![\w.])"              # 0.2297 (not §7.12)
    r"|10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+|\d+(?:\.\d+)?e-\d+"        # 10⁻⁴, 1e-12
)
# Typed numbers that are inputs, thresholds or definitions, not results: (notebook, number) -> why.
KNOWN = {
    ("02_activations", "0.04"): "the article's LeakyReLU slope",
    ("02_activations", "90 %"): "the threshold the seed sweep counts against",
    ("04_dropout", "20 %"): "what p=0.2 drops, by definition",
    ("04_dropout", "80 %"): "what p=0.2 keeps, by definition",
    ("05_normalization", "0.99"): "Keras's default momentum",
    ("05_normalization", "0.018"): "the slope that defines a saturated sigmoid",
    ("06_fc_vs_gap", "0.1%"): "the bound the cell asserts on the biases' effect",
    ("06_fc_vs_gap", "0.005"): "the learning rate",
    ("07_capstone", "97%"): "the accuracy the chapter asserts as its goal",
    ("07_capstone", "1%"): "the cut-off below which the table leaves a cell blank",
    ("07_capstone", "10%"): "a uniform guess over ten classes",
    ("traps", "80%"): "what p=0.2 keeps, by definition",
    ("traps", "20%"): "what p=0.2 drops, by definition",
}


def typed_results(path):
    """(cell index, number, context) for every result-like number typed into a markdown cell."""
    found = []
    for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type == "markdown":
            prose = NOT_PROSE.sub(" ", cell.source)
            found += [(i, m.group(), prose[max(0, m.start() - 50):m.end() + 20].replace("\n", " "))
                      for m in RESULT.finditer(prose)]
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_prose_states_results_only_through_glue(path):
    typed = [(i, n, c) for i, n, c in typed_results(path) if (path.stem, n) not in KNOWN]
    assert not typed, f"{path.name}: glue these, or list them in KNOWN with a reason:\n" + "\n".join(
        f"  markdown cell {i}: {n!r} in …{c}…" for i, n, c in typed)


def test_the_check_finds_a_typed_result(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "It reaches 98.9% ($p = 0.25$, `lr=0.125`), {glue:text}`acc:.1%` on 64×64 images, 3.8× slower, off by 10⁻⁴.")])
    nbformat.write(nb, tmp_path / "x.ipynb")
    assert [n for _, n, _ in typed_results(tmp_path / "x.ipynb")] == ["98.9%", "3.8×", "10⁻⁴"]
