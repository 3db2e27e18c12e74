"""The demo's REPL: each free-text prompt starts a real `DemoAgentWorkflow`; slash commands look around.

    /scenarios            the scenario catalogue (the one tests/test_scenarios.py runs)
    /scenario NAME        run one (a full name, or an alias: ptc, retry, spawn)
    /routes               how a free-text prompt picks a scripted route
    /script [edit|clear|JSON]   show or set the script of the next run
    /history              the last run again (its tree, answer, files, link)
    /reset                rewind the last run to before its last model request
    /ui                   the Web UI link (of the last run, if any)
    /help                 this list;  Ctrl-C cancels a run, Ctrl-D quits

Line editing, history (kept in the sandbox folder) and completion of commands and scenario names
come from prompt_toolkit; when stdin is not a terminal (a pipe, a script) lines are read plainly.
Bad input (an unknown command or scenario, malformed JSON, a script step that is not a step) gets
a message and the REPL keeps going.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import click
from prompt_toolkit import PromptSession
from prompt_toolkit.completion import WordCompleter
from prompt_toolkit.history import FileHistory
from pydantic_ai import ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from durable_agents.demo import ALIASES
from durable_agents.demo.routes import ROUTES, Plan, UnknownScenario, prompt_plan, scenario, scenario_plan
from durable_agents.demo.runner import Outcome, Runner, script_json
from durable_agents.deps import DemoDeps
from durable_agents.scenarios import SCENARIOS
from durable_agents.script import Parallel, ScriptError, Step, ToolCall, parse_script
from durable_agents.workflows import agent_named

PROMPT = "durable> "
HELP = __doc__.split("\n\n")[1]


async def offered_tools(agent: str, model: str | None = None, teaching_tools: bool = False) -> list[str]:
    """The tools `agent` offers the model, read by asking the agent itself (outside any workflow).

    The agent runs once in-process with a model that records the tool list it is shown and answers
    at once; `model` marks the run as a live model's, so the list is the one a live model would get.
    """
    seen: list[str] = []

    def record(messages: object, info: AgentInfo) -> ModelResponse:
        seen.extend(tool.name for tool in info.function_tools)
        return ModelResponse(parts=[TextPart("ok")])

    with tempfile.TemporaryDirectory() as sandbox:
        deps = DemoDeps(sandbox, model=model, teaching_tools=teaching_tools)
        await agent_named(agent).run("list", model=FunctionModel(record), deps=deps)
    return seen


def script_tools(script: list[Step]) -> list[str]:
    """The tools a script's top-level steps call."""
    calls = [
        c for s in script for c in (s.parallel if isinstance(s, Parallel) else [s] if isinstance(s, ToolCall) else [])
    ]
    return [c.tool for c in calls]


