"""The exercise framework: cases, catalogued mistakes with hints, the rules the text states, hidden solutions.

Every exercise judges an answer the same way:

- The reader's function runs on every case, each call on a deep copy of the case's arguments (so a function that
  changes its inputs never changes the stored cases), within a time limit for the whole check.
- Its results are compared with the reference solution's in float64, to ``rtol=1e-9`` and ``atol=1e-12``. The
  inputs are float64, so a result computed in float32 (PyTorch's default dtype) is not accepted: the message says
  to compute in float64, and whether the values were right to float32's precision.
- A wrong answer is matched against the catalogued mistakes, by value and by the error it raises, to give a hint;
  otherwise the message shows a compact difference (shape, first wrong index, got and expected there, largest
  error).
- Rules the text states are checked too: an int where an int is asked (``returns="int"``), an integer array
  (``returns="int array"``), inputs left unchanged (``keep_inputs=True``), a ``ValueError`` on the inputs in
  ``refusals``.
- The reference solution and the mistakes run under NumPy's default error settings, whatever the reader set.

Four kinds of exercise (``Exercise.kind``):

- ``"implement"``: write a function; judged on the cases as above.
- ``"derive"``: derive a formula, enter it as a function; judged numerically the same way.
- ``"predict"``: predict an experiment's outcome, a number (within ``tolerance``) or one of ``choices``, *before*
  running it: ``check(name, prediction)``. The cell then runs the experiment and calls ``outcome(name, measured)``,
  which shows the result and fails loudly if the experiment no longer agrees with the registered ``answer``.
- ``"debug"``: a layer with a planted bug (``bug``, shown in the chapter as the stub) to find with the chapter's
  checks, name among ``choices`` and fix: ``check(name, fixed_function, bug="b")``.

Help comes in steps: ``solution(name)`` shows hint 1, hint 2 and the solution, each folded on its own.
"""

import copy
import difflib
import html
import inspect
import linecache
import re
import signal
import textwrap
import threading
import time
import traceback
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

EXERCISES = {}
KINDS = ("implement", "derive", "predict", "debug")
STUB_MARKS = {  # how a chapter's stub cell for each kind is marked (tests swap in answers by these marks)
    "implement": "raise NotImplementedError  # replace with your code",
    "derive": "raise NotImplementedError  # replace with your code",
    "predict": "= None  # your prediction",
    "debug": "# a bug is planted in this function",
}

NOT_DONE = "Not done yet.\nReplace `raise NotImplementedError` with your code, then run this check again."
TIME_LIMIT = 5.0  # seconds for all the cases of one check; the cases are small, a correct answer needs milliseconds
LOOSE_RTOL, LOOSE_ATOL = 1e-4, 1e-5  # "right to float32's precision" (atol relative to the case's largest value)
_NUMPY_DEFAULTS = dict(divide="warn", over="warn", under="ignore", invalid="warn")


@dataclass
class Mistake:
    """A plausible wrong answer ``fn`` and the hint for a reader whose answer matches it.

    A reader's answer matches when it returns the same values, or raises the same error as ``fn`` on the same case.
    ``raises`` widens the second test: an exception type (or a tuple of them), or ``(type, regex)``, that a variant
    of the mistake raises with another message.
    """

    fn: object
    hint: str
    raises: object = None

    def explains(self, error, theirs):
        """Whether the reader's exception ``error`` is this mistake's (``theirs``: what fn raised on that case)."""
        if isinstance(theirs, Exception) and type(theirs) is type(error) and str(theirs) == str(error):
            return True
        if self.raises is None:
            return False
        kinds, pattern = self.raises, None
        if isinstance(self.raises, tuple) and len(self.raises) == 2 and isinstance(self.raises[1], str):
            kinds, pattern = self.raises
        return isinstance(error, kinds) and (pattern is None or re.search(pattern, str(error)) is not None)


