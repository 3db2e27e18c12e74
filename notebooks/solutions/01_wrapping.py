# 01 · Wrapping: an agent made durable: the exercise's solution, for frontends that show hidden cells (VS Code, Colab, GitHub).
# The notebook's hidden `solution` cell holds the same code, and runs it; tests/test_notebooks.py keeps
# the two equal. It runs in the notebook's kernel, after the cells above it (top-level `await`).

# One way to do it (try your own first).
solution = [
    call("write_file", path="plan.txt", content="Learn the lab\nRead the history\nWrap an agent"),
    call("read_file", path="plan.txt"),
    final("Learn the lab"),
]
check_wrapping(await lab.run(solution, "Make a plan.")).assert_passed()
