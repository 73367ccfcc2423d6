"""The user-facing docs stay true to the code: every config key documented, the README's
set-up commands the ones CI runs, and ``scripts/bench`` at least starts."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest
from octoroute import config

REPO = Path(__file__).resolve().parents[2]
README_MAX_LINES = 300
TEST_COMMAND = "pip install -e '.[test]' && python -m pytest"
# Dataclass fields that are not keys of the file: derived, or read from the environment.
NOT_KEYS = {"api_key", "api_keys", "tier", "rules"}
# Keys a config may no longer have: refused with advice, and documented as removed.
REMOVED = {"server": {"cpu_affinity"}}
SECTIONS = {
    "server": config.ServerConfig, "routing": config.RoutingConfig, "health": config.HealthConfig,
    "timeouts": config.TimeoutsConfig, "observability": config.ObservabilityConfig,
    "models.<tier>": config.EndpointConfig, "anthropic": config.AnthropicConfig,
    "busy.<tier>": config.BusyTierConfig,
}


def documented_keys(section: str) -> set[str]:
    """The `key` names in the first column of a section's table in docs/configuration.md."""
    text = (REPO / "docs" / "configuration.md").read_text()
    start = text.index(f"## `[{section}]")
    end = text.find("\n## ", start + 1)
    body = text[start:end if end >= 0 else None]
    return set(re.findall(r"^\| `([a-z_]+)`", body, re.M))


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_every_config_key_is_documented(section: str) -> None:
    removed = REMOVED.get(section, set())
    keys = {f.name for f in dataclasses.fields(SECTIONS[section])} - NOT_KEYS - removed
    missing = keys - documented_keys(section)
    assert not missing, f"add {sorted(missing)} to the [{section}] table of docs/configuration.md"
    text = (REPO / "docs" / "configuration.md").read_text()
    assert all(f"`{section}.{key}` has been removed" in text for key in removed)


def test_readme_is_short_and_starts_with_the_two_commands() -> None:
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES
    commands = [line for line in lines[:15] if line.startswith("python3 -m venv .venv")]
    assert len(commands) == 2
    assert commands[0].endswith("pip install . && octoroute demo")
    assert commands[1].endswith(TEST_COMMAND)


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    assert "python3 -m venv .venv" in ci and ". .venv/bin/activate" in ci
    assert re.search(r"pip install( --quiet)? -e '\.\[test\]'\npython -m pytest\n", ci)


def test_bench_help_runs() -> None:
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "bench"), "--help"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "--quick" in done.stdout
