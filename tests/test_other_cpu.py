"""Every notebook on a reader's machine: another CPU's rounding, and a reader who answers every exercise.

Float32 training, BLAS and oneDNN round differently on every CPU, so a seeded run is repeatable on one machine only.
`ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41 OPENBLAS_CORETYPE=Sandybridge` make PyTorch's and OpenBLAS's
kernels round as another CPU's would. Each notebook runs here in a fresh kernel under that environment, with every
exercise stub replaced by a correct answer from `tests/answers/<notebook>.py`, written to that chapter's own text.
It must run without a cell error (so every claim it asserts holds with its margin), and every exercise check in it
must pass. (The strict book build runs the notebooks under this CPU's own rounding.)
"""

import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest
from stubs import stub_cells, with_answers

from nbutils import export

ROOT = export.ROOT
NOTEBOOKS = export.notebooks(ROOT)
FOREIGN_CPU = {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41", "OPENBLAS_CORETYPE": "Sandybridge"}
PASSED = "✓"

RUN = textwrap.dedent('''
    import sys, nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    nb = nbformat.read(sys.argv[1], as_version=4)
    try:
        NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": sys.argv[3]}}).execute()
    except CellExecutionError:
        pass  # the error is in the cell's outputs
    nbformat.write(nb, sys.argv[2])
''')


_RUNS = {}
WITH_EXERCISES = [p for p in NOTEBOOKS if stub_cells(p)]


def _execute(path, tmp_dir):
    nb, stubs, unanswered = with_answers(path)
    src, out = tmp_dir / f"in_{path.name}", tmp_dir / f"out_{path.name}"
    nbformat.write(nb, src)
    # Interactive figures draw their first frame only: the build draws every frame (under this CPU's rounding),
    # and live ipywidgets can stall nbclient until its timeout (jupyter/nbclient#312).
    env = os.environ | FOREIGN_CPU | {"NBUTILS_STATIC_WIDGETS": "first"}
    subprocess.run([sys.executable, "-c", RUN, str(src), str(out), str(path.parent)], env=env, check=True,
                   capture_output=True, text=True, timeout=1200)
    return nbformat.read(out, as_version=4), stubs, unanswered


def run_on_another_cpu(path, tmp_dir):
    """The notebook executed (answers filled in) under the foreign-CPU environment; all of them run on first use,
    two at a time (most cells use one thread)."""
    if not _RUNS:
        with ThreadPoolExecutor(max_workers=2) as pool:
            _RUNS.update(zip(NOTEBOOKS, pool.map(lambda p: _execute(p, tmp_dir), NOTEBOOKS)))
    return _RUNS[path]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("other_cpu")


def _errors(nb):
    return [(i, o) for i, c in enumerate(nb.cells) if c.cell_type == "code"
            for o in c.get("outputs", []) if o.output_type == "error"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_clean_when_torch_and_blas_round_like_another_cpu(path, run_dir):
    nb, _, _ = run_on_another_cpu(path, run_dir)
    errors = _errors(nb)
    assert not errors, "\n\n".join(
        f"{path.name}, cell {i}:\n{nb.cells[i].source}\n{o.ename}: {o.evalue}" for i, o in errors[:3])


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=[p.stem for p in WITH_EXERCISES])
def test_every_exercise_in_the_notebook_passes_with_a_correct_answer(path, run_dir):
    nb, stubs, unanswered = run_on_another_cpu(path, run_dir)
    assert not unanswered, f"tests/answers/{path.stem}.py has no answer for {sorted(unanswered)}"
    checks = [c for c in nb.cells if c.cell_type == "code" and "check_exercise(" in c.source]
    exercises = [n for n in stubs if not n.endswith("_bug")]
    assert exercises and len(checks) == len(exercises), f"{path.name}: {exercises} but {len(checks)} check cells"
    for cell in checks:
        printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        assert printed.startswith(PASSED), f"{path.name}: `{cell.source}` printed\n{printed}"
