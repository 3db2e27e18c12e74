"""Notebook 08 (long-running agents): start a `LongRunWorkflow`, answer it, and measure what it costs.

    job = await lab.start_long_run([call("delete_file", path="a.txt"), final("done")])
    calls = await job.wait_pending()              # what the run waits on (the `pending` query)
    await job.approve(calls[0].call_id)          # a person answers (the `answer` update)
    run = await job.result()                     # a `Run`, like `lab.run` gives

The drills here each start what they need: `deadline_drill` its own time-skipping lab,
`crash_drill` two worker processes on a queue of their own, `traced_run` a worker with
OpenTelemetry. The workflow code itself is in `durable_agents.workflows`.

Notebook 08's set-up cell imports from two places, `lessons.workbook` and this module: the package
code the notebook shows or uses is imported here as `name as name` (a re-export) for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import graphviz
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError, WorkflowHistory, WorkflowUpdateFailedError

from durable_agents.capabilities import approvals as approvals
from durable_agents.capabilities.yours import YOUR_TOOLS_ENV as YOUR_TOOLS_ENV
from durable_agents.errors import root_cause
from durable_agents.history import store
from durable_agents.history.render import Picture
from durable_agents.lab.lab import Lab
from durable_agents.lab.long_run import LongRunJob
from durable_agents.lab.run import Run
from durable_agents.lab.worker import make_worker
from durable_agents.lab.workers import WorkerPool
from durable_agents.lessons.exercises import (
    Check,
    finished_check,
)
from durable_agents.script import Step, call, final, parallel
from durable_agents.workflows import DAY, Answer, PendingCall
from durable_agents.workflows import LongRunWorkflow as LongRunWorkflow

# --- A person in the loop ------------------------------------------------------------------------


CLEANUP_SCRIPT: list[Step] = [
    parallel(*(call("write_file", path=p, content=f"{p} content") for p in ("old.log", "draft.txt", "notes.txt"))),
    parallel(*(call("delete_file", path=p) for p in ("old.log", "draft.txt", "notes.txt"))),
    final("cleaned up"),
]
"""The exercise's script: write three files, then ask to delete all three in one turn."""


PAY_SCRIPT: list[Step] = [
    parallel(call("pay", invoice="INV-1", amount=120), call("pay", invoice="INV-2", amount=9000)),
    final("paid"),
]
"""08's second exercise: pay two invoices in one turn, 120 EUR and 9,000 EUR (the reader's `pay` tool)."""


STILL_ASKING = "still asking after every call was approved"
"""The reason `approve_every_ask` gives when it terminates a run that would never stop asking."""


async def approve_every_ask(job: LongRunJob, timeout: float = 30) -> Run:
    """Approve every call the run asks about, as a person would, until it ends; the run's outcome.

    A run that asks again about a call it was given approval for (a tool that asks however often it
    is approved: it would never stop), or that is still going after `timeout` seconds, is terminated
    with `STILL_ASKING`, so the check can say so.
    """
    deadline = time.monotonic() + timeout
    approved: set[str] = set()
    while (await job.handle.describe()).status == WorkflowExecutionStatus.RUNNING:
        unanswered = [p.call_id for p in await job.pending() if p.answer is None]
        if time.monotonic() > deadline or approved.intersection(unanswered):
            await job.handle.terminate(reason=STILL_ASKING)
            break
        for call_id in unanswered:
            with contextlib.suppress(WorkflowUpdateFailedError):  # answered meanwhile: nothing to do
                await job.approve(call_id)
            approved.add(call_id)
        await asyncio.sleep(0.1)
    return await job.result(check=False)


