# 05 · Failures: what retries, what the model sees, what cancels: the exercises' solutions, for frontends that show hidden cells (VS Code, Colab, GitHub).
# The notebook's hidden `solution` cell holds the same code, and runs it; tests/test_notebooks.py keeps
# the two equal. It runs in the notebook's kernel, after the cells above it (top-level `await`).

# One way to do it (try your own first).
# Three failures need a fourth attempt; with 3 attempts the tool fails for good: ["model", "flaky ×3 !"].
pool = await WorkerPool.start(strict, 1, env={ATTEMPTS_ENV: "4"})
solution_run = await strict.run([call("flaky", fail_times=3), final("done")])
await pool.stop()
check_retry_policy("model → flaky ×4 → model", solution_run).assert_passed()


# One way to do it (try your own first): the file notebooks/solutions/my_rates.py.
# A busy service is transient (ToolRetryableError); an unknown currency never will be (ToolExecutionError).
pool = await WorkerPool.start(strict, 1, env={YOUR_TOOLS_ENV: str(Path("solutions/my_rates.py").resolve())})
solution_rates = await strict.run(rates_script, agent="yours")
await pool.stop()
check_your_tool(solution_rates).assert_passed()
