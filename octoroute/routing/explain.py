"""``octoroute route --explain``: the signals, each layer's verdict, what decided."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from octoroute.routing.router import Decision, Layer
from octoroute.routing.scorer import Score


def explanation_lines(decision: Decision, scored: Score, layers: Sequence[Layer]) -> list[str]:
    """The explanation as lines of text (no prompt text in them)."""
    signals = ", ".join(f"{name}={value}" for name, value in scored.signals) or "none"
    lines = [f"signals   {signals}", f"language  {scored.language}", "layers"]
    for layer in layers:
        lines.append(f"  {layer.name:9} {layer.verdict:9} {layer.detail}")
    decided = decision.rule or decision.strategy
    lines.append(f"decision  {decision.tier} (strategy {decision.strategy}, decided by {decided}, "
                 f"task_type {decision.task_type}, confidence {decision.confidence:.2f})")
    for warning in decision.warnings:
        lines.append(f"warning   {warning}")
    return lines


def print_explanation(decision: Decision, scored: Score, layers: Sequence[Layer],
                      out: Callable[[str], None] = print) -> None:
    for line in explanation_lines(decision, scored, layers):
        out(line)
