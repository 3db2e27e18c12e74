"""Notebooks in a real browser: JupyterLab served headless, driven by Playwright in Debian's Chromium.

Notebook 01 runs cell by cell (diagrams, the timeline widget, the Web UI); 05 and 06 run by *Run All*,
after which no solution may show its output or open its source (JupyterLab's Run All clears a cell's
"outputs hidden" flag: a small notebook of its own shows that it does, and that the check sees it).
Each of those three runs then gets every check the notebook's own test item makes (its Web UI links,
its histories replayed: tests/notebook_items.py), and where this module can run, the items of 01, 05
and 06 are left out: the notebooks run once, here.
Run alone with `uv run pytest -n 0 -m browser tests/test_browser.py`. The browser is the system
`chromium` (`apt-get install chromium`; `$DURABLE_AGENTS_CHROMIUM` points elsewhere); nothing is
ever downloaded, and the test skips, saying why, when there is no browser. Screenshots are kept in
the folder the test prints.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from durable_agents.history.store import HISTORY_DIR_ENV
from durable_agents.lab.servers import free_port
from tests.conftest import NOTEBOOKS
from tests.notebook_items import check_run_elsewhere

pytestmark = pytest.mark.browser
SECONDS = 90
"""What this module takes alone (`-n 0`, 2 cores, quiet: 87 s): it runs on one worker, early (tests/schedule.py)."""

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
CAN_RUN = Path(CHROMIUM).exists() and importlib.util.find_spec("playwright") is not None
"""Whether this module's tests run here rather than skip."""


def runs_notebook(name: str) -> pytest.MarkDecorator:
    """The mark of a test that runs notebook `name` in full and then makes every check the notebook's own
    item makes (`check_run_elsewhere`): where the browser can run, the root conftest leaves that item out
    (~40 CPU-s saved for 01, 05 and 06); where it cannot, the item runs as ever."""
    return pytest.mark.runs_notebook(name, here=CAN_RUN)


NOTEBOOK = "01_wrapping.ipynb"
RUN_ALL = ["05_failures.ipynb", "06_migration.ipynb"]  # exercises whose solutions drew diagrams; each well under 2 min
LOUD = "loud_solution.ipynb"  # written by the fixture: one solution prints, one does not
TAB = "closed_tab.ipynb"  # written by the fixture: a run that goes on while its tab is closed
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


@dataclass
class Jupyter:
    """A running `jupyter lab`: where it listens, its token, and the folder it serves."""

    base: str
    token: str
    root: Path
    histories: Path
    """Where its kernels write the histories of their runs (`check_run_elsewhere` picks each notebook's)."""

    def url(self, notebook: str) -> str:
        """The page of `notebook` alone (`reset`: JupyterLab would reopen, and restart, the ones before)."""
        return f"{self.base}/lab/tree/{notebook}?token={self.token}&reset"

    def shut_down_kernels(self) -> None:
        """Stop every kernel (and with it the labs its notebook started), so the next notebook runs alone."""
        headers = {"Authorization": f"token {self.token}"}
        with urllib.request.urlopen(urllib.request.Request(f"{self.base}/api/kernels", headers=headers)) as r:
            kernels = json.load(r)
        for kernel in kernels:
            url = f"{self.base}/api/kernels/{kernel['id']}"
            urllib.request.urlopen(urllib.request.Request(url, method="DELETE", headers=headers), timeout=60).close()


def _loud_notebook() -> nbformat.NotebookNode:
    """Two hidden solutions, as the workbook hides them: one displays nothing, one prints its answer."""
    hidden = {"jupyter": {"source_hidden": True, "outputs_hidden": True}, "tags": ["solution"]}
    cells = [
        nbformat.v4.new_markdown_cell("# A solution that shows"),
        nbformat.v4.new_code_cell("answer = 6 * 7"),
        nbformat.v4.new_code_cell("# One way to do it (try your own first).\nassert answer == 42", metadata=hidden),
        nbformat.v4.new_code_cell("# One way to do it (try your own first).\nprint(answer)", metadata=hidden),
    ]
    cells[2].id, cells[3].id = "quiet", "loud"
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    return notebook


