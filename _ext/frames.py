"""Sphinx extension: images embedded in pages as data: URIs become files the browser can cache.

Interactive figures (nbutils.widgets) write their frames into the page as data:image/webp;base64 URIs, and
figures shown as HTML <img> do the same with PNG. When the build has finished, every such URI in the written
HTML pages is decoded into `_images/frames/<sha1 of the bytes, 16 hex digits>.<ext>` and replaced by a URL
relative to the page (`../_images/frames/...` from chapters/x.html). The JSON of an interactive figure then lists
URLs, which its script accepts as readily as data: URIs. A frame shown on several pages, or twice on one page
(the main frame and its printed key frame), is stored once.

It runs once, in the main process, after all pages are written, so parallel builds are safe; each file is
written to a temporary name and renamed, so a reader never sees half a file.
"""

import base64
import hashlib
import os
import re
from pathlib import Path

DATA_URI = re.compile(r"data:image/(webp|png);base64,([A-Za-z0-9+/]+={0,2})")
FOLDER = ("_images", "frames")


def _store(folder, ext, payload, written):
    """Write the decoded bytes once; return the file's path relative to outdir (with / separators)."""
    raw = base64.b64decode(payload)
    name = f"{hashlib.sha1(raw).hexdigest()[:16]}.{ext}"
    target = folder / name
    if name not in written:
        if not target.is_file() or target.stat().st_size != len(raw):
            tmp = folder / f".{name}.{os.getpid()}.tmp"
            tmp.write_bytes(raw)
            os.replace(tmp, target)
        written.add(name)
    return "/".join(FOLDER + (name,))


def externalize(outdir):
    """Move every data:image URI of outdir's HTML pages into files; return (pages changed, URIs moved)."""
    outdir = Path(outdir)
    folder = outdir.joinpath(*FOLDER)
    folder.mkdir(parents=True, exist_ok=True)
    written, pages, moved = set(), 0, [0]

    def url(match, prefix):
        moved[0] += 1
        path = _store(folder, match.group(1), match.group(2), written)
        return path if prefix == "." else f"{prefix}/{path}"

    for page in sorted(outdir.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        if "data:image/" not in text:
            continue
        prefix = os.path.relpath(outdir, page.parent).replace(os.sep, "/")
        new = DATA_URI.sub(lambda m, prefix=prefix: url(m, prefix), text)
        if new != text:
            page.write_text(new, encoding="utf-8")
            pages += 1
    return pages, moved[0]


def _build_finished(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    pages, moved = externalize(app.outdir)
    if moved:
        from sphinx.util import logging

        logging.getLogger(__name__).info(f"frames: {moved} embedded images of {pages} pages moved to files")


def setup(app):
    app.connect("build-finished", _build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
