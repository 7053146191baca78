"""Numbers for the book's prose: `glue` records a value that the text shows with {glue:text}`name:fmt`.

In the book build, myst-nb pastes the value into the sentence, so the prose can never disagree with the output
beside it. `glue` writes the same hidden output as `myst_nb.glue(name, value, display=False)`, without importing
myst-nb (which loads Sphinx: seconds per chapter, and absent in Colab). Jupyter shows nothing for it.
"""

import numpy as np

GLUE_PREFIX = "application/papermill.record/"  # the MIME prefix myst-nb reads glued values from


def glue(name, value):
    """Record `value` (a number or a string) under `name` for {glue:text} in the chapter's prose."""
    from IPython import get_ipython
    from IPython.core.formatters import format_display_data
    from IPython.display import display

    if get_ipython() is None:  # plain Python: there is no notebook to record into
        return
    if isinstance(value, np.generic):  # np.float64(0.9) would reach the prose as its repr
        value = value.item()
    bundle, metadata = format_display_data(value)
    metadata["scrapbook"] = {"name": name, "mime_prefix": GLUE_PREFIX}
    display({GLUE_PREFIX + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)
