"""09 · your own durable agent, one way to do it: an agent, a tool, and the workflow that runs it.

Nothing here comes from `durable_agents`: an ordinary Pydantic AI agent, made durable by the
`TemporalDurability` capability. The model is a function (`FunctionModel`), so it runs offline; a
live model's name would go in its place. The workflow lives in this file, not in a notebook cell:
Temporal's sandbox re-imports the module that defines a workflow, each time it runs one.
"""

import asyncio
from datetime import timedelta

from pydantic_ai import Agent
from pydantic_ai.durable_exec.temporal import PydanticAIWorkflow, TemporalDurability
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from temporalio import workflow
from temporalio.workflow import ActivityConfig


async def look_up(topic: str) -> str:
    """What the library says about `topic`. It takes three seconds: long enough to crash in."""
    await asyncio.sleep(3)
    return f"{topic} keeps a history of every step"


def plan(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """The model: look the topic up first, then answer with what the tool returned."""
    found = [part.content for message in messages for part in message.parts if isinstance(part, ToolReturnPart)]
    if not found:
        return ModelResponse(parts=[ToolCallPart("look_up", {"topic": "Temporal"})])
    return ModelResponse(parts=[TextPart(f"Found: {found[0]}")])


agent = Agent(
    FunctionModel(plan),
    name="mine",
    tools=[look_up],
    capabilities=[
        TemporalDurability(
            # Pydantic AI heartbeats every activity; a worker that dies misses a beat within a second.
            activity_config=ActivityConfig(
                start_to_close_timeout=timedelta(seconds=30), heartbeat_timeout=timedelta(seconds=1)
            )
        )
    ],
)


@workflow.defn
class MyWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [agent]  # the plugin registers the activities this agent generated

    @workflow.run
    async def run(self, prompt: str) -> str:
        result = await agent.run(prompt)
        return result.output
