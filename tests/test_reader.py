"""The book for every reader: sharp figures, contrast in light and dark mode, an accessibility audit, phones.

Each page is loaded once and measured in four settings in turn (a load with MathJax and a run of axe cost
seconds); the tests below then assert on the measurements:

- desktop, light (1366 x 900): axe-core finds no serious or critical violation; every interactive frame has at
  least 2 image pixels per CSS pixel and fills the column; every slider says its value, not its position;
- desktop, dark (as the theme's switch sets it, `<html data-theme="dark">`): axe's colour-contrast rule passes;
  figures sit on a light card and are not dimmed by the theme's image filter;
- phone width (390 x 844): no page scrolls sideways; slider hit areas are at least 24 CSS px tall;
- print (media emulation): navigation is hidden, code wraps, and each interactive figure prints as a grid of its
  key frames, each captioned with its knob values, instead of sliders and one frame.

axe-core comes bundled with axe-playwright-python, so the audit runs offline.
"""

import functools

import pytest
from test_book import CHAPTERS, PAGES, load, recorded_page, wait_for_mathjax

pytestmark = [pytest.mark.book, pytest.mark.browser]

DESKTOP = {"viewport": {"width": 1366, "height": 900}}
PHONE = {"width": 390, "height": 844}
SERIOUS = ("serious", "critical")

_MEASURE = """() => {
  const box = el => el.getBoundingClientRect();
  const column = document.querySelector('article.bd-article') || document.querySelector('main');
  const frames = [...document.querySelectorAll('.nbutils-interact img.nbutils-frame')].map(img => ({
    natural: img.naturalWidth, shown: box(img).width, column: column ? box(column).width : 0,
    alt: img.alt, width_attr: Number(img.getAttribute('width') || 0)}));
  const sliders = [...document.querySelectorAll('.nbutils-interact input[type=range]')].map(el => ({
    name: el.getAttribute('aria-label'), valuetext: el.getAttribute('aria-valuetext'),
    label: JSON.parse(el.dataset.labels)[el.value], height: box(el).height}));
  const images = [...document.querySelectorAll('.cell_output img, .nbutils-interact img.nbutils-frame')]
    .filter(img => box(img).width > 0).map(img => {
      let el = img, background = 'rgba(0, 0, 0, 0)';
      for (let i = 0; i < 4 && el; i++, el = el.parentElement) {
        const bg = getComputedStyle(el).backgroundColor;
        if (bg !== 'rgba(0, 0, 0, 0)' && bg !== 'transparent') { background = bg; break; }
      }
      return {src: (img.getAttribute('src') || '').slice(0, 60), filter: getComputedStyle(img).filter,
              opacity: getComputedStyle(img).opacity, background};
    });
  const wide = [...document.querySelectorAll('div.cell div.highlight pre, div.cell_output pre')]
    .filter(pre => pre.clientWidth > 0 && pre.scrollWidth > pre.clientWidth + 1)
    .map(pre => pre.textContent.split('\\n').reduce((a, b) => (b.length > a.length ? b : a), '').slice(0, 90));
  const opaque = el => {
    for (; el; el = el.parentElement) {
      const bg = getComputedStyle(el).backgroundColor;
      if (bg !== 'rgba(0, 0, 0, 0)' && bg !== 'transparent') return bg;
    }
    return 'rgb(255, 255, 255)';
  };
  const pairs = {};
  document.querySelectorAll('div.highlight pre').forEach(pre => {
    const background = opaque(pre);
    [pre, ...pre.querySelectorAll('span')].forEach(el => {
      if (el.textContent.trim()) pairs[getComputedStyle(el).color + ' on ' + background] = el.className || 'text';
    });
  });
  const math = {nodes: document.querySelectorAll('.math').length,
    containers: document.querySelectorAll('mjx-container').length,
    raw: [...document.querySelectorAll('.math')].map(el => el.innerText)
      .filter(t => ['\\\\(', '\\\\)', '\\\\[', '\\\\]', '$$'].some(d => t.includes(d))).map(t => t.slice(0, 80)),
    errors: [...document.querySelectorAll('mjx-merror')]
      .map(el => el.getAttribute('data-mjx-error') || el.textContent)};
  return {frames, sliders, images, wide, math, code_colours: pairs,
          page_width: document.documentElement.scrollWidth, viewport: window.innerWidth};
}"""


