"""The PDF edition: print the built HTML book to `_build/pdf/layer-by-layer.pdf`, offline.

    python -m nbutils.pdf [HTML_DIR] [-o OUT]

HTML_DIR defaults to `_build/html` (build the book first). The pages of `_toc.yml` are served on 127.0.0.1 and
printed one by one by the system Chromium (Playwright with `executable_path`, never a downloaded browser), after
MathJax has typeset and every image, including the print-only key frames of the interactive figures, has loaded.
PyMuPDF then joins them behind a title page and a table of contents with page numbers, adds the PDF outline
(bookmarks), turns links between pages of the book into links inside the PDF, and writes a page number in every
footer.
"""

import argparse
import html
import os
import re
import sys
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pymupdf
import yaml

from nbutils.browser import chromium as browser_chromium
from nbutils.browser import chromium_path, serve

PAPER = "A4"
MARGIN_MM = {"top": 16, "bottom": 18, "left": 16, "right": 16}
SCALE = 0.8  # 1 CSS px = 0.6 pt: the 178 mm column is 840 CSS px wide, as wide as the book's column on screen
# The browser window has the printed page's size in CSS px, so that what fits on screen fits on paper.
PRINT_VIEWPORT = {"width": round((210 - MARGIN_MM["left"] - MARGIN_MM["right"]) / 25.4 * 96 / SCALE),
                  "height": round((297 - MARGIN_MM["top"] - MARGIN_MM["bottom"]) / 25.4 * 96 / SCALE)}
# Scripts a printed page does without: the icons are all in the navigation, which does not print. Parsing and
# running fontawesome.js (1.5 MB, watching every DOM change MathJax makes) cost more CPU than printing the page.
SKIP_SCRIPTS = re.compile(r"/fontawesome(\.min)?\.js(\?|$)")
LOOKAHEAD = 2  # pages that load in the browser while another one prints
FOOTER_PT = 8.5
FOOTER_GREY = (0.35, 0.35, 0.35)
PDF_NAME = "layer-by-layer.pdf"

# Print rules that only the PDF needs, added to each page after the book's own print stylesheet (_static/book.css).
PDF_CSS = """
pre, pre code, .highlight pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }
div.highlight, div.cell_output, .output { overflow: visible !important; }
.bd-header, .bd-header-article, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-footer, .bd-footer-article,
.prev-next-area, .bd-footer-content, .search-button-field, .theme-switch-button, button.copybtn, .headerlink,
.skip-link, #pst-skip-link, .nbutils-controls, .nbutils-status, .nbutils-frame-wrap, .article-header-buttons,
#jb-print-docs-body, details.above-input > summary, details.below-input > summary { display: none !important; }
/* sphinx-book-theme prints an unnumbered copy of the title and hides the page's own "1. Convolution" */
.bd-main .bd-content .bd-article h1:first-of-type { display: block !important; }
.bd-main .bd-content { margin-left: 0 !important; }
.bd-main, .bd-content, .bd-article-container, .bd-article, .bd-page-width { max-width: none !important;
  width: 100% !important; margin: 0 !important; padding-left: 0 !important; padding-right: 0 !important; }
.bd-container, .bd-container__inner { display: block !important; max-width: none !important; padding: 0 !important; }
figure.nbutils-interact .nbutils-keyframes { display: grid !important; }
h1, h2, h3, h4 { break-after: avoid; }
img, mjx-container, tr { break-inside: avoid; }
img { max-width: 100% !important; height: auto; }
"""

