"""Chapter 1 in a real JupyterLab, driven by headless Chromium: the live ipywidgets sliders redraw the figure, and
an exercise's help (hint 1, hint 2, the solution) opens one step at a time.

The server runs on 127.0.0.1 with a random token, in a temporary folder holding a copy of the notebook, with its
settings and workspaces kept there too; NBUTILS_STATIC_WIDGETS is removed from its environment, so `interact`
shows live widgets. The server and its kernel are always stopped.
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

from nbutils.exercises import EXERCISES

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "chapters" / "01_convolution.ipynb"
RUN_TIMEOUT = 240  # seconds: the notebook takes about 40 s to run
SERVER_TIMEOUT = 90  # seconds for `jupyter lab` to answer
# The first live figure: a VBox of sliders above an Output widget that shows the figure as a PNG.
LIVE_FIGURE = ".jp-OutputArea-output .widget-vbox:has(.noUi-handle):has(.widget-output img)"
KERNEL_IDLE = """() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]
    .some(el => /\\|\\s*Idle\\s*$/.test(el.textContent))"""
SOME_CELL_RAN = """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
    .some(el => /\\[(\\*|\\d+)\\]/.test(el.textContent))"""
HELPED = "corr2d"  # an exercise of the chapter: solution("corr2d") shows its help in steps
STDERR_OUTPUTS = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"

# User settings for a quiet, predictable JupyterLab: start the notebook's kernel without asking, render every cell
# (no windowing, so outputs far down the notebook are in the DOM), and never ask about or fetch Jupyter news.
LAB_SETTINGS = {
    "notebook-extension/tracker": {"windowingMode": "none", "autoStartDefaultKernel": True},
    "apputils-extension/notification": {"fetchNews": "false"},
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_answers(url, proc, log, timeout=SERVER_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"jupyter lab exited with {proc.returncode} before answering:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    pytest.fail(f"jupyter lab did not answer {url} within {timeout} s:\n{log.read_text()[-4000:]}")


def stop(proc):
    """SIGTERM the server's process group (server and kernels), then SIGKILL what is left."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # kernels that outlived their server
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


@pytest.fixture
def jupyter_lab(tmp_path):
    """(base URL, token) of a JupyterLab serving a copy of chapter 1 from tmp_path."""
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    settings = tmp_path / "settings"
    for name, values in LAB_SETTINGS.items():
        file = settings / "@jupyterlab" / f"{name}.jupyterlab-settings"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(values))
    port, token = free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k != "NBUTILS_STATIC_WIDGETS"}
    env.update(JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               PYTHONUNBUFFERED="1")
    log = tmp_path / "jupyter-lab.log"
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False",
        f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
        # nothing is fetched from outside: no news, no update checks, no extension search on PyPI
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    if os.geteuid() == 0:  # CI and these machines run as root
        command.append("--ServerApp.allow_root=True")
    with log.open("w") as out:
        proc = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_answers(f"{base}/api/status?token={token}", proc, log)
        yield base, token, log
    finally:
        stop(proc)


def test_live_slider_redraws_figure_in_jupyterlab(browser, jupyter_lab, screenshot_dir):
    base, token, log = jupyter_lab
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    # Nothing leaves the machine: JupyterLab is served from 127.0.0.1 and needs nothing else.
    context.route(lambda url: not url.startswith((base, "data:", "blob:", "about:")), lambda r: r.abort())
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{base}/lab/tree/{NOTEBOOK.name}?token={token}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        # Run All before the kernel is connected runs nothing, so wait for the status bar's "Python 3 | Idle".
        page.wait_for_function(KERNEL_IDLE, timeout=120_000)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        page.wait_for_function(SOME_CELL_RAN, timeout=60_000)
        figure = page.locator(LIVE_FIGURE).first
        figure.wait_for(state="attached", timeout=RUN_TIMEOUT * 1000)
        figure.scroll_into_view_if_needed()
        img = figure.locator(".widget-output img").first
        before = img.get_attribute("src")
        readout = figure.locator(".widget-readout").first.inner_text()
        handle = figure.locator(".noUi-handle").first
        handle.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "([fig, before]) => { const img = fig.querySelector('.widget-output img');"
            " return img && img.src && img.src !== before; }",
            arg=[figure.element_handle(), before], timeout=60_000)
        after = figure.locator(".widget-output img").first.get_attribute("src")
        new_readout = figure.locator(".widget-readout").first.inner_text()
        figure.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_dir / "jupyterlab.png"))
        # Exercise help: hint 1, hint 2 and the solution open one at a time here too.
        steps = page.locator(f".jp-OutputArea-output details.exercise-help:has(summary code:text-is('{HELPED}'))")
        steps.first.wait_for(state="attached", timeout=RUN_TIMEOUT * 1000)
        steps.first.scroll_into_view_if_needed()
        steps.first.locator("summary").click()
        opened = [steps.nth(i).evaluate("d => d.open") for i in range(steps.count())]
    except PlaywrightError as e:
        page.screenshot(path=str(screenshot_dir / "jupyterlab.png"))
        errors = page.eval_on_selector_all(STDERR_OUTPUTS, "els => els.map(el => el.innerText.slice(0, 600))")
        pytest.fail(f"{e.message.splitlines()[0]}\nerror outputs in the notebook: {errors or 'none'}\n"
                    f"--- the server log ends with:\n{log.read_text()[-3000:]}")
    finally:
        context.close()
    assert after.startswith("data:image/png"), f"the redrawn figure is not a PNG: {after[:60]!r}"
    assert after != before, "the figure's image did not change after moving the slider"
    assert new_readout != readout, f"the slider's readout stayed at {readout!r}"
    assert opened == [True] + [False] * (len(EXERCISES[HELPED].hints)), f"opening hint 1 of {HELPED} opened {opened}"