def _axe_line(rule, nodes):
    return f"{rule['id']} ({rule['impact']}, {len(nodes)} nodes): {rule['help']}; e.g. {nodes[0]['target']}"


def _low_contrast(rule):
    """Nodes axe left 'incomplete' although it measured a failing ratio (it suspects 1:1 text is meant hidden)."""
    if rule["id"] != "color-contrast":
        return []
    low = []
    for node in rule["nodes"]:
        data = (node.get("any") or [{}])[0].get("data") or {}
        ratio, needed = data.get("contrastRatio"), str(data.get("expectedContrastRatio", "4.5:1")).split(":")[0]
        if ratio and float(ratio) < float(needed):
            low.append(node)
    return low


_PRINTED = """() => {
  const shown = el => el && getComputedStyle(el).display !== 'none' && el.getBoundingClientRect().height > 0;
  const figures = [...document.querySelectorAll('.nbutils-interact')].map(fig => ({
    controls: shown(fig.querySelector('.nbutils-controls')), frame: shown(fig.querySelector('img.nbutils-frame')),
    keyframes: [...fig.querySelectorAll('.nbutils-keyframes figure')].filter(shown).map(f => ({
      caption: (f.querySelector('figcaption') || {}).textContent || '', image: shown(f.querySelector('img'))}))}));
  const navigation = [...document.querySelectorAll(
      '.bd-sidebar-primary, .bd-sidebar-secondary, .bd-header, .header-article, .prev-next-area, .bd-footer')]
    .filter(shown).map(el => el.className.split(' ')[0]);
  const nowrap = [...document.querySelectorAll('div.highlight pre, div.cell_output pre')]
    .filter(pre => getComputedStyle(pre).whiteSpace === 'pre' && pre.textContent.trim()).length;
  return {figures, navigation, nowrap};
}"""


def _axe(page, mode):
    """Serious or critical axe violations, and failing contrasts axe filed as 'incomplete'."""
    from axe_playwright_python.sync_playwright import Axe

    rules = {"runOnly": ["color-contrast"]} if mode == "dark" else {}  # only colours change in dark mode
    # Code is left to test_code_meets_contrast: axe takes a minute over a chapter's thousands of highlighted
    # tokens, which use a dozen colours.
    results = Axe().run(page, context={"exclude": [["div.highlight"]]},
                        options={**rules, "resultTypes": ["violations", "incomplete"]}).response
    found = [_axe_line(v, v["nodes"]) for v in results["violations"] if v["impact"] in SERIOUS]
    return found + [_axe_line(v, low) for v in results["incomplete"] if (low := _low_contrast(v))]


def _set_theme(page, theme):
    """What the theme's switch does: name the mode and the theme on <html>, which its CSS reads."""
    page.evaluate("t => { document.documentElement.dataset.mode = t; document.documentElement.dataset.theme = t; }",
                  theme)
    page.wait_for_timeout(100)


def _measure(page, mode):
    report = page.evaluate(_MEASURE)
    report["theme"] = page.evaluate("() => document.documentElement.dataset.theme")
    report["print"] = page.evaluate(_PRINTED) if mode == "print" else None
    report["axe"] = _axe(page, mode) if mode in ("light", "dark") else []
    return report