def _tab_notebook() -> nbformat.NotebookNode:
    """A lab, a run whose tool takes 6 s (the tab is closed while it runs), and a cell that asks after both."""
    cells = [
        nbformat.v4.new_code_cell(
            "from durable_agents.lessons.workbook import Lab, call, final\n"
            "lab = await Lab.start(ui=False, sandbox_root='.sandbox-tab')\n"
            "print('server', lab.server.pid)"
        ),
        nbformat.v4.new_code_cell("run = await lab.run([call('slow', seconds=6), final('waited')])"),
        nbformat.v4.new_code_cell(
            "print('after', lab.server.pid, run.output, len((await lab.run([final('again')])).graph().steps))"
        ),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    return notebook


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Jupyter]:
    """`jupyter lab` headless on a free port, serving a copy of the notebooks (autosave must not touch ours)."""
    root = tmp_path_factory.mktemp("lab") / "notebooks"
    shutil.copytree(NOTEBOOKS, root, ignore=shutil.ignore_patterns(".*", "__pycache__"))  # solutions/ too
    nbformat.write(_loud_notebook(), root / LOUD)
    nbformat.write(_tab_notebook(), root / TAB)
    settings = tmp_path_factory.mktemp("lab-settings")
    for plugin, values in SETTINGS.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    histories = Path(os.environ[HISTORY_DIR_ENV])
    histories.mkdir(parents=True, exist_ok=True)
    histories = Path(tempfile.mkdtemp(prefix="browser-", dir=histories))  # its own: a split module has two
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(settings),
        HISTORY_DIR_ENV: str(histories),
    }
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
        stderr=(root.parent / "jupyter.log").open("wb"),
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
                pytest.fail(f"jupyter lab did not start: {(root.parent / 'jupyter.log').read_text()[-2000:]}")
            time.sleep(0.3)
        yield Jupyter(base, token, root, histories)
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
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).first.click()


def _wait_ran(page: object, but_last: int, timeout: float) -> None:
    """Until every cell prompt but the last `but_last` shows an execution count, and the kernel is idle.

    (JupyterLab drops the `[*]` marks of queued cells once a cell tagged `raises-exception` has
    failed, though the kernel still runs them: so wait for counts, not for the marks to go.)
    """
    deadline = time.monotonic() + timeout
    idle = page.get_by_text("Python 3 (ipykernel) | Idle")
    done_before = False  # twice in a row: the kernel is idle for a moment between two queued cells
    while time.monotonic() < deadline:
        prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
        prompts = [p for p in prompts[: len(prompts) - but_last] if p.strip()]  # a hidden input shows no prompt
        done = bool(prompts) and all(any(c.isdigit() for c in p) for p in prompts) and bool(idle.count())
        if done and done_before:
            return
        done_before = done
        time.sleep(0.5)
    raise AssertionError(f"the notebook was still running after {timeout} s: prompts {prompts}, idle {idle.count()}")


@runs_notebook(NOTEBOOK)
def test_notebook_01_runs_in_a_real_browser(browser, jupyter, artefacts):
    since = time.time_ns()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        executed = _drive(browser, page, jupyter.url(NOTEBOOK), jupyter.root, artefacts)
        check_run_elsewhere(executed, jupyter.root / NOTEBOOK, jupyter.histories, since)
    except BaseException:
        page.screenshot(path=artefacts / "failure.png", full_page=True)
        (artefacts / "failure.html").write_text(page.content())
        raise
    finally:
        jupyter.shut_down_kernels()


def _drive(browser: object, page: object, url: str, root: Path, artefacts: Path) -> nbformat.NotebookNode:
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
    notebook = _saved_when_ran(page, root / NOTEBOOK, 60)
    page.screenshot(path=artefacts / "04-notebook-end.png", full_page=True)
    page.close()

    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "some cells never ran"
    for cell in code:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        expected = "raises-exception" in cell.metadata.get("tags", [])
        assert bool(errors) == expected, f"cell {cell.id}: {errors[0].evalue if errors else 'no error'}"
    return notebook


