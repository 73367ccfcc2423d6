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
INFER_SCAN_CHARS = 4000  # only the head and tail of a prompt are scanned for hints


def estimate_tokens(text: str) -> int:
    """Characters // 4: the seed's estimate, close enough for English text."""
    return len(text) // 4


@dataclass(frozen=True)
class RuleMatch:
    tier: str
    rule: str  # a stable name, reported in responses, logs and `octoroute route`


def apply_rules(task_type: str, importance: str, tokens: int) -> RuleMatch | None:
    """First match wins; ``None`` when no rule decides."""
    if task_type == "casual_chat" and tokens < CASUAL_MAX_TOKENS and importance != "high":
        return RuleMatch("fast", "casual_short")
    if importance == "high" and task_type != "casual_chat":
        return RuleMatch("deep", "high_importance")
    if task_type == "deep_analysis":
        return RuleMatch("deep", "deep_analysis")
    if task_type == "creative_writing":
        return RuleMatch("deep", "creative_writing")
    if task_type == "code":
        if tokens > CODE_DEEP_ABOVE_TOKENS:
            return RuleMatch("deep", "code_long")
        return RuleMatch("balanced", "code")
    if task_type in ("question_answer", "document_summary") and QA_MIN_TOKENS <= tokens <= QA_MAX_TOKENS:
        return RuleMatch("balanced", "medium_" + task_type)
    return None


# Task-type inference: the first pattern that matches wins, in this order.
_CODE = re.compile(
    r"```|\bdef \w+\(|\bclass \w+[:(]|\bfunction\s*\w*\(|\bimport \w+|#include\b|=>|\breturn\b.*;"
    r"|\b(?:code|coding|python|javascript|typescript|java|rust|golang|c\+\+|sql|regex|bash|"
    r"function|compile[rsd]?|debug|refactor|stack ?trace|traceback|bug|api|json|yaml|script)\b",
    re.IGNORECASE)
_SUMMARY = re.compile(r"\b(?:summari[sz]e|summary|tl;?dr|key points|condense|abstract of)\b", re.IGNORECASE)
_CREATIVE = re.compile(
    r"\b(?:poem|poetry|story|stories|haiku|limerick|lyrics|song|novel|fiction|screenplay|sonnet|"
    r"fairy tale|creative|imagine)\b", re.IGNORECASE)
_ANALYSIS = re.compile(
    r"\b(?:analy[sz]e|analysis|compare|comparison|evaluate|trade-?offs?|pros and cons|in depth|"
    r"in-depth|step by step|prove|proof|design an?|architect(?:ure)?|critique|implications|"
    r"strategy|reason through)\b", re.IGNORECASE)
_QUESTION = re.compile(
    r"^\s*(?:what|why|how|who|whom|when|where|which|explain|define|describe|is|are|can|could|"
    r"does|do|did|should|would|will|tell me)\b|\?\s*$", re.IGNORECASE)
_CASUAL = re.compile(
    r"^\s*(?:hi|hello|hey|yo|thanks|thank you|good (?:morning|evening|night)|how are you|"
    r"what'?s up|lol|ok|okay|cool)\b", re.IGNORECASE)


def infer_task_type(prompt: str) -> str:
    """Guess the task type from the prompt text with documented cheap heuristics.

    Order: code, document_summary, creative_writing, deep_analysis, then
    casual greetings, question_answer (question words or a trailing ``?``),
    and finally casual_chat for short text and question_answer for long text.
    """
    head = prompt if len(prompt) <= INFER_SCAN_CHARS else prompt[:INFER_SCAN_CHARS // 2] + "\n" + \
        prompt[-INFER_SCAN_CHARS // 2:]
    if _CODE.search(head):
        return "code"
    if _SUMMARY.search(head):
        return "document_summary"
    if _CREATIVE.search(head):
        return "creative_writing"
    if _ANALYSIS.search(head):
        return "deep_analysis"
    if _CASUAL.search(head) and len(prompt) < 200:
        return "casual_chat"
    if _QUESTION.search(head):
        return "question_answer"
    return "casual_chat" if len(prompt) < 200 else "question_answer"
