"""Checked exercises: run the reader's function on cases, name the likely mistake, hide the solution.

In a chapter:  check("conv_output_size", conv_output_size)  and, when asked for,  solution("conv_output_size").
Each chapter's exercises live in a submodule (conv.py, ...); every submodule is imported here, which registers them.
"""

import importlib
import pkgutil

from nbutils.exercises._core import EXERCISES, KINDS, STUB_MARKS, Exercise, Mistake, check, outcome, register, solution

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["EXERCISES", "KINDS", "STUB_MARKS", "Exercise", "Mistake", "check", "outcome", "register", "solution"]
