#!/usr/bin/env python3
"""Ask a real router brain a fixed set of prompts; print what it answered.

Uses Octoroute's own question, payload, answer parsing and backend client
(``octoroute.routing.brain``, ``octoroute.backends.client``), so the numbers
are what ``routing.strategy = "llm"`` and ``"tool"`` would see. Prints a
markdown table (prompt, strategy, raw answer, parsed tier, finish reason,
latency) and, per strategy, the usable rate and median latency.

    python scripts/brain_probe.py                      # starts a llama.cpp server via llm-server
    python scripts/brain_probe.py --base-url http://127.0.0.1:8080/v1 --model gemma
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from octoroute.backends.client import BackendClient
from octoroute.config import parse_config
from octoroute.errors import BackendError
from octoroute.routing import brain
from octoroute.routing.rules import estimate_tokens, infer_task_type

LLM_SERVER = Path(__file__).resolve().parent / "llm-server"
CALL_TIMEOUT_S = 60.0  # seconds for one brain call (Octoroute's default budget is 10 s)
RAW_CHARS = 60  # characters of the raw answer shown in the table

# (prompt, importance): casual, code, analysis, summary, creative, Q&A; short and long.
PROMPTS: tuple[tuple[str, str], ...] = (
    ("hi there! how are you today?", "normal"),
    ("What is the capital of France?", "normal"),
    ("Thanks, that's all for now.", "low"),
    ("Write a Python function that checks whether a string is a palindrome.", "normal"),
    ("Review this function for security issues: def login(u, p): return db.execute("
     "f\"SELECT * FROM users WHERE name='{u}' AND pw='{p}'\")", "high"),
    ("Design a distributed consensus algorithm for a cluster of unreliable nodes and prove "
     "that it is safe under network partitions.", "high"),
    ("Analyze the long-term economic effects of remote work on city centres, "
     "considering housing, transport and retail.", "normal"),
    ("Summarize the following: The meeting covered the Q3 budget, two new hires and the "
     "office move, which is postponed to spring.", "normal"),
    ("Write a short poem about autumn leaves.", "low"),
    ("Explain quantum computing in simple terms.", "normal"),
    ("Translate 'good morning' into Spanish.", "low"),
    ("Compare Raft and Paxos for a five-node key-value store: failure modes, latency and "
     "operational complexity.", "normal"),
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server() -> tuple[str, str]:
    name = f"brain-probe-{free_port()}"
    out = subprocess.run([sys.executable, str(LLM_SERVER), "start", name, str(free_port()),
                          "--interrupt_requests", "false"], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"could not start a llama.cpp server:\n{out.stderr}")
    return name, out.stdout.strip()


def client_for(base_url: str, model: str) -> BackendClient:
    config = parse_config({"models": {t: {"id": f"brain-{t}", "name": model, "base_url": base_url,
                                          "max_tokens": 64} for t in ("fast", "balanced", "deep")}},
                          source="<brain_probe>", env={})
    return BackendClient(config.endpoints[0], pool_size=2)


def raw_answer(data: dict[str, Any]) -> str:
    try:
        message = data["choices"][0]["message"]
    except (KeyError, IndexError, TypeError):
        return json.dumps(data)[:RAW_CHARS]
    calls = message.get("tool_calls") or []
    if calls:
        fn = calls[0].get("function", {})
        return f"{fn.get('name')}({fn.get('arguments')})"
    return str(message.get("content"))


def ask(client: BackendClient, prompt: str, importance: str, *, use_tool: bool) -> dict[str, Any]:
    task_type, tokens = infer_task_type(prompt), estimate_tokens(prompt)
    question = brain.build_question(prompt, task_type=task_type, importance=importance, tokens=tokens)
    payload = brain.question_payload(client.endpoint.name, question, use_tool=use_tool)
    started = time.monotonic()
    try:
        reply = client.chat(json.dumps(payload).encode(), timeout=CALL_TIMEOUT_S)
    except BackendError as exc:
        return {"raw": f"error: {exc}", "tier": None, "finish": "-", "ms": (time.monotonic() - started) * 1e3,
                "echo": False, "task_type": task_type}
    ms = (time.monotonic() - started) * 1000.0
    tier, _ = brain.answer_tier(reply.data)
    raw = raw_answer(reply.data)
    finish = (reply.data.get("choices") or [{}])[0].get("finish_reason")
    # The model repeating the question (which names FAST first) is not a decision.
    echo = not use_tool and raw.strip().startswith(question.split("\n", 1)[0][:30])
    return {"raw": raw, "tier": tier, "finish": finish, "ms": ms, "echo": echo, "task_type": task_type}


def cell(text: str) -> str:
    text = " ".join(str(text).split())
    if len(text) > RAW_CHARS:
        text = text[:RAW_CHARS - 1] + "…"
    return text.replace("|", "\\|")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--base-url", help="an OpenAI base URL (default: start a llama.cpp server)")
    parser.add_argument("--model", default="gemma", help="model name to send (default: gemma)")
    args = parser.parse_args(argv)
    name = None
    base_url = args.base_url
    if base_url is None:
        name, base_url = start_server()
    client = client_for(base_url, args.model)
    try:
        ask(client, "warm-up", "normal", use_tool=False)  # the first call pays for loading: not counted
        rows = []
        for i, (prompt, importance) in enumerate(PROMPTS, 1):
            for strategy in ("llm", "tool"):
                rows.append((i, prompt, importance, strategy,
                             ask(client, prompt, importance, use_tool=strategy == "tool")))
    finally:
        client.close()
        if name is not None:
            subprocess.run([sys.executable, str(LLM_SERVER), "stop", name], capture_output=True, check=False)

    print(f"Router brain: {args.model} at {base_url}; temperature 0; "
          f"max_tokens {brain.ROUTER_MAX_TOKENS} (text) / {brain.TOOL_MAX_TOKENS} (tool)\n")
    print("| # | prompt (task type, importance) | strategy | raw answer | parsed tier | finish | ms |")
    print("|---|---|---|---|---|---|---|")
    for i, prompt, importance, strategy, r in rows:
        tier = r["tier"] or "unusable"
        if r["echo"]:
            tier += " (echo)"
        print(f"| {i} | {cell(prompt[:50])} ({r['task_type']}, {importance}) | {strategy} | {cell(r['raw'])} "
              f"| {tier} | {r['finish']} | {r['ms']:.0f} |")
    print()
    for strategy in ("llm", "tool"):
        results = [r for _, _, _, s, r in rows if s == strategy]
        usable = [r for r in results if r["tier"]]
        echoes = [r for r in usable if r["echo"]]
        tiers = {t: sum(1 for r in usable if r["tier"] == t) for t in ("fast", "balanced", "deep")}
        print(f"- {strategy}: usable {len(usable)}/{len(results)} ({100 * len(usable) / len(results):.0f}%)"
              f"{f', of which {len(echoes)} only echo the question' if echoes else ''}; "
              f"tiers {tiers}; median latency {statistics.median(r['ms'] for r in results):.0f} ms "
              f"(min {min(r['ms'] for r in results):.0f}, max {max(r['ms'] for r in results):.0f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
