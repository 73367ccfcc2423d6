"""Route a JSONL dev set with the rule strategy and report how the decisions fare.

Each line: ``{"prompt": ..., "acceptable": [tiers], "category": ...}``. Reports
the acceptable-tier rate, the under-routed rate (below every acceptable tier)
and compute saved against sending everything to deep (8/30/120 B by tier),
and lists the misses. A developer's check of the scorer; the team's
held-out measure is ``octoroute eval``.

    python scripts/route_devset.py [tests/data/routing_devset.jsonl] [--preset default|seed|none]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from octoroute.config import RoutingConfig
from octoroute.metrics import Metrics
from octoroute.routing.router import RouteInput, Router
from prometheus_client import CollectorRegistry

PARAMS_B = {"fast": 8, "balanced": 30, "deep": 120}
RANK = {"fast": 0, "balanced": 1, "deep": 2}
DEFAULT_SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "routing_devset.jsonl"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=str(DEFAULT_SET))
    parser.add_argument("--preset", default="default", choices=("default", "seed", "none"))
    args = parser.parse_args(argv)
    router = Router(RoutingConfig(strategy="rule", rules_preset=args.preset), None,
                    Metrics(CollectorRegistry()), lambda: 0.0, {})
    rows = [json.loads(line) for line in Path(args.path).read_text(encoding="utf-8").splitlines() if line]
    ok = under = 0
    cost = 0
    for row in rows:
        decision = router.route(RouteInput(text=row["prompt"], importance="normal"))
        acceptable = row["acceptable"]
        cost += PARAMS_B[decision.tier]
        if decision.tier in acceptable:
            ok += 1
            continue
        low = min(RANK[t] for t in acceptable)
        is_under = RANK[decision.tier] < low
        under += is_under
        print(f"{'UNDER' if is_under else 'over '} {decision.tier:8} want {'/'.join(acceptable):20} "
              f"{row.get('category', ''):14} {decision.reason}")
    n = len(rows)
    saved = 1 - cost / (PARAMS_B["deep"] * n)
    print(f"{n} prompts: acceptable {ok / n:.1%}, under-routed {under / n:.1%}, "
          f"compute saved vs always-deep {saved:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
