"""The exercise framework: cases, catalogued mistakes with hints, and solutions hidden in a dropdown."""

import html
import inspect
import textwrap
from dataclasses import dataclass, field

import numpy as np

EXERCISES = {}

NOT_DONE = "Not done yet.\nReplace `raise NotImplementedError` with your code, then run this check again."


@dataclass
class Mistake:
    """A plausible wrong answer (`fn`) and the hint to give when the reader's output matches it."""

    fn: object
    hint: str


@dataclass
class Exercise:
    """An exercise: a reference solution, cases as (args, kwargs), and catalogued mistakes."""

    name: str
    solution: object
    cases: list
    mistakes: list = field(default_factory=list)
    shape_hint: str = "Check the output-size formula."
    rtol: float = 1e-6
    atol: float = 1e-8

    def evaluate(self, fn):
        """Run fn on every case; return (passed, message). Never raises on the reader's errors."""
        if not callable(fn):
            example = f"check({self.name!r}, {self.name})"
            return False, f"Pass your function itself, e.g. {example}, not {type(fn).__name__}."
        outputs = []
        for args, kwargs in self.cases:
            try:
                outputs.append(_as_array(fn(*_copy(args), **kwargs)))
            except NotImplementedError:
                return False, NOT_DONE
            except Exception as e:  # the reader's bug: report it, don't crash
                where = _describe(*self.cases[len(outputs)])
                return False, f"Your function raised {type(e).__name__}: {e}\n  on {where}"
        wanted = [_as_array(self.solution(*_copy(a), **k)) for a, k in self.cases]
        failing = [i for i, (got, want) in enumerate(zip(outputs, wanted)) if not self._close(got, want)]
        if not failing:
            return True, f"✓ {self.name}: all {len(self.cases)} cases pass."
        i = failing[0]
        return False, f"{self._explain(outputs, wanted[i], i)}\n  on {_describe(*self.cases[i])}"

    def _close(self, got, want):
        return (isinstance(got, np.ndarray) and isinstance(want, np.ndarray) and got.shape == want.shape
                and bool(np.allclose(got, want, rtol=self.rtol, atol=self.atol, equal_nan=True)))

    def _explain(self, outputs, want, i):
        """The most helpful message for the reader's outputs, failing first at case i."""
        got = outputs[i]
        if not isinstance(got, np.ndarray):
            return f"Expected a number or an array of numbers, got {got}."
        hint = self._mistake_hint(outputs, i)
        if hint:
            return f"Not yet. Hint: {hint}"
        if got.shape != want.shape:
            return f"Wrong shape: got {got.shape}, expected {want.shape}. {self.shape_hint}"
        if np.isnan(got).any():
            return "Your result contains NaN. Look for 0/0, or an array used before it was filled."
        return f"Wrong value: got {_short(got)}, expected {_short(want)}."

    def _mistake_hint(self, outputs, i):
        """Hint of the catalogued mistake that explains every output, else the one that explains case i."""
        matches = []
        for m in self.mistakes:
            wrong = []
            for args, kwargs in self.cases:
                try:
                    wrong.append(_as_array(m.fn(*_copy(args), **kwargs)))
                except Exception:
                    wrong.append(None)
            hits = [w is not None and self._close(got, w) for got, w in zip(outputs, wrong)]
            if hits[i]:
                matches.append((sum(hits), m.hint))
        return max(matches, key=lambda t: t[0])[1] if matches else None


def _as_array(value):
    """The reader's value as a float64 array, or a short description of why it isn't one."""
    if value is None:
        return "None: did you forget `return`?"
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return f"{type(value).__name__} {str(value)[:40]!r}"
    return arr


def _copy(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def _short(a):
    return np.array2string(np.asarray(a), precision=4, threshold=12, edgeitems=2).replace("\n", "")


def _describe(args, kwargs):
    parts = [f"array of shape {a.shape}" if isinstance(a, np.ndarray) else repr(a) for a in args]
    parts += [f"{k}={v!r}" for k, v in kwargs.items()]
    return "input " + ", ".join(parts)


def register(exercise):
    """Add an exercise to the registry and return it."""
    EXERCISES[exercise.name] = exercise
    return exercise


def check(name, fn):
    """Check the reader's function for exercise `name` and print a verdict with a hint."""
    if name not in EXERCISES:
        print(f"There is no exercise called {name!r}; the exercises are: {', '.join(EXERCISES)}.")
        return
    print(EXERCISES[name].evaluate(fn)[1])


class Solution:
    """A solution that stays folded until the reader opens it (HTML <details>, in Jupyter and in the book)."""

    def __init__(self, name, source):
        self.name, self.source = name, source

    def _repr_html_(self):
        return (f"<details><summary>Show the solution to <code>{html.escape(self.name)}</code></summary>"
                f"<pre><code>{html.escape(self.source)}</code></pre></details>")

    def __repr__(self):
        return f"Solution to {self.name!r} hidden; display it in Jupyter and click to open, or print(.source)."


def solution(name):
    """The solution to exercise `name`, folded until clicked."""
    return Solution(name, textwrap.dedent(inspect.getsource(EXERCISES[name].solution)))
