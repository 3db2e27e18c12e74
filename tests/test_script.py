"""The scripted model: parsing, the pure `respond`, and what a plain (non-durable) run tells the model."""

from __future__ import annotations

import pytest
from pydantic_ai import ModelRequest, ModelResponse, TextPart, ToolCallPart, UserPromptPart

from durable_agents.lessons.measure import plain_run
from durable_agents.script import Final, Parallel, ScriptError, ToolCall, call, final, parallel, parse_script, respond


def test_plain_dicts_and_step_objects_are_the_same_script():
    as_dicts = parse_script(
        [
            {"tool": "write_file", "args": {"path": "a", "content": "b"}},
            {"parallel": [{"tool": "list_files"}, call("read_file", path="a")]},
            {"final": "done"},
        ]
    )
    as_objects = [call("write_file", path="a", content="b"), parallel(call("list_files"), call("read_file", path="a"))]
    assert as_dicts == [*as_objects, final("done")]
    assert [type(s) for s in as_dicts] == [ToolCall, Parallel, Final]


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ([final("ok"), {"tool": ""}], "Step 2"),
        ([{"tol": "write_file"}], "Step 1"),
        ([{"final": "x", "tool": "y"}], "Step 1"),
        ([], "empty"),
        ("final('x')", "list of steps"),
        ({"final": "x"}, "list of steps"),
    ],
)
def test_a_malformed_script_names_the_bad_step(script, message):
    with pytest.raises(ScriptError, match=message) as info:
        parse_script(script)
    assert "final" in str(info.value)  # every message shows a form that works


def test_the_step_is_chosen_by_counting_model_responses():
    script = parse_script([call("list_files"), parallel(call("a"), call("b")), final("done")])
    conversation = [ModelRequest(parts=[UserPromptPart("go")])]
    first = respond(script, conversation)
    assert [p.tool_name for p in first.parts if isinstance(p, ToolCallPart)] == ["list_files"]
    conversation.append(first)
    second = respond(script, conversation)
    assert [p.tool_name for p in second.parts if isinstance(p, ToolCallPart)] == ["a", "b"]
    assert respond(script, conversation).parts == second.parts  # pure: same conversation, same answer
    conversation += [second, ModelResponse(parts=[TextPart("x")])]
    with pytest.raises(ScriptError, match="request 4 wants step 4, but the script has only 3 step"):
        respond(script, conversation)


async def test_a_plain_run_follows_the_script(tmp_path):
    answer = await plain_run([call("write_file", path="a.txt", content="hi"), final("done")], tmp_path)
    assert answer == "done"
    assert (tmp_path / "a.txt").read_text() == "hi"


async def test_running_out_of_steps_names_the_step(tmp_path):
    with pytest.raises(ScriptError, match="request 2 wants step 2"):
        await plain_run([call("list_files")], tmp_path)


def test_model_failure_steps():
    from durable_agents.script import ModelRejected, ModelUnavailable, model_flaky, model_rejects

    script = parse_script([{"model_fails": "transient", "times": 2, "then": {"tool": "list_files"}}, model_rejects()])
    assert script == [model_flaky(call("list_files"), times=2), model_rejects()]
    assert repr(script) == "[model_flaky(call('list_files'), times=2), model_rejects()]"
    conversation = [ModelRequest(parts=[UserPromptPart("go")])]
    for attempt in (1, 2):
        with pytest.raises(ModelUnavailable, match=f"attempt {attempt}"):
            respond(script, conversation, attempt)
    answer = respond(script, conversation, attempt=3)
    assert [p.tool_name for p in answer.parts] == ["list_files"]
    with pytest.raises(ModelRejected, match="request 2 rejected"):
        respond(script, [*conversation, answer], attempt=1)


@pytest.mark.parametrize("inner", [parallel(call("list_files")), final("x"), "list_files"])
def test_a_parallel_step_holds_calls_only(inner):
    with pytest.raises(ScriptError, match=r"parallel\(\.\.\.\) call 2 is not a tool call"):
        parallel(call("read_file", path="a"), inner)
    with pytest.raises(ScriptError, match="at least one call"):
        parallel()
