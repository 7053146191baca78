"""Exercise checks: solutions pass, stubs get the friendly message, each catalogued mistake gets its hint."""

import numpy as np
import pytest

from nbutils.exercises import EXERCISES, check, solution
from nbutils.exercises._core import NOT_DONE

NAMES = sorted(EXERCISES)
MISTAKES = [(name, i) for name in NAMES for i in range(len(EXERCISES[name].mistakes))]


@pytest.mark.parametrize("name", NAMES)
def test_reference_solution_passes(name):
    ok, message = EXERCISES[name].evaluate(EXERCISES[name].solution)
    assert ok, message


@pytest.mark.parametrize("name", NAMES)
def test_stub_gets_not_done_message(name, capsys):
    def stub(*args, **kwargs):
        raise NotImplementedError

    check(name, stub)
    assert capsys.readouterr().out.strip() == NOT_DONE


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
], ids=["raises", "returns-None", "returns-str", "returns-nan", "ragged"])
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


def test_solution_is_folded_in_a_details_element():
    html = solution("corr2d")._repr_html_()
    assert html.startswith("<details>") and "<summary>" in html and "def corr2d" in html
    assert "hidden" in repr(solution("corr2d"))
