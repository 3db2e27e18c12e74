"""The workflows: `DemoAgentWorkflow` (one durable agent run per workflow execution, every notebook),
`LongRunWorkflow` (an agent run that waits for people and continues as new, notebook 08) and
`ConversationWorkflow` (a conversation, one update per message, notebook 10)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any, Literal

from pydantic_ai.durable_exec.temporal import AgentEventStream, PydanticAIWorkflow
from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic_ai import DeferredToolRequests, DeferredToolResults, ToolDenied
    from pydantic_ai.messages import ModelMessage, ToolCallPart
    from pydantic_ai.usage import UsageLimits
    from pydantic_ai_harness.ask_user import TIMED_OUT, AskUserAnswer, AskUserRequest, AskUserResponse, ask_user_result

    from durable_agents.agent import DURABLE_AGENTS, LONG_RUN_AGENTS, MCP_AGENT, STREAMING_AGENTS, chat_agent, hosted
    from durable_agents.deps import DAY, AgentRequest, Answer, Conversation, LongRun, PendingCall
    from durable_agents.legacy import legacy_agent

__all__ = [
    "AGENTS",
    "AGENT_NAMES",
    "DAY",
    "LONG_RUN_AGENTS",
    "WORKFLOWS",
    "AgentRequest",
    "Answer",
    "AnswerRejected",
    "Conversation",
    "ConversationWorkflow",
    "DemoAgentWorkflow",
    "LongRun",
    "LongRunWorkflow",
    "PendingCall",
]

AGENTS: dict[str, Any] = {**DURABLE_AGENTS, "legacy": legacy_agent}
"""Every agent a worker hosts from the start, by name; `AgentRequest.agent` picks one."""
AGENT_NAMES = [*AGENTS, MCP_AGENT]
"""Every agent a run may ask for: those, and the MCP agent, built on first use (`agent_named`)."""


def agent_named(name: str) -> Any:
    """The agent `name`: one hosted from the start, or the MCP agent, built here on first use.

    Outside workflow code it builds the MCP agent (`durable_agents.agent.hosted`). Inside, it cannot: a
    worker registers an agent's activities when it is made, so a worker made before the agent was
    built fails the run with what to do.
    """
    if name in AGENTS:
        return AGENTS[name]
    if workflow.in_workflow() and name not in DURABLE_AGENTS:
        raise ApplicationError(
            f"This worker was made before agent {name!r} was built, so it cannot run that agent's activities. "
            f"Run it on a lab's own worker (`lab.run(..., agent={name!r})` builds it there), or call "
            f"durable_agents.agent.hosted({name!r}) before making a worker.",
            type="AgentNotBuilt",
            non_retryable=True,
        )
    return hosted(name)


@workflow.defn
class DemoAgentWorkflow(PydanticAIWorkflow):
    """Runs `request.agent` on `request.prompt` and returns its answer. Subagents are children of this type."""

    __pydantic_ai_agents__ = tuple(AGENTS.values())

    @workflow.init
    def __init__(self, request: AgentRequest) -> None:
        # The Workflow Stream an agent with an `event_stream_topic` publishes to (no event unless one does).
        self.events = AgentEventStream(drain_timeout=timedelta(seconds=5))

    @workflow.run
    async def run(self, request: AgentRequest) -> str:
        agent = agent_named(request.agent)
        if request.agent not in STREAMING_AGENTS:
            return await request.run(agent)
        async with self.events:  # on the way out, waits (up to 5 s) for a subscriber to take the last event
            return await request.run(agent)


# --- Long-running agents (notebook 08): a person in the loop, and histories that stay small ---

LONG_RUN_LIMITS = UsageLimits(request_limit=1000)
"""A long run makes many model requests; Pydantic AI's default stops a run at 50."""


class AnswerRejected(ValueError):
    """An answer the workflow refuses: unknown call, second answer, or the wrong kind of answer."""


