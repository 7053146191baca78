"""Shared fixtures for the book tests: the strict HTML build, a local web server, and headless Chromium.

- `book_build` / `book_html`: run `jupyter-book build --all -W -n --keep-going` once per session and return
  `_build/html`. The build starts in the background as soon as the tests are collected, so it runs while the
  tests that need no book run; the tests of the built book (mark `book`) run last, the fresh-kernel runs of the
  notebooks first among them. Set `BOOK_SKIP_BUILD=1` to reuse an existing `_build/html` while iterating
  locally; it is ignored when `CI` is set, so CI always builds. The default is to build.
- `book_url`: `_build/html` served over HTTP on 127.0.0.1, on a free port, for the session.
- `browser`: Playwright's Chromium, the system binary from `CHROMIUM_PATH` (default `/usr/bin/chromium`).
  Where it is missing the browser tests skip and say why; with `REQUIRE_BROWSER=1` (as in CI) they fail instead.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from nbutils.browser import chromium, chromium_path, serve

ROOT = Path(__file__).resolve().parents[1]
BUILD_DIR = ROOT / "_build"
HTML_DIR = BUILD_DIR / "html"
SCREENSHOT_DIR = BUILD_DIR / "screenshots"
BUILD_TIMEOUT = 1800  # seconds; a cold build executes every notebook (about a minute for chapter 1)


# Every process the tests start (the book build, its kernels, the notebook runs, torch in this process) runs on one
# thread. They share two cores: with two threads each, OpenMP's spinning threads wait on each other and the run takes
# longer. One thread is also one of the settings every notebook must tell the same story under.
for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Sphinx's own log lines: "path:line: WARNING: ...", "WARNING: ...", docutils' "(ERROR/3)", and the closing
# "build succeeded, 2 warnings." Kernels' stderr ("[IPKernelApp] WARNING | ...") is not Sphinx's and does not count.
_PROBLEM = re.compile(
    r"(^|: )(WARNING|ERROR|CRITICAL|SEVERE): "
    r"|\((WARNING|ERROR|SEVERE)/\d\)"
    r"|build (succeeded|finished with problems), \d+ warning"
)


def _truthy(name):
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


@dataclass(frozen=True)
class BookBuild:
    html: Path
    log: str
    built: bool  # False when BOOK_SKIP_BUILD reused an existing build


def _jupyter_book_command():
    beside_python = Path(sys.executable).with_name("jupyter-book")
    exe = str(beside_python) if beside_python.exists() else shutil.which("jupyter-book")
    if exe is None:
        pytest.fail("jupyter-book is not installed: pip install -r requirements.txt")
    return [exe, "build", "--all", "-W", "-n", "--keep-going", str(ROOT)]


def _reuse_build():
    return _truthy("BOOK_SKIP_BUILD") and not _truthy("CI") and (HTML_DIR / "index.html").exists()


class _Build(threading.Thread):
    """The strict build in a background thread: it runs while the tests that need no book run."""

    def __init__(self):
        super().__init__(name="book-build", daemon=True)
        self.returncode, self.log, self.timed_out, self.proc = None, "", False, None

    def run(self):
        env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(_jupyter_book_command(), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            out, _ = self.proc.communicate(timeout=BUILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.stop()
            out, _ = self.proc.communicate()
            self.timed_out = True
        self.returncode, self.log = self.proc.returncode, _ANSI.sub("", out or "")

    def stop(self):
        """Kill the build and the kernels it started (they share its process group)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)


_BUILD = []  # the one background build of this session, once started


def _start_build():
    if not _BUILD:
        _BUILD.append(_Build())
        _BUILD[0].start()
    return _BUILD[0]


def pytest_collection_modifyitems(session, config, items):
    """Tests of the built book run last; the fresh-kernel runs of the notebooks first among them."""
    book = [item for item in items if item.get_closest_marker("book")]
    book.sort(key=lambda item: item.path.name != "test_notebooks.py")  # they run notebooks before they wait
    items[:] = [item for item in items if not item.get_closest_marker("book")] + book


def pytest_collection_finish(session):
    """When a selected test needs the book, its build starts now, in parallel with the tests before it."""
    selected = any(item.get_closest_marker("book") for item in session.items)
    if selected and not session.config.option.collectonly and not _reuse_build():
        _start_build()


def pytest_sessionfinish(session, exitstatus):
    for build in _BUILD:  # an interrupted session leaves no build running
        build.stop()


@pytest.fixture(scope="session")
def book_build():
    """The strict build of the book, run once per session (or reused with BOOK_SKIP_BUILD=1 outside CI)."""
    if _reuse_build():
        return BookBuild(HTML_DIR, "", built=False)
    build = _start_build()  # already running unless a test outside the `book` mark asked for the book
    build.join()
    if build.timed_out:
        pytest.fail(f"the book build took more than {BUILD_TIMEOUT} s; its log ends with:\n{_tail(build.log)}")
    log = build.log
    problems = [line for line in log.splitlines() if _PROBLEM.search(line)]
    assert build.returncode == 0, f"the book build exited with {build.returncode}; its log ends with:\n{_tail(log)}"
    assert not problems, (
        f"the book build logged {len(problems)} warning/error line(s):\n" + "\n".join(problems[:30])
        + f"\n--- the log ends with:\n{_tail(log)}"
    )
    assert (HTML_DIR / "index.html").exists(), f"the build succeeded but wrote no {HTML_DIR / 'index.html'}"
    return BookBuild(HTML_DIR, log, built=True)


@pytest.fixture(scope="session")
def book_html(book_build):
    """Path of the strictly built HTML book, `_build/html`."""
    return book_build.html


def _tail(text, lines=60):
    return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="session")
def book_url(book_html):
    """Base URL (ending in '/') of `_build/html` served on 127.0.0.1 from a background thread."""
    with serve(book_html) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (Debian's, or CHROMIUM_PATH) driven by Playwright's sync API."""
    executable = chromium_path()
    if not (os.path.isfile(executable) and os.access(executable, os.X_OK)):
        reason = f"Chromium not found at {executable}; install Debian's chromium or set CHROMIUM_PATH"
        if _truthy("REQUIRE_BROWSER"):
            pytest.fail(f"{reason} (REQUIRE_BROWSER=1: browser tests may not skip)")
        pytest.skip(reason)
    with chromium(executable) as browser:
        yield browser


@pytest.fixture(scope="session")
def screenshot_dir():
    """`_build/screenshots/`: pictures for humans to look at, never asserted."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR
