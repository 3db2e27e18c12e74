"""The `durable-agents` command: the workbook from a terminal, built on the same package as the notebooks.

`cli` parses the arguments (`demo`, `migration`, `fuzz`), `repl` reads prompts and slash commands,
`routes` picks a scripted route for a free-text prompt, `runner` runs one plan on the lab and shows
it, `migration` spreads work over worker processes. Nothing here is imported by the runtime.
"""

from pathlib import Path

SANDBOX = Path(".demo-sandbox")
"""Where demo runs leave their files, diagrams and logs (the reference design's `.demo-sandbox`)."""

ALIASES = {
    "ptc": "ptc_gathers_activities_and_spawns",
    "retry": "retryable_failure_retries_in_temporal",
    "spawn": "spawn_is_a_child_workflow",
}
"""Short names for the scenarios the reference design's demo runs with `--scenario` (here, and not in
`routes`, so that `durable-agents demo --help` names them without importing the scenarios)."""
