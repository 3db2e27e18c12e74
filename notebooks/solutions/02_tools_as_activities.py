# 02 · Tools as activities: the exercises' solutions, for frontends that show hidden cells (VS Code, Colab, GitHub).
# The notebook's hidden `solution` cell holds the same code, and runs it; tests/test_notebooks.py keeps
# the two equal. It runs in the notebook's kernel, after the cells above it (top-level `await`).

# One way to do it (try your own first).
solution = [
    parallel(call("flaky", fail_times=1), call("word_count", text="one two three four")),
    call("write_file", path="count.txt", content="4"),
    final("done"),
]
check_tools(await lab.run(solution)).assert_passed()


# One way to do it (try your own first): the file notebooks/solutions/my_words.py.
# define: Tool(define, metadata={"temporal": ActivityConfig(...)}); shout: Tool(shout, metadata={"temporal": False}).
solution_words = await run_your_code(lab, "solutions/my_words.py", words_script)
check_your_toolset(solution_words).assert_passed()