def approval_buttons(job: LongRunJob, calls: Sequence[PendingCall]) -> Any:
    """Approve / deny buttons for each pending approval (ipywidgets); each click sends the update."""
    import ipywidgets as widgets

    rows = []
    for pending in calls:
        if pending.kind != "approval":
            continue
        status = widgets.Label("waiting")
        approve, deny = widgets.Button(description="approve"), widgets.Button(description="deny")

        def send(approved: bool, call_id: str = pending.call_id, status: widgets.Label = status) -> Any:
            async def go() -> None:
                try:
                    status.value = await job.answer(Answer(call_id, approve=approved, reason="denied in the notebook"))
                except Exception as exc:
                    status.value = f"refused: {getattr(exc, 'cause', None) or exc}"

            return lambda _button: asyncio.ensure_future(go())

        approve.on_click(send(True))
        deny.on_click(send(False))
        rows.append(widgets.HBox([widgets.Label(f"{pending.call_id}: {call_text(pending)}"), approve, deny, status]))
    return widgets.VBox(rows)


async def refusal(update: Awaitable[Any]) -> str | None:
    """Send an update; the reason it was refused (the validator's message), or None if accepted."""
    try:
        await update
    except WorkflowUpdateFailedError as exc:
        return str(exc.cause)
    return None


class AnswerRefused(RuntimeError):
    """The workflow's validator refused an update; the message is its reason (no SDK traceback to read)."""


async def sent(update: Awaitable[Any]) -> Any:
    """Send an update and return the workflow's reply; a refusal raises `AnswerRefused` with the validator's
    reason as its last line, instead of a long traceback through the SDK's client."""
    reason = None
    try:
        return await update
    except WorkflowUpdateFailedError as exc:
        reason = str(exc.cause)
    raise AnswerRefused(f"the workflow refused the update: {reason}")


def call_text(pending: PendingCall) -> str:
    """`delete_file(path='a.txt')`: the call as the model made it."""
    return f"{pending.tool}({', '.join(f'{k}={v!r}' for k, v in pending.args.items())})"


def pending_table(calls: Sequence[PendingCall]) -> list[dict[str, Any]]:
    """Rows for `table()`: one per pending call."""
    return [
        {"call id": c.call_id, "kind": c.kind, "call": call_text(c), "answer": c.answer or "—", "by": c.by}
        for c in calls
    ]


@dataclass
class DeadlineDrill:
    """A run nobody answered: how long the deadline was, how long it took, what the model was told."""

    run: Run
    deadline: float
    wall_seconds: float
    told: str


async def deadline_drill(deadline: float = DAY, on_timeout: Literal["deny", "approve"] = "deny") -> DeadlineDrill:
    """Start a time-skipping lab beside the notebook's, run an approval nobody answers, and time it.

    The time-skipping server skips a timer as soon as nothing else can happen, so a one-day wait
    passes in about a second of wall time; the history records the timer as fired.
    """
    lab = await Lab.start("time-skipping", ui=False, replace_current=False)
    try:
        script: list[Step] = [
            call("write_file", path="a.txt", content="keep me?"),
            call("delete_file", path="a.txt"),
            final("ok"),
        ]
        job = await lab.start_long_run(script, answer_within=deadline, on_timeout=on_timeout)
        started = time.monotonic()
        run = await job.result()
        wall = time.monotonic() - started
    finally:
        await lab.stop()
    told = next(t for t in run.told() if "answered within" in t)
    return DeadlineDrill(run, deadline, wall, told)


@dataclass
class CrashDrill:
    """A run whose worker process was killed while it waited for a person; a new worker finished it."""

    run: Run
    killed: str
    finished_by: str
    pending: list[PendingCall]


CRASH_QUEUE = "durable-agents-crash-drill"


def start_waiter(lab: Lab) -> asyncio.Task[WorkerPool]:
    """Start the crash drill's worker process now, in the background (a process takes seconds to start)."""
    return asyncio.ensure_future(WorkerPool.start(lab, 1, prefix="waiter", task_queue=CRASH_QUEUE))