# Elements that may be wider than the column (a long formula, a wide table), outermost first: shrunk to fit.
FIT = ", ".join([
    "div.math", "mjx-container[display='true']", ".table-wrapper", "table", "div.highlight", "div.cell_output",
    "div.output", "figure", "img", "svg",
])
# Runs in each page before it prints: load every image (lazy ones too), let MathJax finish, fit what is too wide,
# and report the title, the headings with their anchors, and what went wrong.
PREPARE_JS = """
async (FIT) => {
  for (const img of document.querySelectorAll('img[loading="lazy"]')) img.loading = 'eager';
  const deadline = Date.now() + 20000;
  if (document.querySelector('.math, mjx-container, script[type^="math/tex"]')) {
    while (!(window.MathJax && MathJax.startup && MathJax.startup.promise) && Date.now() < deadline)
      await new Promise(r => setTimeout(r, 50));
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  }
  await Promise.all([...document.images].map(img => img.complete ? null : new Promise(r => {
    img.addEventListener('load', r, {once: true});
    img.addEventListener('error', r, {once: true});
  })));
  await Promise.all([...document.images].map(img => img.naturalWidth ? img.decode().catch(() => null) : null));
  await document.fonts.ready;
  // Shrink what is wider than the column (a long display formula, a wide table) to fit it, instead of cutting it.
  const article = document.querySelector('article.bd-article') || document.body;
  const right = article.getBoundingClientRect().right;
  let fitted = 0;
  for (const el of article.querySelectorAll(FIT)) {
    const box = el.getBoundingClientRect();
    if (!box.width) continue;
    const zoom = Math.min(el.clientWidth / el.scrollWidth, (right - box.left) / box.width);
    if (zoom < 0.999) { el.style.zoom = (parseFloat(el.style.zoom) || 1) * zoom; fitted++; }
  }
  // Chromium shrinks every page of a document wider than the paper; content in a scrolling box is cut instead.
  const overflow = document.documentElement.scrollWidth - window.innerWidth;
  const clipped = [...article.querySelectorAll(FIT + ', pre, div.cell_output, .output')].filter(el =>
    el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible' && el.getClientRects().length)
    .map(el => el.tagName.toLowerCase() + (typeof el.className === 'string' && el.className
      ? '.' + el.className.split(' ')[0] : ''));
  const text = el => {
    const copy = el.cloneNode(true);
    copy.querySelectorAll('.headerlink').forEach(a => a.remove());
    return copy.textContent.replace(/\\s+/g, ' ').trim();
  };
  const headings = [...article.querySelectorAll('h1, h2, h3')].filter(h => h.getClientRects().length)
    .map(h => [+h.tagName[1], text(h), (h.closest('section') || h).id || h.id || '']);
  const h1 = article.querySelector('h1');
  const lead = h1 && h1.parentElement.querySelector(':scope > p');
  return {
    title: h1 ? text(h1) : document.title,
    lead: lead ? text(lead) : '',
    headings,
    broken: [...document.images].filter(img => !img.naturalWidth).map(img => img.currentSrc || img.src).slice(0, 5),
    untypeset: document.querySelectorAll('.math:not(:has(mjx-container))').length,
    fitted,
    overflow,
    clipped: [...new Set(clipped)].slice(0, 5),
  };
}
"""


@dataclass
class Document:
    """One page of the toc, printed."""

    path: str  # relative to the HTML folder, e.g. "chapters/01_convolution.html"
    part: str | None  # the toc part's caption ("Layers", "Appendix"); None for the root page
    title: str = ""
    pdf: bytes = b""
    pages: int = 0
    outline: list = field(default_factory=list)  # [level, title, page in this document (1-based)]
    anchors: dict = field(default_factory=dict)  # element id -> page in this document (1-based)
    start: int = 0  # its first page in the book (1-based)


@dataclass
class Result:
    path: Path
    pages: int
    seconds: float
    documents: list
    contents_pages: int
    warnings: list


def _toc_files(node):
    if isinstance(node, dict):
        if "file" in node:
            yield node["file"]
        for key in ("chapters", "sections"):
            yield from _toc_files(node.get(key, []))
    elif isinstance(node, list):
        for item in node:
            yield from _toc_files(item)


def toc_documents(book_dir):
    """The toc's pages in order, the root first, each with its part's caption."""
    toc = yaml.safe_load((Path(book_dir) / "_toc.yml").read_text(encoding="utf-8"))
    entries = [(toc["root"], None)]
    for part in toc.get("parts", [{"chapters": toc.get("chapters", [])}]):
        entries += [(file, part.get("caption")) for file in _toc_files(part.get("chapters", []))]
    seen, docs = set(), []
    for file, part in entries:
        path = re.sub(r"\.(md|ipynb|rst)$", "", file) + ".html"
        if path not in seen:
            seen.add(path)
            docs.append(Document(path, part))
    return docs


def printable_box(page):
    """The part of a page inside the margins, where Chromium lays out the book's text."""
    mm = 72 / 25.4
    r = page.rect
    return pymupdf.Rect(MARGIN_MM["left"] * mm, MARGIN_MM["top"] * mm,
                        r.width - MARGIN_MM["right"] * mm, r.height - MARGIN_MM["bottom"] * mm)


