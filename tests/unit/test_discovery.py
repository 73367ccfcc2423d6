"""Discovery against fake servers of each kind (real sockets): kinds, facts, the model check.

Also the pure parts: overflow recognition for each server's words, the
context estimate and its learning, and the registry's rule that a missing
model is not healed by an answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from octoroute.backends.client import BackendClient, server_root
from octoroute.backends.context import ContextBook, ContextNeed, need_for_messages
from octoroute.backends.discovery import Discovery, detect_from_models, missing_reason, suggest
from octoroute.backends.facts import ServerFacts
from octoroute.backends.overflow import recognise
from octoroute.backends.registry import EndpointState, Registry
from octoroute.config import EndpointConfig
from octoroute.errors import BackendError

from fake_servers import KindServer, overflow
from fakes import endpoint, make_config


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def kind_server() -> Iterator[Callable[..., KindServer]]:
    started: list[KindServer] = []

    def start(name: str, kind: str, **kwargs: Any) -> KindServer:
        server = KindServer(name, kind, **kwargs).start()
        started.append(server)
        return server

    yield start
    for s in started:
        s.stop()


def endpoints_for(*servers: KindServer, **keys: Any) -> list[EndpointConfig]:
    config = make_config({"fast": [endpoint(s, **keys) for s in servers],
                          "balanced": [endpoint("http://127.0.0.1:9/v1", id="b")],
                          "deep": [endpoint("http://127.0.0.1:9/v1", id="d")]})
    return list(config.tier_endpoints("fast"))


def discover(*servers: KindServer, clock: Clock | None = None, **keys: Any
             ) -> tuple[Discovery, list[EndpointConfig], dict[str, BackendClient]]:
    eps = endpoints_for(*servers, **keys)
    clients = {e.id: BackendClient(e, pool_size=2) for e in eps}
    return Discovery(clients, timeout=2.0, clock=clock or Clock()), eps, clients


# --- kinds ------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["llamacpp", "llama-cpp-python", "ollama", "lmstudio", "vllm"])
def test_each_kind_is_detected_from_cheap_answers(kind_server: Callable[..., KindServer], kind: str) -> None:
    server = kind_server("s", kind, model="qwen3:8b")
    discovery, eps, _ = discover(server)
    facts = discovery.read(eps)[eps[0].id]
    assert facts.kind == kind
    assert facts.model_found is True and facts.suggestion is None
    assert not [r for r in server.received if r.is_chat]  # nothing generates
    assert all(r.path != "/slots" for r in server.received)  # /slots wakes a sleeping llama-server


def test_a_generic_openai_server_is_openai_after_two_cheap_404s(
        kind_server: Callable[..., KindServer]) -> None:
    server = kind_server("s", "vllm")
    server.probe_default = lambda ex: ex.send_json(200, {"object": "list", "data": [
        {"id": server.model, "object": "model", "owned_by": "someone"}]})
    discovery, eps, _ = discover(server)
    assert discovery.read(eps)[eps[0].id].kind == "openai"
    assert [r.path for r in server.native_reads()] == ["/api/tags", "/api/v1/models"]
    discovery.read(eps)  # detected once per server: the next read asks nothing more
    assert len(server.native_reads()) == 2


def test_configured_kind_overrides_detection(kind_server: Callable[..., KindServer]) -> None:
    server = kind_server("s", "llama-cpp-python")
    discovery, eps, _ = discover(server, kind="openai")
    assert discovery.read(eps)[eps[0].id].kind == "openai"
    assert server.native_reads() == []


def test_llama_cpp_python_is_asked_nothing_but_its_model_list(kind_server: Callable[..., KindServer]) -> None:
    server = kind_server("s", "llama-cpp-python")
    discovery, eps, _ = discover(server)
    for _ in range(3):
        facts = discovery.read(eps)[eps[0].id]
    assert [(r.method, r.path) for r in server.received] == [("GET", "/v1/models")] * 3
    assert facts.context_window is None and facts.total_slots is None


def test_detect_from_models_reads_the_markers() -> None:
    assert detect_from_models({"object": "list", "models": [], "data": [{"id": "m"}]}) == "llamacpp"
    assert detect_from_models({"data": [{"id": "m", "max_model_len": 8192}]}) == "vllm"
    assert detect_from_models({"data": [{"id": "m", "owned_by": "me"}]}) == "llama-cpp-python"
    assert detect_from_models({"data": [{"id": "m", "owned_by": "organization_owner"}]}) == "lmstudio"
    assert detect_from_models({"data": [{"id": "m", "owned_by": "library"}]}) is None  # ask /api/tags
    assert detect_from_models(["not", "an", "object"]) is None


# --- facts per kind -----------------------------------------------------------

def test_llama_server_facts_from_props_and_metrics_counters(kind_server: Callable[..., KindServer]) -> None:
    server = kind_server("s", "llamacpp", context_window=8192, total_slots=4, sleeping=True)
    server.processing, server.waiting = 2, 3
    clock = Clock()
    discovery, eps, _ = discover(server, clock=clock)
    facts = discovery.read(eps)[eps[0].id]
    assert (facts.context_window, facts.total_slots, facts.sleeping) == (8192, 4, True)
    assert (facts.processing, facts.waiting) == (2, 3)
    assert facts.prefill_tokens_per_second is None  # one read of the counters is no rate
    assert facts.read_at == 100.0
    server.prompt_tokens_total += 1000.0
    server.prompt_seconds_total += 4.0
    facts = discovery.read(eps)[eps[0].id]
    assert facts.prefill_tokens_per_second == pytest.approx(250.0)  # counters, never the 9999 gauge
    facts = discovery.read(eps)[eps[0].id]  # no new prompts: the last rate is kept
    assert facts.prefill_tokens_per_second == pytest.approx(250.0)
    assert {r.path for r in server.native_reads()} == {"/health", "/props", "/metrics"}


def test_llama_server_without_metrics_is_asked_once(kind_server: Callable[..., KindServer]) -> None:
    server = kind_server("s", "llamacpp", metrics=False)
    discovery, eps, _ = discover(server)
    for _ in range(3):
        facts = discovery.read(eps)[eps[0].id]
    assert sum(1 for r in server.native_reads() if r.path == "/metrics") == 1
    assert facts.processing is None and facts.context_window == 4096


def test_a_loading_llama_server_is_down(kind_server: Callable[..., KindServer]) -> None:
    server = kind_server("s", "llamacpp")
    server.loading = True
    discovery, eps, _ = discover(server)
    with pytest.raises(BackendError, match="loading"):
        discovery.read(eps)


def test_llama_server_router_mode_never_autoloads(kind_server: Callable[..., KindServer]) -> None:
    server = kind_server("s", "llamacpp", model="a", models=["a", "b"], router_mode=True,
                         context_window=16384)
    discovery, eps, clients = discover(server)
    other = EndpointConfig(id="b", name="b", tier="fast", base_url=server.base_url, max_tokens=64)
    clients["b"] = BackendClient(other, pool_size=1)
    facts = discovery.read([*eps, other])
    assert facts[eps[0].id].resident is True and facts[eps[0].id].context_window == 16384
    assert facts["b"].resident is False and facts["b"].context_window is None
    props = [p for p in server.raw_paths if p.startswith("/props")]
    assert props == ["/props?model=a&autoload=false"]  # the unloaded model is not asked about


def test_ollama_installed_resident_and_context(kind_server: Callable[..., KindServer]) -> None:
    server = kind_server("s", "ollama", model="qwen3:8b", models=["qwen3:8b", "llama3.2:latest"],
                         context_window=8192)
    discovery, eps, _ = discover(server)
    facts = discovery.read(eps)[eps[0].id]
    assert facts.kind == "ollama" and facts.model_found is True
    assert facts.resident is True and facts.context_window == 8192  # from /api/ps
    assert facts.models == ("qwen3:8b", "llama3.2:latest")
    server.resident = False
    facts = discovery.read(eps)[eps[0].id]
    assert facts.resident is False and facts.context_window == 8192  # num_ctx from /api/show
    discovery.read(eps)
    assert sum(1 for r in server.native_reads() if r.path == "/api/show") == 1  # details asked once
    assert server.chats() == []


def test_ollama_untagged_name_means_latest(kind_server: Callable[..., KindServer]) -> None:
    server = kind_server("s", "ollama", model="llama3.2:latest")
    discovery, eps, _ = discover(server, name="llama3.2")
    assert discovery.read(eps)[eps[0].id].model_found is True


def test_lmstudio_loaded_instances(kind_server: Callable[..., KindServer]) -> None:
    server = kind_server("s", "lmstudio", model="qwen/qwen3-8b", models=["qwen/qwen3-8b", "google/gemma-3"],
                         context_window=12288, total_slots=2)
    discovery, eps, _ = discover(server)
    facts = discovery.read(eps)[eps[0].id]
    assert (facts.kind, facts.resident, facts.context_window, facts.total_slots) == (
        "lmstudio", True, 12288, 2)
    server.resident = False
    facts = discovery.read(eps)[eps[0].id]
    assert facts.resident is False and facts.context_window is None  # a JIT load picks its own


def test_vllm_window_and_queue(kind_server: Callable[..., KindServer]) -> None:
    server = kind_server("s", "vllm", context_window=32768)
    server.processing, server.waiting = 5, 1
    discovery, eps, _ = discover(server)
    facts = discovery.read(eps)[eps[0].id]
    assert (facts.context_window, facts.processing, facts.waiting) == (32768, 5, 1)
    server.prompt_tokens_total += 3000.0
    server.prompt_seconds_total += 1.5
    assert discovery.read(eps)[eps[0].id].prefill_tokens_per_second == pytest.approx(2000.0)


# --- the model must exist -------------------------------------------------------

def test_misspelt_ollama_model_gets_the_servers_spelling(kind_server: Callable[..., KindServer]) -> None:
    server = kind_server("s", "ollama", model="qwen3:8b", models=["qwen3:8b", "llama3.2:latest"])
    discovery, eps, _ = discover(server, name="qwen3:8B")
    facts = discovery.read(eps)[eps[0].id]
    assert facts.model_found is False and facts.suggestion == "qwen3:8b"
    assert missing_reason(eps[0], facts) == 'model "qwen3:8B" not served here; did you mean "qwen3:8b"?'
    assert server.chats() == []


def test_missing_model_without_a_close_name_lists_the_server_models() -> None:
    e = EndpointConfig(id="x", name="zzz", tier="fast", base_url="http://h/v1", max_tokens=8)
    facts = ServerFacts(models=("a1", "b2"), model_found=False)
    assert missing_reason(e, facts) == 'model "zzz" not served here; the server lists: "a1", "b2"'


def test_suggest_prefers_the_same_letters_then_difflib() -> None:
    assert suggest("Qwen3-8B", ["qwen3-8b", "qwen3-8b-instruct"]) == "qwen3-8b"
    assert suggest("qwen3-8b-instrcut", ["qwen3-8b-instruct", "llama"]) == "qwen3-8b-instruct"
    assert suggest("completely-else", ["llama"]) is None


def test_an_answer_does_not_heal_a_missing_model() -> None:
    e = EndpointConfig(id="x", name="m", tier="fast", base_url="http://h/v1", max_tokens=8)
    registry = Registry([e], unhealthy_after=3, clock=Clock())
    registry.set_facts("x", ServerFacts(model_found=False, models=("n",)))
    registry.record_model_missing("x", 'model "m" not served here')
    state = registry.record_success("x")  # llama-cpp-python answers any name with its own model
    assert state.healthy is False and state.last_error == 'model "m" not served here'
    registry.set_facts("x", ServerFacts(model_found=True, models=("m",)))
    assert registry.record_success("x").healthy is True


# --- overflow answers ---------------------------------------------------------

@pytest.mark.parametrize("kind", ["llamacpp", "llama-cpp-python", "vllm", "lmstudio"])
def test_each_servers_overflow_is_recognised_with_its_numbers(kind: str) -> None:
    captured: dict[str, Any] = {}

    class Ex:
        def send_json(self, status: int, payload: Any) -> None:
            import json
            captured.update(status=status, body=json.dumps(payload).encode())

    overflow(kind, 5000, 4096, streamed=False)(Ex())  # type: ignore[arg-type]
    found = recognise(captured["status"], captured["body"])
    assert found is not None
    assert found.context_window == 4096
    assert found.prompt_tokens == 5000


def test_other_errors_are_not_overflows() -> None:
    assert recognise(400, b'{"error": {"message": "invalid temperature"}}') is None
    assert recognise(500, b'{"error": {"message": "maximum context length is 4096"}}') is None
    assert recognise(413, b"Context size has been exceeded.") is not None  # LM Studio MLX


# --- the context estimate -------------------------------------------------------

def state_of(window: int | None, *, max_tokens: int = 256, facts_window: int | None = None) -> EndpointState:
    e = EndpointConfig(id="e", name="m", tier="fast", base_url="http://h/v1", max_tokens=max_tokens,
                       context_window=window)
    return EndpointState(endpoint=e, facts=ServerFacts(context_window=facts_window))


def test_fit_counts_prompt_and_the_answers_reserve() -> None:
    book = ContextBook()
    need = ContextNeed(chars=4000, messages=1, max_tokens=None)  # ~1004 tokens + 256 reserved
    assert book.fits(state_of(1300), need)
    assert not book.fits(state_of(1200), need)
    assert book.fits(state_of(None), need)  # unknown windows may fit
    assert not book.fits(state_of(None, facts_window=1000), need)  # the server's window counts
    assert book.fits(state_of(1200), ContextNeed(chars=4000, max_tokens=100))
    assert book.fits(state_of(1100), ContextNeed(chars=4000, reserve_default=False))


def test_the_ratio_is_learned_from_the_servers_count() -> None:
    book = ContextBook()
    need = ContextNeed(chars=4000)
    assert book.prompt_tokens("e", need) == 1004
    book.learn_usage("e", need, {"usage": {"prompt_tokens": 4004}})  # one token a character
    assert book.prompt_tokens("e", need) == 4004
    assert book.prompt_tokens("other", need) == 1004  # per endpoint
    book.learn("e", ContextNeed(chars=10), 1000)  # too short to teach anything
    assert book.prompt_tokens("e", need) == 4004


def test_a_need_counts_message_text_parts_and_tools() -> None:
    parts = [{"type": "text", "text": "efgh"}, {"type": "image_url", "image_url": {"url": "x"}}]
    need = need_for_messages([{"role": "system", "content": "abcd"}, {"role": "user", "content": parts}],
                             max_tokens=7, tools=[{"type": "function"}], reserve_default=False)
    assert need.messages == 2 and need.max_tokens == 7
    assert need.chars == 8 + len(str([{"type": "function"}]))


def test_server_root_strips_v1_only() -> None:
    assert server_root("http://h:11434/v1") == "http://h:11434"
    assert server_root("http://h/proxy/v1") == "http://h/proxy"
    assert server_root("http://h/openai") == "http://h/openai"


def test_an_ollama_with_nothing_installed_is_missing_the_model(
        kind_server: Callable[..., KindServer]) -> None:
    server = kind_server("s", "ollama", model="qwen3:8b", models=[])
    discovery, eps, _ = discover(server)
    facts = discovery.read(eps)[eps[0].id]
    assert facts.kind == "ollama" and facts.models == () and facts.model_found is False
    assert missing_reason(eps[0], facts) == 'model "qwen3:8b" not served here; the server lists no models'


# --- real captures (tests/data/servers/<server>/, dropped by the llama-server work) ------------

CAPTURES = Path(__file__).resolve().parent.parent / "data" / "servers"
FOLDER_KINDS = {"llama-server": "llamacpp", "llamacpp": "llamacpp", "llama-cpp-python": "llama-cpp-python",
                "ollama": "ollama", "lmstudio": "lmstudio", "vllm": "vllm"}


def captures(pattern: str) -> list[Path]:
    return sorted(CAPTURES.glob(f"*/{pattern}")) if CAPTURES.is_dir() else []


@pytest.mark.parametrize("path", captures("models*.json"), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_real_model_lists_give_their_kind(path: Path) -> None:
    capture = json.loads(path.read_text(encoding="utf-8"))
    kind = FOLDER_KINDS.get(path.parent.name)
    if kind is None or capture.get("status") != 200:
        pytest.skip(f"no kind for {path.parent.name}, or not a 200")
    detected = detect_from_models(capture["body"])
    assert detected in (kind, None if kind == "ollama" else kind), detected


@pytest.mark.parametrize("path", captures("overflow*.json"), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_real_overflow_answers_are_recognised(path: Path) -> None:
    capture = json.loads(path.read_text(encoding="utf-8"))
    status = capture["status"]
    if status == 200:  # llama-cpp-python's streamed overflow: an empty 200 (EmptyStreamError)
        assert not capture.get("body_text") and capture.get("body") is None
        return
    raw = capture.get("body_text") or json.dumps(capture["body"])
    found = recognise(status, raw.encode())
    assert found is not None, raw[:300]
    assert found.context_window is not None or found.prompt_tokens is not None
