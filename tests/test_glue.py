"""nbutils.book.glue writes exactly what myst-nb's glue writes, so {glue:text} finds every glued number."""

import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from nbutils.book import glue


def _recorded(fn, *args, **kwargs):
    InteractiveShell.instance()
    with capture_output() as captured:
        fn(*args, **kwargs)
    return [(o.data, o.metadata) for o in captured.outputs]


@pytest.mark.parametrize("value", [0.9731, 5178, "2.2 to 12.7", np.float64(0.25), np.int64(7)])
def test_glue_records_what_myst_nb_records(value):
    from myst_nb import glue as myst_glue

    plain = value.item() if isinstance(value, np.generic) else value
    ours = _recorded(glue, "x", value)
    assert ours == _recorded(myst_glue, "x", plain, display=False)
    assert ours[0][0]["application/papermill.record/text/plain"] == repr(plain)


def test_glue_outside_ipython_displays_nothing(monkeypatch):
    import IPython.display

    calls = []
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: calls.append(a))
    InteractiveShell.instance()
    glue("x", 1.0)
    assert len(calls) == 1  # inside IPython it displays the record
    InteractiveShell.clear_instance()
    glue("x", 1.0)
    assert len(calls) == 1  # outside, nothing
