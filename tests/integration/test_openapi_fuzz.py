"""``/openapi.json`` matches what the app accepts: schemathesis against a live server.

Octoroute runs under ``octoroute.server.Server`` on a real socket in front of
fakes that answer like real servers. The document it serves must be valid
OpenAPI 3.1, document every route the app has, and load in schemathesis;
then every operation is fuzzed with schema-conforming (positive) and, where
there is input, schema-violating (negative) examples: no 5xx, responses and
their status codes, content types and bodies conform to the document,
invalid input is rejected and valid input accepted.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import falcon.inspect
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from octoroute.api.openapi import build_document
from octoroute.app import Runtime, build_runtime
from octoroute.server import Server
from openapi_spec_validator import validate as validate_openapi

from fakes import FakeBackend, make_config
from faultkit import openai_like

EXAMPLES = 80  # per operation and generation mode; keeps the whole file under ~30 s
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))
DOCUMENTED = build_document()
OPERATIONS = [(method.upper(), path) for path, item in DOCUMENTED["paths"].items() for method in item]
WITH_INPUT = [(m, p) for m, p in OPERATIONS
              if "requestBody" in DOCUMENTED["paths"][p][m.lower()]
              or DOCUMENTED["paths"][p][m.lower()].get("parameters")]
UNDOCUMENTED_METHODS = {"HEAD", "OPTIONS"}  # HEAD mirrors GET; OPTIONS is Falcon's default responder


class Live:
    def __init__(self) -> None:
        self.backends = [FakeBackend(name, chat=openai_like()).start()
                         for name in ("fast-1", "balanced-1", "deep-1")]
        config = make_config({"fast": [self.backends[0]], "balanced": [self.backends[1]],
                              "deep": [self.backends[2]]}, server={"threads": 16})
        self.runtime: Runtime = build_runtime(config)
        self.server = Server(self.runtime, "127.0.0.1", 0)
        self.url = self.server.url
        self._thread = threading.Thread(target=self.server.serve, kwargs={"drain_timeout": 1.0},
                                        name="test-openapi-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        for b in self.backends:
            b.release_all()
        self.server.request_stop()
        self._thread.join(10)
        for b in self.backends:
            b.stop()
        assert not self._thread.is_alive(), "the server did not stop"


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    server = Live()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def schema(live: Live) -> Any:
    return schemathesis.openapi.from_url(live.url + "/openapi.json")


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    s = requests.Session()
    s.trust_env = False
    yield s
    s.close()


def test_the_served_document_is_valid_openapi_3_1(live: Live) -> None:
    resp = requests.get(live.url + "/openapi.json", timeout=10)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    doc = resp.json()
    assert doc["openapi"].startswith("3.1")
    validate_openapi(doc)  # raises with the offending path when invalid
    assert doc == DOCUMENTED


def test_schemathesis_loads_every_operation(schema: Any) -> None:
    loaded = []
    for result in schema.get_all_operations():
        operation = result.ok()  # raises if schemathesis could not make sense of it
        loaded.append((operation.method.upper(), operation.path))
    # schemathesis leaves out the route that serves the document it was loaded from.
    assert sorted(loaded) == sorted(op for op in OPERATIONS if op != ("GET", "/openapi.json"))


def test_every_route_of_the_app_is_documented(live: Live) -> None:
    served: set[tuple[str, str]] = set()
    for route in falcon.inspect.inspect_routes(live.runtime.app):
        for method in route.methods:
            if method.method not in UNDOCUMENTED_METHODS and not method.internal:
                served.add((method.method, route.path))
    missing = sorted(served - set(OPERATIONS))
    assert not missing, f"routes the app serves but /openapi.json does not document: {missing}"
    assert set(OPERATIONS) <= served  # and nothing is documented that the app lacks


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_positive_examples_conform(method: str, path: str, live: Live, schema: Any,
                                   session: requests.Session) -> None:
    operation = schema[path][method]

    @FUZZ
    @given(case=operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE))
    def run(case: Any) -> None:
        resp = case.call_and_validate(base_url=live.url, session=session)
        assert resp.status_code < 500

    run()


@pytest.mark.parametrize(("method", "path"), WITH_INPUT, ids=[f"{m} {p}" for m, p in WITH_INPUT])
def test_negative_examples_are_rejected_with_a_documented_4xx(method: str, path: str, live: Live,
                                                              schema: Any, session: requests.Session) -> None:
    operation = schema[path][method]

    @FUZZ
    @given(case=operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE))
    def run(case: Any) -> None:
        resp = case.call_and_validate(base_url=live.url, session=session)
        assert resp.status_code < 500

    run()
