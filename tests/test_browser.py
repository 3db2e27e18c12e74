"""Notebook 01 in a real browser: JupyterLab served headless, driven by Playwright in Debian's Chromium.

Run alone with `uv run pytest -m browser`. The browser is the system `chromium` (`apt-get install
chromium`; `$DURABLE_AGENTS_CHROMIUM` points elsewhere); nothing is ever downloaded, and the test
skips, saying why, when there is no browser. Screenshots are kept in the folder the test prints.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from durable_agents.lab.servers import free_port
from tests.conftest import NOTEBOOKS

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("DURABLE_AGENTS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NOTEBOOK = "01_wrapping.ipynb"
RUN_TIMEOUT = float(os.environ.get("BROWSER_RUN_TIMEOUT", 240))
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {
        "windowingMode": "none"
    },  # every cell in the page, not only those in view
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}


def _answers(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status


@pytest.fixture(scope="module")
def artefacts() -> Path:
    folder = Path(tempfile.gettempdir()) / "durable-agents-browser" / time.strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nbrowser screenshots: {folder}")
    return folder


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`jupyter lab` headless on a free port, serving a copy of the notebooks (autosave must not touch ours)."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(NOTEBOOKS / NOTEBOOK, root / NOTEBOOK)
    settings = tmp_path_factory.mktemp("lab-settings")
    for plugin, values in SETTINGS.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(settings), "JUPYTERLAB_WORKSPACES_DIR": str(settings)}
    port, token = free_port(), uuid.uuid4().hex
    server = subprocess.Popen(
        [
            sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
            "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly", *(["--allow-root"] if os.geteuid() == 0 else []),
        ],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(root / "jupyter.log").open("wb"),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _answers(f"{base}/api/status?token={token}") == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"jupyter lab did not start: {(root / 'jupyter.log').read_text()[-2000:]}")
            time.sleep(0.3)
        yield f"{base}/lab/tree/{NOTEBOOK}?token={token}", root
    finally:
        server.terminate()  # shuts its kernels down; the lab's reaper stops any server a kernel left
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: install Debian's browser (`apt-get install chromium`) "
            "or set DURABLE_AGENTS_CHROMIUM to a Chromium executable"
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _run_menu(page: object, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


def _wait_ran(page: object, but_last: int, timeout: float) -> None:
    """Until every cell prompt but the last `but_last` shows an execution count, and the kernel is idle.

    (JupyterLab drops the `[*]` marks of queued cells once a cell tagged `raises-exception` has
    failed, though the kernel still runs them: so wait for counts, not for the marks to go.)
    """
    deadline = time.monotonic() + timeout
    idle = page.get_by_text("Python 3 (ipykernel) | Idle")
    while time.monotonic() < deadline:
        prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
        prompts = [p for p in prompts[: len(prompts) - but_last] if p.strip()]  # a hidden input shows no prompt
        if prompts and all(any(c.isdigit() for c in p) for p in prompts) and idle.count():
            return
        time.sleep(0.5)
    raise AssertionError(f"the notebook was still running after {timeout} s")


def test_notebook_01_runs_in_a_real_browser(browser, jupyter, artefacts):
    url, root = jupyter
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        _drive(browser, page, url, root, artefacts)
    except BaseException:
        page.screenshot(path=artefacts / "failure.png", full_page=True)
        (artefacts / "failure.html").write_text(page.content())
        raise


def _drive(browser: object, page: object, url: str, root: Path, artefacts: Path) -> None:
    page.set_default_timeout(60_000)
    page.goto(url)
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=60_000)
    cells = page.locator(".jp-CodeCell")

    # Everything but the last cell (`await lab.stop()`): the Web UI must still be up to be looked at.
    cells.last.locator(".jp-InputPrompt").click()
    _run_menu(page, "Run All Above Selected Cell")
    _wait_ran(page, 1, RUN_TIMEOUT)
    page.screenshot(path=artefacts / "01-notebook-top.png")

    # Diagrams are inline SVG in an HTML output (fitted to the width); the timeline widget's is not counted here.
    diagrams = page.locator(".jp-OutputArea-output[data-mime-type='text/html'] svg g.graph")
    assert diagrams.count() >= 2, "no Graphviz diagram rendered as SVG"
    diagrams.first.scroll_into_view_if_needed()
    widths = diagrams.evaluate_all("graphs => graphs.map(g => g.getBoundingClientRect().width)")
    assert all(w > 100 for w in widths), f"a diagram did not draw: widths {widths}"
    page.screenshot(path=artefacts / "01b-diagram.png")
    widget = page.locator(".jp-OutputArea-output .widget-slider, .jp-OutputArea-output .jupyter-widgets").first
    widget.wait_for()
    widget.scroll_into_view_if_needed()
    page.screenshot(path=artefacts / "02-timeline-widget.png")
    timeline_svg = page.locator(".jp-OutputArea-output .widget-html svg g.graph")
    assert timeline_svg.count() == 1, "the timeline drew no diagram"
    before = timeline_svg.inner_html()
    page.locator(".jp-OutputArea-output .widget-play button").first.click()  # play: from the first event
    time.sleep(1.5)
    assert timeline_svg.inner_html() != before, "pressing play did not redraw the timeline"
    page.screenshot(path=artefacts / "02b-timeline-playing.png")

    link = page.locator(".jp-OutputArea-output a[href^='http://127.0.0.1']").first
    ui = link.get_attribute("href").rstrip("/")
    assert page.request.get(ui).ok, f"the Web UI link {ui} does not answer"

    listing = page.request.get(f"{ui}/api/v1/namespaces/default/workflows?query=").json()
    ids = [w["execution"]["workflowId"] for w in listing.get("executions", [])]
    assert ids, f"the Web UI lists no workflow: {json.dumps(listing)[:300]}"
    workflow_id = next(i for i in ids if i.startswith("demo-"))
    ui_page = browser.new_page(viewport={"width": 1400, "height": 1000})
    ui_page.goto(f"{ui}/namespaces/default/workflows/{workflow_id}")
    ui_page.get_by_text(workflow_id).first.wait_for(timeout=30_000)
    ui_page.screenshot(path=artefacts / "03-web-ui-run.png")
    ui_page.close()

    cells.last.locator(".jp-InputPrompt").click()
    _run_menu(page, "Run Selected Cell and All Below")
    _wait_ran(page, 0, 60)
    page.keyboard.press("Control+s")
    time.sleep(2)
    page.screenshot(path=artefacts / "04-notebook-end.png", full_page=True)
    page.close()

    notebook = nbformat.read(root / NOTEBOOK, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "some cells never ran"
    for cell in code:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        expected = "raises-exception" in cell.metadata.get("tags", [])
        assert bool(errors) == expected, f"cell {cell.id}: {errors[0].evalue if errors else 'no error'}"