@dataclass
class Exercise:
    """An exercise: a reference solution, cases as ``(args, kwargs)``, catalogued mistakes and the text's rules.

    returns: ``"float"`` (numbers), ``"int"`` (one int) or ``"int array"`` (an array of integers).
    outputs: the names of the items, when the solution returns a tuple.
    keep_inputs: the text says "do not change the inputs".
    refusals: cases on which the function must raise ``ValueError`` (``refusal_hint`` says why).
    alternatives: functions whose results are accepted too, case by case (another valid convention).
    kind: one of KINDS. hints: the steps of help, weakest first (at least two), shown before the solution.
    choices: for "predict" and "debug", {letter: what it says}; answer: the right letter (or, for a numeric
    "predict", the number, accepted within ``tolerance``); choice_hints: {wrong letter: hint}, or for a numeric
    "predict" {likely wrong number: hint} (matched within ``tolerance``).
    bug: for "debug", the function with the planted bug, as the chapter shows it.
    explanation: for "predict" and "debug", why the answer is right (shown with the solution).
    """

    name: str
    solution: object
    cases: list
    mistakes: list = field(default_factory=list)
    shape_hint: str = "Check the output-size formula."
    rtol: float = 1e-9
    atol: float = 1e-12
    returns: str = "float"
    outputs: tuple = ()
    keep_inputs: bool = False
    refusals: list = field(default_factory=list)
    refusal_hint: str = "raise a ValueError for this input."
    alternatives: list = field(default_factory=list)
    time_limit: float = TIME_LIMIT
    kind: str = "implement"
    hints: tuple = ()
    choices: dict = field(default_factory=dict)
    answer: object = None
    tolerance: float = 0.0
    choice_hints: dict = field(default_factory=dict)
    bug: object = None
    explanation: str = ""
    module: str = field(default="", init=False, compare=False)  # where it was registered: its chapter's module
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind={self.kind!r} must be one of {', '.join(KINDS)}")
        if self.kind in ("predict", "debug") and self.choices and self.answer not in self.choices:
            raise ValueError(f"answer={self.answer!r} must be one of the choices {', '.join(self.choices)}")
        if self.kind == "debug":
            if not callable(self.bug):
                raise ValueError("a debug exercise needs bug=, the function with the planted bug")
            self.mistakes = [Mistake(self.bug, "this is still the planted bug: your function returns exactly "
                                               "what the planted one returns. Run the chapter's check cell above "
                                               "on it, find the line that makes the difference, and fix it.")
                             ] + list(self.mistakes)

    # --- predictions and diagnoses -------------------------------------------------------------------
    def _options(self):
        return ", ".join(f'"{k}"' for k in self.choices)

    def judge_choice(self, given, asked):
        """(passed, message) for a chosen letter (a prediction, or the name of a planted bug)."""
        if given is None or given is Ellipsis:
            return False, f"First choose: set {asked} to one of {self._options()}, then run the check again."
        key = _letter(given, self.choices) if isinstance(given, str) else given
        if key not in self.choices:
            return False, f"{given!r} is not one of the choices. Choose one of {self._options()}."
        if key != self.answer:
            hint = self.choice_hints.get(key, self.hints[0] if self.hints else "look again.")
            return False, f"Not ({key}). Hint: {hint}"
        return True, f"Right: ({key}) {self.choices[key]}"

    def judge_number(self, given):
        """(passed, message) for a numeric prediction."""
        if given is None or given is Ellipsis:
            return False, "First predict: set your prediction to a number, then run the check again."
        if isinstance(given, bool) or not isinstance(given, int | float | np.integer | np.floating):
            return False, f"Predict a number (an int or a float), not {_what(given)}."
        if abs(float(given) - float(self.answer)) <= self.tolerance:
            return True, f"Right: {_num(given)}"
        near = [h for v, h in self.choice_hints.items() if abs(float(given) - float(v)) <= max(self.tolerance, 1e-9)]
        hint = near[0] if near else self.hints[0] if self.hints else "work it through once more."
        return False, f"Not {_num(given)}. Hint: {hint}"

    def evaluate_prediction(self, given):
        ok, message = self.judge_choice(given, "your prediction") if self.choices else self.judge_number(given)
        if ok:
            return True, f"✓ {self.name}: {message}. The experiment below shows it."
        return False, message + ("" if given is None else "\nThe experiment below runs anyway: see what happens.")

    def evaluate_debug(self, fn, bug):
        fixed, fix_message = self.evaluate(fn)
        named, name_message = self.judge_choice(bug, "bug=")
        if fixed and named:
            return True, f"✓ {self.name}: fixed, and the bug named. {name_message}."
        fix_part = "The fix passes every case." if fixed else f"The fix: {fix_message}"
        name_part = f"The bug's name: {name_message}" if not named else f"The bug's name is right: {name_message}."
        return False, f"{fix_part}\n{name_part}"

    # --- judging -----------------------------------------------------------------------------------
    def evaluate(self, fn):
        """Run fn on every case; return (passed, message). Never raises on the reader's errors."""
        if not callable(fn):
            example = f"check({self.name!r}, {self.name})"
            return False, f"Pass your function itself, e.g. {example}, not {type(fn).__name__}."
        problem = self._signature_problem(fn)
        if problem:
            return False, problem
        self._cache.clear()  # the reference's and the mistakes' results, computed at most once per check
        runs, stopped = _run_all(fn, self.cases, self.time_limit, self.keep_inputs)
        if stopped is None and all(isinstance(r.error, NotImplementedError) for r in runs):
            return False, NOT_DONE
        wanted = self._expected()
        values = [_numbers_like(r.value, w) if r.error is None else None for r, w in zip(runs, wanted)]
        for i, run in enumerate(runs + [None] * (stopped is not None)):
            if run is None:
                return False, self._timeout(i)
            if run.error is not None:
                return False, self._explain_error(run, i)
            if not self._accepted(values[i], i):
                return False, self._explain_value(values, runs, i)
        for i, run in enumerate(runs):
            if run.changed:
                names = " and ".join(f"`{n}`" for n in run.changed)
                return False, (f"Right values, but your function changed {names} in place. The exercise asks for "
                               f"new arrays: do not change the inputs (write `new = ...`, not `{run.changed[0]} "
                               f"*= ...` or `{run.changed[0]}[...] = ...`).\n{self._case(i)}")
        for i, run in enumerate(runs):
            problem = self._type_problem(values[i], run.value)
            if problem:
                return False, f"{problem}\n{self._case(i)}"
        refused = self._check_refusals(fn)
        if refused:
            return False, refused
        return True, f"✓ {self.name}: all {len(self.cases) + len(self.refusals)} cases pass."

    def _signature_problem(self, fn):
        try:
            theirs = inspect.signature(fn)
        except (TypeError, ValueError):
            return None
        for args, kwargs in self.cases:
            try:
                theirs.bind(*args, **kwargs)
            except TypeError:
                return (f"Your function takes other arguments than the exercise gives it. Keep the stub's first "
                        f"line: def {self.name}{inspect.signature(self.solution)}:")
        return None

    def _expected(self):
        if "expected" not in self._cache:
            with np.errstate(**_NUMPY_DEFAULTS):
                self._cache["expected"] = [_numbers_like(_call(self.solution, a, k), None) for a, k in self.cases]
                self._cache["alternatives"] = [[_numbers_like(_call(f, a, k), None) for a, k in self.cases]
                                               for f in self.alternatives]
        return self._cache["expected"]

    def _mistake_runs(self, m):
        """What mistake m returns (or raises) on each case, under NumPy's defaults and without warnings."""
        key = ("mistake", id(m))
        if key not in self._cache:
            out = []
            with np.errstate(**_NUMPY_DEFAULTS), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for (a, k), want in zip(self.cases, self._expected()):
                    try:
                        out.append(_numbers_like(_call(m.fn, a, k), want))
                    except Exception as e:  # a mistake may raise by design, like the reader's version of it
                        out.append(e)
            self._cache[key] = out
        return self._cache[key]

    def _accepted(self, got, i):
        wanted = [self._expected()[i]] + [alt[i] for alt in self._cache["alternatives"]]
        return any(self._close(got, w) for w in wanted)

    def _close(self, got, want, loose=False):
        if isinstance(want, tuple):
            return (isinstance(got, tuple) and len(got) == len(want)
                    and all(self._close(g, w, loose) for g, w in zip(got, want)))
        if want is None or got is None:
            return want is None and got is None
        if not isinstance(got, np.ndarray) or not isinstance(want, np.ndarray) or got.shape != want.shape:
            return False
        g, w = got.astype(np.float64), want.astype(np.float64)
        if loose:
            scale = max(1.0, float(np.max(np.abs(w[np.isfinite(w)]), initial=0.0)))
            return bool(np.allclose(g, w, rtol=LOOSE_RTOL, atol=LOOSE_ATOL * scale, equal_nan=True))
        return bool(np.allclose(g, w, rtol=self.rtol, atol=self.atol, equal_nan=True))

    # --- messages ----------------------------------------------------------------------------------
    def _case(self, i, cases=None):
        args, kwargs = (cases or self.cases)[i]
        try:
            bound = inspect.signature(self.solution).bind(*args, **kwargs).arguments.items()
        except TypeError:
            bound = [(f"argument {j + 1}", a) for j, a in enumerate(args)] + list(kwargs.items())
        return "  case: " + ", ".join(f"{k}={_show(v)}" for k, v in bound)

    def _timeout(self, i, cases=None):
        return (f"Your function ran for more than {self.time_limit:g} s, so the check stopped it. Look for a loop "
                f"that never ends (a `while` whose condition never changes?).\n{self._case(i, cases)}")

    def _explain_error(self, run, i):
        e = run.error
        where = f"\n  in your line: {run.line}" if run.line else ""
        if isinstance(e, NotImplementedError):
            return (f"Almost: your function raised NotImplementedError on this case, so one of its branches is not "
                    f"written yet.{where}\n{self._case(i)}")
        raised = f"Your function raised {type(e).__name__}: {_clip(str(e))}{where}"
        for m in self.mistakes:
            if m.explains(e, self._mistake_runs(m)[i]):
                return f"{raised}\nHint: {m.hint}\n{self._case(i)}"
        return f"{raised}\n{self._case(i)}"

    def _explain_value(self, values, runs, i):
        """The most helpful message for the reader's values, failing first at case i."""
        got, want = values[i], self._expected()[i]
        if isinstance(got, str):
            return f"Expected {self._kind()}, got {got}.\n{self._case(i)}"
        low = _low_precision(runs[i].value)
        hint = self._mistake_hint(values, i, loose=bool(low))
        float64 = (f" Your result is {low}, too: the inputs are float64, so compute in float64 (NumPy's default; "
                   f"dtype=torch.float64 in PyTorch).") if low else ""
        if hint:
            return f"Not yet. Hint: {hint}{float64}\n{self._case(i)}"
        if low and self._close(got, want, loose=True):
            return (f"Your values are right to {low}'s precision (about 7 digits), but the result is {low}. The "
                    f"inputs are float64: compute in float64 (NumPy's default; dtype=torch.float64 in PyTorch), "
                    f"and the check compares to 1e-9.\n{self._case(i)}")
        failing = [j for j, v in enumerate(values) if runs[j].error is None and not self._accepted(v, j)]
        near = all(self._close(values[j], self._expected()[j], loose=True) for j in failing)
        if self.returns == "float" and not low and near:
            return (f"Very close, but only to about 7 digits, float32's precision "
                    f"({_largest_error(got, want)}). Did a float32 array creep in (PyTorch's default dtype, or "
                    f"dtype=np.float32)? Compute in float64.\n{self._case(i)}")
        different = _difference(got, want, self.outputs, self.shape_hint, (self.rtol, self.atol))
        return f"{different}{float64}\n{self._case(i)}"

    def _mistake_hint(self, values, i, loose=False):
        """Hint of the catalogued mistake that agrees with the most cases, among those that explain case i."""
        matches = []
        for m in self.mistakes:
            theirs = self._mistake_runs(m)
            hits = [v is not None and not isinstance(w, Exception) and self._close(v, w, loose)
                    for v, w in zip(values, theirs)]
            if hits[i] and not self._close(theirs[i], self._expected()[i], loose):  # it explains case i's error
                matches.append((sum(hits), m.hint))
        return max(matches, key=lambda t: t[0])[1] if matches else None

    def _kind(self):
        if self.returns == "int":
            return "an int"
        if self.returns == "int array":
            return "an integer array"
        if self.outputs:
            return f"a tuple ({', '.join(self.outputs)})"
        return "a number or an array of numbers"

    def _type_problem(self, got, raw):
        """What breaks a rule about the result's type, when its values are right; None if nothing does."""
        if self.returns == "int":
            is_int = isinstance(raw, int | np.integer) or isinstance(raw, np.ndarray) and raw.dtype.kind in "iu"
            if not is_int or isinstance(raw, bool | np.bool_):
                return (f"Right value, but you returned the {type(raw).__name__} {_clip(repr(raw), 30)}, and the "
                        f"exercise asks for an int. Use // (floor division) for whole numbers, or int(...).")
            return None
        if self.returns == "int array":
            if got.dtype.kind not in "iu":
                return (f"Right values, but their dtype is {got.dtype}, and the exercise asks for an integer array. "
                        f"Use // (floor division), or .astype(int).")
            return None
        low = _low_precision(raw)
        if low:
            return (f"Right values, but the result is {low}. The inputs are float64: compute in float64 (NumPy's "
                    f"default; dtype=torch.float64 in PyTorch).")
        return None

    def _check_refusals(self, fn):
        runs, stopped = _run_all(fn, self.refusals, self.time_limit, False)
        for i, run in enumerate(runs + [None] * (stopped is not None)):
            if run is None:
                return self._timeout(i, self.refusals)
            if isinstance(run.error, ValueError):
                continue
            if isinstance(run.error, NotImplementedError):
                return (f"Almost: your function raised NotImplementedError here, where it should raise a "
                        f"ValueError. Hint: {self.refusal_hint}\n{self._case(i, self.refusals)}")
            if run.error is not None:
                return (f"Expected a ValueError, but your function raised {type(run.error).__name__}: "
                        f"{_clip(str(run.error))}\n{self._case(i, self.refusals)}")
            return f"Not yet. Hint: {self.refusal_hint}\n{self._case(i, self.refusals)}"
        return None


