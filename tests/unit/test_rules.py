"""``[[routing.rules]]`` matching and the presets.

The seed preset is checked exhaustively against an oracle transcribed from
the seed README's table (the old ``apply_rules`` tests, now run through the
rule engine, with the table's own "everything else -> 30B" ending).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import pytest
from octoroute.config import TASK_TYPES, RuleConfig
from octoroute.routing.rules import (
    DEFAULT_PRESET,
    PRESETS,
    SEED_PRESET,
    RuleFacts,
    compile_rule,
    compile_rules,
    estimate_tokens,
    first_match,
)

SEED_TASK_TYPES = ("casual_chat", "code", "creative_writing", "deep_analysis", "document_summary",
                   "question_answer")
IMPORTANCES = ("low", "normal", "high")
# Every boundary named in the spec, one either side of it, and the extremes.
TOKEN_COUNTS = (0, 1, 199, 200, 201, 255, 256, 257, 1023, 1024, 1025, 2046, 2047, 2048, 2049,
                10_000, 25_000, 10**9)


def facts(text: str = "hello", *, task_type: str = "question_answer", importance: str = "normal",
          tokens: int = 10, has_tools: bool = False, has_images: bool = False, json_response: bool = False,
          headers: Mapping[str, str] | None = None, turns: int = 1) -> RuleFacts:
    return RuleFacts(text, task_type, importance, tokens, has_tools, has_images, json_response,
                     headers or {}, turns)


def decide(rules: tuple[RuleConfig, ...], f: RuleFacts) -> tuple[str, str] | None:
    match = first_match(tuple(compile_rule(r) for r in rules), f)
    return (match.tier, match.name) if match else None


def seed_oracle(task_type: str, importance: str, tokens: int) -> str:
    """The seed's rule table, transcribed literally; first match wins."""
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
    # "question_answer or document_summary with 200 to 2047 tokens -> balanced", and
    # the README's "Everything else -> 30B"
    return "balanced"


@pytest.mark.parametrize(("task_type", "importance", "tokens"),
                         list(itertools.product(TASK_TYPES, IMPORTANCES, TOKEN_COUNTS)))
def test_seed_preset_matches_the_seed_table(task_type: str, importance: str, tokens: int) -> None:
    got = decide(SEED_PRESET, facts(task_type=task_type, importance=importance, tokens=tokens))
    assert got is not None  # the seed table ends in a catch-all
    assert got[0] == seed_oracle(task_type, importance, tokens)


def test_seed_preset_dense_sweep() -> None:
    """Every token count from 0 to 2100, not only the named boundaries."""
    rules = compile_rules((), "seed")
    mismatches = []
    for task_type, importance in itertools.product(SEED_TASK_TYPES, IMPORTANCES):
        for tokens in range(0, 2101):
            match = first_match(rules, facts(task_type=task_type, importance=importance, tokens=tokens))
            assert match is not None
            if match.tier != seed_oracle(task_type, importance, tokens):
                mismatches.append((task_type, importance, tokens, match.tier))
    assert mismatches == []


@pytest.mark.parametrize(("task_type", "importance", "tokens", "tier", "rule"), [
    ("casual_chat", "low", 255, "fast", "casual_short"),
    ("casual_chat", "low", 256, "balanced", "everything_else"),  # "fewer than 256"
    ("casual_chat", "high", 0, "balanced", "everything_else"),  # high never goes to fast ...
    ("code", "low", 1024, "balanced", "code"),  # "above 1024" is strict
    ("code", "low", 1025, "deep", "code_long"),
    ("code", "high", 0, "deep", "high_importance"),  # high importance wins before the code rule
    ("question_answer", "normal", 199, "balanced", "everything_else"),
    ("question_answer", "normal", 200, "balanced", "medium_question_answer"),
    ("question_answer", "normal", 2047, "balanced", "medium_question_answer"),
    ("document_summary", "high", 5, "deep", "high_importance"),
    ("creative_writing", "low", 10**9, "deep", "creative_writing"),
    ("math", "normal", 10, "balanced", "everything_else"),  # new task types: the seed's default
])
def test_seed_preset_spot_checks(task_type: str, importance: str, tokens: int, tier: str, rule: str) -> None:
    """Hand-written cases, so a shared misreading in the oracle and the preset still shows."""
    got = decide(SEED_PRESET, facts(task_type=task_type, importance=importance, tokens=tokens))
    assert got == (tier, rule)


@pytest.mark.parametrize(("task_type", "importance", "tokens", "has_tools", "want"), [
    ("code", "high", 10, False, ("deep", "high_importance")),
    ("creative_writing", "high", 10, False, ("deep", "high_importance")),
    ("casual_chat", "high", 10, False, ("balanced", "high_importance_chat")),
    ("casual_chat", "normal", 255, False, ("fast", "casual_short")),
    ("casual_chat", "low", 10, False, ("fast", "casual_short")),
    ("casual_chat", "normal", 256, False, None),  # long chat: the scorer decides
    ("casual_chat", "normal", 10, True, None),  # tools: an agent loop, the scorer decides
    ("code", "normal", 10, False, None),  # the scorer knows how hard code is
    ("creative_writing", "normal", 10, False, None),
])
def test_default_preset(task_type: str, importance: str, tokens: int, has_tools: bool,
                        want: tuple[str, str] | None) -> None:
    got = decide(DEFAULT_PRESET, facts(task_type=task_type, importance=importance, tokens=tokens,
                                       has_tools=has_tools))
    assert got == want


