"""Screenshots of a chapter of the built book in light mode, in dark mode and on a phone, for people to look at.

    python tests/screenshots.py [chapters/01_convolution] [--out _build/screenshots/reader]

For each setting it photographs three places: the top of the page, the first interactive figure and the first
exercise's help (opened). It serves `_build/html` on 127.0.0.1 and uses Debian's Chromium, offline.
"""

import argparse
import functools
import os
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
SETTINGS = {
    "light": {"viewport": {"width": 1366, "height": 900}},
    "dark": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True},
}
PLACES = {"top": None, "figure": ".nbutils-interact", "exercise": "details.exercise-help"}


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def _serve(html_dir):
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(html_dir)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def take(browser, base_url, chapter, out_dir):
    """Photograph `chapter` in every setting and place; return the PNG paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for setting, options in SETTINGS.items():
        context = browser.new_context(**options)
        if setting == "dark":
            context.add_init_script("localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark')")
        page = context.new_page()
        page.goto(f"{base_url}{chapter}.html", wait_until="networkidle")
        for place, selector in PLACES.items():
            if selector:
                target = page.locator(selector).first
                if target.count() == 0:
                    continue
                if place == "exercise":
                    target.locator("summary").click()
                target.scroll_into_view_if_needed()
                page.evaluate("window.scrollBy(0, -60)")
            page.wait_for_timeout(200)
            path = out_dir / f"{Path(chapter).name}-{setting}-{place}.png"
            page.screenshot(path=str(path))
            written.append(path)
        context.close()
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapter", nargs="?", default="chapters/01_convolution")
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "screenshots" / "reader")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    server = _serve(args.html)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
                                        args=FLAGS)
            written = take(browser, f"http://127.0.0.1:{server.server_address[1]}/", args.chapter, args.out)
            browser.close()
    finally:
        server.shutdown()
    for path in written:
        print(path)
    return written


if __name__ == "__main__":
    main()