async def crash_drill(lab: Lab, waiter: asyncio.Task[WorkerPool] | None = None) -> CrashDrill:
    """A worker process on a queue of its own (`waiter`, from `start_waiter`) runs the workflow until it
    waits for an approval; the process is killed (SIGKILL); a new worker (in this kernel) starts on
    that queue, the approval is sent, and the new worker finishes the run from the history."""
    pool = await (waiter or start_waiter(lab))
    try:
        script: list[Step] = [
            call("write_file", path="draft.txt", content="old"),
            call("delete_file", path="draft.txt"),
            final("draft deleted"),
        ]
        job = await lab.start_long_run(script, task_queue=CRASH_QUEUE)
        pending = await job.wait_pending()
        killed = last_workflow_worker(await job.handle.fetch_history())
        pool.kill(killed)
    finally:
        await pool.stop()
    async with make_worker(lab.client, CRASH_QUEUE, f"finisher-{lab.identity}"):
        await job.approve(pending[0].call_id)
        run = await job.result()
    return CrashDrill(run, killed, last_workflow_worker(run.histories[run.workflow_id]), pending)


def last_workflow_worker(history: WorkflowHistory) -> str:
    """The identity of the worker that completed the history's last workflow task."""
    return next(
        e.workflow_task_completed_event_attributes.identity
        for e in reversed(history.events)
        if e.HasField("workflow_task_completed_event_attributes")
    )


# --- Histories that stay small -------------------------------------------------------------------


def pages_script(turns: int, size: int = 1000) -> list[Step]:
    """`turns` model turns, each fetching a page of `size` characters, then an answer."""
    return [*(call("fetch_page", n=i, size=size) for i in range(turns)), final(f"read {turns} pages")]


def history_bytes(history: WorkflowHistory) -> int:
    """The history's size as the server counts it: its events, serialised (protobuf)."""
    return sum(e.ByteSize() for e in history.events)


def chain_rows(chain: Sequence[WorkflowHistory]) -> list[dict[str, Any]]:
    """One row per run of a continue-as-new chain: events, size, model requests, how it ended."""
    rows = []
    for n, history in enumerate(chain, 1):
        last = history.events[-1]
        ended = "continued as new" if last.HasField("workflow_execution_continued_as_new_event_attributes") else ""
        ended = ended or ("completed" if last.HasField("workflow_execution_completed_event_attributes") else "other")
        models = sum(1 for e in history.events if _is_model_request(e))
        rows.append(
            {
                "run": n,
                "run id": history.events[0].workflow_execution_started_event_attributes.original_execution_run_id[:8],
                "events": len(history.events),
                "KB": round(history_bytes(history) / 1024, 1),
                "model requests": models,
                "ended": ended,
            }
        )
    return rows


class ChainDiagram(Picture):
    """A continue-as-new chain drawn: one box per run, linked by `continued as new`, `PER_ROW` runs a row.

    A long chain wraps onto more rows (the last run of a row leads down to the first of the next),
    so it stays inside a notebook's output area at the size its text is drawn."""

    PER_ROW = 3

    def __init__(self, chain: Sequence[WorkflowHistory]) -> None:
        font = {"fontname": "Helvetica", "fontsize": "10"}
        graph = graphviz.Digraph(
            "chain", graph_attr={"rankdir": "TB", "nodesep": "0.5", "ranksep": "0.45", **font}, node_attr=font
        )
        rows = chain_rows(chain)
        for row in rows:
            label = f"run {row['run']}\n{row['events']} events, {row['KB']} KB\n{row['model requests']} model requests"
            colour = "#dcfce7" if row["ended"] == "completed" else "#dbeafe"
            graph.node(f"r{row['run']}", label, shape="box", style="rounded,filled", fillcolor=colour)
        for start in range(0, len(rows), self.PER_ROW):
            with graph.subgraph() as line:
                line.attr(rank="same")
                for row in rows[start : start + self.PER_ROW]:
                    line.node(f"r{row['run']}")
        for a, b in zip(rows, rows[self.PER_ROW :], strict=False):  # columns: each row under the one before
            graph.edge(f"r{a['run']}", f"r{b['run']}", style="invis", weight="10")
        for a, b in itertools.pairwise(rows):
            wraps = a["run"] % self.PER_ROW == 0  # from the end of a row back to the start of the next
            graph.edge(
                f"r{a['run']}",
                f"r{b['run']}",
                label="continued\nas new",
                fontsize="9",
                fontname="Helvetica",
                **({"constraint": "false"} if wraps else {}),
            )
        super().__init__(graph.source)


