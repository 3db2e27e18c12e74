"""The scenario matrix: each scenario is a model script, the files it must leave in its sandbox,
and the shape its Temporal history must have. `tests/test_scenarios.py` runs every row.

A history's *shape* is the list of its steps in order, one string each (see `shape()`):
`model` for a model request, the tool's name for a tool activity, several names joined by ` | `
for calls scheduled together (parallel tool calls), `×N` after a step that took N attempts and
`!` after one that failed for good, ` cancelled` after one that was cancelled. Workflow-native
tools and unknown tools leave no step; a timer shows as `timer <duration>`; a
child workflow shows as `<subagent>[<its shape>]`, so `spawn` itself is never an activity; the
calls made inside a `run_code` snippet show as `run_code{<calls>}`, and `run_code` is never one either.

`LONG_RUN_SCENARIOS` are runs of `LongRunWorkflow` (notebook 08), with the answers a person sends
while the run waits; `tests/test_long_running.py` runs every row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from durable_agents.deps import REQUEST_LIMIT, ParentClose
from durable_agents.script import Step, call, code, final, model_flaky, model_rejects, parallel, spawn
from durable_agents.workflows import DAY, Answer


@dataclass(frozen=True)
class Scenario:
    """One row of the matrix."""

    script: list[Step]
    shape: list[str]
    files: dict[str, str] = field(default_factory=dict)
    agent: str = "demo"
    output: str | None = None
    """The answer the run must give; None means the workflow must fail."""
    told: list[str] = field(default_factory=list)
    """Phrases the model must have been told (tool results and retry prompts)."""
    cancel_after: float | None = None
    """Cancel the workflow this many seconds after it starts, as an operator would."""
    terminate_after: float | None = None
    """Terminate the workflow this many seconds after it starts."""
    after_tool: str | None = None
    """Count `cancel_after` / `terminate_after` from when this tool is first scheduled (a subagent's
    too), so the operator interrupts it however slowly a busy machine got there."""
    parent_close: ParentClose = "TERMINATE"
    """The parent-close policy of the run's subagents."""
    request_limit: int = REQUEST_LIMIT
    """How many model requests the run may make."""

    @property
    def status(self) -> str:
        """The workflow's final status."""
        if self.cancel_after or self.terminate_after:
            return "cancelled" if self.cancel_after else "terminated"
        return "failed" if self.output is None else "completed"

    def run_options(self) -> dict[str, Any]:
        """The keyword arguments of `Lab.run` this row needs."""
        return {
            "agent": self.agent,
            "cancel_after": self.cancel_after,
            "terminate_after": self.terminate_after,
            "after_tool": self.after_tool,
            "parent_close": self.parent_close,
            "request_limit": self.request_limit,
        }


