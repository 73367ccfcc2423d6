"""The rule table, checked exhaustively against an oracle written from the spec text."""

from __future__ import annotations

import itertools

import pytest
from octoroute.routing.rules import (
    TASK_TYPES,
    RuleMatch,
    apply_rules,
    estimate_tokens,
    infer_task_type,
)

ALL_TASK_TYPES = ("casual_chat", "code", "creative_writing", "deep_analysis",
                  "document_summary", "question_answer")
IMPORTANCES = ("low", "normal", "high")
# Every boundary named in the spec, one either side of it, and the extremes.
TOKEN_COUNTS = (0, 1, 199, 200, 201, 255, 256, 257, 1023, 1024, 1025, 2046, 2047, 2048, 2049,
                10_000, 25_000, 10**9)


def oracle(task_type: str, importance: str, tokens: int) -> str | None:
    """The spec's rule table, transcribed literally; first match wins."""
    # "casual_chat with fewer than 256 tokens and importance not high -> fast"
    if task_type == "casual_chat" and tokens < 256 and importance != "high":
        return "fast"
    # "high importance (not casual_chat), deep_analysis or creative_writing -> deep"
    if (importance == "high" and task_type != "casual_chat") or task_type in (
            "deep_analysis", "creative_writing"):
        return "deep"
    # "code -> deep above 1024 tokens, else balanced"
    if task_type == "code":
        return "deep" if tokens > 1024 else "balanced"
    # "question_answer or document_summary with 200 to 2047 tokens -> balanced"
    if task_type in ("question_answer", "document_summary") and 200 <= tokens <= 2047:
        return "balanced"
    # "anything else: no rule decides"
    return None


def test_task_types_match_spec() -> None:
    assert tuple(sorted(TASK_TYPES)) == ALL_TASK_TYPES


@pytest.mark.parametrize(("task_type", "importance", "tokens"),
                         list(itertools.product(ALL_TASK_TYPES, IMPORTANCES, TOKEN_COUNTS)))
def test_rule_table_matches_oracle(task_type: str, importance: str, tokens: int) -> None:
    got = apply_rules(task_type, importance, tokens)
    want = oracle(task_type, importance, tokens)
    if want is None:
        assert got is None
    else:
        assert isinstance(got, RuleMatch)
        assert got.tier == want
        assert got.rule  # a stable, non-empty name for responses and logs


def test_rule_table_dense_sweep() -> None:
    """Every token count from 0 to 2100, not only the named boundaries."""
    mismatches = []
    for task_type, importance in itertools.product(ALL_TASK_TYPES, IMPORTANCES):
        for tokens in range(0, 2101):
            got = apply_rules(task_type, importance, tokens)
            tier = got.tier if got else None
            if tier != oracle(task_type, importance, tokens):
                mismatches.append((task_type, importance, tokens, tier))
    assert mismatches == []


@pytest.mark.parametrize(("task_type", "importance", "tokens", "tier"), [
    ("casual_chat", "low", 255, "fast"),
    ("casual_chat", "normal", 255, "fast"),
    ("casual_chat", "low", 256, None),  # "fewer than 256"
    ("casual_chat", "high", 0, None),  # high importance never goes to fast ...
    ("casual_chat", "high", 10_000, None),  # ... and casual chat is excluded from the high rule
    ("code", "low", 1024, "balanced"),  # "above 1024" is strict
    ("code", "low", 1025, "deep"),
    ("code", "high", 0, "deep"),  # high importance wins before the code rule
    ("question_answer", "normal", 199, None),
    ("question_answer", "normal", 200, "balanced"),
    ("question_answer", "normal", 2047, "balanced"),
    ("question_answer", "normal", 2048, None),
    ("document_summary", "low", 200, "balanced"),
    ("document_summary", "low", 2048, None),
    ("document_summary", "high", 5, "deep"),
    ("deep_analysis", "low", 0, "deep"),
    ("creative_writing", "low", 10**9, "deep"),
])
def test_rule_table_spot_checks(task_type: str, importance: str, tokens: int, tier: str | None) -> None:
    """Hand-written cases, so a shared misreading in the oracle and the code still shows."""
    got = apply_rules(task_type, importance, tokens)
    assert (got.tier if got else None) == tier


def test_rule_names_are_distinct_per_decision() -> None:
    names = {
        apply_rules("casual_chat", "low", 0),
        apply_rules("code", "high", 0),
        apply_rules("deep_analysis", "low", 0),
        apply_rules("creative_writing", "low", 0),
        apply_rules("code", "low", 2000),
        apply_rules("code", "low", 10),
        apply_rules("question_answer", "low", 300),
        apply_rules("document_summary", "low", 300),
    }
    assert None not in names
    assert len({m.rule for m in names if m}) == 8


