"""Plain (non-spawn) parent workflows for `record_nested.py`: a parent, a middle workflow and agent children.

The parent sleeps (a timer), then starts an agent run and a middle workflow side by side (the middle
one starts an agent run of its own: a grandchild), then an agent run whose script runs out (a failed
child, caught). None of them is a subagent, so their children carry no `spawn` memo.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from durable_agents.script import call, final
    from durable_agents.workflows import AgentRequest, DemoAgentWorkflow

TASK_QUEUE = "nested-recording"


async def _agent(workflow_id: str, agent_queue: str, sandbox_dir: str, script: list) -> workflow.ChildWorkflowHandle:
    return await workflow.start_child_workflow(
        DemoAgentWorkflow.run,
        AgentRequest("Do the task.", sandbox_dir, script=script),
        id=workflow_id,
        task_queue=agent_queue,
    )


@workflow.defn
class MiddleWorkflow:
    """Starts one agent run and returns its answer."""

    @workflow.run
    async def run(self, agent_queue: str, sandbox_dir: str) -> str:
        wid = workflow.info().workflow_id
        child = await _agent(f"{wid}.agent", agent_queue, sandbox_dir, [call("list_files"), final("listed")])
        return await child


@workflow.defn
class ParentWorkflow:
    """A timer, then an agent run beside a middle workflow, then an agent run that fails."""

    @workflow.run
    async def run(self, agent_queue: str, sandbox_dir: str) -> str:
        wid = workflow.info().workflow_id
        await workflow.sleep(timedelta(seconds=10))
        script = [call("write_file", path="a.txt", content="hi"), final("wrote")]
        started = await asyncio.gather(  # started in one workflow task: side by side
            _agent(f"{wid}.writer", agent_queue, sandbox_dir, script),
            workflow.start_child_workflow(MiddleWorkflow.run, args=[agent_queue, sandbox_dir], id=f"{wid}.middle"),
        )
        answers = list(await asyncio.gather(*started))
        try:
            await (await _agent(f"{wid}.short", agent_queue, sandbox_dir, [call("list_files")]))
        except ChildWorkflowError:
            answers.append("short run failed")
        return "; ".join(answers)


WORKFLOWS = [ParentWorkflow, MiddleWorkflow]