# --- running the reader's function ---------------------------------------------------------------------
@dataclass
class _Run:
    value: object = None
    error: Exception = None
    line: str = None  # the line of the reader's code that raised
    changed: list = field(default_factory=list)  # the arguments the function changed in place


class _TimeUp(BaseException):
    """Raised in the reader's code when the time limit is up (a BaseException: `except Exception` can't eat it)."""


@contextmanager
def _time_limit(seconds):
    """Raise _TimeUp after `seconds`, where SIGALRM is available in the main thread; elsewhere, no limit."""
    usable = (seconds and hasattr(signal, "setitimer") and hasattr(signal, "SIGALRM")
              and threading.current_thread() is threading.main_thread())
    if usable:
        old_delay = signal.getitimer(signal.ITIMER_REAL)[0]
        usable = not old_delay or old_delay > seconds  # an earlier alarm of someone else's stays untouched
    if not usable:
        yield
        return
    active = [True]

    def on_alarm(signum, frame):
        if active[0]:
            raise _TimeUp

    try:
        old_handler = signal.signal(signal.SIGALRM, on_alarm)
    except (ValueError, OSError):  # signals unavailable here (an embedded interpreter): run without a limit
        yield
        return
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, seconds, 0.25)  # re-fires if caught by `except:`
    start = time.monotonic()
    try:
        yield
    finally:
        active[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if old_delay:
            signal.setitimer(signal.ITIMER_REAL, max(old_delay - (time.monotonic() - start), 1e-3), old_interval)


def _run_all(fn, cases, seconds, watch_inputs):
    """fn on deep copies of the cases, up to the first error: ([_Run, ...], index of the case stopped by the time
    limit, or None)."""
    runs = []
    try:
        with _time_limit(seconds):
            for args, kwargs in cases:
                a, k = copy.deepcopy(args), copy.deepcopy(kwargs)
                try:
                    value = fn(*a, **k)
                except Exception as e:  # the reader's bug: report it, don't crash
                    runs.append(_Run(error=e, line=_your_line(e, fn)))
                    if isinstance(e, NotImplementedError):
                        continue  # a stub raises on every case; a partly written answer on some
                    break  # the first real error is what the reader hears about
                changed = _changed(fn, args, kwargs, a, k) if watch_inputs else []
                runs.append(_Run(value=value, changed=changed))
    except _TimeUp:
        return runs, len(runs)
    return runs, None


def _call(fn, args, kwargs):
    return fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))


