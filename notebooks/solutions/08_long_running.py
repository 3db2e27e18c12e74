# 08 · Long-running agents: a person in the loop, histories that stay small, traces: the exercise's solution, for frontends that show hidden cells (VS Code, Colab, GitHub).
# The notebook's hidden `solution` cell holds the same code, and runs it; tests/test_notebooks.py keeps
# the two equal. It runs in the notebook's kernel, after the cells above it (top-level `await`).

# One way to do it (try your own first).
# One answer per pending call, chosen by the file it would delete.
solution_job = await lab.start_long_run(lr.CLEANUP_SCRIPT)
for pending in await solution_job.wait_pending():
    if pending.args["path"] == "notes.txt":
        await solution_job.deny(pending.call_id, reason="notes.txt holds the meeting notes")
    else:
        await solution_job.approve(pending.call_id)
check_long_running(await solution_job.result()).assert_passed()


# One way to do it (try your own first): the file notebooks/solutions/my_pay.py.
# In pay: `if amount > 1000 and not ctx.tool_call_approved: raise ApprovalRequired()`.
payer = await WorkerPool.start(lab, 1, prefix="payer", task_queue=YOUR_LONG_QUEUE,
                               env={YOUR_TOOLS_ENV: str(Path("solutions/my_pay.py").resolve())})
solution_pay = await lr.approve_every_ask(
    await lab.start_long_run(lr.PAY_SCRIPT, agent="long_yours", task_queue=YOUR_LONG_QUEUE)
)
await payer.stop()
check_your_approval(solution_pay).assert_passed()
