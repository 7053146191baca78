"""A chapter's exercise stubs, and the correct answers in tests/answers/<notebook stem>.py that replace them.

A stub cell is a code cell marked as nbutils.exercises.STUB_MARKS says:
- implement, derive: a function whose body is `raise NotImplementedError  # replace with your code`;
- debug: the function with the planted bug (`# a bug is planted in this function`), and `<name>_bug = None`;
- predict: `<name> = None  # your prediction`.
The names a stub cell defines (functions and assigned names) are the names its answers must define.
"""

import ast
import linecache
import runpy
from pathlib import Path

import nbformat

from nbutils.exercises import STUB_MARKS

ANSWERS = Path(__file__).parent / "answers"
MARKS = tuple(set(STUB_MARKS.values()))


def is_stub(source):
    return any(mark in source for mark in MARKS)


def defined_names(source):
    """The top-level functions and assigned names of a cell, in order."""
    names = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return names


def stub_cells(path):
    """[(cell, names it defines)] for every exercise stub cell of a notebook."""
    return [(c, defined_names(c.source)) for c in nbformat.read(path, as_version=4).cells
            if c.cell_type == "code" and is_stub(c.source)]


def stubs(path):
    """{name: value} for every name the notebook's stub cells define (functions, predictions, bug letters)."""
    found = {}
    for cell, names in stub_cells(path):
        namespace, filename = {}, f"<{path.stem} cell {cell.get('id')}>"
        # so that inspect.getsource finds the cell's text (a debug stub is compared with the planted bug's source)
        linecache.cache[filename] = (len(cell.source), None, cell.source.splitlines(True), filename)
        exec(compile(cell.source, filename, "exec"), namespace)
        found.update({n: namespace[n] for n in names})
    return found


def answer_file(stem):
    return ANSWERS / f"{stem}.py"


def answers(stem):
    """{name: value} for every top-level function and assignment of tests/answers/<stem>.py (a file, not a module)."""
    path = answer_file(stem)
    if not path.exists():
        return {}
    namespace = runpy.run_path(str(path))
    return {n: namespace[n] for n in defined_names(path.read_text())}


def answer_sources(stem):
    """({name: source segment}, the file's imports) from tests/answers/<stem>.py."""
    path = answer_file(stem)
    if not path.exists():
        return {}, ""
    text = path.read_text()
    tree = ast.parse(text)
    imports = "\n".join(ast.get_source_segment(text, n) for n in tree.body
                        if isinstance(n, ast.Import | ast.ImportFrom))
    segments = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.Assign):
            segment = ast.get_source_segment(text, node)
            segments.update(dict.fromkeys(defined_names(segment), segment))
    return segments, imports


def with_answers(path):
    """The notebook with every stub cell replaced by its answers; the names it defines; those with no answer."""
    nb = nbformat.read(path, as_version=4)
    known, imports = answer_sources(path.stem)
    names, missing = [], set()
    for cell in nb.cells:
        if cell.cell_type != "code" or not is_stub(cell.source):
            continue
        defined = defined_names(cell.source)
        names += defined
        missing |= set(defined) - set(known)
        if not set(defined) - set(known):
            cell.source = imports + "\n\n\n" + "\n\n\n".join(dict.fromkeys(known[n] for n in defined))
    return nb, names, missing