def test_default_preset_never_routes_high_importance_below_balanced() -> None:
    for task_type in TASK_TYPES:
        got = decide(DEFAULT_PRESET, facts(task_type=task_type, importance="high"))
        assert got is not None and got[0] in ("balanced", "deep"), task_type


def test_presets_are_named() -> None:
    assert set(PRESETS) == {"default", "seed", "none"}
    assert PRESETS["none"] == ()


# --- conditions -----------------------------------------------------------------

def rule(**conditions: object) -> RuleConfig:
    return RuleConfig(name="r", tier="deep", **conditions)  # type: ignore[arg-type]


def test_rule_without_conditions_matches_everything() -> None:
    assert decide((rule(),), facts()) == ("deep", "r")
    assert decide((rule(),), facts("", task_type="casual_chat", tokens=0)) == ("deep", "r")


@pytest.mark.parametrize(("condition", "matching", "other"), [
    ({"task_type": ("code", "math")}, facts(task_type="math"), facts(task_type="reasoning")),
    ({"importance": ("low",)}, facts(importance="low"), facts(importance="normal")),
    ({"min_tokens": 100}, facts(tokens=100), facts(tokens=99)),  # inclusive
    ({"max_tokens": 100}, facts(tokens=100), facts(tokens=101)),  # inclusive
    ({"has_tools": True}, facts(has_tools=True), facts(has_tools=False)),
    ({"has_tools": False}, facts(has_tools=False), facts(has_tools=True)),
    ({"has_images": True}, facts(has_images=True), facts()),
    ({"json_response": True}, facts(json_response=True), facts()),
    ({"min_turns": 3}, facts(turns=3), facts(turns=2)),
    ({"max_turns": 1}, facts(turns=1), facts(turns=2)),
    ({"header": ("X-Team", "research")}, facts(headers={"X-TEAM": "research"}),
     facts(headers={"X-TEAM": "Research"})),  # names case-insensitive, values exact
    ({"header": ("X-Team", "research")}, facts(headers={"X-TEAM": " research "}), facts()),
    ({"keywords": ("kubernetes", "helm chart")}, facts("Deploy it with a Helm Chart, please"),
     facts("helm and chart")),
    ({"keywords": ("api",)}, facts("Why does the API return 500?"), facts("a rapid fix")),  # whole words
    ({"keywords": ("c++",)}, facts("my C++ template"), facts("my c template")),  # punctuation escaped
    ({"regex": r"(?i)\bselect\b.+\bfrom\b"}, facts("SELECT id FROM t"), facts("select a dish")),
])
def test_each_condition(condition: dict[str, object], matching: RuleFacts, other: RuleFacts) -> None:
    assert decide((rule(**condition),), matching) == ("deep", "r")
    assert decide((rule(**condition),), other) is None


def test_all_conditions_must_hold() -> None:
    both = rule(task_type=("code",), min_tokens=100)
    assert decide((both,), facts(task_type="code", tokens=100)) == ("deep", "r")
    assert decide((both,), facts(task_type="code", tokens=99)) is None
    assert decide((both,), facts(task_type="math", tokens=100)) is None


def test_first_match_wins_and_own_rules_come_before_the_preset() -> None:
    own = (RuleConfig(name="chat_to_balanced", tier="balanced", task_type=("casual_chat",)),
           RuleConfig(name="never_reached", tier="deep", task_type=("casual_chat",)))
    rules = compile_rules(own, "default")
    assert [r.name for r in rules][:2] == ["chat_to_balanced", "never_reached"]
    match = first_match(rules, facts(task_type="casual_chat"))
    assert match is not None and (match.name, match.tier) == ("chat_to_balanced", "balanced")
    assert first_match(compile_rules((), "none"), facts(task_type="casual_chat")) is None


def test_compiled_rule_reports_name_and_tier() -> None:
    compiled = compile_rule(RuleConfig(name="x", tier="fast", keywords=("a",)))
    assert (compiled.name, compiled.tier) == ("x", "fast")


@pytest.mark.parametrize(("text", "tokens"), [
    ("", 0), ("a", 0), ("abc", 0), ("abcd", 1), ("abcde", 1), ("x" * 7, 1), ("x" * 8, 2),
    ("x" * 1023, 255), ("x" * 1024, 256), ("x" * 100_000, 25_000),
    # a few accents in Latin script are still characters, not bytes
    ("¿Cómo configuro SSH para que solo acepte llaves?", 12),
])
def test_estimate_tokens_is_chars_div_4_in_latin_script(text: str, tokens: int) -> None:
    assert estimate_tokens(text) == tokens


@pytest.mark.parametrize(("text", "tokens"), [
    ("契約書のこの部分、要点まとめて。" * 20, 320),  # about a token a character, not a quarter
    ("\u0928\u092e\u0938\u094d\u0924\u0947" * 10, 60),  # Devanagari too
    ("Привет, как дела?" * 10, 64),  # Cyrillic: more than a quarter
    ("\U0001f600" * 8, 12),
])
def test_estimate_tokens_counts_other_scripts_nearer_a_tokenizer(text: str, tokens: int) -> None:
    assert estimate_tokens(text) == tokens
