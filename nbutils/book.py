"""Numbers for the book's prose: `glue` records a value that the text shows with {glue:text}`name:fmt`.

In the book build, myst-nb pastes the value into the sentence, so the prose can never disagree with the output
beside it. In Jupyter or Colab, where myst-nb may be missing, `glue` records nothing and shows nothing.
"""

import numpy as np


def glue(name, value, display=False):
    """Record `value` (a number or a string) under `name` for {glue:text} in the chapter's prose."""
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # Colab and plain Jupyter: there is no prose to fill
        return
    if isinstance(value, np.generic):  # np.float64(0.9) would reach the prose as its repr
        value = value.item()
    myst_glue(name, value, display=display)
