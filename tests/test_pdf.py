"""The PDF edition: `python -m nbutils.pdf` prints the built book with the system Chromium, offline.

The PDF is built once for the module, into `_build/pdf/layer-by-layer.pdf` (where a reader of the CI's files
finds it), and then read with PyMuPDF: the contents and their page numbers, every chapter's numbered title, a page
count that fits each page's content, nothing cut at the right margin (no word outside the printable box, every code
block and output printed in full, no page shrunk to fit), and the print-only key frames of the interactive figures.
Two small pages printed on purpose with code that may not wrap show that these checks fail when they should."""

import math
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

pymupdf = pytest.importorskip("pymupdf")

from nbutils.pdf import PDF_NAME, PRINT_VIEWPORT, SCALE, build_pdf, print_page, printable_box, toc_documents  # noqa: E402

pytestmark = [pytest.mark.book, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[1]
MARGIN_SLACK = 1.0  # pt: a glyph's box may reach this far past the margin (antialiasing, italic overhang)
# A printed A4 page of this book holds between these many characters of the page's text, whatever mixes prose,
# code and figures: dense code is about 4,000 characters a page, a page that is all figure about 0.
MAX_CHARS_PER_PAGE = 5000
MIN_CHARS_PER_PAGE = 700  # an upper bound on the pages: this many characters a page, plus a page per image
PROSE_PT = 16 * SCALE * 0.75  # the theme's 16 CSS px prose, printed at SCALE (1 CSS px = 0.75 pt)
MIN_PROSE_SHARE = 0.2  # of each page's text at PROSE_PT: code (smaller) and headings (larger) make up the rest


class _Article(HTMLParser):
    """The text a reader sees in a built page's article, its first <h1>, its images and its key-frame captions."""

    VOID = {"img", "br", "hr", "input", "meta", "link", "source", "wbr"}
    HIDDEN = {"script", "style", "details", "template"}

    def __init__(self):
        super().__init__()
        self.depth = self.hidden = 0
        self.text, self.images, self.captions = [], 0, []  # captions: of the key frames of interactive figures
        self.h1, self._h1, self._caption, self._keyframes = None, None, None, 0
        self.code, self._pre = [], None  # the text of every visible <pre>: code cells and their printed outputs

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "article" and "bd-article" in classes:
            self.depth = 1
            return
        if not self.depth:
            return
        if tag in self.VOID:
            self.images += tag == "img" and not self.hidden
            return
        self.depth += 1
        if self.hidden or tag in self.HIDDEN or "headerlink" in classes or "nbutils-controls" in classes:
            self.hidden += 1
        if tag == "h1" and self.h1 is None:
            self._h1 = []
        if self._keyframes or "nbutils-keyframes" in classes:
            self._keyframes += 1
        if tag == "figcaption" and self._keyframes and self._caption is None:
            self._caption = []
        if tag == "pre" and not self.hidden and self._pre is None:
            self._pre, self._pre_depth = [], self.depth

    def handle_endtag(self, tag):
        if not self.depth or tag in self.VOID:
            return
        self.depth -= 1
        self.hidden = max(0, self.hidden - 1)
        self._keyframes = max(0, self._keyframes - 1)
        if tag == "h1" and self._h1 is not None:
            self.h1, self._h1 = _squash("".join(self._h1)), None
        if tag == "figcaption" and self._caption is not None:
            self.captions.append(_squash("".join(self._caption)))
            self._caption = None
        if tag == "pre" and self._pre is not None and self.depth < self._pre_depth:
            self.code.append("".join(self._pre))
            self._pre = None

    def handle_data(self, data):
        if self.depth and not self.hidden:
            self.text.append(data)
            for part in (self._h1, self._caption, self._pre):
                if part is not None:
                    part.append(data)


def _squash(text):
    return " ".join(text.split())


def _bare(text):
    """Text without any whitespace: PDF text extraction breaks lines where HTML has none."""
    return re.sub(r"\s+", "", text)


def _article(html_dir, path):
    parser = _Article()
    parser.feed((html_dir / path).read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def edition(book_html, browser):
    """The built PDF: (build result, the open PyMuPDF document, {toc page: its parsed HTML article})."""
    result = build_pdf(book_html, book_html.parent / "pdf" / PDF_NAME, book_dir=ROOT, browser=browser, log=print)
    articles = {doc.path: _article(book_html, doc.path) for doc in toc_documents(ROOT)}
    with pymupdf.open(result.path) as pdf:
        yield result, pdf, articles


def _page_text(pdf, number):
    return pdf[number - 1].get_text("text")


def test_pdf_build_reports_no_missing_image_formula_or_heading(edition):
    result, _, _ = edition
    assert result.path.name == PDF_NAME and result.path.stat().st_size > 0
    assert not result.warnings, "\n".join(result.warnings)


def test_contents_give_every_toc_page_a_number_where_its_title_stands(edition):
    result, pdf, articles = edition
    contents = range(2, 2 + result.contents_pages)
    starts = []
    for doc in result.documents:
        title = articles[doc.path].h1
        assert title, f"{doc.path} has no <h1>"
        hits = [(n, rect) for n in contents for rect in pdf[n - 1].search_for(title)]
        assert hits, f"the contents (pages {contents.start}-{contents.stop - 1}) do not list {title!r}"
        n, rect = hits[0]
        words = pdf[n - 1].get_text("words")
        row = (rect.y0 + rect.y1) / 2
        numbers = [w[4] for w in words if w[4].isdigit() and w[0] > rect.x1 and abs((w[1] + w[3]) / 2 - row) < 3]
        assert numbers, f"the contents list {title!r} without a page number"
        start = int(numbers[-1])
        assert 1 <= start <= pdf.page_count, f"{title!r}: page {start} of {pdf.page_count}"
        assert _bare(title) in _bare(_page_text(pdf, start)), f"the contents send {title!r} to page {start}, without it"
        starts.append(start)
    assert starts == sorted(starts) and len(set(starts)) == len(starts), f"toc pages out of order: {starts}"
    assert starts[0] == 2 + result.contents_pages, "the first toc page should follow the title page and contents"


def test_every_chapter_title_is_in_the_pdf_text_and_its_bookmarks(edition):
    _, pdf, articles = edition
    text = _bare("".join(page.get_text("text") for page in pdf))
    bookmarks = {_squash(title) for _, title, _ in pdf.get_toc()}
    chapters = [a.h1 for path, a in articles.items() if path.startswith("chapters/")]
    numbers = [re.match(r"(\d+)\. ", t) for t in chapters]
    assert [m and int(m[1]) for m in numbers] == list(range(1, len(chapters) + 1)), f"chapters unnumbered: {chapters}"
    for title in (a.h1 for a in articles.values()):
        assert _bare(title) in text, f"{title!r} is missing from the PDF"
        assert title in bookmarks, f"{title!r} is missing from the PDF's bookmarks"


def test_page_count_fits_the_content_of_every_toc_page(edition):
    result, pdf, articles = edition
    assert pdf.page_count == 1 + result.contents_pages + sum(d.pages for d in result.documents)
    for doc in result.documents:
        article = articles[doc.path]
        chars = len(_squash("".join(article.text)))
        low = max(1, math.ceil(chars / MAX_CHARS_PER_PAGE))
        high = math.ceil(chars / MIN_CHARS_PER_PAGE) + article.images + 2
        assert low <= doc.pages <= high, (
            f"{doc.path}: {doc.pages} pages for {chars} characters and {article.images} images "
            f"(expected {low} to {high})"
        )
    blank = [n for n in range(2, pdf.page_count + 1)
             if len(_squash(_page_text(pdf, n))) < 40 and not pdf[n - 1].get_images()]
    assert not blank, f"pages with nothing but a footer: {blank}"


def _cut_words(pdf):
    """Words whose box leaves the printable box of their page to the left or right: [(page, word, x0, x1, box)].

    Words made only of private-use characters are skipped: they are MathJax's stretchy pieces (the extender of an
    underbrace), drawn scaled, whose unscaled boxes in the PDF's text layer span thousands of points.
    """
    cut = []
    for page in pdf:
        box = printable_box(page)
        for x0, _, x1, _, word, *_ in page.get_text("words", flags=0):  # flags=0: keep words outside the page too
            if all(0xE000 <= ord(c) <= 0xF8FF for c in word):
                continue
            if x1 > box.x1 + MARGIN_SLACK or x0 < box.x0 - MARGIN_SLACK:
                cut.append((page.number + 1, word, round(x0, 1), round(x1, 1), (round(box.x0), round(box.x1))))
    return cut


def test_no_text_is_cut_at_the_right_margin(edition):
    _, pdf, _ = edition
    cut = _cut_words(pdf)
    assert not cut, f"{len(cut)} words outside the printable box (page, word, x0, x1, box): {cut[:20]}"


def _printed_text(pdf, pages):
    """The text inside the printable boxes of `pages` (1-based), without whitespace: no footers, no lines."""
    return _bare("".join(pdf[n - 1].get_text("text", clip=printable_box(pdf[n - 1])) for n in pages))


def test_every_code_block_and_printed_output_is_in_the_pdf_in_full(edition):
    """Code that runs past the edge of its box is clipped, glyph by glyph: its text is then missing from the PDF."""
    result, pdf, articles = edition
    for doc in result.documents:
        text = _printed_text(pdf, range(doc.start, doc.start + doc.pages))
        missing = [code for code in articles[doc.path].code if _bare(code) not in text]
        assert not missing, f"{doc.path}: {len(missing)} code blocks or outputs not printed in full, e.g. {missing[:2]}"


def _prose_share(pdf, pages):
    """The share of the text on `pages` (1-based) printed at the book's prose size."""
    sizes = Counter()
    for n in pages:
        for block in pdf[n - 1].get_text("dict", flags=0)["blocks"]:  # flags=0: text only, no images
            for line in block.get("lines", []):
                for span in line["spans"]:
                    sizes[abs(span["size"] - PROSE_PT) < 0.15] += len(span["text"].strip())
    return sizes[True] / max(1, sum(sizes.values()))


def test_every_page_prints_its_prose_at_full_size_not_shrunk_to_fit(edition):
    """Chromium shrinks a whole document that is wider than the paper, instead of cutting it: its text gets small."""
    result, pdf, _ = edition
    for doc in result.documents:
        share = _prose_share(pdf, range(doc.start, doc.start + doc.pages))
        assert share > MIN_PROSE_SHARE, f"{doc.path}: only {share:.0%} of its text is at {PROSE_PT:.1f} pt"


# A page with one long line of code: cut by its scrolling box, or making the page wider than the paper.
LONG_LINE = "x = " + " + ".join(f"weight_{i} * input_{i}" for i in range(30))
PAGE = '<article class="bd-article"><p>{prose}</p><pre style="overflow: {overflow}">{code}</pre></article>'


@pytest.mark.parametrize("overflow", ["auto", "visible"])
def test_the_checks_catch_code_that_does_not_wrap(browser, overflow):
    """The checks above can fail: code that may not wrap is either cut by its box or shrinks the whole page."""
    context = browser.new_context(viewport=PRINT_VIEWPORT)
    try:
        page = context.new_page()
        page.emulate_media(media="print")
        page.set_content(PAGE.format(prose="Some prose. " * 40, overflow=overflow, code=LONG_LINE))
        nowrap = (f"html body pre, html body div.highlight pre "  # outranks the book's print rules
                  f"{{ white-space: pre !important; overflow: {overflow} !important; }}")
        data, info = print_page(page, extra_css=nowrap, fit="")
    finally:
        context.close()
    with pymupdf.open("pdf", data) as pdf:
        if overflow == "auto":
            assert info["clipped"], "the page should report the code cut by its box"
            assert _bare(LONG_LINE) not in _printed_text(pdf, [1]), "the code's tail should be missing from the PDF"
        else:
            assert info["overflow"] > 0 and _prose_share(pdf, [1]) < MIN_PROSE_SHARE, "the page should be shrunk"


def test_interactive_figures_print_every_key_frame_with_its_knob_values(edition):
    result, pdf, articles = edition
    for doc in result.documents:
        captions = articles[doc.path].captions
        if not captions:
            continue
        text = _bare("".join(_page_text(pdf, n) for n in range(doc.start, doc.start + doc.pages)))
        missing = [c for c in captions if _bare(c) not in text]
        assert not missing, f"{doc.path}: key-frame captions not in the PDF: {missing[:5]}"
        images = sum(len(pdf[n - 1].get_images()) for n in range(doc.start, doc.start + doc.pages))
        assert images >= len(captions), f"{doc.path}: {images} images in the PDF for {len(captions)} key frames"
