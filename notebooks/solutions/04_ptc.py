# 04 · Programmatic tool calling: code that runs inside the workflow: the exercises' solutions, for frontends that show hidden cells (VS Code, Colab, GitHub).
# The notebook's hidden `solution` cell holds the same code, and runs it; tests/test_notebooks.py keeps
# the two equal. It runs in the notebook's kernel, after the cells above it (top-level `await`).

# One way to do it (try your own first).
solution = '''
import asyncio
evens = [n for n in range(1, 7) if n % 2 == 0]
await asyncio.gather(*[write_file(path=f"squares/{n}.txt", content=str(n * n)) for n in evens])
sum(n * n for n in evens)
'''
check_ptc(await lab.run([code(solution), final("56")], agent="ptc")).assert_passed()


# One way to do it (try your own first): the file notebooks/solutions/my_prices.py returns a float.
solution_basket = '''
import asyncio
prices = await asyncio.gather(*[price(item=item) for item in ["apple", "bread", "cheese"]])
sum(prices)
'''
solution_shop = await run_your_code(lab, "solutions/my_prices.py", [code(solution_basket), final("7.5")], agent="yours_ptc")
check_your_code_tool(solution_shop).assert_passed()
