"""`python -m durable_agents demo|migration|fuzz`: the same command as the `durable-agents` console script."""

from durable_agents.demo.cli import main

main()