Variant = Literal["one history", "continue-as-new", "compaction"]
VARIANTS: tuple[Variant, ...] = ("one history", "continue-as-new", "compaction")


@dataclass
class Growth:
    """One long run per variant, and what its histories held after each number of turns."""

    rows: list[dict[str, Any]]
    answers: dict[str, str]
    chains: dict[str, list[WorkflowHistory]]


async def measure_growth(
    lab: Lab, marks: Sequence[int] = (10, 30, 60), page_size: int = 1000, variants: Sequence[Variant] = VARIANTS
) -> Growth:
    """Run `pages_script(max(marks))` once per variant, all at once, and read each chain at each mark.

    A run of n turns is, event for event, the start of a longer run of the same script, so the
    history after n turns is read as a prefix: everything up to the model request that follows the
    n-th tool result. Per mark and variant: how many runs the chain had by then, the largest run
    (events, KB), and the largest single model request (KB).
    """

    async def one(variant: Variant) -> tuple[str, list[WorkflowHistory]]:
        agent = "compacting" if variant == "compaction" else "long_run"
        script = pages_script(max(marks), page_size)
        job = await lab.start_long_run(script, agent=agent, continue_as_new=variant == "continue-as-new")
        run = await job.result()
        return str(run.output), await job.chain()

    done = dict(zip(variants, await asyncio.gather(*(one(v) for v in variants)), strict=True))
    rows = [
        {"turns": mark, "variant": variant, **_prefix_sizes(chain, mark)}
        for mark in marks
        for variant, (_, chain) in done.items()
    ]
    return Growth(rows, {v: a for v, (a, _) in done.items()}, {v: c for v, (_, c) in done.items()})


def _is_model_request(event: Any) -> bool:
    return event.HasField("activity_task_scheduled_event_attributes") and (
        "__model_request" in event.activity_task_scheduled_event_attributes.activity_type.name
    )


def _prefix_sizes(chain: Sequence[WorkflowHistory], turns: int) -> dict[str, Any]:
    """The chain up to (and with) model request `turns + 1`: runs, largest run, largest request."""
    requests, runs, largest_events, largest_bytes, largest_request, total = 0, 0, 0, 0, 0, 0
    for history in chain:
        runs += 1
        events, size = 0, 0
        for event in history.events:
            events += 1
            size += event.ByteSize()
            if _is_model_request(event):
                requests += 1
                payload = sum(p.ByteSize() for p in event.activity_task_scheduled_event_attributes.input.payloads)
                largest_request = max(largest_request, payload)
                if requests == turns + 1:
                    break
        largest_events, largest_bytes, total = max(largest_events, events), max(largest_bytes, size), total + size
        if requests == turns + 1:
            break
    return {
        "runs so far": runs,
        "events (largest run)": largest_events,
        "KB (largest run)": round(largest_bytes / 1024, 1),
        "KB (all runs)": round(total / 1024, 1),
        "largest model request KB": round(largest_request / 1024, 1),
    }


