# 04 · Programmatic tool calling: code that runs inside the workflow: the exercise's solution, for frontends that show hidden cells (VS Code, Colab, GitHub).
# The notebook's hidden `solution` cell holds the same code, and runs it; tests/test_notebooks.py keeps
# the two equal. It runs in the notebook's kernel, after the cells above it (top-level `await`).

# One way to do it (try your own first).
solution = '''
import asyncio
evens = [n for n in range(1, 7) if n % 2 == 0]
await asyncio.gather(*[write_file(path=f"squares/{n}.txt", content=str(n * n)) for n in evens])
sum(n * n for n in evens)
'''
exercises.check_ptc(await lab.run([code(solution), final("56")], agent="ptc")).assert_passed()
