"""Durable agents workbook: Pydantic AI agents as Temporal workflows that grow at run time.

The agent runtime is at the top, read top-down, each module importing only those above it:
`upstream` (every private name of a library it relies on) -> `script` (the scripted model) ->
`deps` (what a run carries) -> `errors` -> `capabilities/` (the tools) -> `agent` (the demo agents,
made durable) -> `workflows` (what a worker runs) -> `versions` (changed versions of it, as a deploy
brings them);
`legacy` is the deprecated wrapper form, `live` the opt-in real models, `mcp_server` a small MCP
server, `scenarios` the matrix the tests run.

The wings build on it, each importing only the runtime and the wings before it:
- `lab/`: what starts processes: a Temporal server, workers, worker processes, the watchdog.
- `history/`: what is read from recorded histories: fetch and save, replay, the graph, the drawing.
- `lessons/`: what exists for one notebook or the benchmark (exercise checks, measurements).
- `demo/`: the `durable-agents` command: the terminal demo, the migration demo, the fuzzer.
- `maintenance/`: the workbook's own tools: the static site, the benchmark, the server's pace.
"""