def _run_all(page: object, jupyter: Jupyter, notebook: str, timeout: float) -> nbformat.NotebookNode:
    """Open `notebook` and do Run → Run All Cells, as a learner would; the notebook saved once all ran."""
    page.set_default_timeout(60_000)
    page.goto(jupyter.url(notebook))
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=60_000)
    started = time.monotonic()
    _run_menu(page, "Run All Cells")
    _wait_ran(page, 0, timeout)
    return _saved_when_ran(page, jupyter.root / notebook, timeout - (time.monotonic() - started))


def _solutions_shown(page: object, notebook: nbformat.NotebookNode) -> dict[str, str]:
    """What each solution cell shows in the page after it ran: {cell id: what gives the answer away}.

    A solution is hidden when its output area shows nothing and its source stays collapsed to the
    placeholder (its first line). The page's cells are the notebook's, in order (windowing is off).
    """
    cells = page.locator(".jp-Notebook .jp-Cell")
    assert cells.count() == len(notebook.cells), f"the page shows {cells.count()} cells, not {len(notebook.cells)}"
    shown = {}
    for index, cell in enumerate(notebook.cells):
        if "solution" not in cell.metadata.get("tags", []):
            continue
        node = cells.nth(index)
        outputs = [o for o in node.locator(".jp-OutputArea-output").all() if o.is_visible()]
        editor_open = node.locator(".jp-InputArea-editor").is_visible()
        placeholder = node.locator(".jp-InputPlaceholder")
        collapsed = placeholder.is_visible() and cell.source.splitlines()[0] in placeholder.inner_text()
        what = []
        if outputs:
            what.append("output: " + " | ".join(o.inner_text().strip()[:80] for o in outputs))
        if editor_open or not collapsed:
            what.append("source: open")
        if what:
            shown[cell.id] = "; ".join(what)
    return shown


def _saved_when_ran(page: object, path: Path, timeout: float) -> nbformat.NotebookNode:
    """The notebook as JupyterLab saves it once every code cell has an execution count.

    A collapsed cell has no prompt in the page (JupyterLab detaches its input), so its count is read
    from the saved file: save (Ctrl+S), read, until every code cell ran.
    """
    deadline = time.monotonic() + timeout
    while True:
        before = path.stat().st_mtime_ns
        page.keyboard.press("Control+s")
        saved = time.monotonic() + 30
        while path.stat().st_mtime_ns == before and time.monotonic() < saved:
            time.sleep(0.2)
        notebook = _read_written(path)
        waiting = [c.id for c in notebook.cells if c.cell_type == "code" and not c.execution_count]
        if not waiting:
            return notebook
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name}: cells {waiting} had not run after {timeout} s")
        time.sleep(1)


def _read_written(path: Path, patience: float = 30) -> nbformat.NotebookNode:
    """The notebook at `path` once the server has finished writing it.

    jupyter_server saves in place: it copies the old file to `.~<name>`, truncates and writes the file,
    then removes the copy. Read while the copy is there, the file can be empty or cut short (seen:
    `NotJSONError: ''` right after the save changed its mtime), so wait for the copy to go, and read
    again if another save (an autosave) began in between.
    """
    backup = path.with_name(f".~{path.name}")
    deadline = time.monotonic() + patience
    while True:
        if not backup.exists():
            try:
                return nbformat.read(path, as_version=4)
            except nbformat.reader.NotJSONError:
                if time.monotonic() > deadline:
                    raise
        elif time.monotonic() > deadline:
            raise AssertionError(f"{path.name}: the server was still writing it after {patience} s ({backup} is there)")
        time.sleep(0.1)


def _assert_ran_as_meant(executed: nbformat.NotebookNode) -> None:
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), f"cells never ran: {[c.id for c in code if not c.execution_count]}"
    for cell in code:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        expected = "raises-exception" in cell.metadata.get("tags", [])
        assert bool(errors) == expected, f"cell {cell.id}: {errors[0].evalue if errors else 'no error'}"


def _screenshot_solutions(page: object, notebook: nbformat.NotebookNode, folder: Path, stem: str) -> None:
    cells = page.locator(".jp-Notebook .jp-Cell")
    for index, cell in enumerate(notebook.cells):
        if "solution" in cell.metadata.get("tags", []):
            cells.nth(max(index - 2, 0)).scroll_into_view_if_needed()  # the check above it, and the solution
            page.screenshot(path=folder / f"{stem}-solution-{cell.id}.png")


