"""The semantic layer against a fake ``/v1/embeddings`` server on a real socket, through BackendClient."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from octoroute.backends.client import BackendClient
from octoroute.config import EndpointConfig, Exemplar, SemanticConfig
from octoroute.errors import BackendError, ResponseTooLarge
from octoroute.routing.semantic import HTTPEmbedder, SemanticLayer, http_embedder, semantic_layer

DIMS = 6
WAIT_S = 5.0  # seconds a test waits for something that should happen at once
EXEMPLARS = tuple(Exemplar(f"{tier}-{i}", tier, f"{word} {i}")
                  for tier, word in (("fast", "hello"), ("balanced", "sql"), ("deep", "prove"))
                  for i in range(3))


def vector(text: str) -> list[float]:
    words = text.split()
    digest = hashlib.sha256(text.encode()).digest()
    return [float(words.count(w)) for w in ("hello", "sql", "prove")] + [b / 2550 for b in digest[:3]]


class EmbeddingsServer:
    """``POST /v1/embeddings`` like Ollama (pooled) or llama-cpp-python with Gemma (per token)."""

    def __init__(self) -> None:
        self.mode = "pooled"  # pooled | per_token | reversed | error | not_json | hang
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append((dict(self.headers), body))
                if self.path != "/v1/embeddings":
                    return self.send(404, b'{"error": {"message": "not found"}}')
                mode = outer.mode
                if mode == "hang":
                    outer.release.wait(WAIT_S)
                if mode == "error":
                    return self.send(500, b'{"error": {"message": "model not loaded"}}')
                if mode == "not_json":
                    return self.send(200, b"<html>proxy error</html>")
                items = []
                for i, text in enumerate(body["input"]):
                    v = vector(text)
                    # per token: two tokens whose mean is the vector
                    embedding: Any = [[x + 1 for x in v], [x - 1 for x in v]] if mode == "per_token" else v
                    items.append({"object": "embedding", "index": i, "embedding": embedding})
                if mode == "reversed":
                    items.reverse()
                self.send(200, json.dumps({"object": "list", "data": items, "model": body["model"]}).encode())

            def send(self, status: int, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="fake-embeddings", daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[EmbeddingsServer]:
    fake = EmbeddingsServer()
    yield fake
    fake.stop()


def semantic(server: EmbeddingsServer, **keys: Any) -> SemanticConfig:
    return SemanticConfig(**{"enabled": True, "base_url": server.base_url, "model": "embed-small",
                             "k": 3, **keys})


def test_embedder_batches_and_sends_model_and_key(server: EmbeddingsServer) -> None:
    embed = http_embedder(semantic(server, api_key="k-123"))
    try:
        texts = [f"hello {i}" for i in range(70)]
        vectors = embed(texts, 5.0)
    finally:
        embed.close()
    assert vectors == [vector(t) for t in texts]
    assert [len(body["input"]) for _, body in server.requests] == [32, 32, 6]
    headers, body = server.requests[0]
    assert body["model"] == "embed-small"
    assert headers["Authorization"] == "Bearer k-123"


def test_per_token_servers_get_one_input_at_a_time(server: EmbeddingsServer) -> None:
    """llama-cpp-python gets all but the first of a per-token batch wrong: only the first is kept."""
    server.mode = "per_token"
    embed = http_embedder(semantic(server))
    try:
        texts = [f"hello {i}" for i in range(5)]
        got = embed(texts, 5.0)
        assert embed.per_token
        embed(["prove it", "sql it"], 5.0)
    finally:
        embed.close()
    assert got == [pytest.approx(vector(t)) for t in texts]
    assert [body["input"] for _, body in server.requests] == [
        texts, *([t] for t in texts[1:]), ["prove it"], ["sql it"]]


def capped_embedder(server: EmbeddingsServer, cap: int) -> HTTPEmbedder:
    endpoint = EndpointConfig(id="semantic", name="embed-small", tier="semantic", base_url=server.base_url,
                              max_tokens=1)
    return HTTPEmbedder(BackendClient(endpoint, pool_size=1, max_response_bytes=cap), "embed-small")


def test_a_per_token_batch_too_large_for_the_cap_goes_one_input_at_a_time(server: EmbeddingsServer) -> None:
    """Per-token vectors of a batch of long inputs outgrow the response cap (64 MB for Gemma 3 270M
    through llama-cpp-python at 32 inputs of 500 tokens): the batch is split, not the warm-up lost."""
    server.mode = "per_token"
    texts = [f"hello {i}" for i in range(4)]
    one = len(json.dumps({"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [
        [x + 1 for x in vector(texts[0])], [x - 1 for x in vector(texts[0])]]}], "model": "embed-small"}))
    embed = capped_embedder(server, 2 * one)  # room for one input's answer, not for four
    try:
        got = embed(texts, 5.0)
    finally:
        embed.close()
    assert got == [pytest.approx(vector(t)) for t in texts]
    assert [body["input"] for _, body in server.requests] == [texts, *([t] for t in texts)]


def test_one_input_too_large_for_the_cap_is_a_bad_response(server: EmbeddingsServer) -> None:
    server.mode = "per_token"
    embed = capped_embedder(server, 64)
    try:
        with pytest.raises(ResponseTooLarge) as err:
            embed(["hello"], 5.0)
    finally:
        embed.close()
    assert err.value.kind == "bad_response" and "larger than 64 bytes" in str(err.value)


@pytest.mark.parametrize("mode", ["per_token", "reversed"])
def test_per_token_vectors_are_pooled_and_order_restored(server: EmbeddingsServer, mode: str) -> None:
    server.mode = mode
    embed = http_embedder(semantic(server))
    try:
        got = embed(["hello a", "prove b"], 5.0)
    finally:
        embed.close()
    for vec, text in zip(got, ["hello a", "prove b"], strict=True):
        assert vec == pytest.approx(vector(text))


@pytest.mark.parametrize(("mode", "kind"), [("error", "http_error"), ("not_json", "bad_response")])
def test_server_failures_are_backend_errors(server: EmbeddingsServer, mode: str, kind: str) -> None:
    server.mode = mode
    embed = http_embedder(semantic(server))
    try:
        with pytest.raises(BackendError) as info:
            embed(["hello"], 5.0)
    finally:
        embed.close()
    assert info.value.kind == kind


def test_a_closed_port_is_a_connect_error() -> None:
    embed = http_embedder(SemanticConfig(enabled=True, base_url="http://127.0.0.1:9/v1", model="m"))
    try:
        with pytest.raises(BackendError) as info:
            embed(["hello"], 2.0)
    finally:
        embed.close()
    assert info.value.kind == "connect_error"


def test_layer_end_to_end_then_a_hanging_server_then_the_breaker(server: EmbeddingsServer) -> None:
    server.mode = "per_token"
    embed = http_embedder(semantic(server))
    layer = SemanticLayer(semantic(server, timeout_ms=100), embed, exemplars=EXEMPLARS, failures_to_open=2,
                          cooldown_s=60)
    try:
        layer.start()
        assert layer.wait_warm_up(WAIT_S)
        far = time.monotonic() + 60
        verdict = layer.classify("prove something", deadline=far)
        assert verdict is not None and verdict.tier == "deep" and verdict.exemplar.startswith("deep-")

        server.mode = "hang"
        for text in ("hello one", "hello two"):
            started = time.monotonic()
            assert layer.classify(text, deadline=far) is None
            assert time.monotonic() - started < 0.5  # the timeout is 100 ms
        assert layer.breaker_open()
        sent = len(server.requests)
        assert layer.classify("hello three", deadline=far) is None
        assert len(server.requests) == sent  # nothing sent while the breaker is open
    finally:
        server.release.set()
        layer.close(wait=True)
        embed.close()


def test_semantic_layer_from_config_warms_up_at_once(server: EmbeddingsServer) -> None:
    assert semantic_layer(SemanticConfig()) is None  # disabled by default
    layer = semantic_layer(semantic(server, examples=EXEMPLARS))
    assert layer is not None
    try:
        assert layer.wait_warm_up(WAIT_S)
        assert [len(body["input"]) for _, body in server.requests] == [len(EXEMPLARS)]
    finally:
        layer.close(wait=True)


def test_octoroute_eval_measures_the_calibrated_router(server: EmbeddingsServer, tmp_path: Any,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """`octoroute eval --config` with calibrate on: warm-up, calibrated tiers, the bank-overlap note."""
    from octoroute import cli

    # A bank that finds every "sql" prompt fine for the fast tier (a user's own line between tiers).
    bank = tmp_path / "labelled.jsonl"
    bank.write_text("\n".join(json.dumps({"id": f"sql-{i}", "prompt": f"sql {i}", "acceptable": ["fast"]})
                              for i in range(3)))
    cases = tmp_path / "cases.jsonl"
    lines = [{"id": "q1", "prompt": "why is this sql query with a join slow in postgres and how to index it?",
              "acceptable": ["fast"]},
             {"id": "q2", "prompt": "sql 1", "acceptable": ["fast"]}]  # a line that is in the bank
    cases.write_text("\n".join(json.dumps(x) for x in lines))
    toml = tmp_path / "config.toml"
    models = "".join(f'[models.{t}]\nname = "m-{t}"\nbase_url = "http://127.0.0.1:9/v1"\nmax_tokens = 512\n'
                     for t in ("fast", "balanced", "deep"))
    toml.write_text(models + f'[routing]\nstrategy = "hybrid"\n[routing.semantic]\nenabled = true\n'
                    f'base_url = "{server.base_url}"\nmodel = "embed-small"\n'
                    'calibrate = true\ncalibrate_k = 3\n'
                    f'calibration_file = "{bank}"\ntimeout_ms = 5000\n')
    assert cli.main(["eval", "--config", str(toml), "--strategy", "rule", str(cases), "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)["sets"][0]
    assert cli.main(["eval", "--config", str(toml), str(cases), "--json"]) == 0
    captured = capsys.readouterr()
    calibrated = json.loads(captured.out)["sets"][0]
    assert plain["tier_mix"].get("fast", 0) < 2  # the scorer alone sends the sql question above fast
    assert calibrated["tier_mix"].get("fast") == 2 and calibrated["acceptable_rate"] == 1.0
    assert "1 of 2 lines are in the calibration bank" in captured.err
    assert "why is this sql" not in captured.err  # no prompt text in what eval reports