def plot_growth(rows: Sequence[dict[str, Any]]) -> Any:
    """Two panels: the largest history per run, and the largest model request, against turns."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    for variant in VARIANTS:
        mine = sorted((r for r in rows if r["variant"] == variant), key=lambda r: r["turns"])
        if not mine:
            continue
        x = [r["turns"] for r in mine]
        left.plot(x, [r["KB (largest run)"] for r in mine], marker="o", label=variant)
        right.plot(x, [r["largest model request KB"] for r in mine], marker="o", label=variant)
    left.set(title="largest history of one run", xlabel="turns", ylabel="KB")
    right.set(title="largest model request", xlabel="turns", ylabel="KB")
    left.legend()
    fig.tight_layout()
    plt.close(fig)
    return fig


async def oversize_rows(lab: Lab, size: int = 200_000) -> list[dict[str, Any]]:
    """Download `size` bytes and summarise them: inline (the bytes in the history) or kept in the
    sandbox (a reference in the history). Per way: history KB, events, the answer."""

    async def one(keep: str) -> dict[str, Any]:
        script: list[Step] = [
            call("download", name="report.txt", size=size, keep=keep),
            call("list_files"),
            final("summarised"),
        ]
        job = await lab.start_long_run(script)
        run = await job.result()
        history = run.histories[run.workflow_id]
        return {
            "kept": keep,
            "download": f"{size // 1000} KB",
            "history KB": round(history_bytes(history) / 1024, 1),
            "events": len(history.events),
            "files left": ", ".join(run.files()) or "—",
        }

    return [await one("inline"), await one("sandbox")]


async def oversize_inline(lab: Lab, size: int = 3_000_000, wait: float = 8) -> str:
    """Return a result over the 2 MB payload limit inline and report what happens within `wait` s."""
    job = await lab.start_long_run([call("download", name="huge.txt", size=size), final("never")])
    try:
        await asyncio.wait_for(job.handle.result(), wait)
        return "completed (no error)"
    except WorkflowFailureError as exc:
        return f"failed: {exc.cause or exc}"
    except TimeoutError:
        history = await job.handle.fetch_history()
        failures = [
            e.activity_task_failed_event_attributes.failure.message
            for e in history.events
            if e.HasField("activity_task_failed_event_attributes")
        ]
        with contextlib.suppress(Exception):
            await job.handle.terminate(reason="oversize drill over")
        return f"still running after {wait} s; activity failures recorded: {failures or 'none'}"


# --- Traces --------------------------------------------------------------------------------------

TRACE_QUEUE = "durable-agents-traced"


@dataclass
class Trace:
    """The spans of one traced run, as exported (in memory), and the run."""

    run: Run
    spans: list[Any]

    def rows(self) -> list[dict[str, Any]]:
        """One row per span, indented under its parent, in start order: name, kind, ms, trace id."""
        by_id = {s.context.span_id: s for s in self.spans}

        def depth(span: Any) -> int:
            d = 0
            while span.parent is not None and span.parent.span_id in by_id:
                span, d = by_id[span.parent.span_id], d + 1
            return d

        return [
            {
                "span": "· " * depth(s) + s.name,
                "ms": round((s.end_time - s.start_time) / 1e6, 1) if s.end_time else "",
                "trace": f"{s.context.trace_id:032x}"[:8],
            }
            for s in sorted(self.spans, key=lambda s: s.start_time)
        ]

    @property
    def trace_ids(self) -> set[int]:
        return {s.context.trace_id for s in self.spans}


@functools.cache
def _tracing() -> tuple[Any, Any]:
    """Once per process: a replay-safe tracer provider exporting to memory, set as the global one."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from temporalio.contrib.opentelemetry import create_tracer_provider

    exporter = InMemorySpanExporter()
    provider = create_tracer_provider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider, exporter


async def traced_run(lab: Lab, script: Sequence[Step | dict[str, Any]], agent: str = "demo") -> Trace:
    """Run `DemoAgentWorkflow` on a worker with Temporal's OpenTelemetry plugin and Pydantic AI's
    instrumentation, exporting every span to memory (nothing leaves the process).

    The worker is a second one in this kernel, on a queue of its own, so the lab's worker stays as
    it was; the instrumentation is switched off again afterwards.
    """
    from pydantic_ai import Agent
    from pydantic_ai.models.instrumented import InstrumentationSettings
    from temporalio.client import Client
    from temporalio.contrib.opentelemetry import OpenTelemetryPlugin

    from durable_agents.workflows import DemoAgentWorkflow

    provider, exporter = _tracing()
    exporter.clear()
    config = lab.client.config()
    config["plugins"] = [*config["plugins"], OpenTelemetryPlugin(add_temporal_spans=True)]
    client = Client(**config)
    wid, request = lab.request(script, agent=agent)
    Agent.instrument_all(InstrumentationSettings(tracer_provider=provider))
    try:
        async with make_worker(client, TRACE_QUEUE, f"traced-{lab.identity}"):
            started = time.monotonic()
            output = await client.execute_workflow(DemoAgentWorkflow.run, request, id=wid, task_queue=TRACE_QUEUE)
    finally:
        Agent.instrument_all(False)
    histories = await store.fetch_histories(lab.client, wid)
    run = Run(wid, output, Path(request.sandbox_dir), histories, None, time.monotonic() - started)
    provider.force_flush()
    return Trace(run, list(exporter.get_finished_spans()))