@workflow.defn
class LongRunWorkflow(PydanticAIWorkflow):
    """Runs a long-running agent: pauses for people (deferred tools) and continues as new to stay small.

    When the agent's run ends with `DeferredToolRequests`, the workflow waits (durably, on a
    timer) until a person has answered every pending call through the `answer` update, or until
    `answer_within` passes, then runs the agent again with `deferred_tool_results`. The `pending`
    query, and the workflow's current details in the Web UI, show what it waits on.
    """

    __pydantic_ai_agents__ = tuple(LONG_RUN_AGENTS.values())

    def __init__(self) -> None:
        self._job: LongRun | None = None
        self._pending: dict[str, PendingCall] = {}
        self._questions: dict[str, AskUserRequest] = {}
        self._answers: dict[str, Any] = {}
        self._decided: dict[str, PendingCall] = {}
        self._ignored: list[str] = []

    @workflow.run
    async def run(self, job: LongRun) -> str:
        self._job = job
        agent = LONG_RUN_AGENTS[job.request.agent]
        messages, results = job.messages, None
        prompt = job.request.prompt if messages is None else None
        while True:
            result = await agent.run(
                prompt,
                message_history=messages,
                deferred_tool_results=results,
                deps=job.request.deps(),
                instructions=job.request.instructions,
                usage_limits=LONG_RUN_LIMITS,
            )
            if not isinstance(result.output, DeferredToolRequests):
                workflow.set_current_details("")
                return result.output
            messages, prompt = result.all_messages(), None
            results = await self._ask(result.output, job)

    async def _ask(self, requests: DeferredToolRequests, job: LongRun) -> DeferredToolResults:
        """Wait for a person to answer each pending call, or for the deadline; the answers as results."""
        self._pending = {c.tool_call_id: _pending_call(c, "approval") for c in requests.approvals}
        self._pending |= {c.tool_call_id: _pending_call(c, "question") for c in requests.calls}
        self._questions = {c.tool_call_id: AskUserRequest.from_tool_call(c) for c in requests.calls}
        workflow.set_current_details(self._details())
        try:
            await workflow.wait_condition(self._all_answered, timeout=timedelta(seconds=job.answer_within))
        except TimeoutError:
            for call in self._pending.values():
                if call.answer is None:
                    late = "approved" if call.kind == "approval" and job.on_timeout == "approve" else "denied"
                    call.answer, call.by = (TIMED_OUT if call.kind == "question" else late), "deadline"
        results = DeferredToolResults()
        for call_id, call in self._pending.items():
            if call.kind == "question":
                results.calls[call_id] = self._answers.get(call_id, TIMED_OUT)
            elif call.answer == "approved":
                results.approvals[call_id] = True
            else:
                results.approvals[call_id] = ToolDenied(self._denial(call, job))
        self._decided |= self._pending
        self._pending, self._questions, self._answers = {}, {}, {}
        workflow.set_current_details("")
        return results

    def _all_answered(self) -> bool:
        return all(call.answer is not None for call in self._pending.values())

    @staticmethod
    def _denial(call: PendingCall, job: LongRun) -> str:
        if call.by == "deadline":
            return f"Nobody answered within {_duration(job.answer_within)}, so the call was denied by default."
        reason = (call.answer or "").removeprefix("denied").removeprefix(": ")
        return f"A person denied this call: {reason or 'no reason given'}."

    def _details(self) -> str:
        lines = [f"**Waiting for a person** ({len(self._pending)} call(s)); answer with the `answer` update:"]
        lines += [f"- `{c.call_id}`: {c.kind} for `{c.tool}({_args(c.args)})`" for c in self._pending.values()]
        return "\n".join(lines)

    @workflow.query
    def pending(self) -> list[PendingCall]:
        """The calls the run waits on (empty while the agent is working), answered ones included."""
        return list(self._pending.values())

    @workflow.update
    def answer(self, answer: Answer) -> str:
        """Answer one pending call; returns what was decided. The validator below rejects bad answers."""
        return self._take(answer)

    def _take(self, answer: Answer) -> str:
        """What an accepted answer does, from the update or from the signal."""
        call = self._pending[answer.call_id]
        if call.kind == "question":
            self._answers[answer.call_id] = ask_user_result(self._questions[answer.call_id], _response(answer))
            call.answer = str(self._answers[answer.call_id])
        else:
            call.answer = "approved" if answer.approve else f"denied: {answer.reason}".rstrip(": ")
        call.by = "person"
        workflow.set_current_details(self._details())
        return f"{call.tool} {call.call_id}: {call.answer}"

    @answer.validator
    def _check(self, answer: Answer) -> None:
        """Runs before the update is accepted: a rejected answer leaves no trace in the history."""
        call = self._pending.get(answer.call_id) or self._decided.get(answer.call_id)
        if call is not None and call.answer is not None:
            raise AnswerRejected(
                f"Call {answer.call_id!r} was already answered ({call.answer}, by {call.by}); an answer cannot change."
            )
        if call is None:
            waiting = ", ".join(self._pending) or "nothing"
            raise AnswerRejected(
                f"No pending call {answer.call_id!r}: the run is waiting on {waiting}. "
                "Query `pending` for the call ids."
            )
        if call.kind == "approval" and answer.approve is None:
            raise AnswerRejected(f"Call {answer.call_id!r} needs approve=True or approve=False.")
        if call.kind == "question":
            if answer.choices is None:
                raise AnswerRejected(f"Call {answer.call_id!r} is a question: answer with choices={{header: [label]}}.")
            try:
                ask_user_result(self._questions[answer.call_id], _response(answer))
            except ValueError as exc:
                raise AnswerRejected(f"Those choices do not fit question {answer.call_id!r}: {exc}") from None

    @workflow.signal
    def answer_signal(self, answer: Answer) -> None:
        """The same answer as a signal: the sender gets no reply, so a bad one can only be ignored here."""
        try:
            self._check(answer)
        except AnswerRejected as exc:
            self._ignored.append(str(exc))
            return
        self._take(answer)

    @workflow.query
    def ignored(self) -> list[str]:
        """Why each ignored signal was ignored (signals cannot be refused to their sender)."""
        return list(self._ignored)

    def continue_as_new_with(self, messages: list[ModelMessage]) -> None:
        """Called (through `durable_agents.agent.hand_over`) when Temporal suggests continuing as new."""
        assert self._job is not None
        if self._job.continue_as_new and not self._pending:
            workflow.continue_as_new(replace(self._job, messages=list(messages), run_number=self._job.run_number + 1))


