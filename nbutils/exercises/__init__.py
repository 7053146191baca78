"""Checked exercises: run the reader's function on cases, name the likely mistake, hide the solution.

In a chapter:  check("conv_output_size", conv_output_size)  and, when asked for,  solution("conv_output_size").
"""

from nbutils.exercises import conv  # noqa: F401  (registers chapter 1's exercises)
from nbutils.exercises._core import EXERCISES, Exercise, Mistake, check, solution

__all__ = ["EXERCISES", "Exercise", "Mistake", "check", "solution"]
