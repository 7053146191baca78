"""Sphinx extension for an HTML book that works from a local folder with no network.

- Kernels started by the build render interactive figures as precomputed frames
  (nbutils.widgets reads NBUTILS_STATIC_WIDGETS), so no widget JavaScript is needed.
- Pages name their colour mode; pydata-sphinx-theme logs an error when it is empty.
- Docstrings are read as plain prose, not reStructuredText: they hold shapes like (N, C, *) and
  formulas like |x| or 1/sqrt(fan_in), so every character reST would treat as markup is escaped.
  What they do mark up follows Markdown: `code` and ``code``, **bold**, "- " bullets, and an
  indented block of code after a paragraph. These become inline code, bold, a list and a code block.
- The top bar that held only a second search button is gone (navbar_persistent = []); the search
  button in the article header stays.
- fontawesome.js (1.49 MB, every icon of Font Awesome) is cut down after the build to the icons the
  written pages and scripts name (class "fa-NAME"), so each page loads a few kilobytes instead.
- Each script is included once per page: sphinx-thebe registers its inline config
  (`const THEBE_JS_URL = ...`) twice, which throws "Identifier has already been declared".
"""

import ast
import os
import re


def _use_static_widgets(app, config):
    os.environ["NBUTILS_STATIC_WIDGETS"] = "1"


def _one_search_button(app, config):
    """pydata-sphinx-theme adds a header bar with a search field unless navbar_persistent is set."""
    config.html_theme_options.setdefault("navbar_persistent", [])


def _page_context(app, pagename, templatename, context, doctree):
    """Each script once; and an explicit colour mode (an empty one logs a console error)."""
    if not context.get("default_mode"):
        context["default_mode"] = "light"
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = (getattr(script, "filename", script) or "", tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


_INLINE = re.compile(r"``(.+?)``|`([^`]+)`|\*\*(\S(?:.*?\S)?)\*\*")
_SPECIAL = re.compile(r"([\\`*_|\[\]])")


def _escape(text):
    return _SPECIAL.sub(r"\\\1", text)


def _inline(text):
    """A line of prose as reST: `code` and ``code`` as inline code, **bold** kept, the rest escaped."""
    out, pos = [], 0
    for m in _INLINE.finditer(text):
        code = m.group(1) or m.group(2)
        markup = f"**{_escape(m.group(3))}**" if code is None else f"``{code.strip()}``"
        # reST ends inline markup only before a space or punctuation; an escaped space ("\ ") is invisible.
        before = "\\ " if m.start() and (text[m.start() - 1].isalnum() or text[m.start() - 1] == "_") else ""
        after = "\\ " if m.end() < len(text) and (text[m.end()].isalnum() or text[m.end()] == "_") else ""
        out += [_escape(text[pos : m.start()]), before, markup, after]
        pos = m.end()
    out.append(_escape(text[pos:]))
    line = "".join(out)
    # A line that would start a list, an option list, a title or a comment in reST starts as text.
    if re.match(r"(?:[-+#=~^.:]|\(?\w{1,3}[.)]\s|\d+\.\s)", line) and not line.startswith("- "):
        line = "\\" + line
    return line


def _code_language(lines):
    """bash for commands, python for code that parses, text for the rest (a lexer error would be a warning)."""
    if all(re.match(r"(\$ )?(python|pip|jupyter|git|cd) ", ln) for ln in lines if ln):
        return "bash"
    try:
        ast.parse("\n".join(lines))
    except SyntaxError:
        return "text"
    return "python"


def _docstring_as_text(app, what, name, obj, options, lines):
    """Plain-prose docstring lines -> reST: paragraphs, "- " lists, code blocks (see the module docstring)."""
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("    ") and out:  # a block indented under a paragraph, after a blank line or not
            block = []
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                block.append(lines[i][4:])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            out += ["", f".. code-block:: {_code_language(block)}", ""] + ["    " + b for b in block] + [""]
            continue
        stripped = line.lstrip(" ")
        indent = line[: len(line) - len(stripped)]
        if stripped.startswith("- "):
            out.append(indent + "- " + _inline(stripped[2:]))
        else:
            out.append(indent + _inline(stripped) if stripped else "")
        i += 1
    lines[:] = out + [""]


_FA_ICON = re.compile(r'(?:"([^"]+)"|([\w$]+)):\[\d+,\d+,\[([^\]]*)\],"[0-9a-f]*",(?:"[^"]*"|\[[^\]]*\])\]')
_FA_PACK = re.compile(r"var p=\{(.*?)\};!function\(c\)\{try\{for\(var l=arguments\.length", re.S)


def trim_fontawesome(source, used):
    """fontawesome.js with only the icons named in `used` (names or aliases, without "fa-")."""

    def pack(m):
        kept = []
        for icon in _FA_ICON.finditer(m.group(1)):
            names = {icon.group(1) or icon.group(2)} | set(re.findall(r'"([^"]+)"', icon.group(3)))
            if names & used:
                kept.append(icon.group(0))
        return m.group(0).replace(m.group(1), ",".join(kept))

    for m in _FA_PACK.finditer(source):  # every icon of the pack must be understood, or nothing is cut
        if ",".join(i.group(0) for i in _FA_ICON.finditer(m.group(1))) != m.group(1):
            return source
    trimmed = _FA_PACK.sub(pack, source)
    return re.sub(r"\n//# sourceMappingURL=\S+\s*$", "\n", trimmed)


def _trim_fontawesome(app, exception):
    out = os.path.join(app.outdir, "_static", "scripts", "fontawesome.js")
    if exception or app.builder.format != "html" or not os.path.exists(out):
        return
    original = next(
        (
            os.path.join(d, "static", "scripts", "fontawesome.js")
            for d in app.builder.theme.get_theme_dirs()
            if os.path.exists(os.path.join(d, "static", "scripts", "fontawesome.js"))
        ),
        out,
    )
    used = set()
    for folder, _, files in os.walk(app.outdir):
        for name in files:
            if name.endswith((".html", ".js")) and name not in ("fontawesome.js", "searchindex.js"):
                with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as f:
                    used |= set(re.findall(r"\bfa-([a-z0-9-]+)", f.read()))
    with open(original, encoding="utf-8") as f:
        trimmed = trim_fontawesome(f.read(), used)
    with open(out, "w", encoding="utf-8") as f:
        f.write(trimmed)
    if os.path.exists(out + ".map"):
        os.remove(out + ".map")


def setup(app):
    app.connect("config-inited", _use_static_widgets)
    app.connect("config-inited", _one_search_button)
    app.connect("build-finished", _trim_fontawesome)
    app.connect("autodoc-process-docstring", _docstring_as_text)
    app.connect("html-page-context", _page_context, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