@contextmanager
def chromium(executable=None):
    """The system Chromium (or CHROMIUM_PATH); exits with a message where it is missing."""
    executable = executable or chromium_path()
    if not os.access(executable, os.X_OK):
        raise SystemExit(f"Chromium not found at {executable}: install Debian's chromium or set CHROMIUM_PATH")
    with browser_chromium(executable) as browser:
        yield browser


def _is_local(url):
    parts = urlsplit(url)
    return parts.scheme in ("data", "about", "blob") or parts.hostname == "127.0.0.1"


def _print(page):
    return page.pdf(format=PAPER, margin={side: f"{mm}mm" for side, mm in MARGIN_MM.items()}, scale=SCALE,
                    print_background=True)


def _print_html(context, markup):
    page = context.new_page()
    try:
        page.set_content(markup, wait_until="load")
        return _print(page)
    finally:
        page.close()


def open_page(context, url):
    page = context.new_page()
    page.emulate_media(media="print")
    page.goto(url, wait_until="commit", timeout=60_000)
    return page


def print_page(page, extra_css="", fit=FIT):
    """Print a book page that is loading in `page` (print media); returns (PDF bytes, what PREPARE_JS reported).

    `fit` selects the elements to shrink when wider than the column ("" shrinks none).
    """
    page.wait_for_load_state("load", timeout=60_000)
    page.add_style_tag(content=PDF_CSS + extra_css)
    info = page.evaluate(PREPARE_JS, fit or "none-at-all")
    return _print(page), info


def _print_documents(context, base, docs, extra_css, warnings):
    """Print every toc page; the next LOOKAHEAD pages load while one prints. Returns the root page's lead."""
    opened, lead = {}, ""
    for i, doc in enumerate(docs):
        for j in range(i, min(i + 1 + LOOKAHEAD, len(docs))):
            if j not in opened:
                opened[j] = open_page(context, urljoin(base, docs[j].path))
        page = opened.pop(i)
        try:
            doc.pdf, info = print_page(page, extra_css)
        finally:
            page.close()
        doc.title = info["title"] or doc.path
        lead = lead or info["lead"]
        if info["broken"]:
            warnings.append(f"{doc.path}: images that did not load: {info['broken']}")
        if info["overflow"] > 0:
            warnings.append(f"{doc.path}: {info['overflow']} CSS px wider than the paper, so Chromium shrinks it")
        if info["clipped"]:
            warnings.append(f"{doc.path}: content cut by its scrolling box: {info['clipped']}")
        if info["untypeset"]:
            warnings.append(f"{doc.path}: {info['untypeset']} formula(s) not typeset by MathJax")
        _locate_headings(doc, info["headings"], warnings)
    return lead


def _locate_headings(doc, headings, warnings):
    """The page of each heading: Chromium's named destination for its section's id, else a search for its text."""
    with pymupdf.open("pdf", doc.pdf) as part:
        doc.pages = part.page_count
        names = part.resolve_names().items()
        doc.anchors = {name: dest["page"] + 1 for name, dest in names if dest.get("page", -1) >= 0}
        page = 1
        for level, title, anchor in headings:
            found = doc.anchors.get(anchor)
            if found is None:
                found = next((n + 1 for n in range(page - 1, part.page_count) if part[n].search_for(title)), None)
            if found is None:
                warnings.append(f"{doc.path}: heading {title!r} not found in the PDF")
                found = page
            page = found
            doc.outline.append([level, title, page])


def _title_page(config, lead, version):
    title = html.escape(config.get("title", "Layer by Layer"))
    author = html.escape(str(config.get("author", "")))
    repo = html.escape((config.get("repository") or {}).get("url", ""))
    today = datetime.now(UTC).strftime("%-d %B %Y")
    return f"""<!doctype html><html><head><meta charset="utf-8"><style>{_SHEET}
      body {{ display: flex; flex-direction: column; justify-content: center; height: 300mm; }}
      h1 {{ font-size: 60px; margin: 0 0 20px; }}
      .lead {{ font-size: 24px; font-style: italic; color: #333; max-width: 30em; margin: 0 0 120px; }}
      .meta {{ font-size: 16px; color: #444; line-height: 1.7; }}
    </style></head><body>
      <h1>{title}</h1><p class="lead">{html.escape(lead)}</p>
      <div class="meta">{author}<br>Version {html.escape(version)}, PDF edition of {today}<br>
      The interactive figures are printed as grids of their key frames;<br>the sliders live in the HTML book
      and in the notebooks.<br>{repo}</div>
    </body></html>"""