# --- The exercises' checks -------------------------------------------------------------------------


def check_long_running(run: Run) -> Check:
    """Exercise 08: of the three deletions the agent asks for, approve `old.log` and `draft.txt`,
    deny `notes.txt` with a reason the model reads."""
    check = finished_check("08 · a person decides", run)
    if not check.passed:
        return check
    files = run.files()
    check.require("notes.txt" in files, "notes.txt was deleted: deny its call (approve=False).")
    for path in ("old.log", "draft.txt"):
        check.require(path not in files, f"{path} is still in the sandbox: approve its call (approve=True).")
    told = "\n".join(run.told())
    check.require("denied by default" not in told, "A call waited out its deadline: answer every pending call.")
    check.require(
        "no reason given" not in told,
        "The model was told no reason for the denial: pass reason='...' with it; the model reads it.",
    )
    return check


YOUR_LONG_QUEUE = "your-approvals"
"""The task queue of the worker process that loads the reader's approval tool (notebook 08)."""


def check_your_approval(run: Run) -> Check:
    """Exercise 08, the second: the reader's `pay` tool pays up to 1,000 at once and asks a person above that.

    Read from the history: `INV-1` (120) is paid in the first agent run, before the wait for a
    person (a timer); `INV-2` (9,000) is paid only after it (the person approved it).
    """
    check = Check("08 · your own approval-gated tool")
    steps = run.graph().steps
    waits = [s.event_id for s in steps if s.kind == "timer"]
    if not check.require(
        len(waits) <= 1,
        f"The run asked a person {len(waits)} times: INV-2 was approved, then asked about again. Once a call "
        "is approved, the tool is called with `ctx.tool_call_approved` True: pay then instead of raising.",
    ):
        return check
    if not check.require(run.error is None, f"The run failed: `{root_cause(run.error)}`."):
        return check
    paid = {inv: [s for s in steps if s.label == "pay" and inv in s.detail and "paid" in s.result] for inv in INVOICES}
    if not check.require(
        any(s.label == "pay" for s in steps),
        "No `pay` activity ran: does your file's `CAPABILITY` give a toolset with `pay`, and did you rerun the "
        "`%%writefile` cell, then the cell that starts the worker?",
    ):
        return check
    small, large = paid["INV-1"], paid["INV-2"]
    check.require(
        bool(small) and (not waits or small[0].event_id < waits[0]),
        "The 120 EUR payment waited for a person (it was paid only after the wait): only payments over "
        "1,000 need approval. Raise `ApprovalRequired()` only when `amount > 1000`.",
    )
    check.require(
        bool(waits),
        "The run never waited for a person: the 9,000 EUR payment went through unasked. In `pay`, when "
        "`amount > 1000` and not `ctx.tool_call_approved`, raise `ApprovalRequired()`.",
    )
    if waits:
        check.require(
            bool(large) and large[-1].event_id > waits[0],
            "INV-2 was not paid after the person approved it: the model was told "
            f"{next((t for t in run.told() if 'INV-2' in t), 'nothing about INV-2')!r}. Once approved, "
            "`ctx.tool_call_approved` is True: pay then.",
        )
    return check


INVOICES = {"INV-1": 120, "INV-2": 9000}
"""08's second exercise: the invoices the script pays, and their amounts in EUR."""