def parse_script_text(text: str) -> list[Step]:
    """A script from JSON text; `ScriptError` says what is wrong and how a step looks."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScriptError(
            f"Malformed JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}). A script is a JSON list of steps, "
            'e.g. [{"tool": "write_file", "args": {"path": "a.txt", "content": "hi"}}, {"final": "done"}]'
        ) from None
    return parse_script(data)


@dataclass
class Repl:
    """The REPL's state: the runner, the script set for the next run, the tools each agent offers."""

    runner: Runner
    next_script: list[Step] | None = None
    tools: dict[str, list[str]] = field(default_factory=dict)

    @property
    def console(self) -> Console:
        return self.runner.console

    async def loop(self) -> None:
        """Read lines until Ctrl-D (or /quit)."""
        read = self._reader()
        self.console.print("Type a prompt to start a run, or /help. Ctrl-C cancels a run, Ctrl-D quits.")
        while True:
            try:
                line = await read()
            except KeyboardInterrupt:
                continue
            except EOFError:
                self.console.print("Bye: stopping the worker and the server.")
                return
            if line.strip() in ("/quit", "/exit"):
                return
            await self.handle(line.strip())

    def _reader(self) -> Callable[[], Awaitable[str]]:
        if not sys.stdin.isatty():

            async def plain() -> str:
                line = await asyncio.to_thread(sys.stdin.readline)
                if not line:
                    raise EOFError
                return line

            return plain
        words = ["/help", "/scenarios", "/scenario", "/routes", "/script", "/history", "/reset", "/ui", "/quit"]
        session: PromptSession[str] = PromptSession(
            history=FileHistory(str(self.runner.lab.sandbox_root / ".demo-history")),
            completer=WordCompleter([*words, *ALIASES, *SCENARIOS], sentence=True),
        )

        async def edited() -> str:
            """The next line: one typed ahead during a run (shown after the prompt), else the editor's,
            which starts with what was typed of the next line."""
            ahead = self.runner.typed_ahead
            line, newline, rest = ahead[0].partition("\n")
            if newline:
                ahead[0] = rest
                self.console.print(f"{PROMPT}{escape(line)}", highlight=False)
                return line
            ahead[0] = ""
            return await session.prompt_async(PROMPT, default=line)

        return edited

    async def handle(self, line: str) -> None:
        """One line: a command, or a prompt that starts a run. Errors are printed, never raised."""
        if not line:
            return
        command, _, rest = line.partition(" ")
        rest = rest.strip()
        try:
            if not line.startswith("/"):
                await self.prompt(line)
            elif command == "/help":
                self.console.print(escape(HELP), highlight=False)
            elif command == "/scenarios":
                self.scenarios()
            elif command == "/scenario":
                await self.scenario(rest)
            elif command == "/routes":
                self.routes()
            elif command == "/script":
                await self.script(rest)
            elif command == "/history":
                self.history()
            elif command == "/reset":
                await self.reset()
            elif command == "/ui":
                self.ui()
            else:
                self.console.print(f"[red]Unknown command {escape(command)}[/red]: /help lists the commands.")
        except (ScriptError, UnknownScenario) as exc:
            self.console.print(f"[red]{escape(str(exc))}[/red]")
        except Exception as exc:  # a server gone away, a lab error: say it, keep the REPL
            self.console.print(f"[red]{type(exc).__name__}: {escape(str(exc))}[/red]")

    async def prompt(self, text: str) -> None:
        """Run `text`: with the script `/script` set (once), else the live model (`--model`), else a route's script."""
        model = self.runner.model
        if self.next_script is not None:
            script, self.next_script = self.next_script, None
            plan = Plan(script, text, agent=_agent_for(script), origin="your script")
            instead = f", not the live model {model} (it runs the next prompt)" if model else ""
            self.console.print(f"[dim]Your script runs this prompt{escape(instead)}.[/dim]")
        else:
            plan = prompt_plan(text, model)
            route = next((r for r in ROUTES if plan.origin == f"route {r.name}"), None)
            if route is not None:
                self.console.print(f"[dim]Scripted route [bold]{route.name}[/bold]: {escape(route.shows)}.[/dim]")
            else:
                self.console.print(
                    f"[dim]Live model [bold]{escape(str(model))}[/bold] on the {plan.agent} agent: "
                    "no script, its own calls (/script sets one for the next prompt).[/dim]"
                )
        await self.execute(plan)

    async def execute(self, plan: Plan) -> Outcome:
        outcome = await self.runner.run(plan)
        self.runner.show(outcome)
        return outcome

    def scenarios(self) -> None:
        table = Table("scenario", "agent", "ends", "shape", title="Scenarios (/scenario NAME runs one)")
        aliases = {full: alias for alias, full in ALIASES.items()}
        for name, row in SCENARIOS.items():
            label = f"{name} ({aliases[name]})" if name in aliases else name
            table.add_row(label, row.agent, row.status, escape(", ".join(row.shape)))
        self.console.print(table)

    async def scenario(self, name: str) -> None:
        if not name:
            raise UnknownScenario(
                f"Name a scenario: /scenario NAME (aliases: {', '.join(ALIASES)}); /scenarios lists them."
            )
        full, row = scenario(name)
        self.console.print(f"[dim]Scenario [bold]{full}[/bold]; expected shape: {escape(', '.join(row.shape))}[/dim]")
        await self.execute(scenario_plan(full, row))

    def routes(self) -> None:
        table = Table("route", "picked when the prompt has the word", "shows", title="Scripted routes")
        for route in ROUTES:
            table.add_row(route.name, ", ".join(route.keywords) or "(anything else)", route.shows)
        self.console.print(table)

    async def script(self, rest: str) -> None:
        if rest == "clear":
            self.next_script = None
            self.console.print("Script cleared: the next prompt follows a route.")
            return
        if not rest:
            self._show_script()
            return
        text = rest
        if rest == "edit":
            current = self.next_script or (self.runner.last.plan.script if self.runner.last else None) or []
            edited = await asyncio.to_thread(click.edit, json.dumps(script_json(current), indent=2), extension=".json")
            if edited is None:
                self.console.print("Unchanged.")
                return
            text = edited
        script = parse_script_text(text)
        agent = _agent_for(script)
        if agent not in self.tools:
            self.tools[agent] = await offered_tools(agent)
        if unknown := [t for t in script_tools(script) if t not in self.tools[agent]]:
            self.console.print(
                f"[yellow]Unknown tool {', '.join(map(repr, unknown))}: the {agent} agent offers "
                f"{', '.join(self.tools[agent])}. The run will go ahead and the model will be told "
                "'Unknown tool name' (fix the script with /script edit, or /script clear).[/yellow]"
            )
        self.next_script = script
        instead = f", instead of the live model {self.runner.model}" if self.runner.model else ""
        self.console.print(f"The next prompt runs this script ({len(script)} step(s), agent {agent}){escape(instead)}.")

    def _show_script(self) -> None:
        if self.next_script is not None:
            self.console.print("Script of the next run:")
            self.console.print_json(json.dumps(script_json(self.next_script)))
            return
        self.console.print(
            "No script set: the next prompt follows a route (/routes). Set one with /script JSON or /script edit."
        )
        if self.runner.last and self.runner.last.plan.script:
            self.console.print("The last run's script:")
            self.console.print_json(json.dumps(script_json(self.runner.last.plan.script)))

    def history(self) -> None:
        if self.runner.last is None:
            self.console.print("No run yet: type a prompt, or /scenario ptc.")
            return
        self.runner.show(self.runner.last)

    async def reset(self) -> None:
        """Rewind the last run (`temporal workflow reset`) to before its last model request, and follow the new run.

        The server copies the history up to the workflow task that scheduled that request and starts
        a new run of the same workflow id from there: the tool results before it are kept, not run
        again; the request runs again (a live model may answer differently, a script the same way).
        """
        from durable_agents.lessons.operating.rewind import kept_and_redone, model_requests, reset_point, reset_workflow

        last = self.runner.last
        if last is None:
            self.console.print("No run to rewind yet: type a prompt, or /scenario ptc.")
            return
        workflow_id, old = last.run.workflow_id, last.run.histories[last.run.workflow_id]
        requests = model_requests(old)
        if not requests:
            self.console.print(f"{workflow_id} made no model request: there is nothing to rewind to.")
            return
        point = reset_point(old, request=len(requests))
        await reset_workflow(self.runner.lab, workflow_id, point, reason="/reset in durable-agents demo")
        self.console.print(
            f"Reset {workflow_id} to event {point}, before model request {len(requests)}: a new run carries on."
        )
        outcome = Outcome(last.plan, await self.runner.lab.follow(workflow_id, check=False))
        self.runner.last = outcome
        self.runner.show(outcome)
        kept = kept_and_redone(old, outcome.run.histories[workflow_id])
        self.console.print(escape("; ".join(f"{what}: {n}" for what, n in kept.items())), highlight=False)

    def ui(self) -> None:
        if not self.runner.ui_url:
            self.console.print(f"No Web UI: {escape(self.runner.no_link)}.")
            return
        self.console.print(f"Web UI: {self.runner.ui_url}")
        if self.runner.last:
            self.console.print(f"Last run: {self.runner.link(self.runner.last.run.workflow_id)}")


def _agent_for(script: list[Step]) -> str:
    """`ptc` when the script runs code, else `demo`."""
    return "ptc" if "run_code" in script_tools(script) else "demo"