def _your_line(error, fn):
    """The line of the reader's function where error was raised, if it was raised there."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    lines = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == code.co_filename]
    if not lines:
        return None
    text = (lines[-1].line or linecache.getline(lines[-1].filename, lines[-1].lineno)).strip()
    return f"`{text}`" if text else None


def _changed(fn, args, kwargs, used_args, used_kwargs):
    try:
        names = list(inspect.signature(fn).bind(*args, **kwargs).arguments)
    except (TypeError, ValueError):
        names = [f"argument {j + 1}" for j in range(len(args))] + list(kwargs)
    pairs = list(zip(list(args) + list(kwargs.values()), list(used_args) + list(used_kwargs.values())))
    return [n for n, (before, after) in zip(names, pairs) if not _same(before, after)]


def _same(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")))
    if isinstance(a, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    try:
        return bool(a == b)
    except Exception:
        return True


# --- results as numbers ---------------------------------------------------------------------------------
def _numbers(value):
    """value as an ndarray of numbers (its own dtype kept), or a short description of why it isn't one."""
    if value is None:
        return "None (did you forget `return`?)"
    if isinstance(value, str | bytes):
        return f"the text {_clip(repr(value), 40)} (return the number itself, not a string)"
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch Tensor
        try:
            value = value.detach().cpu().numpy()
        except Exception:
            return f"a {type(value).__name__} that NumPy can't read (return a NumPy array)"
    try:
        arr = np.asarray(value)
    except ValueError:
        return "a ragged list (rows of different lengths)"
    except Exception:
        return f"a {type(value).__name__}"
    if arr.dtype.kind in "US":
        return f"text, {_clip(repr(value), 40)} (return numbers, not strings)"
    if arr.dtype.kind == "O":
        if not isinstance(value, list | tuple | np.ndarray):
            return _what(value)
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            return f"a {type(value).__name__} that holds other things than numbers: {_clip(repr(value), 40)}"
    if arr.dtype.kind == "c":
        return "complex numbers"
    if arr.dtype.kind not in "biuf":
        return f"a {type(value).__name__}"
    return arr


