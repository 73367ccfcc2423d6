"""The rule table and the cheap heuristics that feed it. Pure functions only.

A rule decision must cost microseconds, so everything here is a few string
operations and precompiled regular expressions; no I/O, no allocation-heavy
parsing, no state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TASK_TYPES: tuple[str, ...] = ("casual_chat", "code", "creative_writing", "deep_analysis",
                               "document_summary", "question_answer")

CASUAL_MAX_TOKENS = 256  # casual chat below this many tokens goes to fast
CODE_DEEP_ABOVE_TOKENS = 1024  # code above this many tokens goes to deep
QA_MIN_TOKENS = 200  # question/summary from this many tokens ...
QA_MAX_TOKENS = 2047  # ... up to this many goes to balanced
INFER_SCAN_CHARS = 2000  # only the head and tail of a prompt are scanned for hints


def estimate_tokens(text: str) -> int:
    """Characters // 4: the seed's estimate, close enough for English text."""
    return len(text) // 4


@dataclass(frozen=True)
class RuleMatch:
    tier: str
    rule: str  # a stable name, reported in responses, logs and `octoroute route`


# Every outcome of the table, built once: a frozen dataclass costs microseconds to construct.
_CASUAL_SHORT = RuleMatch("fast", "casual_short")
_HIGH_IMPORTANCE = RuleMatch("deep", "high_importance")
_DEEP_ANALYSIS = RuleMatch("deep", "deep_analysis")
_CREATIVE_WRITING = RuleMatch("deep", "creative_writing")
_CODE_LONG = RuleMatch("deep", "code_long")
_CODE = RuleMatch("balanced", "code")
_MEDIUM = {t: RuleMatch("balanced", "medium_" + t) for t in ("question_answer", "document_summary")}


def apply_rules(task_type: str, importance: str, tokens: int) -> RuleMatch | None:
    """First match wins; ``None`` when no rule decides."""
    if task_type == "casual_chat" and tokens < CASUAL_MAX_TOKENS and importance != "high":
        return _CASUAL_SHORT
    if importance == "high" and task_type != "casual_chat":
        return _HIGH_IMPORTANCE
    if task_type == "deep_analysis":
        return _DEEP_ANALYSIS
    if task_type == "creative_writing":
        return _CREATIVE_WRITING
    if task_type == "code":
        return _CODE_LONG if tokens > CODE_DEEP_ABOVE_TOKENS else _CODE
    if task_type in _MEDIUM and QA_MIN_TOKENS <= tokens <= QA_MAX_TOKENS:
        return _MEDIUM[task_type]
    return None


# Task-type inference. A keyword test is a set lookup on the prompt's words
# (lower-cased and split once), not a case-insensitive regular expression run
# over the text per category: the regex version cost 50 µs on a two-sentence
# prompt and 7 ms on a long one. Regexes remain only for what words cannot
# express (code shapes, phrases, the start of the prompt), and run on the
# lower-cased text only when a cheap guard says they might match.
_CODE_WORDS = frozenset((
    "code coding python javascript typescript java rust golang sql regex bash function compile "
    "compiler compiles compiled compiled debug refactor stacktrace traceback bug api json yaml "
    "script").split())
_SUMMARY_WORDS = frozenset("summarise summarize summary tldr condense".split())
_CREATIVE_WORDS = frozenset((
    "poem poetry story stories haiku limerick lyrics song novel fiction screenplay sonnet creative "
    "imagine").split())
_ANALYSIS_WORDS = frozenset((
    "analyse analyze analysis compare comparison evaluate tradeoff tradeoffs prove proof architect "
    "architecture critique implications strategy").split())

# (guard words, pattern): the pattern runs only when one of the words is in the prompt.
_CODE_PHRASES = (frozenset(("stack", "c")), re.compile(r"\bstack trace\b|\bc\+\+"))
_SUMMARY_PHRASES = (frozenset(("tl", "key", "abstract")),
                    re.compile(r"\b(?:tl;dr|key points|abstract of)\b"))
_CREATIVE_PHRASES = (frozenset(("fairy",)), re.compile(r"\bfairy tale\b"))
_ANALYSIS_PHRASES = (frozenset(("trade", "pros", "depth", "step", "design", "reason")),
                     re.compile(r"\b(?:trade-offs?|pros and cons|in[ -]depth|step by step|design an?|"
                                r"reason through)\b"))