@functools.cache
def _visit(browser, book_url, page_path):
    """One load of the page, measured in turn in light mode, dark mode, print media and a phone-wide viewport.

    (A load with MathJax costs seconds; switching the theme, the media or the width does not.)
    """
    with recorded_page(browser, **DESKTOP) as (page, _):
        load(page, book_url + page_path)
        wait_for_mathjax(page)
        reports = {"light": _measure(page, "light")}
        _set_theme(page, "dark")
        reports["dark"] = _measure(page, "dark")
        _set_theme(page, "light")
        page.emulate_media(media="print")
        reports["print"] = _measure(page, "print")
        page.emulate_media(media="screen")
        page.set_viewport_size(PHONE)
        page.wait_for_timeout(200)
        reports["phone"] = _measure(page, "phone")
    return reports


def visit(browser, book_url, page_path, mode):
    """What was measured on the page in `mode`: light, dark, print or phone."""
    return _visit(browser, book_url, page_path)[mode]


def test_math_is_typeset_by_mathjax_on_every_page_with_math(browser, book_url):
    problems, with_math = [], 0
    for page_path in PAGES:
        math = visit(browser, book_url, page_path, "light")["math"]
        if math["nodes"] == 0:
            continue
        with_math += 1
        if math["containers"] == 0:
            problems.append(f"{page_path}: MathJax rendered no mjx-container")
        if math["raw"]:
            problems.append(f"{page_path}: {len(math['raw'])} math node(s) show TeX delimiters: {math['raw'][:3]}")
        if math["errors"]:
            problems.append(f"{page_path}: {len(math['errors'])} TeX error(s): {math['errors'][:5]}")
    assert with_math, "no page of the book has math, so there is nothing to check"
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("page_path", PAGES)
def test_axe_finds_no_serious_violation_in_light_mode(browser, book_url, page_path):
    report = visit(browser, book_url, page_path, "light")
    assert report["theme"] == "light", f"{page_path} opened in {report['theme']!r} mode, not light"
    assert not report["axe"], f"{page_path}: axe-core found:\n" + "\n".join(report["axe"])


@pytest.mark.parametrize("page_path", PAGES)
def test_every_text_meets_contrast_in_dark_mode(browser, book_url, page_path):
    report = visit(browser, book_url, page_path, "dark")
    assert report["theme"] == "dark", f"{page_path}: the theme's switch did not give dark mode ({report['theme']!r})"
    assert not report["axe"], f"{page_path} in dark mode:\n" + "\n".join(report["axe"])


def _contrast(pair):
    """WCAG contrast ratio of 'rgb(...) on rgb(...)'."""
    fg, bg = (_luminance(c) for c in pair.split(" on "))
    return (max(fg, bg) + 0.05) / (min(fg, bg) + 0.05)


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_code_meets_contrast(browser, book_url, chapter, mode):
    colours = visit(browser, book_url, f"{chapter}.html", mode)["code_colours"]
    assert colours, f"{chapter}.html shows no highlighted code"
    low = {pair: f"{_contrast(pair):.2f}" for pair, token in colours.items() if _contrast(pair) < 4.5}
    assert not low, f"code colours under 4.5:1 in {mode} mode (colour on background: ratio): {low}"