def _numbers_like(value, want):
    """value as numbers in the structure of want (a tuple of items when want is one), or why it isn't."""
    if not isinstance(want, tuple) and not (want is None and isinstance(value, tuple)):
        return _numbers(value)
    n = len(want) if isinstance(want, tuple) else len(value)
    items = value
    if hasattr(value, "detach") or isinstance(value, np.ndarray):  # an array of n rows unpacks like a tuple
        arr = _numbers(value)
        items = list(arr) if isinstance(arr, np.ndarray) and arr.ndim >= 1 else value
    if not isinstance(items, tuple | list) or len(items) != n:
        return _what(value) + (f" of {len(value)} items" if isinstance(value, tuple | list) else "")
    out = []
    for j, v in enumerate(items):
        if v is None and (want is None or want[j] is None):
            out.append(None)
            continue
        got = _numbers(v)
        if isinstance(got, str):
            return f"a tuple whose item {j + 1} is {got}"
        out.append(got)
    return tuple(out)


def _low_precision(value):
    """'float32' (or 'float16') when the reader's result holds floats narrower than float64, else None."""
    items = value if isinstance(value, tuple | list) else [value]
    for v in items:
        if hasattr(v, "detach") and hasattr(v, "numpy"):
            try:
                v = v.detach().cpu().numpy()
            except Exception:
                continue
        dtype = getattr(v, "dtype", None)
        if isinstance(dtype, np.dtype) and dtype.kind == "f" and dtype.itemsize < 8:
            return str(dtype)
    return None