_SHEET = """body { font-family: "Noto Sans", "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #111;
  margin: 0; }"""


def _contents_line(kind, title, page):
    return f'<li class="{kind}"><span>{html.escape(title)}</span><span class="n">{page}</span></li>'


def _contents_page(docs):
    rows, part = [_contents_line("doc", docs[0].title, docs[0].start)], None
    for doc in docs[1:]:
        if doc.part and doc.part != part:
            rows.append(f'<li class="part">{html.escape(doc.part)}</li>')
        part = doc.part
        rows.append(_contents_line("doc", doc.title, doc.start))
        rows += [_contents_line("sec", t, doc.start + p - 1) for level, t, p in doc.outline if level == 2]
    return f"""<!doctype html><html><head><meta charset="utf-8"><style>{_SHEET}
      h1 {{ font-size: 36px; margin: 0 0 24px; }}
      ul {{ list-style: none; padding: 0; margin: 0; font-size: 17px; }}
      li {{ display: flex; align-items: baseline; gap: 6px; break-inside: avoid; }}
      li .n {{ margin-left: auto; padding-left: 12px; font-variant-numeric: tabular-nums; }}
      li.part {{ font-weight: 700; font-size: 20px; margin: 24px 0 4px; }}
      li.doc {{ font-weight: 600; margin-top: 10px; }}
      li.sec {{ padding-left: 28px; color: #333; font-size: 15px; margin-top: 3px; }}
    </style></head><body><h1>Contents</h1><ul>{"".join(rows)}</ul></body></html>"""


def _goto(page_number):
    return {"kind": pymupdf.LINK_GOTO, "page": page_number - 1, "to": pymupdf.Point(0, 0)}


def _relink(book, base, docs):
    """Links between toc pages jump inside the PDF; links to pages the PDF lacks (the index, sources) are dropped."""
    by_path = {d.path: d for d in docs}
    by_path["index.html"] = docs[0]
    for page in book:
        for link in page.get_links():
            uri = link.get("uri", "")
            if link.get("kind") != pymupdf.LINK_URI or not uri.startswith(base):
                continue
            parts = urlsplit(uri)
            path = unquote(parts.path).lstrip("/")
            doc = by_path.get(path + "index.html" if path.endswith("/") or not path else path)
            page.delete_link(link)
            if doc is not None:
                page.insert_link({**_goto(doc.start + doc.anchors.get(parts.fragment, 1) - 1), "from": link["from"]})


def _link_contents(book, docs, first, count):
    """Each line of the printed contents links to its page."""
    targets = [(d.title, d.start) for d in docs]
    targets += [(t, d.start + p - 1) for d in docs for level, t, p in d.outline if level == 2]
    for page in book.pages(first - 1, first - 1 + count):
        for title, number in targets:
            for rect in page.search_for(title)[:1]:
                row = pymupdf.Rect(rect.x0, rect.y0, printable_box(page).x1, rect.y1)
                page.insert_link({**_goto(number), "from": row})


def _footers(book, sections):
    """A label (the book's and the chapter's titles) on the left, the page number on the right."""
    font = pymupdf.Font("helv")
    for label, start, count in sections:
        for number in range(start, start + count):
            page = book[number - 1]
            box = printable_box(page)
            y = (box.y1 + page.rect.height) / 2 + FOOTER_PT / 3
            writer = pymupdf.TextWriter(page.rect, color=FOOTER_GREY)
            writer.append((box.x0, y), label, font=font, fontsize=FOOTER_PT)
            writer.append((box.x1 - font.text_length(str(number), FOOTER_PT), y), str(number), font=font,
                          fontsize=FOOTER_PT)
            if not page.is_wrapped:  # Chromium's content may leave a transformation in force
                page.wrap_contents()
            writer.write_text(page)


def _outline(docs, title, contents_start):
    """The PDF's bookmarks: title, contents, then each part with its pages and their headings."""
    outline, part = [[1, title, 1], [1, "Contents", contents_start]], None
    for doc in docs:
        depth = 0
        if doc.part:
            if doc.part != part:
                outline.append([1, doc.part, doc.start])
            depth = 1
        part = doc.part
        entries = doc.outline if doc.outline and doc.outline[0][0] == 1 else [[1, doc.title, 1], *doc.outline]
        outline += [[level + depth, t, doc.start + p - 1] for level, t, p in entries]
    fixed, previous = [], 0
    for level, t, p in outline:  # a PDF outline goes at most one level deeper at a time
        previous = max(1, min(level, previous + 1))
        fixed.append([previous, t, p])
    return fixed


