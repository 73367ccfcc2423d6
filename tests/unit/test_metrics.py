"""``octoroute.metrics``: the documented table and the Grafana board name only real series."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from octoroute.metrics import Metrics
from prometheus_client import CollectorRegistry

from fakes import endpoint, make_config

REPO = Path(__file__).resolve().parents[2]
TABLE_DOC = REPO / "docs" / "deployment.md"  # the metrics table (the README links to it)
GRAFANA = REPO / "docs" / "grafana-octoroute.json"
METRIC_NAME = re.compile(r"\boctoroute_[a-z_]+\b")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def metrics() -> Metrics:
    config = make_config({t: [endpoint("http://127.0.0.1:9/v1", id=f"{t}-1")]
                          for t in ("fast", "balanced", "deep")})
    return Metrics(CollectorRegistry(), config.endpoints)


def families() -> dict[str, str]:
    """Every exported family as it is scraped (a counter with ``_total``) -> its type."""
    out = {}
    for family in metrics().registry.collect():
        name = family.name + "_total" if family.type == "counter" else family.name
        out[name] = family.type
    return out


def documented() -> set[str]:
    names: set[str] = set()
    for line in TABLE_DOC.read_text().splitlines():
        if line.startswith("| `octoroute_"):
            names.update(re.findall(r"`(octoroute_[a-z_]+)`", line.split("|")[1]))
    return names


def test_the_metrics_table_lists_exactly_the_exported_metrics() -> None:
    exported, table = set(families()), documented()
    assert not exported - table, f"exported but not in {TABLE_DOC.name}'s table: {sorted(exported - table)}"
    assert not table - exported, f"in {TABLE_DOC.name}'s table but not exported: {sorted(table - exported)}"


def test_no_created_series() -> None:
    m = metrics()
    m.requests.labels(tier="fast", strategy="rule").inc()
    m.request_duration.labels(route="/chat").observe(0.1)
    text = m.render().decode()
    assert "_created" not in text and "octoroute_requests_total" in text


def scraped_names() -> set[str]:
    names = set()
    for name, kind in families().items():
        names.add(name)
        if kind == "histogram":
            names.update(name + suffix for suffix in HISTOGRAM_SUFFIXES)
    return names


def grafana_exprs() -> list[str]:
    board = json.loads(GRAFANA.read_text())
    return [t["expr"] for p in board["panels"] for t in p.get("targets", [])]


def test_the_grafana_board_is_valid_json_with_the_panels_the_docs_promise() -> None:
    board = json.loads(GRAFANA.read_text())
    exprs = " ".join(grafana_exprs())
    for needed in ("octoroute_requests_total", "octoroute_tokens_total", "octoroute_compute_saved_ratio",
                   "octoroute_request_duration_seconds_bucket", "octoroute_endpoint_up",
                   "octoroute_rejected_requests_total", "octoroute_tier_fallbacks_total"):
        assert needed in exprs, needed
    assert "histogram_quantile" in exprs
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("expr", grafana_exprs())
def test_every_grafana_expression_names_a_metric_octoroute_exports(expr: str) -> None:
    names = METRIC_NAME.findall(expr)
    assert names, expr
    unknown = [n for n in names if n not in scraped_names()]
    assert not unknown, f"{unknown} in {expr}"