def test_unknown_task_type_only_matches_the_high_importance_rule() -> None:
    assert apply_rules("unknown", "normal", 500) is None
    assert apply_rules("unknown", "high", 500) == apply_rules("code", "high", 500)


def test_rule_match_is_frozen() -> None:
    match = apply_rules("code", "low", 10)
    assert match is not None
    with pytest.raises(AttributeError):
        match.tier = "deep"  # type: ignore[misc]


@pytest.mark.parametrize(("text", "tokens"), [
    ("", 0), ("a", 0), ("abc", 0), ("abcd", 1), ("abcde", 1), ("x" * 7, 1), ("x" * 8, 2),
    ("x" * 1023, 255), ("x" * 1024, 256), ("x" * 100_000, 25_000),
    ("\u00e9\u00e9\u00e9\u00e9", 1),  # characters, not bytes
    ("\U0001f600" * 8, 2),
])
def test_estimate_tokens_is_chars_div_4(text: str, tokens: int) -> None:
    assert estimate_tokens(text) == tokens


@pytest.mark.parametrize(("prompt", "task_type"), [
    # greetings and small talk
    ("hi", "casual_chat"),
    ("Hello there!", "casual_chat"),
    ("hey, how are you?", "casual_chat"),
    ("thanks", "casual_chat"),
    ("Good morning :)", "casual_chat"),
    ("ok", "casual_chat"),
    ("The weather is nice today", "casual_chat"),
    # code
    ("```python\nprint('hi')\n```", "code"),
    ("Why does this fail?\n```\nx = [1, 2\n```", "code"),
    ("def add(a, b):\n    return a + b\nwhat is wrong?", "code"),
    ("Write a Python function that reverses a list", "code"),
    ("I get a traceback when I run my script", "code"),
    ("#include <stdio.h>\nint main() { return 0; }", "code"),
    ("const f = (x) => x * 2", "code"),
    # summaries
    ("Summarize this: the meeting covered budgets and hiring.", "document_summary"),
    ("Please summarise the following report", "document_summary"),
    ("TL;DR of this article please", "document_summary"),
    ("What are the key points of this memo?", "document_summary"),
    # creative writing
    ("Write a poem about the sea", "creative_writing"),
    ("Tell me a story about a dragon", "creative_writing"),
    ("compose a haiku on autumn", "creative_writing"),
    # analysis
    ("Compare the French and Russian revolutions", "deep_analysis"),
    ("Analyze the trade-offs between renting and buying a house", "deep_analysis"),
    ("What are the pros and cons of nuclear power?", "deep_analysis"),
    # questions
    ("What is the capital of France?", "question_answer"),
    ("What is photosynthesis", "question_answer"),
    ("Who wrote Hamlet", "question_answer"),
    ("Explain how vaccines work", "question_answer"),
    ("is it going to rain tomorrow?", "question_answer"),
    ("The moon landing happened in which year?", "question_answer"),
    # long plain text is not chit-chat
    ("The history of the region is long. " * 20, "question_answer"),
    ("hello " + "and some more words " * 20, "question_answer"),
])
def test_infer_task_type_table(prompt: str, task_type: str) -> None:
    assert infer_task_type(prompt) == task_type


@pytest.mark.parametrize("prompt", ["", " ", "\n\n", "?", "\x00\x01", "\u2028", "🙂" * 10])
def test_infer_task_type_odd_input_returns_a_known_type(prompt: str) -> None:
    assert infer_task_type(prompt) in ALL_TASK_TYPES


def test_infer_task_type_is_case_insensitive() -> None:
    assert infer_task_type("SUMMARIZE THIS") == "document_summary"
    assert infer_task_type("WRITE A POEM") == "creative_writing"


def test_infer_task_type_whole_words_only() -> None:
    # "important" must not count as "import x"; "storyline"/"bugle" are not keywords.
    assert infer_task_type("How important is sleep?") == "question_answer"
    assert infer_task_type("a bugle played") == "casual_chat"


def test_infer_task_type_huge_prompt_returns() -> None:
    prompt = ("lorem ipsum dolor sit amet " * 4000)[:100_000]
    assert len(prompt) == 100_000
    assert infer_task_type(prompt) == "question_answer"


def test_infer_task_type_huge_prompt_scans_the_tail() -> None:
    prompt = "lorem ipsum " * 9000 + "\n```python\nprint(1)\n```"
    assert infer_task_type(prompt) == "code"


def test_infer_task_type_pathological_regex_input_returns() -> None:
    # Long runs of characters that partially match several patterns.
    for prompt in ("def " * 25_000, "=" * 100_000, "return " * 14_000, "?" * 100_000,
                   " " * 100_000 + "?"):
        assert infer_task_type(prompt) in ALL_TASK_TYPES
