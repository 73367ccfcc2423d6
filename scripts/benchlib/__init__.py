"""Octoroute's benchmark suite, driven by ``scripts/bench``.

Modules: ``procs`` (child processes and /proc accounting), ``servers`` (the
nginx mock, Octoroute, the bare pass-through, LiteLLM, the SSE mock),
``loadgen`` (wrk matrix and soak), ``micro`` (in-process timings),
``ssemock`` / ``sseclient`` / ``streams`` (streaming checks), ``report``
(statistics and markdown) and ``cli`` (the command).
"""