SCENARIOS: dict[str, Scenario] = {
    "tools_are_activities": Scenario(
        script=[
            call("write_file", path="notes/a.txt", content="alpha"),
            call("read_file", path="notes/a.txt"),
            final("done"),
        ],
        shape=["model", "write_file", "model", "read_file", "model"],
        files={"notes/a.txt": "alpha"},
        output="done",
        told=["wrote 5 characters", "alpha"],
    ),
    "parallel_calls": Scenario(
        script=[
            parallel(call("write_file", path="a.txt", content="a"), call("write_file", path="b.txt", content="b")),
            final("two"),
        ],
        shape=["model", "write_file | write_file", "model"],
        files={"a.txt": "a", "b.txt": "b"},
        output="two",
    ),
    "workflow_native_tool": Scenario(
        script=[call("word_count", text="one two three"), final("counted")],
        shape=["model", "model"],
        output="counted",
        told=["3"],
    ),
    "sandbox_escape_is_model_visible": Scenario(
        script=[call("write_file", path="../outside.txt", content="x"), final("refused")],
        shape=["model", "write_file", "model"],
        output="refused",
        told=["outside the sandbox"],
    ),
    "unknown_tool_is_model_visible": Scenario(
        script=[call("delete_everything"), final("sorry")],
        shape=["model", "model"],
        output="sorry",
        told=["Unknown tool name: 'delete_everything'"],
    ),
    "bad_arguments_are_model_visible": Scenario(
        script=[call("write_file", path="a.txt"), final("fixed")],
        shape=["model", "model"],
        output="fixed",
        told=["content", "Field required"],
    ),
    "retryable_failure_retries_in_temporal": Scenario(
        script=[call("flaky", fail_times=2), final("recovered")],
        shape=["model", "flaky ×3", "model"],
        output="recovered",
        told=["succeeded on attempt 3"],
    ),
    "validation_failure_is_not_retried": Scenario(
        script=[call("check_positive", value=-1), call("check_positive", value=2), final("ok")],
        shape=["model", "check_positive", "model", "check_positive", "model"],
        output="ok",
        told=["value must be positive", "2 is positive"],
    ),
    "execution_failure_is_final": Scenario(
        script=[call("lookup", key="k1"), final("missing")],
        shape=["model", "lookup", "model"],
        output="missing",
        told=["no record 'k1'"],
    ),
    "retries_exhausted_fail_the_workflow": Scenario(
        script=[call("flaky", fail_times=10), final("never")],
        shape=["model", "flaky ×5 !"],
    ),
    "custom_capability": Scenario(
        script=[call("save_note", title="todo", body="buy milk"), final("noted")],
        shape=["model", "save_note", "model"],
        files={"notes/todo.txt": "buy milk"},
        agent="notes_demo",
        output="noted",
    ),
    "mcp_tools_are_activities": Scenario(
        script=[call("convert_length", value=1, from_unit="mi", to_unit="km"), final("1.609 km")],
        shape=["get_tools", "model", "convert_length", "model"],
        agent="mcp_demo",
        output="1.609 km",
        told=["1.609344"],
    ),
    "legacy_wrapper_same_shape": Scenario(
        script=[call("write_file", path="a.txt", content="old"), final("same")],
        shape=["model", "write_file", "model"],
        files={"a.txt": "old"},
        agent="legacy",
        output="same",
    ),
    "spawn_is_a_child_workflow": Scenario(
        script=[
            call("write_file", path="plan.txt", content="three steps"),
            spawn("researcher", "Summarise plan.txt", [call("read_file", path="plan.txt"), final("3 steps")]),
            final("summarised"),
        ],
        shape=["model", "write_file", "model", "researcher[model, read_file, model]", "model"],
        files={"plan.txt": "three steps"},
        output="summarised",
        told=["3 steps"],
    ),
    "parallel_spawns_run_together": Scenario(
        script=[
            parallel(
                spawn("generic", "write a", [call("write_file", path="a.txt", content="a"), final("a")]),
                spawn("generic", "write b", [call("write_file", path="b.txt", content="b"), final("b")]),
            ),
            final("both"),
        ],
        shape=["model", "generic[model, write_file, model] | generic[model, write_file, model]", "model"],
        files={"a.txt": "a", "b.txt": "b"},
        output="both",
    ),
    "nested_spawn": Scenario(
        script=[
            spawn(
                "generic", "delegate", [spawn("researcher", "look", [call("list_files"), final("seen")]), final("ok")]
            ),
            final("nested"),
        ],
        shape=["model", "generic[model, researcher[model, list_files, model], model]", "model"],
        output="nested",
    ),
    "unknown_subagent_is_model_visible": Scenario(
        script=[call("spawn", agent_name="poet", task="a poem"), final("no poet")],
        shape=["model", "model"],
        output="no poet",
        told=["No subagent 'poet'. The roster has: generic, researcher."],
    ),
    "depth_limit_is_model_visible": Scenario(
        script=[
            spawn(
                "generic",
                "1",
                [
                    spawn(
                        "generic",
                        "2",
                        [
                            spawn("generic", "3", [spawn("generic", "4", [final("too deep")]), final("3 done")]),
                            final("2 done"),
                        ],
                    ),
                    final("1 done"),
                ],
            ),
            final("top"),
        ],
        shape=["model", "generic[model, generic[model, generic[model, model], model], model]", "model"],
        output="top",
        told=["1 done"],
    ),
    "ptc_inner_calls_are_activities": Scenario(
        script=[code('await write_file(path="a.txt", content="alpha")\nawait read_file(path="a.txt")'), final("ok")],
        shape=["model", "run_code{write_file, read_file}", "model"],
        files={"a.txt": "alpha"},
        agent="ptc",
        output="ok",
        told=["alpha"],
    ),
    "ptc_loop": Scenario(
        script=[
            code('for i in range(3):\n    await write_file(path=f"f{i}.txt", content=str(i * i))\nawait list_files()'),
            final("three"),
        ],
        shape=["model", "run_code{write_file, write_file, write_file, list_files}", "model"],
        files={"f0.txt": "0", "f1.txt": "1", "f2.txt": "4"},
        agent="ptc",
        output="three",
        told=["['f0.txt', 'f1.txt', 'f2.txt']"],
    ),
    "ptc_gathers_activities_and_spawns": Scenario(
        script=[
            code(
                "import asyncio\n"
                'await asyncio.gather(write_file(path="a.txt", content="a"), '
                'spawn(agent_name="researcher", task="list"), write_file(path="b.txt", content="b"))',
                scripts={"list": [call("list_files"), final("listed")]},
            ),
            final("gathered"),
        ],
        shape=["model", "run_code{write_file, researcher[model, list_files, model], write_file}", "model"],
        files={"a.txt": "a", "b.txt": "b"},
        agent="ptc",
        output="gathered",
        told=["listed"],
    ),
    "ptc_first_failure_cancels_siblings": Scenario(
        script=[
            code(
                "import asyncio\n"
                "await asyncio.gather(slow(seconds=5), slow(seconds=1, fail=True), "
                'spawn(agent_name="generic", task="wait"))',
                scripts={"wait": [call("slow", seconds=5), final("waited")]},
            ),
            final("handled"),
        ],
        shape=["model", "run_code{slow cancelled, slow, generic cancelled[model, slow cancelled]}", "model"],
        agent="ptc",
        output="handled",
        told=["gave up after 1.0 s"],
    ),
    "ptc_hostile_code_is_model_visible": Scenario(
        script=[
            code("open('/etc/passwd').read()"),  # first: only a session's first snippet is type-checked
            code("import os\nos.listdir('/')"),
            code("x = [0] * (10**10)"),
            final("contained"),
        ],
        shape=["model", *["run_code{}", "model"] * 3],
        agent="ptc",
        output="contained",
        told=["Name `open` used when not defined", "PermissionError", "MemoryError: memory limit exceeded"],
    ),
    "ptc_runaway_loop_is_stopped": Scenario(
        script=[code("while True:\n    pass"), code("await write_file(path='after.txt', content='ok')"), final("ok")],
        shape=["model", "run_code{}", "model", "run_code{write_file}", "model"],
        files={"after.txt": "ok"},
        agent="ptc",
        output="ok",
        told=["Your code was stopped because it reached the time limit"],
    ),
    # Issue 15: nothing hangs, everything is told.
    "file_errors_are_model_visible": Scenario(
        script=[
            call("read_file", path="a\x00b"),
            call("write_file", path="d/f", content="x"),
            call("write_file", path="d", content="y"),
            call("write_file", path="n" * 300, content="x"),
            final("told"),
        ],
        shape=["model", "read_file", "model", "write_file", "model", "write_file", "model", "write_file", "model"],
        files={"d/f": "x"},
        output="told",
        told=["contains a NUL character", "a file and a folder cannot share a name", "is too long"],
    ),
    "ptc_file_errors_are_model_visible": Scenario(
        script=[
            code("await write_file(path='d/f', content='x')\nawait write_file(path='d', content='y')"),
            final("ok"),
        ],
        shape=["model", "run_code{write_file, write_file}", "model"],
        files={"d/f": "x"},
        agent="ptc",
        output="ok",
        told=["a file and a folder cannot share a name"],
    ),
    "bad_calls_in_a_row_get_retry_prompts": Scenario(
        script=[
            call("check_positive", value=-1),
            call("check_positive", value=-2),
            call("check_positive", value=3),
            final("ok"),
        ],
        shape=["model", "check_positive", "model", "check_positive", "model", "check_positive", "model"],
        output="ok",
        told=["got -1", "got -2", "3 is positive"],
    ),
    "ptc_huge_output_is_cut_for_the_model": Scenario(
        script=[code("print('x' * 50_000_000)"), code("'y' * 3_000_000"), final("cut")],
        shape=["model", "run_code{}", "model", "run_code{}", "model"],
        agent="ptc",
        output="cut",
        told=["[cut: ", "Print or return less"],
    ),
    # Issue 25: model-written values, cut reasons, deep paths.
    "ptc_unsendable_results_are_model_visible": Scenario(
        script=[
            code("b'\\xff'"),
            code("x = []\nfor i in range(300):\n    x = [x]\nx"),
            code("x = []\nfor i in range(3000):\n    x = [x]\nx"),
            code("'three retry prompts in a row are the budget: one call that works'"),
            code("x = {}\nfor i in range(3000):\n    x = {'a': x}\nx"),
            final("told"),
        ],
        shape=["model", *["run_code{}", "model"] * 5],
        agent="ptc",
        output="told",
        told=["invalid utf-8", "Maximum serialization depth exceeded", "it is nested too deep", "Return plain data"],
    ),
    "ptc_failure_reason_survives_the_cut": Scenario(
        script=[
            code("print('x' * 200_000)\nraise ValueError('THE REAL REASON')"),
            code("print('y' * 200_000)\nwhile True:\n    pass"),
            code("x = (" + "1, " * 60_000 + "\nprint(x"),
            code("'three retry prompts in a row are the budget: one call that works'"),
            code("for i in range(10**7):\n    print(i)"),
            final("told"),
        ],
        shape=["model", *["run_code{}", "model"] * 5],
        agent="ptc",
        output="told",
        told=[
            "ValueError: THE REAL REASON",
            "reached the time limit",
            "unexpected EOF",
            "MemoryError",
            "The end follows",
        ],
    ),
    "deep_paths_are_model_visible": Scenario(
        script=[call("write_file", path="d/" * 2000 + "x", content="x"), final("told")],
        shape=["model", "write_file", "model"],
        output="told",
        told=["has too many folders"],
    ),
    "a_note_clashing_with_a_folder_is_model_visible": Scenario(
        script=[call("save_note", title="x", body="a"), call("save_note", title="x.txt/y", body="b"), final("told")],
        shape=["model", "save_note", "model", "save_note", "model"],
        files={"notes/x.txt": "a"},
        agent="notes_demo",
        output="told",
        told=["a file and a folder cannot share a name"],
    ),
    "a_long_script_with_a_raised_request_limit": Scenario(
        script=[*[call("word_count", text="a b")] * 55, final("long")],
        shape=["model"] * 56,
        output="long",
        request_limit=60,
    ),
    "start_to_close_timeout": Scenario(
        script=[call("stuck", seconds=10), final("never")],
        shape=["model", "stuck ×2 timed_out"],
    ),
    "transient_model_failure_retries": Scenario(
        script=[model_flaky(call("list_files"), times=2), final("listed")],
        shape=["model ×3", "list_files", "model"],
        output="listed",
    ),
    "rejected_model_request_is_not_retried": Scenario(
        script=[call("list_files"), model_rejects()],
        shape=["model", "list_files", "model !"],
    ),
    "child_failure_is_model_visible": Scenario(
        script=[spawn("generic", "break", [call("list_files")]), final("the subagent failed")],
        shape=["model", "generic ![model, list_files, model !]", "model"],
        output="the subagent failed",
        told=["Subagent 'generic'", "ran out of steps"],
    ),
    "parent_cancel_interrupts_a_tool": Scenario(
        script=[call("slow", seconds=5), final("never")],
        shape=["model", "slow cancelled"],
        cancel_after=0.3,
        after_tool="slow",
    ),
    "parent_cancel_interrupts_a_child": Scenario(
        script=[spawn("generic", "wait", [call("slow", seconds=5), final("waited")]), final("never")],
        shape=["model", "generic cancelled[model, slow cancelled]"],
        cancel_after=0.3,
        after_tool="slow",
    ),
    "parent_cancel_interrupts_ptc_calls": Scenario(
        script=[code("import asyncio\nawait asyncio.gather(slow(seconds=5), slow(seconds=5))"), final("never")],
        shape=["model", "run_code{slow cancelled, slow cancelled}"],
        agent="ptc",
        cancel_after=0.3,
        after_tool="slow",
    ),
    # The child's tool outlasts the interruption by seconds where the parent's close reaches it
    # (terminated, cancelled); where it does not (abandoned), the child finishes, so its tool is short.
    "parent_close_terminate": Scenario(
        script=[spawn("generic", "work", [call("slow", seconds=5), final("done")]), final("never")],
        shape=["model", "generic terminated[model, slow]"],
        terminate_after=0.3,
        after_tool="slow",
    ),
    "parent_close_request_cancel": Scenario(
        script=[spawn("generic", "work", [call("slow", seconds=5), final("done")]), final("never")],
        shape=["model", "generic cancelled[model, slow cancelled]"],
        terminate_after=0.3,
        after_tool="slow",
        parent_close="REQUEST_CANCEL",
    ),
    "parent_close_abandon": Scenario(
        script=[spawn("generic", "work", [call("slow", seconds=1.5), final("done")]), final("never")],
        shape=["model", "generic[model, slow, model]"],
        terminate_after=0.3,
        after_tool="slow",
        parent_close="ABANDON",
    ),
}


