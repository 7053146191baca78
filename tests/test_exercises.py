"""Exercise checks: solutions and readers' correct answers pass, mistakes get their hints, the text's rules hold.

tests/answers/<notebook stem>.py holds, for every exercise stub of that notebook, a correct answer written from the
chapter's own text, with the stub's name and signature (tests/test_other_cpu.py also runs them inside the notebooks).
"""

import ast
import dataclasses
import importlib
import inspect
import signal
import threading

import nbformat
import numpy as np
import pytest
import torch
from stubs import answer_file, answers, stub_cells, stubs

from nbutils import export
from nbutils.exercises import EXERCISES, KINDS, Exercise, Mistake, check, outcome, register, solution
from nbutils.exercises._core import NOT_DONE

ALL_NAMES = sorted(EXERCISES)
NAMES = [n for n in ALL_NAMES if EXERCISES[n].kind != "predict"]  # those answered by a function
PREDICTIONS = [n for n in ALL_NAMES if EXERCISES[n].kind == "predict"]
MISTAKES = [(name, i) for name in NAMES for i in range(len(EXERCISES[name].mistakes))]
FLOAT_NAMES = [n for n in NAMES if EXERCISES[n].returns == "float"]
INT_NAMES = [n for n in NAMES if EXERCISES[n].returns == "int"]

CHAPTERS = [p for p in export.notebooks() if stub_cells(p)]
MODULE_OF_CHAPTER = {"01_convolution": "conv", "02_activations": "activations", "03_pooling": "pooling",
                     "04_dropout": "dropout", "05_normalization": "norm", "06_fc_vs_gap": "linear",
                     "07_capstone": "capstone"}


def exercise_names(path):
    """The exercises a notebook's stubs answer (a debug stub also defines <name>_bug, the bug's letter)."""
    return sorted(n for n in stubs(path) if n in EXERCISES)


def judge(name, given):
    """(passed, message) for the answers ``given`` ({name: value}) to exercise ``name``, whatever its kind."""
    exercise = EXERCISES[name]
    if exercise.kind == "predict":
        return exercise.evaluate_prediction(given[name])
    if exercise.kind == "debug":
        return exercise.evaluate_debug(given[name], given.get(f"{name}_bug"))
    return exercise.evaluate(given[name])


ANSWERED = [(p.stem, name) for p in CHAPTERS for name in exercise_names(p)]


def outputs_of(exercise, fn=None):
    """What fn (default: the solution) returns on every case, computed once, on copies of the cases."""
    fn = fn or exercise.solution
    with np.errstate(all="ignore"):
        return [fn(*[a.copy() if isinstance(a, np.ndarray) else a for a in args], **kw) for args, kw in exercise.cases]


def replaying(values):
    """A reader's function that returns values one after another, whatever it is given; then refuses (ValueError)."""
    it = iter(values)

    def reader(*args, **kwargs):
        for value in it:
            return value
        raise ValueError("no more values")  # the refusals that follow the cases (gn_forward) expect a ValueError

    return reader


def as_float32(value):
    if isinstance(value, tuple):
        return tuple(as_float32(v) for v in value)
    return None if value is None else np.asarray(value).astype(np.float32)


def as_float64(value):
    if isinstance(value, tuple):
        return tuple(as_float64(v) for v in value)
    return None if value is None else np.asarray(value, dtype=np.float64)


# --- the reference solutions and the catalogue ------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_reference_solution_passes(name):
    ok, message = EXERCISES[name].evaluate(EXERCISES[name].solution)
    assert ok, message


@pytest.mark.parametrize("name", NAMES)
def test_stub_gets_not_done_message(name, capsys):
    def stub(*args, **kwargs):
        raise NotImplementedError

    check(name, stub)
    out = capsys.readouterr().out.strip()
    if EXERCISES[name].kind == "debug":  # the fix is not done, and the bug not named
        assert out.startswith(f"The fix: {NOT_DONE}") and "First choose" in out, out
    else:
        assert out == NOT_DONE


