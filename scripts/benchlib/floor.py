"""The floor of the design card's stack: waitress with the least possible app in it.

Two WSGI apps, no framework, no parsing, no logging, served by waitress as it
ships (``waitress.serve``, threads as given):

- ``relay``: posts the request body to the mock with the stdlib's
  ``http.client`` (one keep-alive connection per worker thread, the leanest
  client the standard library has; one retry when a kept-alive connection
  turns out closed) and returns the mock's bytes;
- ``canned``: returns the mock's reply bytes (fetched once at start) without
  calling it: waitress's own cost.

What Octoroute adds at one connection is its framework, validation, routing,
metrics and logging on top of ``relay``; what ``relay`` adds on top of
``canned`` is the HTTP exchange with the backend. Measuring both in the same
interleaved run turns "added latency under X ms" into figures that hold on any
host: the share of the added latency that is Octoroute's own.

    python -m benchlib.floor --port 18400 --upstream-port 18080 [--canned] [--threads 8]
"""

from __future__ import annotations

import argparse
import http.client
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

PATH = "/v1/chat/completions"
HEADERS = {"Content-Type": "application/json"}
PROBE = b'{"model":"fast","messages":[{"role":"user","content":"ping"}],"max_tokens":8}'

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def relay_app(upstream_port: int) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    local = threading.local()

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=30)
        for retry in (False, True):
            reused = conn.sock is not None
            try:
                conn.request("POST", PATH, body, HEADERS)
                reply = conn.getresponse()
                data = reply.read()
                break
            except (OSError, http.client.HTTPException):
                conn.close()
                # a kept-alive connection the backend has closed meanwhile (nginx's
                # keepalive_timeout, while the bench drives other targets): once more on a
                # new one, as urllib3 does
                if retry or not reused:
                    raise
        start_response(f"{reply.status} {reply.reason}",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]
    return app


def canned_app(upstream_port: int) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=30)
    conn.request("POST", PATH, PROBE, HEADERS)
    data = conn.getresponse().read()
    conn.close()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", headers)
        return [data]
    return app


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchlib.floor", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream-port", type=int, required=True)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--canned", action="store_true", help="reply without calling the upstream")
    args = ap.parse_args(argv)
    # waitress warns "Task queue depth is N" for every request that waits for a thread: a log
    # flood the floor must not pay for (Octoroute does not log it either).
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    from waitress import serve
    app = (canned_app if args.canned else relay_app)(args.upstream_port)
    serve(app, host="127.0.0.1", port=args.port, threads=args.threads, ident="floor")


if __name__ == "__main__":
    main()
