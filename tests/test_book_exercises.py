"""Exercise help in the built book: hint 1, hint 2 and the solution open one at a time, with no kernel."""

import pytest
from test_book import CHAPTERS, load, recorded_page

from nbutils.exercises import EXERCISES

pytestmark = [pytest.mark.book, pytest.mark.browser]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_each_step_of_help_opens_on_its_own(browser, book_url, chapter):
    with recorded_page(browser) as (page, _):
        load(page, f"{book_url}{chapter}.html")
        helps = page.locator("details.exercise-help")
        assert helps.count() > 0, f"{chapter}.html shows no exercise help"
        first = helps.first
        name = first.locator("summary code").inner_text()
        steps = page.locator(f"details.exercise-help:has(summary code:text-is('{name}'))")
        assert steps.count() == len(EXERCISES[name].hints) + 1, f"{name}: {steps.count()} folded steps"
        assert all(not steps.nth(i).evaluate("d => d.open") for i in range(steps.count())), f"{name}: opened"
        hint = EXERCISES[name].hints[0].split("`")[0][:40]
        assert not page.get_by_text(hint).first.is_visible(), f"{name}: hint 1 shows before it is opened"
        steps.nth(0).locator("summary").click()
        opened = [steps.nth(i).evaluate("d => d.open") for i in range(steps.count())]
        assert opened == [True] + [False] * (steps.count() - 1), f"{name}: opening hint 1 opened {opened}"
        assert page.get_by_text(hint).first.is_visible(), f"{name}: hint 1 is not visible once opened"
        steps.nth(steps.count() - 1).locator("summary").click()
        assert steps.nth(steps.count() - 1).locator("pre, p").first.is_visible(), f"{name}: the solution is hidden"
