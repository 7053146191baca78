"""The HTML book: a strict build, then every page in headless Chromium, offline, served from 127.0.0.1.

Each page opens in a fresh browser context that records every request; requests off 127.0.0.1 are also
aborted, so a test never sends traffic off the machine. Screenshots for humans to look at come from
`tests/screenshots.py` (light, dark and phone), not from these tests.
"""

import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import yaml
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

pytestmark = pytest.mark.book

ROOT = Path(__file__).resolve().parents[1]
SEARCH_CHAPTER = "chapters/01_convolution"  # the page a search for "cross-correlation" must find
PAGE_BUDGET = 1_500_000  # bytes: the chapter's HTML plus the image files it references


def _toc_files(entry):
    """Every `file:` in a _toc.yml entry, depth first."""
    if isinstance(entry, dict):
        if "file" in entry:
            yield entry["file"]
        for value in entry.values():
            if isinstance(value, list | dict):
                yield from _toc_files(value)
    elif isinstance(entry, list):
        for item in entry:
            yield from _toc_files(item)


def toc_pages():
    """HTML pages of the toc: the root, then every chapter and section, in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"], *_toc_files({k: v for k, v in toc.items() if k != "root"})]
    return [re.sub(r"\.(md|ipynb|rst)$", "", f) + ".html" for f in dict.fromkeys(files)]


PAGES = [*toc_pages(), "search.html", "genindex.html"]
CHAPTERS = [p.removesuffix(".html") for p in toc_pages() if p.startswith("chapters/")]  # one notebook each


def _is_local(url):
    parts = urlsplit(url)
    return parts.scheme in ("data", "about", "blob") or parts.hostname == "127.0.0.1"


@dataclass
class Record:
    """What one page did: every request, and everything that went wrong."""

    requests: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    console_errors: list = field(default_factory=list)
    page_errors: list = field(default_factory=list)

    @property
    def off_host(self):
        return [url for url in self.requests if not _is_local(url)]


@contextmanager
def recorded_page(browser, **context_options):
    """A page in a fresh context (1280 x 900 unless told); requests off 127.0.0.1 are recorded, then aborted."""
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **context_options})
    record = Record()
    context.route(lambda url: not _is_local(url), lambda route: route.abort("blockedbyclient"))
    context.on("request", lambda r: record.requests.append(r.url))
    context.on("requestfailed", lambda r: record.failed.append(f"{r.url}: {r.failure}"))
    context.on("response", lambda r: r.status >= 400 and record.failed.append(f"{r.url}: HTTP {r.status}"))
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and record.console_errors.append(
        f"{m.text} (at {m.location.get('url')}:{m.location.get('lineNumber')})"))
    page.on("pageerror", lambda e: record.page_errors.append(str(e)))
    try:
        yield page, record
    finally:
        context.close()


def load(page, url):
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # let deferred scripts settle


def wait_for_mathjax(page, timeout=30_000):
    """Wait until MathJax has typeset the page; False when the page has no math to typeset."""
    if page.locator(".math").count() == 0:
        return False
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=timeout)
    page.evaluate("() => MathJax.startup.promise.then(() => true)")
    return True


def html_of(book_html, page):
    return (book_html / page).read_text(encoding="utf-8")


class _Tags(HTMLParser):
    """Collects the attributes of every <img> and <a>."""

    def __init__(self):
        super().__init__()
        self.imgs, self.links = [], []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.imgs.append(dict(attrs))
        elif tag == "a":
            self.links.append(dict(attrs))


def tags_of(text):
    parser = _Tags()
    parser.feed(text)
    return parser


def test_book_builds_strictly_with_zero_warnings(book_build):
    missing = [p for p in toc_pages() if not (book_build.html / p).exists()]
    assert not missing, f"pages in _toc.yml that the build did not write: {missing}"
    if not book_build.built:
        pytest.skip("BOOK_SKIP_BUILD=1 reused an existing _build/html: the strict build did not run in this session")


@pytest.mark.browser
@pytest.mark.parametrize("page_path", PAGES)
def test_page_loads_offline_with_no_failed_request_and_no_console_error(browser, book_url, page_path):
    with recorded_page(browser) as (page, record):
        load(page, book_url + page_path)
        try:
            wait_for_mathjax(page)  # MathJax fetches its fonts; the math test says what is wrong
        except PlaywrightTimeoutError:
            pass
    url = book_url + page_path
    assert record.requests, f"{url}: no request was recorded"
    assert not record.off_host, f"{url} requested hosts other than 127.0.0.1:\n" + "\n".join(record.off_host)
    assert not record.failed, f"{url}: failed requests:\n" + "\n".join(record.failed)
    assert not record.page_errors, f"{url}: uncaught exceptions:\n" + "\n".join(record.page_errors)
    assert not record.console_errors, f"{url}: console errors:\n" + "\n".join(record.console_errors)


@pytest.mark.browser
def test_search_finds_the_convolution_chapter_offline(browser, book_url):
    with recorded_page(browser) as (page, record):
        load(page, book_url + "search.html?q=cross-correlation")
        results = page.locator("#search-results ul.search li a")
        page.wait_for_selector("#search-results ul.search li a", timeout=20_000)
        hrefs = [results.nth(i).get_attribute("href") for i in range(results.count())]
    assert any(h.split("#")[0].split("?")[0] == SEARCH_CHAPTER + ".html" for h in hrefs), (
        f"no search result links to {SEARCH_CHAPTER}.html; results: {hrefs}")
    assert not record.off_host, "the search requested hosts other than 127.0.0.1:\n" + "\n".join(record.off_host)
    assert not record.failed, "failed requests during the search:\n" + "\n".join(record.failed)


@pytest.mark.browser
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_slider_on_the_chapter_swaps_the_figure_and_its_label(browser, book_url, chapter):
    """From the page's first state, one step of any slider shows another picture and labels the new value."""
    problems, moved = [], 0
    with recorded_page(browser) as (page, _):
        load(page, f"{book_url}{chapter}.html")
        blocks = page.locator(".nbutils-interact")
        assert blocks.count() > 0, f"{chapter}.html has no .nbutils-interact figure"
        for b in range(blocks.count()):
            block = blocks.nth(b)
            img = block.locator("img.nbutils-frame")
            block.scroll_into_view_if_needed()
            sliders = block.locator("input[type=range]")
            if sliders.count() == 0:
                problems.append(f"figure {b + 1}: no slider")
            for s in range(sliders.count()):
                slider = sliders.nth(s)
                name = slider.get_attribute("data-name")
                labels = json.loads(slider.get_attribute("data-labels"))
                value, top = int(slider.input_value()), int(slider.get_attribute("max"))
                if top == 0:
                    continue  # one option: nothing to move
                before = img.get_attribute("src")
                key, expected = ("ArrowRight", value + 1) if value < top else ("ArrowLeft", value - 1)
                slider.focus()
                page.keyboard.press(key)
                moved += 1
                after = img.get_attribute("src") or ""
                shown = slider.locator("xpath=following-sibling::output[1]").inner_text()
                announced = slider.get_attribute("aria-valuetext")
                where = f"figure {b + 1}, slider {name!r} {labels[value]} -> {labels[expected]}"
                if int(slider.input_value()) != expected:
                    problems.append(f"{where}: {key} left the slider at {slider.input_value()}")
                if after == before:
                    problems.append(f"{where}: the image src did not change")
                if not re.fullmatch(r"\.\./_images/frames/[0-9a-f]{16}\.webp", after):
                    problems.append(f"{where}: the image src is not a WebP frame of the book: {after[:60]!r}")
                if shown != labels[expected] or announced != labels[expected]:
                    problems.append(f"{where}: the label shows {shown!r}, aria-valuetext {announced!r}")
                alt = img.get_attribute("alt") or ""
                if f"{name}={labels[expected]}" not in alt.rsplit("; ", 1)[-1]:
                    problems.append(f"{where}: the alt text {alt!r} does not name the new value")
                if not img.evaluate("el => el.complete && el.naturalWidth > 0"):
                    problems.append(f"{where}: the new image does not decode")
                page.keyboard.press("ArrowLeft" if key == "ArrowRight" else "ArrowRight")  # back to the start
                if img.get_attribute("src") != before:
                    problems.append(f"{where}: moving the slider back did not bring back the first image")
    assert moved > 0, "no slider had more than one option"
    assert not problems, f"{len(problems)} problem(s) over {moved} slider moves:\n" + "\n".join(problems)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_page_and_its_images_fit_in_1_5_mb(book_html, chapter):
    page = book_html / f"{chapter}.html"
    sizes = {page.name: page.stat().st_size}
    missing = []
    for src in {img.get("src") or "" for img in tags_of(page.read_text(encoding="utf-8")).imgs}:
        if not src or src.startswith("data:"):
            continue  # data: URIs are already in the HTML's bytes
        resolved = urljoin(f"/{chapter}.html", src)
        if urlsplit(resolved).scheme:
            missing.append(f"{src} (not a file of the book)")
            continue
        file = book_html / urlsplit(resolved).path.lstrip("/")
        if file.is_file():
            sizes[str(file.relative_to(book_html))] = file.stat().st_size
        else:
            missing.append(src)
    total = sum(sizes.values())
    breakdown = ", ".join(f"{name} {size:,}" for name, size in sorted(sizes.items(), key=lambda kv: -kv[1]))
    assert not missing, f"{chapter}.html references images that are not in _build/html: {missing}"
    assert total <= PAGE_BUDGET, f"{chapter}.html with its images is {total:,} bytes > {PAGE_BUDGET:,}: {breakdown}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_colab_setup_cell_is_removed_from_the_chapter_page(book_html, chapter):
    notebook = json.loads((ROOT / f"{chapter}.ipynb").read_text(encoding="utf-8"))
    setup = [c for c in notebook["cells"] if "remove-cell" in c.get("metadata", {}).get("tags", [])
             and "%pip install" in "".join(c["source"])]
    assert setup, f"{chapter}.ipynb has no Colab setup cell tagged remove-cell, so there is nothing to check"
    html = html_of(book_html, f"{chapter}.html")
    assert "%pip install" not in html, f"the Colab setup cell (tagged remove-cell) appears in {chapter}.html"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_page_links_to_colab_and_binder(book_html, chapter):
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]
    repo = urlsplit(config["url"]).path.strip("/")
    notebook = f"{chapter}.ipynb"
    hrefs = [a.get("href", "") for a in tags_of(html_of(book_html, f"{chapter}.html")).links]
    colab = f"https://colab.research.google.com/github/{repo}/blob/{config.get('branch', 'main')}/{notebook}"
    binder = [h for h in hrefs if h.startswith(f"https://mybinder.org/v2/gh/{repo}/") and h.endswith(notebook)]
    assert colab in hrefs, f"no launch link {colab}; links to Colab: {[h for h in hrefs if 'colab' in h]}"
    assert binder, f"no Binder launch link for {notebook}; links to Binder: {[h for h in hrefs if 'binder' in h]}"