def _pending_call(call: ToolCallPart, kind: Literal["approval", "question"]) -> PendingCall:
    return PendingCall(call.tool_call_id, call.tool_name, call.args_as_dict(), kind)


def _response(answer: Answer) -> AskUserResponse:
    picked = tuple(AskUserAnswer(header=h, selected=tuple(labels)) for h, labels in (answer.choices or {}).items())
    return AskUserResponse(answers=picked)


def _args(args: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in args.items())[:80]


def _duration(seconds: float) -> str:
    if seconds >= DAY and seconds % DAY == 0:
        return f"{int(seconds // DAY)} day(s)"
    return f"{seconds:g} s"


# --- A conversation (notebook 10): each message an update, the first one starts the workflow ---


@workflow.defn
class ConversationWorkflow(PydanticAIWorkflow):
    """A conversation keyed by its workflow id: every message is a `say` update, answered with the agent's reply.

    A client sends each message by update-with-start: the first one starts the workflow, later ones
    update the running one. Messages are answered one at a time, in the order they were accepted.
    The workflow ends after `idle_timeout` without a message, or on `close`. Between messages it
    continues as new, carrying the conversation, when Temporal suggests it (a long history) or when
    its worker deployment has a new current version: a pinned run then hands over to a run that
    starts on the new version (upgrade on continue-as-new, Worker Versioning; notebook 10).
    """

    __pydantic_ai_agents__: tuple[Any, ...] = (chat_agent,)
    agent: Any = chat_agent
    """The agent that answers each message (a changed version of this workflow names another)."""

    @workflow.init
    def __init__(self, conversation: Conversation) -> None:
        self._messages: list[ModelMessage] = list(conversation.messages or [])
        self._turn = asyncio.Lock()
        self._request = conversation.request
        self._closed = False
        self._upgrade = conversation.upgrade

    @workflow.run
    async def run(self, conversation: Conversation) -> int:
        """Waits for messages; returns how many messages the conversation holds when it ends."""
        while True:
            seen = len(self._messages)

            def moved(seen: int = seen) -> bool:
                return self._closed or len(self._messages) != seen or self._should_continue_as_new()

            try:
                await workflow.wait_condition(moved, timeout=timedelta(seconds=conversation.idle_timeout))
            except TimeoutError:
                self._closed = True
            if self._closed or self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
            if self._closed:
                return len(self._messages)
            if self._should_continue_as_new():
                onto_new = workflow.ContinueAsNewVersioningBehavior.AUTO_UPGRADE if self._new_version() else None
                workflow.continue_as_new(
                    replace(conversation, messages=self._messages), initial_versioning_behavior=onto_new
                )

    def _should_continue_as_new(self) -> bool:
        return (workflow.info().is_continue_as_new_suggested() or self._new_version()) and not self._turn.locked()

    def _new_version(self) -> bool:
        """A pinned run's deployment has a new current version, and this conversation moves to new versions."""
        return self._upgrade and workflow.info().is_target_worker_deployment_version_changed()

    @workflow.update
    async def say(self, message: str) -> str:
        """One message from the person; returns the agent's reply once its turn has run."""
        async with self._turn:
            result = await self.agent.run(
                message,
                message_history=self._messages,
                deps=self._request.deps(),
                usage_limits=LONG_RUN_LIMITS,
            )
            self._messages = result.all_messages()
            return result.output

    @say.validator
    def _open(self, message: str) -> None:
        if self._closed:
            raise AnswerRejected("This conversation has ended: start a new one with another conversation id.")
        if not message.strip():
            raise AnswerRejected("Say something: an empty message has nothing for the agent to answer.")

    @workflow.update
    def close(self) -> int:
        """End the conversation (after the message being answered, if any); returns how many messages it holds."""
        self._closed = True
        return len(self._messages)

    @workflow.query
    def transcript(self) -> list[ModelMessage]:
        """The conversation so far, as Pydantic AI's messages."""
        return list(self._messages)


VERSION_ENV = "DURABLE_AGENTS_WORKFLOW_VERSION"
"""Names the changed version of the demo workflow a worker process runs instead (`durable_agents.versions`)."""

WORKFLOWS: list[type] = [DemoAgentWorkflow, LongRunWorkflow, ConversationWorkflow]
"""The workflow classes a worker registers (and a `Replayer` needs)."""
