"""The workbook's own maintenance commands, for the people who keep it (no notebook imports them).

- `site`: the static site of the executed notebooks (`uv run python -m durable_agents.maintenance.site`).
- `benchmark`: whole-process times per notebook and per step (`... .maintenance.benchmark`).
- `server_pace`: the dev server's own pace per activity, with no Pydantic AI in the way.
"""
