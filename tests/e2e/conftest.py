"""End-to-end fixtures: real llama.cpp servers and ``octoroute serve`` processes.

Two llama-cpp-python servers (A and B, Gemma 3 270M) are started once per
session through ``scripts/llm-server`` and stopped at the end
(``test_e2e_llama_server.py`` starts llama.cpp's own ``llama-server`` too). Each test
starts Octoroute as a real subprocess (``python -m octoroute serve``) on a
free port with a generated config; teardown stops it with SIGTERM and checks
that the drain ended with exit status 0.

The servers run with ``--interrupt_requests false``, as README recommends:
llama-cpp-python otherwise aborts a stream whenever any other request
arrives. ``test_e2e_probes.py`` starts one without the flag on purpose.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import (
    INSTALL_TIMEOUT_S,
    LlamaServer,
    Octoroute,
    Servers,
    free_port,
    llm_server,
    start_servers,
)


@pytest.fixture(scope="session")
def llm_installed() -> None:
    """The llama.cpp venv and the model: fast when present (CI installs them before pytest)."""
    llm_server("install", timeout=INSTALL_TIMEOUT_S)
    llm_server("model")


@pytest.fixture(scope="session")
def llama_server_installed(llm_installed: None) -> None:
    """llama.cpp's own llama-server, compiled once (CI builds it before pytest)."""
    llm_server("install-llama-server", timeout=INSTALL_TIMEOUT_S)


@pytest.fixture(scope="session")
def servers(llm_installed: None) -> Iterator[Servers]:
    """Servers A and B, named after this run so parallel runs never share one."""
    tag = f"e2e{os.getpid()}"
    pair = Servers(LlamaServer(f"{tag}-a", free_port()), LlamaServer(f"{tag}-b", free_port()))
    start_servers(pair.a, pair.b)
    try:
        yield pair
    finally:
        for s in (pair.a, pair.b):
            s.stop()


@pytest.fixture
def octoroute(tmp_path: Path) -> Iterator[Callable[[dict[str, Any]], Octoroute]]:
    """Start Octoroute processes; each is stopped (SIGTERM) at teardown and must exit 0."""
    started: list[Octoroute] = []

    def start(config: dict[str, Any]) -> Octoroute:
        router = Octoroute(config, tmp_path)
        started.append(router)
        return router.start()

    yield start
    codes = {r.url: r.stop() for r in started}
    bad = {url: code for url, code in codes.items() if code not in (0, None)}
    assert not bad, f"octoroute exited non-zero after SIGTERM: {bad}"