def _luminance(css_rgb):
    """Relative luminance (WCAG) of a computed 'rgb(r, g, b)' or 'rgba(r, g, b, a)' colour."""
    r, g, b = (int(float(v)) for v in css_rgb[css_rgb.index("(") + 1:-1].split(",")[:3])
    lin = [c / 255 / 12.92 if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_figures_sit_on_a_light_card_in_dark_mode(browser, book_url, chapter):
    images = visit(browser, book_url, f"{chapter}.html", "dark")["images"]
    assert images, f"{chapter}.html shows no figure"
    dimmed = [i for i in images if i["filter"] != "none" or float(i["opacity"]) < 1]
    dark = [i for i in images if i["background"].startswith("rgba(0, 0, 0, 0)") or _luminance(i["background"]) < 0.8]
    assert not dimmed, f"{len(dimmed)} figure(s) dimmed by a filter or opacity, e.g. {dimmed[:2]}"
    assert not dark, f"{len(dark)} figure(s) not on a light card, e.g. {dark[:2]}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_interactive_frames_are_sharp_and_fill_the_column(browser, book_url, chapter):
    frames = visit(browser, book_url, f"{chapter}.html", "light")["frames"]
    assert frames, f"{chapter}.html has no interactive frame"
    blurry = [f for f in frames if f["natural"] < 2 * f["shown"] - 1]
    narrow = [f for f in frames if f["shown"] < 0.75 * f["column"]]
    assert not blurry, f"frames with fewer than 2 image px per CSS px: {blurry}"
    assert not narrow, f"frames narrower than 3/4 of the {frames[0]['column']:.0f} px column: {narrow}"
    generic = [f["alt"] for f in frames if len(f["alt"]) < 20 or f["alt"] == "interactive figure"]
    assert not generic, f"frames without a description as alt text: {generic}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_sliders_announce_values_not_positions(browser, book_url, chapter):
    sliders = visit(browser, book_url, f"{chapter}.html", "light")["sliders"]
    assert sliders, f"{chapter}.html has no slider"
    wrong = [s for s in sliders if not s["name"] or s["valuetext"] != s["label"]]
    assert not wrong, f"sliders whose aria-label/aria-valuetext do not name the value shown: {wrong}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_code_and_output_fit_the_column_at_1366_px(browser, book_url, chapter):
    wide = visit(browser, book_url, f"{chapter}.html", "light")["wide"]
    assert not wide, f"{len(wide)} code or output block(s) scroll sideways; their longest lines:\n" + "\n".join(wide)


@pytest.mark.parametrize("page_path", PAGES)
def test_no_page_scrolls_sideways_on_a_phone(browser, book_url, page_path):
    report = visit(browser, book_url, page_path, "phone")
    assert report["page_width"] <= report["viewport"], (
        f"{page_path} is {report['page_width']} px wide in a {report['viewport']} px viewport")
    small = [s for s in report["sliders"] if s["height"] < 24]
    assert not small, f"{page_path}: slider hit areas under 24 CSS px: {small}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_print_shows_key_frames_wraps_code_and_hides_navigation(browser, book_url, chapter):
    printed = visit(browser, book_url, f"{chapter}.html", "print")["print"]
    assert printed["figures"], f"{chapter}.html has no interactive figure to print"
    for i, fig in enumerate(printed["figures"], 1):
        assert not fig["controls"] and not fig["frame"], f"figure {i} prints its sliders or its live frame: {fig}"
        assert len(fig["keyframes"]) >= 2, f"figure {i} prints fewer than two key frames: {fig['keyframes']}"
        assert all(k["image"] and "=" in k["caption"] for k in fig["keyframes"]), f"figure {i}: {fig['keyframes']}"
    assert not printed["navigation"], f"navigation is printed: {printed['navigation']}"
    assert not printed["nowrap"], f"{printed['nowrap']} code or output block(s) would be cut at the margin in print"


def test_screenshot_script_shows_a_chapter_in_light_dark_and_on_a_phone(browser, book_url, tmp_path):
    from PIL import Image, ImageStat
    from screenshots import PLACES, SETTINGS, take

    shots = take(browser, book_url, CHAPTERS[0], tmp_path)
    assert len(shots) == len(SETTINGS) * len(PLACES), f"expected a picture per setting and place, got {shots}"
    brightness = {s.stem: ImageStat.Stat(Image.open(s).convert("L")).mean[0] for s in shots}
    top = CHAPTERS[0].split("/")[-1]
    assert brightness[f"{top}-dark-top"] < 0.5 * brightness[f"{top}-light-top"], f"dark mode is not dark: {brightness}"
    assert Image.open(shots[-1]).width == 2 * SETTINGS["phone"]["viewport"]["width"], "phone shots are not at scale 2"
