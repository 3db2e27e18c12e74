"""`durable-agents`: the workbook from a terminal (`demo`, `migration`, `fuzz`).

    uv run durable-agents demo                       # dev server + Web UI + one worker, then a REPL
    uv run durable-agents demo --scenario ptc        # one scenario, then exit (0 if it completed)
    uv run durable-agents demo "write a note" --json # one prompt, a JSON summary for scripts
    uv run durable-agents demo --in-process          # the time-skipping test server, no Web UI
    uv run durable-agents demo --no-start-dev-server --address 127.0.0.1:7233
    uv run durable-agents demo --model gpt-5.5       # a live model (key from the environment or .env)
    uv run durable-agents demo --model ollama:qwen3  # a local model, no key (--base-url for LM Studio, vLLM...)
    uv run durable-agents migration                  # worker processes, a fan-out, who ran what
    uv run durable-agents fuzz --iterations 20 --workers 3 --max-n 5 --kind ptc-spawns

Libraries, each for what it does best and all widely used and maintained:
- Typer (on Click) parses the arguments from type hints and writes `--help`; its errors for bad
  options are clear, and Click's `edit()` opens `$EDITOR` for `/script edit`.
- prompt_toolkit gives the REPL line editing, a history file and completion, and runs inside the
  asyncio loop the Temporal client needs (`prompt_async`).
- Rich draws the run's tree, tables and the progress spinner, and drops colour when the output is
  not a terminal (or `NO_COLOR` is set).

Everything else is the package: `Lab` starts the servers and the worker (and its reaper cleans up
after a kill), `SCENARIOS` is the catalogue the tests run, `durable_agents.lessons.migration` has
the fuzzer, `durable_agents.history.tree` draws the graph the diagrams draw.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import signal
import sys
import tempfile
from collections.abc import Awaitable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from durable_agents.demo import ALIASES, SANDBOX
from durable_agents.lab.exit import exit_now

app = typer.Typer(
    help="The durable agents workbook from a terminal: a demo REPL, one-shot runs, the migration demo and fuzzer.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class Failed(Exception):
    """A problem the user can fix: printed as one line, exit status 2."""


def _run(main: Awaitable[int]) -> None:
    """Run `main` in a fresh event loop; Ctrl-C, SIGTERM and SIGHUP stop it cleanly (its `finally` stops the lab).

    The exit status is 128 + the signal's number (130 for Ctrl-C). A demo run takes Ctrl-C over while it
    runs (`Runner.run`: it cancels the workflow instead)."""

    async def guarded() -> int:
        task = asyncio.ensure_future(main)
        loop = asyncio.get_running_loop()
        received: list[int] = []

        def stop(sig: int) -> None:
            received.append(sig)
            task.cancel()

        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, stop, sig)
        try:
            return await task
        except asyncio.CancelledError:
            return 128 + (received[0] if received else signal.SIGTERM)  # 130 after Ctrl-C, as shells expect

    try:
        code = asyncio.run(guarded())
    except Failed as exc:
        _refuse(exc)
    except KeyboardInterrupt:
        code = 130
    raise typer.Exit(code)


async def _start_lab(
    kind: str,
    *,
    address: str | None,
    port: int | None,
    ui_port: int | None,
    sandbox: Path,
    profile: str | None,
    task_queue: str,
    quiet_stdout: bool,
) -> Any:
    from durable_agents.lab import Lab, LabError

    if address:
        os.environ["TEMPORAL_ADDRESS"] = address
    options: dict[str, Any] = {"sandbox_root": sandbox, "task_queue": task_queue}
    if kind == "dev":
        options |= {"port": port, "ui_port": ui_port}
    elif kind == "time-skipping":
        options |= {"port": port}
    else:
        options |= {"profile": profile}
    try:
        with contextlib.redirect_stdout(sys.stderr) if quiet_stdout else contextlib.nullcontext():
            return await Lab.start(kind, **options)  # type: ignore[arg-type]
    except LabError as exc:
        raise Failed(_for_the_command_line(exc)) from None


def _for_the_command_line(exc: Exception) -> str:
    """A lab's error on one line, with the command line's way out where it has one."""
    text = " ".join(str(exc).split())
    if "is in use" in text:
        return f"{text} (On the command line: leave out --port/--ui-port.)"
    return text


@app.command()
def demo(
    prompt_arg: Annotated[str | None, typer.Argument(metavar="[PROMPT]", help="Run this prompt once and exit.")] = None,
    prompt: Annotated[str | None, typer.Option("--prompt", "-p", help="Run this prompt once and exit.")] = None,
    scenario_name: Annotated[
        str | None,
        typer.Option("--scenario", "-s", help=f"Run one scenario and exit (aliases: {', '.join(ALIASES)})."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One-shot: print a JSON summary on stdout.")] = False,
    in_process: Annotated[
        bool, typer.Option("--in-process", help="Use Temporal's time-skipping test server (no Web UI).")
    ] = False,
    no_start_dev_server: Annotated[
        bool,
        typer.Option("--no-start-dev-server", help="Connect to a running server (--address, --profile, TEMPORAL_*)."),
    ] = False,
    address: Annotated[str | None, typer.Option(help="HOST:PORT of a running server (sets TEMPORAL_ADDRESS).")] = None,
    profile: Annotated[str | None, typer.Option(help="Temporal CLI profile, for a running server.")] = None,
    ui_url: Annotated[str | None, typer.Option(help="Web UI of a running server, for the links.")] = None,
    port: Annotated[int | None, typer.Option(help="Port of the server the demo starts (default: a free one).")] = None,
    ui_port: Annotated[int | None, typer.Option(help="Port of its Web UI (default: a free one).")] = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="A live model instead of the script: gpt-5.5, claude-..., openai:..., anthropic:..., "
            "or ollama:NAME for a local OpenAI-compatible server (no key)."
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(help="Where the live model is served, e.g. http://localhost:1234/v1 (LM Studio)."),
    ] = None,
    teaching_tools: Annotated[
        bool,
        typer.Option(
            "--teaching-tools",
            help="Offer a live model the teaching-only tools too (failing tools, comparison spawns).",
        ),
    ] = False,
    sandbox: Annotated[Path, typer.Option(help="Where runs leave their files and diagrams.")] = SANDBOX,
    task_queue: Annotated[str, typer.Option(help="The task queue the demo's worker polls.")] = "durable-agents",
    timeout: Annotated[float, typer.Option(help="Seconds a run may take before Temporal times it out.")] = 120,
) -> None:
    """Start a Temporal server and a worker, then a REPL: each prompt runs a durable agent and shows its graph."""
    start_dev_server = not no_start_dev_server
    if prompt_arg and prompt:
        raise typer.BadParameter("Give the prompt once: as an argument or with --prompt.")
    text = prompt or prompt_arg
    if text is not None and scenario_name is not None:
        raise typer.BadParameter("Give either a prompt or --scenario, not both.")
    if in_process and not start_dev_server:
        raise typer.BadParameter("--in-process starts its own server: leave out --no-start-dev-server.")
    if address and start_dev_server:
        raise typer.BadParameter("--address is for a running server: add --no-start-dev-server (or use --port).")
    if as_json and text is None and scenario_name is None:
        raise typer.BadParameter("--json is for one-shot runs: add --scenario NAME or a prompt.")
    try:
        _check(timeout, sandbox, task_queue)  # before anything starts: a bad value is one line, exit 2
        if base_url and not model:
            raise Failed("--base-url is where a live model is served: add --model, e.g. ollama:qwen3.")
    except Failed as exc:
        _refuse(exc)
    # Imported only now (~1.5 s: pydantic-ai, the scenarios), so that `--help` and the checks above answer at once.
    from durable_agents import live
    from durable_agents.demo.routes import UnknownScenario, prompt_plan, scenario, scenario_plan

    try:
        qualified = live.resolve(model, base_url, instead="Leave out --model") if model is not None else None
        chosen = scenario(scenario_name) if scenario_name else None
    except (live.LiveModelError, UnknownScenario) as exc:
        _refuse(exc)
    os.environ.setdefault("PYDANTIC_AI_NO_BANNER", "1")  # the terminal is for the runs
    kind = "time-skipping" if in_process else "dev" if start_dev_server else "existing"

    async def main() -> int:
        from durable_agents.demo.repl import Repl  # imported here: bad arguments are refused without the wait
        from durable_agents.demo.runner import Runner

        _log_to(sandbox / "demo.log")
        lab = await _start_lab(
            kind,
            address=address,
            port=port,
            ui_port=ui_port,
            sandbox=sandbox,
            profile=profile,
            task_queue=task_queue,
            quiet_stdout=as_json,
        )
        try:
            console = Console(stderr=as_json, highlight=False)
            one_shot = chosen is not None or text is not None
            link, no_link = _web_ui(lab.ui_url or ui_url, one_shot=one_shot, started=kind != "existing")
            runner = Runner(
                lab,
                console,
                model=qualified,
                ui_url=link,
                no_link=no_link,
                timeout=timeout,
                teaching_tools=teaching_tools,
                base_url=base_url,
            )
            target = lab.client.service_client.config.target_host
            console.print(
                f"Temporal server: {target} (namespace {lab.client.namespace}, {kind}); "
                f"worker {lab.identity} on task queue {task_queue}"
            )
            if chosen is not None:
                plan = scenario_plan(*chosen)
            elif text is not None:
                plan = prompt_plan(text, qualified)
            else:
                await Repl(runner).loop()
                return 0
            outcome = await runner.run(plan)
            if as_json:
                print(json.dumps(runner.summary(outcome), indent=2), flush=True)  # before the lab stops
            else:
                runner.show(outcome)
            return 0 if outcome.ok else 1
        finally:
            await lab.stop()

    _run(main())


def _refuse(exc: Exception) -> NoReturn:
    """Print a problem the user can fix as one red line on stderr, and exit with status 2."""
    Console(stderr=True, soft_wrap=True).print(f"[red]{escape(str(exc))}[/red]", highlight=False)
    raise typer.Exit(2) from None


def _web_ui(url: str | None, *, one_shot: bool, started: bool) -> tuple[str | None, str]:
    """The Web UI the run links to, or none and why: a one-shot run's own server stops when the command exits."""
    if started and one_shot:
        return None, (
            "none, the server stopped with the command. For a link that lasts, use the REPL, or your own "
            "server (`temporal server start-dev`) with --no-start-dev-server --ui-url http://127.0.0.1:8233"
        )
    if url is None and not started:
        return None, "pass --ui-url with this server's Web UI (a dev server's is on port 8233) for a link"
    return url, "none: the time-skipping test server (--in-process) has no Web UI"


