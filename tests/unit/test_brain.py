"""Router-brain question building and answer parsing, including adversarial answers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from octoroute.routing.brain import (
    PROMPT_EXCERPT_CHARS,
    TOOL_NAME,
    answer_tier,
    build_question,
    parse_tier,
    question_payload,
)

# --- parse_tier -------------------------------------------------------------


@pytest.mark.parametrize(("text", "tier"), [
    ("FAST", "fast"), ("fast", "fast"), ("Fast", "fast"), ("fAsT", "fast"),
    ("BALANCED", "balanced"), ("balanced", "balanced"),
    ("DEEP", "deep"), ("deep", "deep"),
    # punctuation and whitespace
    ("DEEP.", "deep"), ("deep!", "deep"), ("(balanced)", "balanced"), ("'fast'", "fast"),
    ('"DEEP"', "deep"), ("  \n FAST \n", "fast"), ("FAST\n", "fast"), ("Balanced,", "balanced"),
    # markdown
    ("**DEEP**", "deep"), ("*fast*", "fast"), ("`balanced`", "balanced"),
    ("__DEEP__", "deep"), ("_fast_", "fast"), ("# FAST", "fast"), ("- BALANCED", "balanced"),
    # a sentence around the word
    ("Answer: BALANCED", "balanced"), ("I would choose DEEP for this.", "deep"),
    ("The best tier is fast", "fast"),
    # the seed's spellings
    ("FAST_8B", "fast"), ("BALANCED_30B", "balanced"), ("DEEP_120B", "deep"),
    ("fast_8b", "fast"), ("deep-120b", "deep"), ("balanced 30b", "balanced"), ("**DEEP_120B**.", "deep"),
    # the same tier repeated is still one tier
    ("FAST_9B", "fast"), ("balanced_model", "balanced"),
    ("FAST. Yes, fast.", "fast"), ("DEEP_120B (deep)", "deep"),
    # thinking blocks are ignored
    ("<think>FAST or DEEP? Hmm.</think>\nBALANCED", "balanced"),
    ("<THINK>fast</THINK> deep", "deep"),
    ("<think>\nline one: fast\nline two: balanced\n</think>\n\n**DEEP**", "deep"),
    ("<think>a</think>FAST<think>deep</think>", "fast"),
])
def test_parse_tier_accepts(text: str, tier: str | None) -> None:
    assert parse_tier(text) == tier


@pytest.mark.parametrize("text", [
    None, "", " ", "\n",
    # two different tiers: ambiguous, never guessed
    "FAST or DEEP", "fast, balanced", "DEEP (not FAST)", "balanced_30b or deep_120b",
    "BALANCED\nDEEP",
    # substrings of other words must not match
    "breakfast", "deeper", "fastest", "steadfast", "unbalanced", "deepest", "Fasting",
    "imbalanced", "deepfake", "fastfood", "deep1", "fast2",
    # letters glued on either side, in any script
    "d\u00e9fast", "fast\u00e0", "deep\u00df",
    # refusals and junk
    "I'm sorry, but I can't help with that.",
    "As an AI language model, I cannot make that decision.",
    "MEDIUM", "LARGE", "SMALL", "8B", "120B", "1", "{}", "null", "\x00\x01\x02",
    # a thinking block that never closes hides everything after it
    "<think>I think FAST",
    "<think>only thoughts</think>",
])
def test_parse_tier_rejects(text: str | None) -> None:
    assert parse_tier(text) is None


def test_parse_tier_very_long_junk() -> None:
    assert parse_tier("lorem ipsum dolor " * 100_000) is None
    assert parse_tier("breakfast " * 100_000) is None
    assert parse_tier("x" * 1_000_000) is None


def test_parse_tier_very_long_answer_naming_two_tiers() -> None:
    assert parse_tier("fast " + "junk " * 100_000 + "deep") is None


def test_parse_tier_long_answer_naming_one_tier() -> None:
    assert parse_tier("junk " * 100_000 + "BALANCED") == "balanced"


def test_parse_tier_long_unterminated_think_returns() -> None:
    assert parse_tier("<think>" + "fast deep " * 50_000) is None


# --- answer_tier ------------------------------------------------------------


def _answer(message: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}


def _tool_call(arguments: Any, name: str = TOOL_NAME) -> dict[str, Any]:
    return {"id": "call_1", "type": "function", "function": {"name": name, "arguments": arguments}}


def test_answer_tier_tool_call_with_json_string_arguments() -> None:
    tier, seen = answer_tier(_answer({"role": "assistant", "content": None,
                                      "tool_calls": [_tool_call('{"tier": "deep"}')]}))
    assert tier == "deep"
    assert "deep" in seen


def test_answer_tier_tool_call_with_dict_arguments() -> None:
    tier, _ = answer_tier(_answer({"content": None, "tool_calls": [_tool_call({"tier": "fast"})]}))
    assert tier == "fast"


@pytest.mark.parametrize(("value", "tier"), [
    ("FAST", "fast"), ("Balanced", "balanced"), ("DEEP_120B", "deep"), (" deep ", "deep"),
])
def test_answer_tier_tool_call_tier_spellings(value: str, tier: str) -> None:
    got, _ = answer_tier(_answer({"tool_calls": [_tool_call(json.dumps({"tier": value}))]}))
    assert got == tier


def test_answer_tier_tool_call_beats_text() -> None:
    tier, _ = answer_tier(_answer({"content": "FAST",
                                   "tool_calls": [_tool_call('{"tier": "balanced"}')]}))
    assert tier == "balanced"


def test_answer_tier_ignores_other_functions() -> None:
    msg = {"content": None, "tool_calls": [_tool_call('{"tier": "deep"}', name="get_weather")]}
    assert answer_tier(_answer(msg))[0] is None


def test_answer_tier_skips_wrong_function_then_reads_right_one() -> None:
    msg = {"tool_calls": [_tool_call('{"tier": "deep"}', name="other"), _tool_call('{"tier": "fast"}')]}
    assert answer_tier(_answer(msg))[0] == "fast"


def test_answer_tier_skips_a_malformed_call_then_reads_the_next() -> None:
    msg = {"tool_calls": [_tool_call("{not json"), _tool_call('{"tier": "balanced"}')]}
    assert answer_tier(_answer(msg))[0] == "balanced"


@pytest.mark.parametrize("arguments", [
    "{not json", "", "null", "[]", '["deep"]', '"deep"', "42", '{"tier": 3}', '{"tier": null}',
    '{"tier": "medium"}', '{"tier": "fast or deep"}', '{"level": "deep"}', '{"tier": ["deep"]}',
    None, 7, ["deep"], {"tier": {"name": "deep"}}, "NaN", "[" * 100_000,
])
def test_answer_tier_malformed_arguments_fall_back_to_text(arguments: Any) -> None:
    assert answer_tier(_answer({"content": None, "tool_calls": [_tool_call(arguments)]}))[0] is None
    got, seen = answer_tier(_answer({"content": "DEEP", "tool_calls": [_tool_call(arguments)]}))
    assert got == "deep"
    assert seen.startswith("text")


@pytest.mark.parametrize("tool_calls", [
    None, [], "deep", 5, True, {"function": {"name": TOOL_NAME, "arguments": '{"tier": "fast"}'}},
    ["deep"], [None], [{"function": None}], [{"function": "select_tier"}], [{}], [{"function": {}}],
])
def test_answer_tier_malformed_tool_calls_fall_back_to_text(tool_calls: Any) -> None:
    got, _ = answer_tier(_answer({"content": "**BALANCED**", "tool_calls": tool_calls}))
    assert got == "balanced"


def test_answer_tier_text_content() -> None:
    got, seen = answer_tier(_answer({"role": "assistant", "content": "<think>hmm</think>FAST_8B"}))
    assert got == "fast"
    assert seen.startswith("text")


def test_answer_tier_text_description_is_short() -> None:
    _, seen = answer_tier(_answer({"content": "x" * 10_000}))
    assert len(seen) < 100


def test_answer_tier_unusable_text() -> None:
    got, seen = answer_tier(_answer({"content": "I cannot decide between FAST and DEEP."}))
    assert got is None
    assert seen


@pytest.mark.parametrize("data", [
    {}, {"choices": []}, {"choices": None}, {"choices": {}}, {"choices": "abc"}, {"choices": [None]},
    {"choices": [{}]}, {"choices": [{"text": "fast"}]}, {"error": {"message": "overloaded"}},
    [], None, "fast", 5,
])
def test_answer_tier_missing_choices(data: Any) -> None:
    got, seen = answer_tier(data)
    assert got is None
    assert seen


@pytest.mark.parametrize("message", [None, "fast", ["fast"], 3])
def test_answer_tier_message_not_an_object(message: Any) -> None:
    assert answer_tier(_answer(message))[0] is None


@pytest.mark.parametrize("content", [None, 5, ["fast"], [{"type": "text", "text": "fast"}], {"x": 1}])
def test_answer_tier_no_tool_call_and_no_text(content: Any) -> None:
    got, seen = answer_tier(_answer({"content": content}))
    assert got is None
    assert seen


# --- question_payload -------------------------------------------------------


@pytest.mark.parametrize("use_tool", [False, True])
def test_question_payload_common_fields(use_tool: bool) -> None:
    body = question_payload("qwen3-30b", "Which tier?", use_tool=use_tool)
    assert body["model"] == "qwen3-30b"
    assert body["messages"] == [{"role": "user", "content": "Which tier?"}]
    assert body["temperature"] == 0
    assert isinstance(body["max_tokens"], int)
    assert 1 <= body["max_tokens"] <= 64
    assert body.get("stream") in (None, False)
    json.dumps(body)  # must be sendable as is


def test_question_payload_without_tool_has_no_tool_fields() -> None:
    body = question_payload("m", "q", use_tool=False)
    assert "tools" not in body
    assert "tool_choice" not in body


def test_question_payload_with_tool_forces_select_tier() -> None:
    body = question_payload("m", "q", use_tool=True)
    assert len(body["tools"]) == 1
    tool = body["tools"][0]
    assert tool["type"] == "function"
    fn = tool["function"]
    assert fn["name"] == TOOL_NAME == "select_tier"
    tier = fn["parameters"]["properties"]["tier"]
    assert tier["type"] == "string"
    assert sorted(tier["enum"]) == ["balanced", "deep", "fast"]
    assert fn["parameters"]["required"] == ["tier"]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "select_tier"}}


def test_question_payload_calls_do_not_share_state() -> None:
    a = question_payload("m", "q", use_tool=True)
    a["tools"][0]["function"]["name"] = "mutated"
    a["messages"].append({"role": "user", "content": "x"})
    b = question_payload("m", "q", use_tool=True)
    assert b["tools"][0]["function"]["name"] == TOOL_NAME
    assert len(b["messages"]) == 1


# --- build_question ---------------------------------------------------------


def _question(prompt: str = "hello", **kw: Any) -> str:
    meta = {"task_type": "question_answer", "importance": "normal", "tokens": 1}
    meta.update(kw)
    return build_question(prompt, **meta)


def test_build_question_names_the_three_options_and_asks_for_one_word() -> None:
    q = _question()
    for word in ("FAST", "BALANCED", "DEEP"):
        assert word in q
    assert "one word" in q.lower()


def test_build_question_describes_each_option() -> None:
    lines = _question().splitlines()
    for word in ("FAST", "BALANCED", "DEEP"):
        described = [ln for ln in lines if ln.startswith(word + ":")]
        assert described and len(described[0]) > len(word) + 10


def test_build_question_includes_metadata() -> None:
    q = _question("explain monads", task_type="deep_analysis", importance="high", tokens=1234)
    assert "deep_analysis" in q
    assert "high" in q
    assert "1234" in q
    assert "explain monads" in q


def test_build_question_truncates_the_request_to_500_chars() -> None:
    assert PROMPT_EXCERPT_CHARS == 500
    prompt = "a" * 500 + "Z" * 300
    q = _question(prompt)
    assert "a" * 500 in q
    assert "Z" not in q


def test_build_question_exactly_500_chars_is_not_marked_truncated() -> None:
    full = _question("b" * 500)
    longer = _question("b" * 501)
    assert "b" * 500 in full
    assert "b" * 501 not in longer
    assert "[...]" not in full
    assert "[...]" in longer


def test_build_question_length_is_bounded_for_huge_prompts() -> None:
    assert len(_question("x" * 100_000)) < len(_question("")) + PROMPT_EXCERPT_CHARS + 20


@pytest.mark.parametrize("prompt", ["{task_type}", "{0}", "{", "}}", "%s %d", "{excerpt!r}"])
def test_build_question_treats_braces_in_the_prompt_literally(prompt: str) -> None:
    assert prompt in _question(prompt, task_type="code")


# --- echoes of the question (seen from Gemma 3 270M at temperature 0) -------------------

GEMMA_ECHO = "You route requests to one of three language models.\nFAST: a small"


def test_an_answer_that_repeats_the_question_is_unusable() -> None:
    data = {"choices": [{"message": {"role": "assistant", "content": GEMMA_ECHO},
                         "finish_reason": "length"}]}
    tier, seen = answer_tier(data)
    assert tier is None
    assert "repeated the question" in seen


@pytest.mark.parametrize("answer", ["FAST", "**DEEP**", "I'd pick BALANCED.", "deep_120b"])
def test_real_answers_are_not_mistaken_for_echoes(answer: str) -> None:
    data = {"choices": [{"message": {"role": "assistant", "content": answer}}]}
    assert answer_tier(data)[0] is not None
