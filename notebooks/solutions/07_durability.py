# 07 · Durability: crash, replay, change: the exercise's solution, for frontends that show hidden cells (VS Code, Colab, GitHub).
# The notebook's hidden `solution` cell holds the same code, and runs it; tests/test_notebooks.py keeps
# the two equal. It runs in the notebook's kernel, after the cells above it (top-level `await`).

# One way to do it (try your own first).
# The new worker replays the workflow code; only the activity in flight (slow) runs again.
check_crash_prediction(["workflow code", "slow"], crashed).assert_passed()


# One way to do it (try your own first).
# Old runs have no marker: patched() is False when they replay. New runs recorded the marker.
async def my_step():
    if workflow.patched(versions.PACING_PATCH):
        await workflow.sleep(versions.PAUSE)

(await check_patch(my_step, saved, new_run.histories)).assert_passed()