@pytest.mark.parametrize("name,i", MISTAKES)
def test_each_catalogued_mistake_gets_its_own_hint(name, i):
    exercise = EXERCISES[name]
    ok, message = exercise.evaluate(exercise.mistakes[i].fn)
    assert not ok
    assert exercise.mistakes[i].hint in message


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bad", [
    lambda *a, **k: 1 / 0,
    lambda *a, **k: None,
    lambda *a, **k: "text",
    lambda *a, **k: np.full((2, 2), np.nan),
    lambda *a, **k: [[1, 2], [3]],
    lambda *a, **k: {"a": 1},
    lambda *a, **k: torch.ones(2, requires_grad=True),
], ids=["raises", "returns-None", "returns-str", "returns-nan", "ragged", "dict", "tensor-with-grad"])
def test_check_never_crashes_on_readers_errors(name, bad, capsys):
    check(name, bad)
    out = capsys.readouterr().out
    assert out.strip() and "✓" not in out


def test_a_wrong_value_names_expected_and_got():
    ok, message = EXERCISES["conv_output_size"].evaluate(lambda *a, **k: 1)
    assert not ok and "expected" in message


def test_passing_a_non_function_explains_what_to_pass(capsys):
    check("corr2d", 3)
    assert "Pass your function itself" in capsys.readouterr().out


def test_a_function_with_other_arguments_is_told_to_keep_the_stubs_first_line():
    ok, message = EXERCISES["conv_output_size"].evaluate(lambda size, kernel_size: size)
    assert not ok and "def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):" in message


def test_solution_is_folded_in_a_details_element():
    html = solution("corr2d")._repr_html_()
    assert html.startswith("<details") and "<summary>" in html and "def corr2d" in html
    assert "hidden" in repr(solution("corr2d"))


# --- names are unique, and each notebook is checked by its own chapter --------------------------------------
def test_register_refuses_a_second_exercise_with_a_taken_name():
    def corr2d(x, k):
        return x

    with pytest.raises(ValueError, match="corr2d") as caught:
        register(Exercise("corr2d", corr2d, cases=[]))
    assert "nbutils.exercises.conv.corr2d" in str(caught.value) and "test_exercises" in str(caught.value)
    assert EXERCISES["corr2d"].solution.__module__ == "nbutils.exercises.conv"


def test_reloading_a_chapters_module_registers_its_exercises_again():
    importlib.reload(importlib.import_module("nbutils.exercises.linear"))
    assert EXERCISES["gap_backward"].solution.__module__ == "nbutils.exercises.linear"


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_each_notebooks_stubs_are_checked_by_its_own_chapters_exercises(path):
    lines = {line.strip() for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"
             for line in c.source.splitlines()}
    names = exercise_names(path)
    assert set(stubs(path)) == set(names) | {f"{n}_bug" for n in names if EXERCISES[n].kind == "debug"}
    module = f"nbutils.exercises.{MODULE_OF_CHAPTER[path.stem]}"
    for name in names:
        exercise = EXERCISES[name]
        assert exercise.module == module, name
        call = f'check_exercise("{name}", {name}, bug={name}_bug)' if exercise.kind == "debug" else \
            f'check_exercise("{name}", {name})'
        assert call in lines and f'solution("{name}")' in lines, name


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_a_debug_stub_shows_exactly_the_planted_bug(path):
    shown = stubs(path)
    for name in exercise_names(path):
        if EXERCISES[name].kind == "debug":
            assert inspect.getsource(shown[name]).strip() == inspect.getsource(EXERCISES[name].bug).strip(), name


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_chapter_has_exercises_of_all_four_kinds(path):
    kinds = {EXERCISES[n].kind for n in exercise_names(path)}
    assert kinds >= {"implement", "derive", "predict", "debug"}, f"{path.stem} lacks {sorted(set(KINDS) - kinds)}"


@pytest.mark.parametrize("name", ALL_NAMES)
def test_help_comes_in_steps_each_folded_on_its_own(name):
    exercise = EXERCISES[name]
    assert len(exercise.hints) >= 2 and all(h.strip() for h in exercise.hints), name
    page = solution(name)._repr_html_()
    assert page.count("<details") == len(exercise.hints) + 1 and "<details open" not in page
    assert page.index("Hint 1") < page.index("Hint 2") < page.index("Solution to")