def _version():
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nbutils")
    except PackageNotFoundError:
        return "unknown"


def build_pdf(html_dir="_build/html", out=None, *, book_dir=None, browser=None, extra_css="", log=print):
    """Print the toc's pages of the built book in `html_dir` to one PDF at `out`; returns a Result.

    `book_dir` holds _toc.yml and _config.yml (default: the folder two levels above `html_dir` if it has them,
    else the current one). `browser` is a Playwright Chromium to reuse; by default the system one is launched.
    `extra_css` is added after PDF_CSS to every page (the tests use it to break the print layout on purpose).
    """
    t0 = time.perf_counter()
    html_dir = Path(html_dir).resolve()
    if not (html_dir / "index.html").exists():
        raise SystemExit(f"no built book at {html_dir}: run `jupyter-book build --all .` first")
    if book_dir is None:
        book_dir = html_dir.parents[1] if (html_dir.parents[1] / "_toc.yml").exists() else Path.cwd()
    book_dir = Path(book_dir)
    out = Path(out) if out else book_dir / "_build" / "pdf" / PDF_NAME
    config = yaml.safe_load((book_dir / "_config.yml").read_text(encoding="utf-8"))
    title = config.get("title", "Layer by Layer")
    docs = toc_documents(book_dir)
    missing = [d.path for d in docs if not (html_dir / d.path).exists()]
    if missing:
        raise SystemExit(f"{html_dir} lacks the toc pages {missing}: rebuild the book")
    warnings = []

    with serve(html_dir) as base, (nullcontext(browser) if browser else chromium()) as b:
        context = b.new_context(viewport=PRINT_VIEWPORT)
        try:
            context.route(lambda url: not _is_local(url), lambda route: route.abort("blockedbyclient"))
            context.route(SKIP_SCRIPTS, lambda route: route.abort())
            lead = _print_documents(context, base, docs, extra_css, warnings)
            log(f"printed the {len(docs)} pages of the toc in {time.perf_counter() - t0:.1f} s")
            title_pdf = _print_html(context, _title_page(config, lead, _version()))
            title_pages = pymupdf.open("pdf", title_pdf).page_count
            contents_pages = 1
            for _ in range(3):  # the contents' own length moves every page number after it
                start = title_pages + contents_pages + 1
                for doc in docs:
                    doc.start, start = start, start + doc.pages
                contents_pdf = _print_html(context, _contents_page(docs))
                count = pymupdf.open("pdf", contents_pdf).page_count
                if count == contents_pages:
                    break
                contents_pages = count
        finally:
            context.close()

    book = pymupdf.open()
    for part in (title_pdf, contents_pdf, *(d.pdf for d in docs)):
        with pymupdf.open("pdf", part) as src:
            book.insert_pdf(src)
    _relink(book, base, docs)
    _link_contents(book, docs, title_pages + 1, contents_pages)
    _footers(book, [(f"{title} · Contents", title_pages + 1, contents_pages)] + [
        (title if d.title == title else f"{title} · {d.title}", d.start, d.pages) for d in docs])
    book.set_toc(_outline(docs, title, title_pages + 1))
    book.set_metadata({"title": title, "author": str(config.get("author", "")),
                       "subject": "The building blocks of convolutional networks",
                       "creator": "nbutils.pdf: Chromium and PyMuPDF"})
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(out, garbage=3, deflate=True)
    pages = book.page_count
    book.close()
    return Result(out, pages, time.perf_counter() - t0, docs, contents_pages, warnings)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m nbutils.pdf", description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", nargs="?", default="_build/html", help="the built HTML book (default: %(default)s)")
    parser.add_argument("-o", "--out", help=f"the PDF to write (default: _build/pdf/{PDF_NAME})")
    parser.add_argument("--book", help="the folder with _toc.yml and _config.yml (default: two levels above HTML_DIR)")
    args = parser.parse_args(argv)
    result = build_pdf(args.html_dir, args.out, book_dir=args.book)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    size = result.path.stat().st_size / 1e6
    print(f"wrote {result.path}: {result.pages} pages, {size:.1f} MB, in {result.seconds:.1f} s")


if __name__ == "__main__":
    main()