# --- messages -------------------------------------------------------------------------------------------
def _difference(got, want, names, shape_hint, tolerance):
    """A compact account of how got differs from want: never more than a few lines."""
    if isinstance(want, tuple):
        for j, (g, w) in enumerate(zip(got, want)):
            item = names[j] if j < len(names) else f"item {j + 1} of the tuple"
            if w is None and g is not None:
                return f"Not yet: {item} should be None here."
            if g is None and w is not None:
                return f"Not yet: {item} is None, but it should hold {_what(w)}."
            if w is not None and (g.shape != w.shape or _wrong(g, w, tolerance).any()):
                return f"In {item}: " + _difference(g, w, (), shape_hint, tolerance)
        return "Not yet."
    if got.shape != want.shape and not want.shape:
        return f"Expected one number, got an array of shape {got.shape}. {shape_hint}"
    if got.shape != want.shape:
        return f"Wrong shape: got {got.shape}, expected {want.shape}. {shape_hint}"
    g, w = got.astype(np.float64), want.astype(np.float64)
    if want.ndim == 0:
        a, b = _pair(g[()], w[()])
        return f"Not yet: got {a}, expected {b}."
    wrong = _wrong(g, w, tolerance)
    first = tuple(int(k) for k in np.argwhere(wrong)[0]) if wrong.any() else (0,) * g.ndim
    a, b = _pair(g[first], w[first])
    lead = f"Not yet: {int(wrong.sum())} of {g.size} values differ (the shape, {g.shape}, is right)."
    if np.isnan(g).any():
        lead += "\n  Your result contains NaN: look for 0/0, inf − inf, or an array used before it was filled."
    return f"{lead}\n  first at index {_index(first)}: got {a}, expected {b}; {_largest_error(g, w)}"


