"""One demo run from a terminal: start it on the lab, show progress, cancel it on Ctrl-C, show what it did.

The run itself is `Lab.run` (the same call the notebooks make); this module adds what a terminal
needs around it: a spinner with the steps recorded so far (read from the workflow's history while
it runs), Ctrl-C (a key press, or a SIGINT) asking Temporal to cancel the workflow (so its history
records the cancel) instead of killing the process, and the report afterwards: the tree of the run
(`durable_agents.history.tree`), the answer, the sandbox folder, the Web UI link and the SVG
diagram written next to the sandbox. `summary()` is the same report as JSON for scripts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prompt_toolkit.input import create_input
from prompt_toolkit.keys import Keys
from pydantic import TypeAdapter
from rich.console import Console
from rich.markup import escape

from durable_agents import upstream
from durable_agents.demo.routes import Plan
from durable_agents.errors import root_cause
from durable_agents.history.graph import build_graph
from durable_agents.history.tree import as_tree
from durable_agents.lab import Lab, Run, web_ui
from durable_agents.scenarios import shape
from durable_agents.script import Step

STEPS = TypeAdapter(list[Step])
"""Scripts to and from JSON (`/script`, `--json`)."""


def script_json(script: list[Step]) -> list[Any]:
    """A script as plain JSON data, the form `/script` shows and accepts."""
    return STEPS.dump_python(script, mode="json", exclude_defaults=True)


@dataclass
class Outcome:
    """A finished run and what the terminal made of it."""

    plan: Plan
    run: Run
    interrupted: bool = False
    """The user pressed Ctrl-C and the workflow was cancelled."""
    diagram: Path | None = None

    @property
    def status(self) -> str:
        return self.run.graph().status

    @property
    def ok(self) -> bool:
        return self.status == "completed"


@contextlib.contextmanager
def sigint_calls(callback: Callable[[], None]) -> Iterator[None]:
    """While a run is under way, a SIGINT calls `callback`; afterwards the loop's earlier SIGINT handler
    (the command's: stop cleanly with status 130) is back. asyncio has no public way to read a
    handler, hence `upstream.signal_handler`."""
    loop = asyncio.get_running_loop()
    earlier = upstream.signal_handler(loop, signal.SIGINT)
    loop.add_signal_handler(signal.SIGINT, callback)
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        if earlier is not None:
            handler, args = earlier
            loop.add_signal_handler(signal.SIGINT, handler, *args)


def typed(buffer: str, data: str) -> str:
    """`buffer` after the keys in `data`: printable characters and Enter kept, Backspace applied, the rest dropped."""
    for char in data:
        if char in ("\x7f", "\b"):
            buffer = buffer[:-1] if buffer and buffer[-1] != "\n" else buffer
        elif char in ("\r", "\n"):
            buffer += "\n"
        elif char.isprintable():
            buffer += char
    return buffer


@contextlib.contextmanager
def ctrl_c_as_a_key(pressed: Callable[[], None], ahead: list[str] | None = None) -> Iterator[None]:
    """While a run is under way, read Ctrl-C from the terminal as a key, not as a signal.

    A terminal sends SIGINT to its whole foreground process group, and the Temporal server the
    lab started is in that group: it would die with the run. So, as prompt_toolkit does while it
    prompts, the terminal is put in raw mode (no signal from Ctrl-C) and the key calls `pressed`.
    Other keys are what the user types ahead: kept in `ahead[0]` (lines end in a newline) for the
    next prompt. Without a terminal on stdin nothing changes (a SIGINT from `kill` is handled by
    the caller, and typed-ahead lines wait in stdin).
    """
    if not sys.stdin.isatty():
        yield
        return
    keys = create_input()

    def read() -> None:
        for press in keys.read_keys():
            if press.key == Keys.ControlC:
                pressed()
            elif ahead is not None:
                ahead[0] = typed(ahead[0], press.data)

    with keys.raw_mode(), keys.attach(read):
        yield


@dataclass
class Runner:
    """Runs plans on a lab and reports them on a Rich console."""

    lab: Lab
    console: Console
    model: str | None = None
    ui_url: str | None = None
    no_link: str = ""
    """Why a run has no Web UI link, when `ui_url` is None (printed in its place)."""
    timeout: float = 120
    diagrams: bool = True
    teaching_tools: bool = False
    """Offer a live model the teaching-only tools too."""
    base_url: str | None = None
    """Where the live model's provider is reached (`--base-url`; None: its default)."""
    last: Outcome | None = None
    typed_ahead: list[str] = field(default_factory=lambda: [""])
    """What the user typed while a run was under way (complete lines end in a newline), for the REPL."""

    def link(self, workflow_id: str) -> str | None:
        """The run's page in the Temporal Web UI (None without a UI)."""
        return web_ui.run_page(self.ui_url, self.lab.client.namespace, workflow_id)

    async def run(self, plan: Plan) -> Outcome:
        """Run `plan`, with a spinner; Ctrl-C cancels the workflow and the run still reports."""
        started: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(self._start_and_wait(plan, started))
        interrupted = asyncio.Event()
        with sigint_calls(interrupted.set), ctrl_c_as_a_key(interrupted.set, self.typed_ahead):
            await self._follow(task, started, interrupted)
        outcome = Outcome(plan, task.result(), interrupted.is_set())
        if self.diagrams:
            outcome.diagram = await asyncio.to_thread(self._save_diagram, outcome.run)
        self.last = outcome
        return outcome

    async def _start_and_wait(self, plan: Plan, started: asyncio.Future[str]) -> Run:
        """`Lab.run`, and a second wait when the server ends the first without the run's last event.

        The time-skipping test server (`--in-process`) answers a long wait for a workflow's result
        with an empty page after about 20 s; the SDK calls that `No completion event found`, though
        the workflow is still running. Waiting again is right: the run has not ended.
        """
        try:
            return await self.lab.run(
                plan.script,
                plan.prompt,
                agent=plan.agent,
                model=self.model if plan.script is None else None,
                teaching_tools=self.teaching_tools,
                check=False,
                timeout=self.timeout,
                on_start=lambda handle: started.set_result(handle.id),
                base_url=self.base_url if plan.script is None else None,
                **plan.options,
            )
        except RuntimeError as exc:
            if not started.done() or not upstream.no_completion_yet(exc):
                raise
        while True:
            try:
                return await self.lab.follow(started.result(), check=False)
            except RuntimeError as exc:
                if not upstream.no_completion_yet(exc):
                    raise

    async def _follow(self, task: asyncio.Task[Run], started: asyncio.Future[str], interrupted: asyncio.Event) -> None:
        """Show progress until `task` ends; on Ctrl-C, ask Temporal to cancel the running workflow.

        On a terminal a spinner shows the latest progress; elsewhere (a pipe, a log) each change is a line.
        """
        cancelling, shown = False, ""
        ctrl_c = asyncio.ensure_future(interrupted.wait())
        spinner = self.console.status("starting the workflow…") if self.console.is_interactive else None
        try:
            with spinner or contextlib.nullcontext():
                while not task.done():
                    await asyncio.wait([task] if ctrl_c.done() else [task, ctrl_c], timeout=0.4)
                    if not started.done() or task.done():
                        continue
                    wid = started.result()
                    if interrupted.is_set() and not cancelling:
                        cancelling = True
                        with contextlib.suppress(Exception):
                            await self.lab.client.get_workflow_handle(wid).cancel()
                        self.console.print(f"[yellow]Ctrl-C: asked Temporal to cancel {wid}…[/yellow]")
                    progress = await self._progress(wid, cancelling)
                    if spinner is not None:
                        spinner.update(progress)
                    elif progress != shown:
                        self.console.print(progress)
                    shown = progress
        finally:
            ctrl_c.cancel()

    async def _progress(self, wid: str, cancelling: bool) -> str:
        """`running <id>: 3 steps, last ✓ write_file` from the history recorded so far."""
        try:
            history = await self.lab.client.get_workflow_handle(wid).fetch_history()
        except Exception:
            return f"running {wid}"
        node = build_graph({wid: json.loads(history.to_json())}, wid)
        last = ""
        if node.steps:
            step = node.steps[-1]
            last = f", last: {step.label} ({step.status.replace('_', ' ')})"
        doing = "cancelling" if cancelling else "running"
        return escape(f"{doing} {wid}: {len(node.steps)} step(s) recorded{last}")

    def _save_diagram(self, run: Run) -> Path | None:
        target = self.lab.sandbox_root / f"{run.workflow_id}.svg"
        try:
            return run.diagram().save(target)
        except Exception as exc:  # a missing renderer must not lose the run
            self.console.print(f"[yellow]No diagram: {escape(str(exc))}[/yellow]")
            return None

    def show(self, outcome: Outcome) -> None:
        """The run in the terminal: the tree, the answer, the files, the link and the diagram."""
        run, print_ = outcome.run, self.console.print
        print_(as_tree(run.graph()))
        if outcome.interrupted:
            print_(f"[yellow]Cancelled by Ctrl-C: the history ends with the cancel ({outcome.status}).[/yellow]")
        if run.output is not None:
            print_(f"[bold]Answer:[/bold] {escape(run.output)}")
        elif run.error is not None:
            print_(f"[red]The workflow did not complete ({outcome.status}):[/red] {escape(str(root_cause(run.error)))}")
        files = run.files()
        print_(f"[bold]Sandbox:[/bold] {run.sandbox_dir}" + (f"  ({', '.join(files)})" if files else "  (no files)"))
        if outcome.diagram:
            print_(f"[bold]Diagram:[/bold] {outcome.diagram}")
        if link := self.link(run.workflow_id):
            print_(f"[bold]Web UI:[/bold] {link}")
        elif self.no_link:
            print_(f"[bold]Web UI:[/bold] [dim]{escape(self.no_link)}[/dim]")

    def summary(self, outcome: Outcome) -> dict[str, Any]:
        """The run as JSON data for scripts: id, status, answer, shape, files, where to look."""
        run = outcome.run
        graph = run.graph()
        return {
            "workflow_id": run.workflow_id,
            "origin": outcome.plan.origin,
            "agent": outcome.plan.agent,
            "status": graph.status,
            "answer": run.output,
            "error": str(root_cause(run.error)) if run.error is not None else None,
            "shape": shape(graph),
            "files": run.files(),
            "workers": sorted({w for node in graph.walk() for w in node.workers}),
            "sandbox": str(run.sandbox_dir),
            "diagram": str(outcome.diagram) if outcome.diagram else None,
            "web_ui": self.link(run.workflow_id),
            "no_web_ui": None if self.link(run.workflow_id) else self.no_link,
            "seconds": round(run.seconds, 3),
        }
