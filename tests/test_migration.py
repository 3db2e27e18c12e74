"""Several worker processes on one task queue: identities, the fuzzer, and a worker that dies."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from durable_agents.lessons.migration import FAMILIES, failover_drill, family_script, fuzz
from durable_agents.scenarios import shape
from durable_agents.script import call, final
from tests.conftest import survivors_of_a_killed_kernel


async def test_every_step_ran_on_a_worker_process(farm):
    lab, pool = farm
    script, agent = family_script("direct-spawns", 4)
    run = await lab.run(script, agent=agent)
    nodes = run.graph().walk()
    assert len(nodes) == 5
    assert {w for node in nodes for w in node.workers} <= set(pool.identities)
    assert all(s.worker in pool.identities for node in nodes for s in node.steps if s.kind == "tool")
    assert run.files() == {f"child{i}.txt": str(i) for i in range(4)}


async def test_the_fuzzer_tallies_each_family(farm):
    lab, _ = farm
    tallies = await fuzz(lab, iterations=3, max_n=2, seed=1)
    assert set(tallies) == set(FAMILIES)
    assert sum(t.runs for t in tallies.values()) == 3
    assert all(t.children >= t.runs and 0 <= t.moved <= t.children for t in tallies.values())


async def test_failover_another_worker_finishes_the_run(farm):
    lab, pool = farm
    drill = await failover_drill(lab, pool, seconds=2.0)
    graph = drill.run.graph()
    assert drill.run.output == drill.undisturbed == "survived"
    assert shape(graph) == ["model", "write_file", "model", "slow ×2", "model"]
    slow = next(s for s in graph.steps if s.label == "slow")
    assert slow.worker != drill.killed, "the second attempt ran on the surviving worker"
    assert all(s.attempts == 1 for s in graph.steps if s.kind == "model"), "no model request was repeated"
    assert drill.killed in graph.workers and len(graph.workers) == 2
    assert drill.killed not in pool.identities


async def test_the_exercise_check(farm):
    from durable_agents.lessons.migration import check_migration
    from durable_agents.script import call, code, final

    lab, pool = farm
    tasks = {f"part {i}": [call("write_file", path=f"part{i}.txt", content=str(i)), final("ok")] for i in range(3)}
    one = await lab.run(
        [code('await spawn(agent_name="generic", task="part 0")', scripts=tasks), final("x")], agent="ptc"
    )
    assert any("1 subagent(s)" in h for h in check_migration(one, pool).hints)
    spawns = ", ".join(f'spawn(agent_name="generic", task="{t}")' for t in tasks)
    three = await lab.run(
        [code(f"import asyncio\nawait asyncio.gather({spawns})", scripts=tasks), final("x")], agent="ptc"
    )
    assert check_migration(three, pool).passed


def test_workers_stop_when_the_kernel_dies(tmp_path):
    """A SIGKILLed kernel cannot stop its workers: they see their stdin close and stop themselves."""
    program = """
        import asyncio
        from durable_agents.lab import Lab
        from durable_agents.lab import WorkerPool
        async def main():
            lab = await Lab.start("dev", ui=False, in_process_worker=False)
            pool = await WorkerPool.start(lab, 2)
            print("PIDS", *[p.pid for p in pool.processes.values()], flush=True)
            await asyncio.sleep(60)
        asyncio.run(main())
    """
    workers, alive = survivors_of_a_killed_kernel(program, tmp_path)
    assert len(workers) == 2
    assert not alive


def test_a_killed_kernel_leaves_no_worker_program(tmp_path):
    """A reader's worker program does not watch its stdin: the pool's watchdog must stop it if the kernel dies."""
    from tests.conftest import NOTEBOOKS

    program = f"""
        import asyncio
        from durable_agents.lab import Lab, WorkerPool
        async def main():
            lab = await Lab.start("dev", ui=False, in_process_worker=False)
            pool = await WorkerPool.start(lab, 1, program={str(NOTEBOOKS / "solutions" / "my_worker.py")!r})
            print("PIDS", *[p.pid for p in pool.processes.values()], flush=True)
            await asyncio.sleep(60)
        asyncio.run(main())
    """
    workers, alive = survivors_of_a_killed_kernel(program, tmp_path)
    assert workers
    assert not alive


async def test_a_worker_made_before_the_mcp_agent_was_built_fails_its_run_saying_what_to_do(farm):
    """Worker processes do not build the MCP agent (`agent.hosted`): a run of it there fails at once, in one
    error that names the way out, instead of waiting for activities no worker registered."""
    lab, _ = farm
    script = [call("convert_length", value=1, from_unit="mi", to_unit="km"), final("ok")]
    run = await lab.run(script, agent="mcp_demo", check=False)
    assert isinstance(run.error, ApplicationError) and run.error.type == "AgentNotBuilt", run.error
    assert "This worker was made before" in str(run.error) and "lab.run(..., agent='mcp_demo')" in str(run.error)
    assert run.graph().steps == [], "no activity was scheduled"