def _check(timeout: float, sandbox: Path, task_queue: str) -> None:
    """Refuse the values that would fail only once a server has started (`Failed`, one line)."""
    if not math.isfinite(timeout) or timeout <= 0:
        raise Failed(f"--timeout {timeout:g}: give a run a positive number of seconds, e.g. --timeout 120.")
    if not task_queue.strip():
        raise Failed("--task-queue is empty: name a task queue, e.g. --task-queue durable-agents.")
    try:
        sandbox.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=sandbox).close()
    except OSError as exc:
        raise Failed(
            f"--sandbox {sandbox}: cannot write there ({exc.strerror or exc}). Pick a folder you can write."
        ) from None


def _log_to(path: Path) -> None:
    """Send the SDK's and the worker's log lines to `path`: the terminal shows the run's tree instead."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    for name in ("temporalio", "pydantic_ai"):
        log = logging.getLogger(name)
        log.addHandler(handler)
        log.propagate = False


@app.command()
def migration(
    workers: Annotated[int, typer.Option(min=1, help="Worker processes polling the task queue.")] = 2,
    children: Annotated[int, typer.Option(min=1, help="Subagents the parent spawns at once.")] = 3,
) -> None:
    """Worker processes on one task queue; a parent fans out subagents; print which worker ran each workflow."""
    from durable_agents.demo.migration import migration_demo

    _run(migration_demo(workers, children, Console(highlight=False)))


@app.command()
def fuzz(
    iterations: Annotated[int, typer.Option(min=1)] = 10,
    workers: Annotated[int, typer.Option(min=1)] = 2,
    max_n: Annotated[int, typer.Option(min=1, help="At most this many spawns (and writes) per run.")] = 4,
    kind: Annotated[str | None, typer.Option(help="One family: direct-spawns, ptc-spawns or ptc-mixed.")] = None,
    seed: Annotated[int, typer.Option()] = 0,
    identities: Annotated[bool, typer.Option(help="Print the worker identities of every workflow.")] = False,
) -> None:
    """Random fan-out shapes over worker processes: how often a child runs on another worker than its parent."""
    from durable_agents.demo.migration import fuzz_demo
    from durable_agents.lessons.migration import FAMILIES

    if kind is not None and kind not in FAMILIES:
        raise typer.BadParameter(f"Unknown family {kind!r}: use one of {', '.join(FAMILIES)}.", param_hint="--kind")
    _run(fuzz_demo(iterations, workers, max_n, kind, seed, identities, Console(highlight=False)))


def main() -> None:
    """The console script `durable-agents` (it leaves through `lab.exit.exit_now`: see why there)."""
    exit_now(lambda: app(prog_name="durable-agents"))
