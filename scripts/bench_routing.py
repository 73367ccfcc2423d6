"""Time rules + scorer decisions (strategy ``rule``) on 2,000-character prompts.

    python scripts/bench_routing.py [--n 10000]

Each shape is routed ``--n`` times through ``Router.route`` (the path a request
takes, metrics included); prints p50/p99/max in microseconds per shape, timed
with ``time.perf_counter_ns`` around each decision.
"""

from __future__ import annotations

import argparse
import sys
import time

from octoroute.config import RoutingConfig
from octoroute.metrics import Metrics
from octoroute.routing.router import RouteInput, Router
from prometheus_client import CollectorRegistry

CHARS = 2000


def _fill(unit: str) -> str:
    return (unit * (CHARS // len(unit) + 1))[:CHARS]


SHAPES = {
    "prose": _fill("The committee reviewed the quarterly figures and asked for a clearer summary of the "
                   "regional results, with notes on staffing and travel. "),
    "code": "Why does this crash?\n```python\n" + _fill("def load(path):\n    with open(path) as fh:\n"
                                                        "        return json.loads(fh.read())  # x = 1;\n"),
    "math": _fill("A train leaves at 9:00 at 80 km/h and another at 10:30 at 120 km/h; how many km "
                  "from the station does the second catch up if 3 * 4 = 12? "),
    "multilingual": _fill("Bitte fasse den folgenden Bericht zusammen; die Zahlen für Mai sind neu. "
                          "请总结以下报告。 "),
}


def percentile(sorted_ns: list[int], q: float) -> float:
    return sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))] / 1000.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    args = parser.parse_args(argv)
    router = Router(RoutingConfig(strategy="rule"), None, Metrics(CollectorRegistry()),
                    time.monotonic, {})
    for name, text in SHAPES.items():
        inp = RouteInput(text=text, importance="normal")
        for _ in range(200):  # warm up
            router.route(inp)
        samples = []
        for _ in range(args.n):
            started = time.perf_counter_ns()
            router.route(inp)
            samples.append(time.perf_counter_ns() - started)
        samples.sort()
        tier = router.route(inp).tier
        print(f"{name:13} {len(text)} chars -> {tier:8} p50 {percentile(samples, 0.5):6.1f} us  "
              f"p99 {percentile(samples, 0.99):6.1f} us  max {samples[-1] / 1000.0:7.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
