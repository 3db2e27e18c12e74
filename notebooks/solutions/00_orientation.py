# 00 · Orientation: what a durable agent is made of: the exercise's solution, for frontends that show hidden cells (VS Code, Colab, GitHub).
# The notebook's hidden `solution` cell holds the same code, and runs it; tests/test_notebooks.py keeps
# the two equal. It runs in the notebook's kernel, after the cells above it (top-level `await`).

# One way to do it (try your own first).
# Three model requests (one per script step) and three tool calls; write_file came first.
check_reading(run, activities=6, model_requests=3, first_tool="write_file").assert_passed()