# Code shapes: (guard word, pattern). A pattern starts with a literal so the
# regex engine can skip ahead to it (a leading \\b would make it try every
# position); the word boundary before the match is checked by hand.
_CODE_SHAPES = (
    ("def", re.compile(r"def \w+\(")),
    ("class", re.compile(r"class \w+[:(]")),
    ("import", re.compile(r"import \w")),
    ("return", re.compile(r"return\b[^\n;]*;")),
)
_INCLUDE = re.compile(r"#include\b")
_FUNCTION_CALL = re.compile(r"function\s*\w*\(")  # function(, functionName(, functions(
_QUESTION_START = re.compile(
    r"\s*(?:what|why|how|who|whom|when|where|which|explain|define|describe|is|are|can|could|"
    r"does|do|did|should|would|will|tell me)\b")
_CASUAL_START = re.compile(
    r"\s*(?:hi|hello|hey|yo|thanks|thank you|good (?:morning|evening|night)|how are you|"
    r"what'?s up|lol|ok|okay|cool)\b")
# ASCII text splits into words with one C-level bytes.translate (str.translate
# with a dict looks every character up in Python: five times slower); other
# text with \w+. Both give the word boundaries of ``\b``.
_ASCII_NON_WORD = bytes(c if c < 128 and (chr(c).isalnum() or chr(c) == "_") else 32 for c in range(256))
_WORD = re.compile(r"\w+")
# Every word any test below looks up. The prompt's words are intersected with
# it in one C-level pass (only the few hits are kept), instead of building a
# set of all of the prompt's words and then probing it.
_VOCABULARY = frozenset().union(
    _CODE_WORDS, _SUMMARY_WORDS, _CREATIVE_WORDS, _ANALYSIS_WORDS, _CODE_PHRASES[0], _SUMMARY_PHRASES[0],
    _CREATIVE_PHRASES[0], _ANALYSIS_PHRASES[0], (word for word, _ in _CODE_SHAPES))


def _has(words: frozenset[str], text: str, keywords: frozenset[str],
         phrases: tuple[frozenset[str], re.Pattern[str]]) -> bool:
    if not keywords.isdisjoint(words):
        return True
    guards, pattern = phrases
    return not guards.isdisjoint(words) and pattern.search(text) is not None


def _code_shape(words: frozenset[str], text: str) -> bool:
    # A one-character test is a memchr; a longer needle is a slower search,
    # run only when its rare first character is in the text at all.
    if ("`" in text and "```" in text) or ("=" in text and "=>" in text):
        return True
    for word, pattern in _CODE_SHAPES:
        if word in words and _after_boundary(pattern, text):
            return True
    if "#" in text and _INCLUDE.search(text):
        return True
    return "(" in text and "function" in text and _after_boundary(_FUNCTION_CALL, text)


def _after_boundary(pattern: re.Pattern[str], text: str) -> bool:
    """``pattern`` matches somewhere that starts a word (as a leading ``\\b`` would demand)."""
    for match in pattern.finditer(text):
        start = match.start()
        if start == 0 or _WORD.match(text, start - 1) is None:
            return True
    return False


def infer_task_type(prompt: str) -> str:
    """Guess the task type from the prompt text with documented cheap heuristics.

    Order: code, document_summary, creative_writing, deep_analysis, then
    casual greetings, question_answer (question words or a trailing ``?``),
    and finally casual_chat for short text and question_answer for long text.
    Keywords match whole words, case-insensitively; only the head and the
    tail of a long prompt are scanned (``INFER_SCAN_CHARS``).
    """
    text = prompt if len(prompt) <= INFER_SCAN_CHARS else prompt[:INFER_SCAN_CHARS // 2] + "\n" + \
        prompt[-INFER_SCAN_CHARS // 2:]
    text = text.lower()
    words = _VOCABULARY.intersection(text.encode().translate(_ASCII_NON_WORD).decode().split()
                                     if text.isascii() else _WORD.findall(text))
    if _has(words, text, _CODE_WORDS, _CODE_PHRASES) or _code_shape(words, text):
        return "code"
    if _has(words, text, _SUMMARY_WORDS, _SUMMARY_PHRASES):
        return "document_summary"
    if _has(words, text, _CREATIVE_WORDS, _CREATIVE_PHRASES):
        return "creative_writing"
    if _has(words, text, _ANALYSIS_WORDS, _ANALYSIS_PHRASES):
        return "deep_analysis"
    if len(prompt) < 200 and _CASUAL_START.match(text):
        return "casual_chat"
    if _QUESTION_START.match(text) or text.rstrip().endswith("?"):
        return "question_answer"
    return "casual_chat" if len(prompt) < 200 else "question_answer"