def _wrong(got, want, tolerance):
    """Where got and want differ by more than tolerance = (rtol, atol)."""
    rtol, atol = tolerance
    return ~np.isclose(got.astype(np.float64), want.astype(np.float64), rtol=rtol, atol=atol, equal_nan=True)


def _largest_error(got, want):
    if isinstance(want, tuple):  # outputs of different shapes: the worst item's largest error
        errors = [(_error_size(g, w), _largest_error(g, w)) for g, w in zip(got, want)]
        return max(errors, key=lambda e: e[0])[1]
    err = np.abs(np.asarray(got, np.float64) - np.asarray(want, np.float64))
    err = np.where(np.isnan(err), np.inf, err)
    k = np.unravel_index(np.argmax(err), err.shape) if err.ndim else ()
    at = f" at index {_index(k)}" if err.ndim else ""
    return f"largest error {_num(err[k], 2)}{at}"


def _error_size(got, want):
    err = np.abs(np.asarray(got, np.float64) - np.asarray(want, np.float64))
    return float(np.nanmax(np.where(np.isnan(err), np.inf, err), initial=0.0))


def _index(k):
    return str(k[0]) if len(k) == 1 else "(" + ", ".join(str(int(i)) for i in k) + ")"


def _num(v, digits=6):
    """A number as a reader writes it: 3, 0.25, -1.5e-08, inf."""
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, int | np.integer):
        return str(int(v))
    v = float(v)
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.{digits}g}"


def _pair(a, b):
    """a and b with just enough digits to tell them apart."""
    for digits in (6, 9, 12, 17):
        sa, sb = _num(a, digits), _num(b, digits)
        if sa != sb:
            break
    return sa, sb


def _show(v):
    """A case's argument, briefly: small arrays in full, large ones by shape."""
    if isinstance(v, np.ndarray):
        kind = "bool array" if v.dtype.kind == "b" else "array"
        if v.size <= 6 and v.ndim:
            return _nested(v.tolist())
        return f"{kind} of shape {v.shape}"
    if isinstance(v, float | np.floating):
        return _num(v)
    return _clip(repr(v), 60)


def _nested(v):
    return "[" + ", ".join(_nested(x) for x in v) + "]" if isinstance(v, list) else _num(v, 4)


def _what(value):
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"a {type(value).__name__}"


def _clip(text, n=200):
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


# --- the registry ---------------------------------------------------------------------------------------
def register(exercise):
    """Add an exercise to the registry and return it. Names are unique: a second exercise of a name is refused."""
    exercise.module = inspect.currentframe().f_back.f_globals.get("__name__", "")
    old = EXERCISES.get(exercise.name)
    if old is not None and old.module != exercise.module:  # the same module: it is being reloaded
        raise ValueError(f"two exercises are called {exercise.name!r}: {old.module}.{old.name} and "
                         f"{exercise.module}.{exercise.name}. Exercise names must be unique; rename one.")
    EXERCISES[exercise.name] = exercise
    return exercise


