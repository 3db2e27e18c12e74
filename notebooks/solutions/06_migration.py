# 06 · Migration: several workers, one task queue, and a worker that dies: the exercise's solution, for frontends that show hidden cells (VS Code, Colab, GitHub).
# The notebook's hidden `solution` cell holds the same code, and runs it; tests/test_notebooks.py keeps
# the two equal. It runs in the notebook's kernel, after the cells above it (top-level `await`).

# One way to do it (try your own first).
tasks = {f"part {i}": [call("write_file", path=f"part{i}.txt", content=str(i)), final("done")] for i in range(3)}
snippet = "import asyncio\nawait asyncio.gather(" + ", ".join(f'spawn(agent_name="generic", task="{t}")' for t in tasks) + ")"
solution_run = await lab.run([code(snippet, scripts=tasks), final("done")], agent="ptc")
check_migration(solution_run, pool).assert_passed()


# One way to do it (try your own first): the file notebooks/solutions/my_worker.py.
# Client.connect(address, plugins=[PydanticAIPlugin()]); Worker(client, task_queue=..., workflows=WORKFLOWS, identity=...).
(await check_your_worker(lab, "solutions/my_worker.py")).assert_passed()