def test_a_solution_that_displays_shows_after_run_all(browser, jupyter, artefacts):
    """The premise and the check's power: after Run All, JupyterLab shows what a hidden solution prints."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        notebook = _run_all(page, jupyter, LOUD, 60)
        _screenshot_solutions(page, notebook, artefacts, "loud")
        shown = _solutions_shown(page, notebook)
    finally:
        page.close()
        jupyter.shut_down_kernels()
    assert "quiet" not in shown, f"a solution that displays nothing shows: {shown['quiet']}"
    assert shown == {"loud": "output: 42"}, (
        f"expected the printing solution's output, and only that, to show: {shown}. If JupyterLab now keeps "
        "outputs_hidden through Run All, notebooks/README.md's 'Where the solutions are' can say so."
    )


@pytest.mark.parametrize(
    "notebook", [pytest.param(n, marks=runs_notebook(n)) for n in RUN_ALL], ids=lambda n: n.split("_")[0]
)
def test_run_all_keeps_every_solution_hidden(browser, jupyter, artefacts, notebook):
    """notebooks/README.md: a solution's source stays collapsed, and it displays nothing, after Run All."""
    stem = notebook.split("_")[0]
    since = time.time_ns()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        started = time.monotonic()
        executed = _run_all(page, jupyter, notebook, RUN_TIMEOUT)
        print(f"{notebook}: Run All took {time.monotonic() - started:.0f} s in the browser")
        committed = nbformat.read(NOTEBOOKS / notebook, as_version=4)
        _screenshot_solutions(page, committed, artefacts, stem)
        shown = _solutions_shown(page, committed)
        assert not shown, f"{notebook}: after Run All these solutions give themselves away: {shown}"
        _assert_ran_as_meant(executed)
        check_run_elsewhere(executed, jupyter.root / notebook, jupyter.histories, since)
    except BaseException:
        page.screenshot(path=artefacts / f"{stem}-failure.png", full_page=True)
        (artefacts / f"{stem}-failure.html").write_text(page.content())
        raise
    finally:
        page.close()
        jupyter.shut_down_kernels()


def _outputs(page: object) -> str:
    return "\n".join(page.locator(".jp-OutputArea-output").all_inner_texts())


def test_closing_a_tab_while_a_run_goes_on_and_reopening_it_keeps_the_lab(browser, jupyter, artefacts):
    """Issue 19: a learner closes a notebook's tab mid-run and opens it again. The kernel (and its lab)
    outlive the tab; the run finishes meanwhile; the next cell sees it, on the same server."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    again = None
    try:
        page.goto(jupyter.url(TAB))
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=60_000)
        page.locator(".jp-CodeCell").nth(1).locator(".jp-InputPrompt").click()
        _run_menu(page, "Run All Above Selected Cell")
        page.get_by_text(re.compile(r"^server \d+")).wait_for(timeout=RUN_TIMEOUT * 1000)
        server = re.search(r"server (\d+)", _outputs(page)).group(1)
        page.locator(".jp-CodeCell").nth(1).locator(".jp-InputPrompt").click()
        _run_menu(page, "Run Selected Cell")
        time.sleep(2)  # the run's slow tool is under way
        page.close()
        time.sleep(6)  # the tab is closed while the run finishes
        again = browser.new_page(viewport={"width": 1400, "height": 1000})
        again.set_default_timeout(60_000)
        again.goto(jupyter.url(TAB))
        again.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=60_000)
        again.locator(".jp-CodeCell").nth(2).locator(".jp-InputPrompt").click()
        _run_menu(again, "Run Selected Cell")
        again.get_by_text(re.compile(r"^after \d+")).wait_for(timeout=60_000)
        said = _outputs(again)
        again.screenshot(path=artefacts / "tab-reopened.png")
    except BaseException:
        for p in (page, again):
            if p is not None and not p.is_closed():
                p.screenshot(path=artefacts / "tab-failure.png", full_page=True)
        raise
    finally:
        if again is not None:
            again.close()
        jupyter.shut_down_kernels()
    assert f"after {server} waited 1" in said, f"the reopened notebook said: {said[-500:]}"
