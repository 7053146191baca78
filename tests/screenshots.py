"""Screenshots of a chapter of the built book in light mode, in dark mode and on a phone, for people to look at.

    python tests/screenshots.py [chapters/01_convolution] [--out _build/screenshots/reader]

For each setting it photographs three places: the top of the page, the first interactive figure and the first
exercise's help (opened). It serves `_build/html` on 127.0.0.1 and uses Debian's Chromium, offline.
"""

import argparse
from pathlib import Path

from nbutils.browser import chromium, serve

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {
    "light": {"viewport": {"width": 1366, "height": 900}},
    "dark": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True},
}
PLACES = {"top": None, "figure": ".nbutils-interact", "exercise": "details.exercise-help"}


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
    with serve(args.html) as base_url, chromium() as browser:
        written = take(browser, base_url, args.chapter, args.out)
    for path in written:
        print(path)
    return written


if __name__ == "__main__":
    main()