def _unknown(name):
    close = difflib.get_close_matches(str(name), EXERCISES, n=1)
    guess = f" Did you mean {close[0]!r}?" if close else ""
    return f"There is no exercise called {name!r}.{guess} The exercises are: {', '.join(sorted(EXERCISES))}."


def _say(text, width=100):
    """Print a verdict with every line wrapped at `width` characters, the width of the book's column."""
    lines = []
    for line in str(text).split("\n"):
        indent = line[:len(line) - len(line.lstrip())]
        lines += textwrap.wrap(line, width, subsequent_indent=indent, break_long_words=False,
                               break_on_hyphens=False) if len(line) > width else [line]
    print("\n".join(lines))


def check(name, answer, bug=None):
    """Check the reader's answer to exercise ``name`` and print a verdict with a hint.

    answer: a function (implement, derive, debug) or a prediction (predict); bug: for debug, the bug's letter.
    """
    if name not in EXERCISES:
        _say(_unknown(name))
        return
    exercise = EXERCISES[name]
    if exercise.kind == "predict":
        _say(exercise.evaluate_prediction(answer)[1])
    elif exercise.kind == "debug":
        _say(exercise.evaluate_debug(answer, bug)[1])
    else:
        _say(exercise.evaluate(answer)[1])


def outcome(name, measured):
    """After a "predict" exercise's experiment: show what it measured; fail if it disagrees with the answer."""
    exercise = EXERCISES[name]
    if exercise.choices:
        if measured != exercise.answer:
            raise AssertionError(f"{name}: the experiment gave ({measured}), but the registered answer is "
                                 f"({exercise.answer}). The chapter's claim no longer holds on this machine.")
        _say(f"The experiment says ({measured}): {exercise.choices[measured]}")
    else:
        if not abs(float(measured) - float(exercise.answer)) <= exercise.tolerance:
            raise AssertionError(f"{name}: the experiment measured {_num(measured)}, outside "
                                 f"{_num(exercise.answer)} ± {_num(exercise.tolerance)}.")
        print(f"The experiment measured {_num(measured)}.")


def _letter(text, choices):
    """The letter a reader meant: "b", "B", "(b)", "b)", "b.", "b: because ..." all mean "b"."""
    key = text.strip().lower()
    if key in choices:
        return key
    key = key.lstrip("(")
    if key[:1] in choices and (len(key) == 1 or key[1] in ").: "):
        return key[:1]
    return key


def _inline(text):
    """Plain text with `code` spans, as HTML."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


class Solution:
    """Help in steps: hint 1, hint 2, ..., then the solution, each folded on its own until the reader opens it.

    Shown as HTML <details>, which open the same way in Jupyter and in the built book, with no kernel.
    """

    def __init__(self, name, source, hints=(), answer=""):
        self.name, self.source, self.hints, self.answer = name, source, tuple(hints), answer

    def _repr_html_(self):
        name = html.escape(self.name)
        steps = [f'<details class="exercise-help"><summary>Hint {i} for <code>{name}</code></summary>'
                 f"<p>{_inline(h)}</p></details>" for i, h in enumerate(self.hints, 1)]
        answer = f"<p>{_inline(self.answer)}</p>" if self.answer else ""
        code = f"<pre><code>{html.escape(self.source)}</code></pre>" if self.source else ""
        steps.append(f'<details class="exercise-help"><summary>Solution to <code>{name}</code></summary>'
                     f"{answer}{code}</details>")
        return "".join(steps)

    def __repr__(self):
        return (f"{len(self.hints)} hints and the solution to {self.name!r}, hidden; display this in Jupyter and "
                f"click each to open, or print(.hints) and print(.source).")


def solution(name):
    """The solution to exercise ``name``, folded until clicked (for an unknown name, the list of names)."""
    if name not in EXERCISES:
        _say(_unknown(name))
        return None
    exercise = EXERCISES[name]
    source = textwrap.dedent(inspect.getsource(exercise.solution)) if callable(exercise.solution) else ""
    answer = exercise.explanation
    if exercise.choices:
        answer = f"({exercise.answer}) {exercise.choices[exercise.answer]}. {answer}".strip()
    elif exercise.kind == "predict":
        answer = f"{_num(exercise.answer)}. {answer}".strip()
    return Solution(name, source, exercise.hints, answer)
