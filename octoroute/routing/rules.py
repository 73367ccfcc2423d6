"""``[[routing.rules]]``: compiled once, matched first-match-wins. Pure functions.

A rule is a tier and a set of conditions that must all hold; the user's own
rules are checked before the preset's. Presets:

- ``default`` (built from public judgements of small vs large models, see
  ``octoroute/routing/scorer.py``): high importance goes to deep (to balanced
  for small talk), short small talk without tools goes to fast; everything
  else is left to the scorer, which knows how hard a code, maths, reasoning
  or extraction ask is.
- ``seed``: the seed README's table, exactly, ending in its "everything else
  -> 30B" catch-all.
- ``none``: only the user's rules, then the scorer.

A rule costs a few attribute tests; a ``keywords`` or ``regex`` condition one
precompiled search over the routed text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from octoroute.config import TASK_TYPES, RuleConfig

__all__ = ["DEFAULT_PRESET", "PRESETS", "SEED_PRESET", "TASK_TYPES", "CompiledRule", "RuleFacts",
           "compile_rules", "estimate_tokens", "first_match"]


def estimate_tokens(text: str) -> int:
    """Characters // 4, the seed's estimate, for text in Latin script; more for other scripts.

    A tokenizer spends about a token on each Chinese, Japanese or Devanagari character: at a quarter
    each, a page of a Japanese contract looked like two lines. The UTF-8 bytes past one a character
    add half a token each beyond the first half-a-byte per character (a few accents in Spanish add
    nothing, so the thresholds tuned on it stay put): CJK text comes to a token a character, Cyrillic
    to half. ASCII text pays one flag test.
    """
    if text.isascii():
        return len(text) // 4
    extra = len(text.encode("utf-8", "surrogatepass")) - len(text)
    return len(text) // 4 + max(0, extra - len(text) // 2) // 2


_NOT_CHAT = tuple(t for t in TASK_TYPES if t != "casual_chat")

DEFAULT_PRESET: tuple[RuleConfig, ...] = (
    # The client said the answer matters: the seed promises 120B for it, and
    # the issue promises never below balanced (small talk stays at balanced).
    RuleConfig(name="high_importance", tier="deep", importance=("high",), task_type=_NOT_CHAT),
    RuleConfig(name="high_importance_chat", tier="balanced", importance=("high",)),
    # Small talk: small models match large ones. Tools mean an agent loop,
    # which the scorer sends to balanced.
    RuleConfig(name="casual_short", tier="fast", task_type=("casual_chat",), max_tokens=255,
               has_tools=False),
)

SEED_PRESET: tuple[RuleConfig, ...] = (
    RuleConfig(name="casual_short", tier="fast", task_type=("casual_chat",), max_tokens=255,
               importance=("low", "normal")),
    RuleConfig(name="high_importance", tier="deep", importance=("high",), task_type=_NOT_CHAT),
    RuleConfig(name="deep_analysis", tier="deep", task_type=("deep_analysis",)),
    RuleConfig(name="creative_writing", tier="deep", task_type=("creative_writing",)),
    RuleConfig(name="code_long", tier="deep", task_type=("code",), min_tokens=1025),
    RuleConfig(name="code", tier="balanced", task_type=("code",)),
    RuleConfig(name="medium_question_answer", tier="balanced", task_type=("question_answer",),
               min_tokens=200, max_tokens=2047),
    RuleConfig(name="medium_document_summary", tier="balanced", task_type=("document_summary",),
               min_tokens=200, max_tokens=2047),
    RuleConfig(name="everything_else", tier="balanced"),
)

PRESETS: Mapping[str, tuple[RuleConfig, ...]] = {"default": DEFAULT_PRESET, "seed": SEED_PRESET, "none": ()}


class RuleFacts(NamedTuple):
    """What a rule can look at, for one request."""

    text: str  # the routed text as scanned: all of it, or its head and tail (``scan_text``)
    task_type: str
    importance: str
    tokens: int
    has_tools: bool
    has_images: bool
    json_response: bool
    headers: Mapping[str, str]  # names upper-cased, as falcon's ``req.headers`` gives them
    turns: int


@dataclass(frozen=True)
class CompiledRule:
    """A rule with its keyword and regex conditions compiled."""

    config: RuleConfig
    keywords: re.Pattern[str] | None
    regex: re.Pattern[str] | None
    header: tuple[str, str] | None  # (NAME upper-cased, value)
    needles: tuple[str, ...] = ()  # the keywords lower-cased: a substring test before the regex

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def tier(self) -> str:
        return self.config.tier

    def matches(self, facts: RuleFacts) -> bool:
        c = self.config
        if c.task_type is not None and facts.task_type not in c.task_type:
            return False
        if c.importance is not None and facts.importance not in c.importance:
            return False
        if c.min_tokens is not None and facts.tokens < c.min_tokens:
            return False
        if c.max_tokens is not None and facts.tokens > c.max_tokens:
            return False
        if c.has_tools is not None and facts.has_tools != c.has_tools:
            return False
        if c.has_images is not None and facts.has_images != c.has_images:
            return False
        if c.json_response is not None and facts.json_response != c.json_response:
            return False
        if c.min_turns is not None and facts.turns < c.min_turns:
            return False
        if c.max_turns is not None and facts.turns > c.max_turns:
            return False
        if self.header is not None and facts.headers.get(self.header[0], "").strip() != self.header[1]:
            return False
        if self.keywords is not None:
            # A C-level substring test first: the whole-word regex starts with a
            # lookbehind, which the engine cannot skip ahead for (35 ns a character).
            low = facts.text.lower()
            if not any(needle in low for needle in self.needles) or self.keywords.search(facts.text) is None:
                return False
        return self.regex is None or self.regex.search(facts.text) is not None


def compile_rule(rule: RuleConfig) -> CompiledRule:
    keywords = None
    if rule.keywords:
        # Whole words: a keyword is not matched inside a longer word ("api" in "rapid").
        alternatives = "|".join(re.escape(k) for k in sorted(rule.keywords, key=len, reverse=True))
        keywords = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
    regex = re.compile(rule.regex) if rule.regex else None
    header = (rule.header[0].upper(), rule.header[1]) if rule.header else None
    needles = tuple(k.lower() for k in rule.keywords) if rule.keywords else ()
    return CompiledRule(rule, keywords, regex, header, needles)


def compile_rules(own: tuple[RuleConfig, ...], preset: str) -> tuple[CompiledRule, ...]:
    """The user's rules, then the preset's: the order they are checked in."""
    return tuple(compile_rule(r) for r in (*own, *PRESETS[preset]))


def first_match(rules: tuple[CompiledRule, ...], facts: RuleFacts) -> CompiledRule | None:
    """First match wins; ``None`` when no rule decides."""
    for rule in rules:
        if rule.matches(facts):
            return rule
    return None