class GraphStep(Protocol):
    """What `shape` reads of a step of a workflow graph (`durable_agents.history.graph.Step`)."""

    @property
    def kind(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def batch(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def attempts(self) -> int: ...
    @property
    def child(self) -> GraphNode | None: ...
    @property
    def inner(self) -> Sequence[GraphStep]: ...


class GraphNode(Protocol):
    """What `shape` reads of a workflow graph (`durable_agents.history.graph.WorkflowNode`): described
    here, as the runtime may not import the `history/` wing."""

    @property
    def status(self) -> str: ...
    @property
    def steps(self) -> Sequence[GraphStep]: ...


def shape(node: GraphNode) -> list[str]:
    """The shape of a workflow graph (`durable_agents.history.graph.WorkflowNode`), as described above."""
    batches: dict[int, list[GraphStep]] = {}
    for step in node.steps:
        batches.setdefault(step.batch, []).append(step)
    out = []
    for steps in batches.values():
        out.append(" | ".join(_step_text(s) for s in steps))
    return out


def _step_text(step: GraphStep) -> str:
    if step.kind == "child" and step.child is not None:
        return f"{step.label}{_mark(step.child.status)}[{', '.join(shape(step.child))}]"
    if step.kind == "code":
        return f"run_code{{{', '.join(_step_text(s) for s in step.inner)}}}"
    text = "model" if step.kind == "model" else step.label
    if step.attempts > 1:
        text += f" ×{step.attempts}"
    return text + _mark(step.status)


def _mark(status: str) -> str:
    if status in ("completed", "running", "scheduled"):
        return ""
    return " !" if status == "failed" else " cancelled" if status == "cancel_requested" else f" {status}"


# --- Long runs (notebook 08): `LongRunWorkflow`, answered by a person through its `answer` update ---


@dataclass(frozen=True)
class Reply:
    """What a person sends while the run waits, and the phrase of the refusal it must get (None: accepted)."""

    answer: Answer
    refused: str | None = None


@dataclass(frozen=True)
class LongRunScenario:
    """One long-run row: the script, the replies sent while it waits, and what the run must show."""

    script: list[Step]
    shape: list[str]
    """The shape of the run's last history (a chain's last run)."""
    output: str | None
    """The answer; None means the workflow must fail."""
    replies: list[Reply] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    """The files left, path -> text (a text over 1,000 characters as `<N characters>`)."""
    told: list[str] = field(default_factory=list)
    agent: str = "long_run"
    answer_within: float = DAY
    crash: bool = False
    """Kill the worker process that ran the workflow while it waits, before the replies."""
    runs: int = 1
    """How many runs the continue-as-new chain must have (the test lab suggests it at 100 events)."""


_DELETE_TWO: list[Step] = [
    call("write_file", path="a.txt", content="a"),
    call("write_file", path="b.txt", content="b"),
    parallel(call("delete_file", path="a.txt"), call("delete_file", path="b.txt")),
    final("done"),
]
_QUESTION = [{"header": "Format", "question": "Which format?", "options": [{"label": "txt"}, {"label": "md"}]}]

LONG_RUN_SCENARIOS: dict[str, LongRunScenario] = {
    "approve_runs_the_call": LongRunScenario(
        script=[call("write_file", path="a.txt", content="a"), call("delete_file", path="a.txt"), final("deleted")],
        shape=["model", "write_file", "model", "timer 86400s cancelled", "delete_file", "model"],
        replies=[Reply(Answer("step1-call0", approve=True))],
        output="deleted",
        told=["deleted a.txt"],
    ),
    "deny_reaches_the_model": LongRunScenario(
        script=_DELETE_TWO,
        shape=["model", "write_file", "model", "write_file", "model", "timer 86400s cancelled", "delete_file", "model"],
        replies=[
            Reply(Answer("step2-call0", approve=True)),
            Reply(Answer("step2-call1", approve=False, reason="keep b")),
        ],
        files={"b.txt": "b"},
        output="done",
        told=["deleted a.txt", "A person denied this call: keep b."],
    ),
    "bad_updates_are_refused": LongRunScenario(
        script=_DELETE_TWO,
        shape=["model", "write_file", "model", "write_file", "model", "timer 86400s cancelled", "delete_file", "model"],
        replies=[
            Reply(Answer("step9-call0", approve=True), refused="No pending call 'step9-call0'"),
            Reply(Answer("step2-call1"), refused="needs approve=True or approve=False"),
            Reply(Answer("step2-call1", approve=False, reason="not now")),
            Reply(Answer("step2-call1", approve=True), refused="already answered (denied: not now, by person)"),
            Reply(Answer("step2-call0", approve=True)),
        ],
        files={"b.txt": "b"},
        output="done",
        told=["A person denied this call: not now."],
    ),
    "ask_user_question_is_answered": LongRunScenario(
        script=[call("ask_user_question", questions=_QUESTION), final("asked")],
        shape=["model", "timer 86400s cancelled", "model"],
        replies=[
            Reply(Answer("step0-call0", choices={"Format": ["pdf"]}), refused="picked options it does not offer"),
            Reply(Answer("step0-call0", choices={"Format": ["md"]})),
        ],
        output="asked",
        told=["{'Format': ['md']}"],
    ),
    "deadline_takes_the_default": LongRunScenario(
        script=[call("write_file", path="a.txt", content="a"), call("delete_file", path="a.txt"), final("kept")],
        shape=["model", "write_file", "model", "timer 0.500s", "model"],
        answer_within=0.5,
        files={"a.txt": "a"},
        output="kept",
        told=["Nobody answered within 0.5 s, so the call was denied by default."],
    ),
    "crash_while_waiting": LongRunScenario(
        script=[call("write_file", path="a.txt", content="a"), call("delete_file", path="a.txt"), final("deleted")],
        shape=["model", "write_file", "model", "timer 86400s cancelled", "delete_file", "model"],
        replies=[Reply(Answer("step1-call0", approve=True))],
        crash=True,
        output="deleted",
        told=["deleted a.txt"],
    ),
    "continue_as_new_chain": LongRunScenario(
        script=[*(call("fetch_page", n=i, size=100) for i in range(20)), final("read 20 pages")],
        shape=["model", *["fetch_page", "model"] * 4],
        runs=3,
        output="read 20 pages",
        told=["page 19:"],
    ),
    "oversize_result_fails_clearly": LongRunScenario(
        script=[call("download", name="huge.txt", size=3_000_000), final("never")],
        shape=["model", "download !"],
        output=None,
    ),
    "oversize_result_kept_by_reference": LongRunScenario(
        script=[call("download", name="huge.txt", size=3_000_000, keep="sandbox"), final("kept aside")],
        shape=["model", "download", "model"],
        files={"downloads/huge.txt": "<3000000 characters>"},
        output="kept aside",
        told=["saved 3000000 bytes to downloads/huge.txt"],
    ),
}
