"""The book's site in a browser, offline: serve `_build/html` on 127.0.0.1 and drive the system Chromium.

Used by the PDF edition (`nbutils.pdf`), the browser tests and `tests/screenshots.py`. Playwright drives
Debian's Chromium (or CHROMIUM_PATH); it never downloads a browser.
"""

import functools
import os
import threading
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path():
    """Debian's Chromium, or the binary named by CHROMIUM_PATH."""
    return os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextmanager
def serve(directory):
    """`directory` over HTTP on 127.0.0.1, on a free port, from a background thread; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(directory)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="book-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def chromium(executable=None):
    """The system Chromium, headless, through Playwright's sync API."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable or chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