# --- correct answers written from each chapter's text --------------------------------------------------------
@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_the_answers_file_answers_exactly_the_notebooks_stubs(path):
    assert set(answers(path.stem)) == set(stubs(path))


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_the_answers_keep_the_stubs_signatures_and_import_only_numpy_and_math(path):
    theirs = answers(path.stem)
    for name, stub in stubs(path).items():
        if callable(stub):
            assert inspect.signature(theirs[name]) == inspect.signature(stub), name
    tree = ast.parse(answer_file(path.stem).read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= {"numpy", "math"}


@pytest.mark.parametrize("stem,name", ANSWERED)
def test_a_correct_answer_written_from_the_chapters_text_passes(stem, name):
    ok, message = judge(name, answers(stem))
    assert ok, message


# --- the reader's function never changes the stored cases ----------------------------------------------------
def _popping_receptive_field(kernel_sizes, strides):
    r, jump = 1, 1
    while kernel_sizes:
        k, s = kernel_sizes.pop(0), strides.pop(0)
        r, jump = r + (k - 1) * jump, jump * s
    return r


def _popping_fc_head_cost(feature_shape, layer_sizes, map_size):
    C, H, W = feature_shape
    positions, n, params, macs = (map_size[0] - H + 1) * (map_size[1] - W + 1), C * H * W, 0, 0
    while layer_sizes:
        out = layer_sizes.pop(0)
        params, macs, n = params + n * out + out, macs + positions * n * out, out
    return params, macs


@pytest.mark.parametrize("name,popping,wrong", [
    ("receptive_field", _popping_receptive_field, lambda ks, ss: 1 + sum(k - 1 for k in ks)),
    ("fc_head_cost", _popping_fc_head_cost, lambda shape, sizes, m: (1, 1)),
])
def test_a_correct_answer_that_pops_from_its_lists_passes_and_a_wrong_one_still_fails_after_it(name, popping, wrong):
    before = [(list(a), dict(k)) for a, k in EXERCISES[name].cases]
    assert EXERCISES[name].evaluate(popping)[0]
    assert [(list(a), dict(k)) for a, k in EXERCISES[name].cases] == before
    assert EXERCISES[name].evaluate(popping)[0]
    assert not EXERCISES[name].evaluate(wrong)[0]


def test_an_answer_that_overwrites_its_array_passes_and_the_cases_stay_as_they_were():
    def softmax_in_place(x, axis):
        x -= x.max(axis=axis, keepdims=True)
        np.exp(x, out=x)
        x /= x.sum(axis=axis, keepdims=True)
        return x

    before = [a[0].copy() for a, _ in EXERCISES["stable_softmax"].cases]
    assert EXERCISES["stable_softmax"].evaluate(softmax_in_place)[0]
    assert all(np.array_equal(a[0], b) for (a, _), b in zip(EXERCISES["stable_softmax"].cases, before))


def test_the_solution_and_the_mistakes_get_their_own_copies_too():
    exercise = EXERCISES["receptive_field"]
    seen = []
    emptying = Mistake(lambda ks, ss: (seen.append(ks), ks.clear(), 0)[-1], "hint")
    probe = dataclasses.replace(exercise, mistakes=[emptying])
    probe.evaluate(lambda ks, ss: 0)
    assert seen and all(a[0] for a, _ in exercise.cases)


# --- float32 answers: told to compute in float64, the same way in every exercise ------------------------------
@pytest.mark.parametrize("name", FLOAT_NAMES)
def test_a_float32_result_is_told_to_compute_in_float64(name):
    exercise = EXERCISES[name]
    ok, message = exercise.evaluate(replaying([as_float32(v) for v in outputs_of(exercise)]))
    assert not ok and "float32" in message and "compute in float64" in message
    assert "right" in message.lower()  # the values are right to float32's precision, and the reader is told so


@pytest.mark.parametrize("name", FLOAT_NAMES)
def test_a_result_computed_in_float32_and_cast_back_is_told_to_compute_in_float64(name):
    exercise = EXERCISES[name]

    def in_float32(*args, **kwargs):
        args = [a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a in args]
        return as_float64(exercise.solution(*args, **kwargs))

    ok, message = exercise.evaluate(in_float32)
    assert not ok and "float32" in message and "Compute in float64" in message


def test_a_float64_torch_tensor_is_accepted():
    def cross_entropy_grad(logits, target):
        z = torch.tensor(logits, requires_grad=True)
        torch.nn.functional.cross_entropy(z, torch.tensor(target)).backward()
        return z.grad

    assert EXERCISES["cross_entropy_grad"].evaluate(cross_entropy_grad)[0]


def test_a_float32_mistake_still_gets_its_hint():
    exercise = EXERCISES["cross_entropy_grad"]
    mistake = exercise.mistakes[0]
    ok, message = exercise.evaluate(replaying([as_float32(v) for v in outputs_of(exercise, mistake.fn)]))
    assert not ok and mistake.hint in message and "float64" in message


# --- SGD without momentum keeps no buffer, as torch ---------------------------------------------------------------
def test_the_sgd_cases_expect_what_torch_optim_sgd_does():
    exercise = EXERCISES["sgd_momentum_step"]
    assert any(args[4] == 0 for args, _ in exercise.cases)
    for (param, grad, buf, lr, momentum, weight_decay), _ in exercise.cases:
        p = torch.tensor(param, requires_grad=True)
        opt = torch.optim.SGD([p], lr=lr, momentum=momentum, weight_decay=weight_decay)
        if buf is not None:
            opt.state[p]["momentum_buffer"] = torch.tensor(buf)
        p.grad = torch.tensor(grad)
        opt.step()
        new_param, new_buf = exercise.solution(param, grad, buf, lr, momentum, weight_decay)
        theirs = opt.state[p].get("momentum_buffer")
        np.testing.assert_allclose(new_param, p.detach().numpy(), rtol=1e-12, atol=1e-14)
        assert (new_buf is None) == (theirs is None)
        if new_buf is not None:
            np.testing.assert_allclose(new_buf, theirs.numpy(), rtol=1e-12, atol=1e-14)


def test_a_faithful_sgd_that_keeps_no_buffer_without_momentum_passes():
    def sgd_momentum_step(param, grad, buf, lr, momentum, weight_decay):
        d = grad + weight_decay * param
        if momentum:
            buf = d.copy() if buf is None else momentum * buf + d
            d = buf
        return param - lr * d, buf

    ok, message = EXERCISES["sgd_momentum_step"].evaluate(sgd_momentum_step)
    assert ok, message


def test_an_sgd_that_starts_a_buffer_without_momentum_is_accepted_too():
    def sgd_momentum_step(param, grad, buf, lr, momentum, weight_decay):
        d = grad + weight_decay * param
        buf = d.copy() if buf is None else momentum * buf + d
        return param - lr * buf, buf

    ok, message = EXERCISES["sgd_momentum_step"].evaluate(sgd_momentum_step)
    assert ok, message


def test_an_sgd_that_returns_no_buffer_with_momentum_is_told_which_item_is_wrong():
    def sgd_momentum_step(param, grad, buf, lr, momentum, weight_decay):
        d = grad + weight_decay * param
        return param - lr * d, None

    ok, message = EXERCISES["sgd_momentum_step"].evaluate(sgd_momentum_step)
    assert not ok and "new_buf" in message


# --- errors the reader's code raises are matched against the catalogue --------------------------------------
def _bn_forward_gamma_last(x, gamma, beta, eps=1e-5):
    mean, var = x.mean(axis=(0, 2, 3), keepdims=True), x.var(axis=(0, 2, 3), keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def _bn_backward_flat_gamma(grad_out, x, gamma, eps=1e-5):
    axes = (0, 2, 3)
    r = 1 / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    x_hat = (x - x.mean(axis=axes, keepdims=True)) * r
    g = grad_out * gamma
    return r * (g - g.mean(axis=axes, keepdims=True) - x_hat * (g * x_hat).mean(axis=axes, keepdims=True))


def _softmax_sum_without_keepdims(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis)


def _cross_entropy_without_keepdims(logits, target):
    p = np.exp(logits - np.max(logits, axis=1))
    return p / p.sum(axis=1)


@pytest.mark.parametrize("name,fn,hint_says", [
    ("stable_softmax", _softmax_sum_without_keepdims, "keepdims=True"),
    ("stable_log_softmax", lambda x, axis: x - np.log(np.exp(x - x.max(axis)).sum(axis)) - x.max(axis), "keepdims"),
    ("bn_forward", _bn_forward_gamma_last, "(1, C, 1, 1)"),
    ("bn_backward", _bn_backward_flat_gamma, "(1, C, 1, 1)"),
    ("linear_weight_grad", lambda grad_output, input: np.dot(grad_output.T, input), "(-1, in_features)"),
    ("linear_weight_grad", lambda grad_output, input: np.einsum("no,ni->oi", grad_output, input), "leading"),
    ("cross_entropy_grad", _cross_entropy_without_keepdims, "keepdims=True"),
    ("gap_backward", lambda g, shape: g / (shape[2] * shape[3]) * np.ones(shape), "(N, C, 1, 1)"),
], ids=["softmax-keepdims", "log-softmax-keepdims", "bn-gamma", "bn-backward-gamma", "linear-dot", "linear-einsum",
        "cross-entropy-keepdims", "gap-reshape"])
def test_an_error_that_a_catalogued_mistake_explains_gets_its_hint(name, fn, hint_says):
    ok, message = EXERCISES[name].evaluate(fn)
    assert not ok and "raised" in message and "Hint:" in message and hint_says in message, message


def test_an_error_no_mistake_explains_names_the_error_and_the_line_without_a_hint():
    def stable_softmax(x, axis):
        return x[axis + 10]

    ok, message = EXERCISES["stable_softmax"].evaluate(stable_softmax)
    assert not ok and "IndexError" in message and "return x[axis + 10]" in message and "Hint" not in message


def test_a_mistake_explains_an_error_by_its_type_and_message():
    mistake = Mistake(lambda: None, "hint", raises=(ValueError, "broadcast"))
    assert mistake.explains(ValueError("operands could not be broadcast"), None)
    assert not mistake.explains(TypeError("operands could not be broadcast"), None)
    assert Mistake(lambda: None, "hint").explains(KeyError("a"), KeyError("a"))
    assert not Mistake(lambda: None, "hint").explains(KeyError("a"), KeyError("b"))


# --- messages ----------------------------------------------------------------------------------------------------
def test_a_wrong_array_gets_a_compact_difference_not_its_numbers():
    exercise = EXERCISES["bn_forward"]

    def shifted(x, gamma, beta, eps=1e-5):
        out = exercise.solution(x, gamma, beta, eps)
        out[0, 1, 2, 3] += 0.5
        return out

    ok, message = exercise.evaluate(shifted)
    assert not ok and len(message) < 400, message
    assert "1 of 300 values differ" in message and "(4, 3, 5, 5)" in message
    assert "first at index (0, 1, 2, 3)" in message and "largest error 0.5" in message


def test_a_wrong_shape_says_both_shapes_and_the_rule():
    ok, message = EXERCISES["corr2d"].evaluate(lambda x, k: np.zeros((2, 2)))
    assert not ok and "got (2, 2), expected (3, 4)" in message and "H − kh + 1" in message


def test_scalars_print_as_a_reader_writes_them():
    ok, message = EXERCISES["conv_output_size"].evaluate(
        lambda size, kernel_size, stride=1, padding=0, dilation=1: size + 1)
    assert "got 6, expected 5." in message and ".." not in message


def test_a_partly_finished_answer_is_told_which_case_raised_not_that_it_is_not_done():
    def stable_softmax(x, axis):
        if axis == 0:
            raise NotImplementedError  # later
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    ok, message = EXERCISES["stable_softmax"].evaluate(stable_softmax)
    assert not ok and message != NOT_DONE and "NotImplementedError" in message and "axis=0" in message


def test_forgetting_only_the_left_padding_in_ceil_mode_gets_its_own_hint():
    def ceil_mode_output_size(size, kernel_size, stride, padding=0):
        out = -(-(size + 2 * padding - kernel_size) // stride) + 1
        if (out - 1) * stride >= size:
            out -= 1
        return out

    exercise = EXERCISES["ceil_mode_output_size"]
    ok, message = exercise.evaluate(ceil_mode_output_size)
    assert not ok and "not ≥ size" in message
    assert "both sides" not in message and "rounds up" not in message


def test_an_unknown_exercise_name_is_answered_politely_by_check_and_by_solution(capsys):
    check("gap_backwards", lambda: 0)
    from_check = capsys.readouterr().out
    assert solution("gap_backwards") is None
    from_solution = capsys.readouterr().out
    assert from_check == from_solution
    assert "Did you mean 'gap_backward'?" in from_solution and "conv_output_size" in from_solution


# --- rules the text states --------------------------------------------------------------------------------------
def test_bn_running_stats_that_changes_its_inputs_fails_and_says_so():
    def bn_running_stats(running_mean, running_var, x, momentum=0.1):
        n = x.size // x.shape[1]
        running_mean *= 1 - momentum
        running_mean += momentum * x.mean(axis=(0, 2, 3))
        running_var *= 1 - momentum
        running_var += momentum * x.var(axis=(0, 2, 3)) * n / (n - 1)
        return running_mean, running_var

    ok, message = EXERCISES["bn_running_stats"].evaluate(bn_running_stats)
    assert not ok and "do not change the inputs" in message and "`running_mean`" in message


@pytest.mark.parametrize("name", INT_NAMES)
@pytest.mark.parametrize("kind", [str, float])
def test_an_exercise_that_asks_for_an_int_refuses_a_string_or_a_float_of_the_right_value(name, kind):
    exercise = EXERCISES[name]
    ok, message = exercise.evaluate(replaying([kind(v) for v in outputs_of(exercise)]))
    assert not ok and "int" in message


@pytest.mark.parametrize("name", INT_NAMES)
def test_an_exercise_that_asks_for_an_int_accepts_numpy_integers(name):
    exercise = EXERCISES[name]
    assert exercise.evaluate(replaying([np.int64(v) for v in outputs_of(exercise)]))[0]


def test_adaptive_windows_refuses_an_array_of_floats():
    exercise = EXERCISES["adaptive_windows"]
    ok, message = exercise.evaluate(replaying([v.astype(float) for v in outputs_of(exercise)]))
    assert not ok and "integer array" in message


def test_gn_forward_that_leaves_its_refusal_branch_unwritten_is_told_so():
    def gn_forward(x, num_groups, eps=1e-5):
        N, C, H, W = x.shape
        if C % num_groups:
            raise NotImplementedError
        g = x.reshape(N, num_groups, -1)
        return ((g - g.mean(axis=2, keepdims=True)) / np.sqrt(g.var(axis=2, keepdims=True) + eps)).reshape(x.shape)

    ok, message = EXERCISES["gn_forward"].evaluate(gn_forward)
    assert not ok and "ValueError" in message and "NotImplementedError" in message


# --- robustness -------------------------------------------------------------------------------------------------
def _endless(*args, **kwargs):
    while True:
        pass


def _endless_after_a_bare_except(*args, **kwargs):
    try:
        while True:
            pass
    except:  # noqa: E722 - a bare except swallows the first alarm; the alarm rings again
        pass
    while True:
        pass


POSIX_ALARMS = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="no SIGALRM here (Windows): no time limit")


@POSIX_ALARMS
@pytest.mark.parametrize("fn", [_endless, _endless_after_a_bare_except], ids=["loop", "loop-after-bare-except"])
def test_an_endless_loop_is_stopped_with_a_message(fn):
    exercise = dataclasses.replace(EXERCISES["corr2d"], time_limit=0.3)
    handler, alarm = signal.getsignal(signal.SIGALRM), signal.getitimer(signal.ITIMER_REAL)
    ok, message = exercise.evaluate(fn)
    assert not ok and "more than 0.3 s" in message and "loop" in message
    assert signal.getsignal(signal.SIGALRM) is handler
    assert (signal.getitimer(signal.ITIMER_REAL)[0] == 0) == (alarm[0] == 0)


def test_without_alarm_signals_the_check_runs_without_a_time_limit(monkeypatch):
    monkeypatch.delattr(signal, "setitimer", raising=False)
    assert EXERCISES["corr2d"].evaluate(EXERCISES["corr2d"].solution)[0]


def test_off_the_main_thread_the_check_runs_without_a_time_limit():
    results = []
    thread = threading.Thread(target=lambda: results.append(EXERCISES["corr2d"].evaluate(EXERCISES["corr2d"].solution)))
    thread.start()
    thread.join()
    assert results and results[0][0]


@POSIX_ALARMS
def test_an_alarm_someone_else_set_survives_a_check():
    fired = []
    old = signal.signal(signal.SIGALRM, lambda *a: fired.append(True))
    try:
        signal.setitimer(signal.ITIMER_REAL, 30)
        assert EXERCISES["corr2d"].evaluate(EXERCISES["corr2d"].solution)[0]
        assert 0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 30 and not fired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("name", NAMES)
def test_the_reference_solution_ignores_the_readers_numpy_error_settings(name):
    exercise = dataclasses.replace(EXERCISES[name])  # a fresh copy: nothing computed yet
    right = replaying(outputs_of(exercise))
    with np.errstate(all="raise"):
        ok, message = exercise.evaluate(right)
    assert ok, message


def test_the_mistakes_ignore_the_readers_numpy_error_settings():
    exercise = dataclasses.replace(EXERCISES["stable_softmax"])
    naive = exercise.mistakes[0]
    with np.errstate(all="raise"):
        ok, message = exercise.evaluate(replaying(outputs_of(exercise, naive.fn)))
    assert not ok and naive.hint in message


# --- predictions and diagnoses ---------------------------------------------------------------------------------
def _wrong_answers(exercise):
    if exercise.choices:
        return [k for k in exercise.choices if k != exercise.answer]
    return [exercise.answer + 2 * exercise.tolerance + 1, -exercise.answer - 1]


@pytest.mark.parametrize("name", PREDICTIONS)
def test_a_prediction_is_judged_right_wrong_or_not_made(name):
    exercise = EXERCISES[name]
    assert exercise.evaluate_prediction(exercise.answer)[0]
    for wrong in _wrong_answers(exercise):
        ok, message = exercise.evaluate_prediction(wrong)
        assert not ok and "Hint:" in message, message
    ok, message = exercise.evaluate_prediction(None)
    assert not ok and message.startswith("First"), message
    assert not exercise.evaluate_prediction("zz")[0]


@pytest.mark.parametrize("name", [n for n in NAMES if EXERCISES[n].kind == "debug"])
def test_a_debug_exercise_needs_the_fix_and_the_bugs_name(name):
    exercise = EXERCISES[name]
    assert exercise.evaluate_debug(exercise.solution, exercise.answer)[0]
    ok, message = exercise.evaluate_debug(exercise.bug, exercise.answer)
    assert not ok and "still the planted bug" in message, message
    ok, message = exercise.evaluate_debug(exercise.solution, None)
    assert not ok and "passes" in message and "First choose" in message, message
    for wrong in [k for k in exercise.choices if k != exercise.answer]:
        assert not exercise.evaluate_debug(exercise.solution, wrong)[0]


def test_outcome_fails_loudly_when_the_experiment_disagrees_with_the_answer():
    numeric = Exercise("_outcome_number", None, [], kind="predict", answer=4, tolerance=0.5, hints=("a", "b"))
    chosen = Exercise("_outcome_choice", None, [], kind="predict", choices={"a": "up", "b": "down"}, answer="b",
                      hints=("a", "b"))
    EXERCISES.update({e.name: e for e in (numeric, chosen)})
    try:
        outcome("_outcome_number", 4.4)
        outcome("_outcome_choice", "b")
        with pytest.raises(AssertionError, match="outside"):
            outcome("_outcome_number", 5)
        with pytest.raises(AssertionError, match="no longer holds"):
            outcome("_outcome_choice", "a")
    finally:
        for e in (numeric, chosen):
            EXERCISES.pop(e.name)


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_the_book_folds_a_predictions_experiment_so_the_answer_does_not_show_under_the_question(path):
    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    for name in exercise_names(path):
        if EXERCISES[name].kind == "predict":
            (cell,) = [c for c in cells if f'check_exercise("{name}", {name})' in c.source]
            assert "hide-output" in cell.metadata.get("tags", []), name
