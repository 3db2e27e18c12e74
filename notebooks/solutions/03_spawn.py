# 03 · Spawn: subagents as child workflows: the exercises' solutions, for frontends that show hidden cells (VS Code, Colab, GitHub).
# The notebook's hidden `solution` cell holds the same code, and runs it; tests/test_notebooks.py keeps
# the two equal. It runs in the notebook's kernel, after the cells above it (top-level `await`).

# One way to do it (try your own first).
solution_roster = {"poet": Role("demo", "You are a poet. Answer in verse.")}
solution = [
    spawn("poet", "Write poem.txt", [
        call("write_file", path="poem.txt", content="A workflow sleeps, its history keeps."),
        final("done"),
    ]),
    final("A poem was written."),
]
check_spawn(await lab.run(solution, roster=solution_roster)).assert_passed()


# One way to do it (try your own first): the file notebooks/solutions/my_poet.py, and Role("yours", ...).
solution_poet = await run_your_code(
    lab, "solutions/my_poet.py", poet_script, roster={"poet": Role("yours", "Write the poem you are asked for.")}
)
check_your_subagent(solution_poet).assert_passed()
