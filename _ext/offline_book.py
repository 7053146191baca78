"""Sphinx extension for an HTML book that works from a local folder with no network.

- Kernels started by the build render interactive figures as precomputed frames
  (nbutils.widgets reads NBUTILS_STATIC_WIDGETS), so no widget JavaScript is needed.
- Pages name their colour mode; pydata-sphinx-theme logs an error when it is empty.
- Docstrings appear verbatim in the API reference: they are plain sentences with shapes like
  (N, C, H, W) and formulas like 1/sqrt(fan_in), not reStructuredText.
- Each script is included once per page: sphinx-thebe registers its inline config
  (`const THEBE_JS_URL = ...`) twice, which throws "Identifier has already been declared".
"""

import os


def _use_static_widgets(app, config):
    os.environ["NBUTILS_STATIC_WIDGETS"] = "1"


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


def _docstring_as_text(app, what, name, obj, options, lines):
    if lines:
        lines[:] = [".. code-block:: text", ""] + ["    " + line for line in lines] + [""]


def setup(app):
    app.connect("config-inited", _use_static_widgets)
    app.connect("autodoc-process-docstring", _docstring_as_text)
    app.connect("html-page-context", _page_context, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
