# 09 · Capstone: a research team that survives a crash: the exercise's solution, for frontends that show hidden cells (VS Code, Colab, GitHub).
# The notebook's hidden `solution` cell holds the same code, and runs it; tests/test_notebooks.py keeps
# the two equal. It runs in the notebook's kernel, after the cells above it (top-level `await`).

# One way to do it (try your own first).
solution_snippet = """
import asyncio
findings = await asyncio.gather(
    spawn(agent_name="researcher", task="Research notes/temporal.txt"),
    spawn(agent_name="researcher", task="Research notes/monty.txt"),
    spawn(agent_name="researcher", task="Research notes/celery.txt"),
)
await slow(seconds=2)
await write_file(path="report.md", content="\\n".join(findings))
"""
solution_scripts = {
    "Research notes/temporal.txt": [call("read_file", path="notes/temporal.txt"),
                                    final("Temporal: a workflow's history makes it durable.")],
    "Research notes/monty.txt": [call("read_file", path="notes/monty.txt"),
                                 final("Monty: a small Python interpreter for code a model writes.")],
    "Research notes/celery.txt": [call("read_file", path="notes/celery.txt"), final("No notes in notes/celery.txt.")],
}
solution = [capstone.write_notes(), code(solution_snippet, scripts=solution_scripts), final("The report is in report.md.")]
solution_crash = await capstone.run_with_crash(lab, pool, solution)
check_capstone(solution_crash).assert_passed()


# One way to do it (try your own first): the files notebooks/solutions/my_agent.py and my_agent_worker.py.
async def solution_drive(lab, workers, task_queue):
    handle = await lab.client.start_workflow(
        "MyWorkflow", "Research Temporal", id=lab.new_workflow_id("mine"), task_queue=task_queue
    )
    workers.kill(await durability.tool_in_flight(lab, handle.id, toolset=None))
    return handle.id


check = await check_your_agent(lab, "solutions/my_agent.py", "solutions/my_agent_worker.py", solution_drive)
check.assert_passed()
