-- wrk script for scripts/bench: POST the body in $BENCH_BODY_FILE and print one
-- "RESULT {json}" line at the end, which benchlib/loadgen.py parses.
--
--   BENCH_BODY_FILE=body.json wrk -t2 -c8 -d10s --timeout 10s -s wrk.lua URL
--
-- Env: BENCH_BODY_FILE (required), BENCH_KEY (bearer token; LiteLLM needs one).
-- wrk counts HTTP status >= 400 as errors.status; latency percentiles cover
-- completed requests only (closed loop: no coordinated-omission correction).
local path = assert(os.getenv("BENCH_BODY_FILE"), "BENCH_BODY_FILE is not set")
local f = assert(io.open(path, "rb"))
local body = f:read("*a")
f:close()
local key = os.getenv("BENCH_KEY") or "sk-bench-dummy"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key
wrk.body = body

done = function(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    'RESULT {"requests":%d,"duration_s":%.3f,"bytes":%d,"rps":%.2f,' ..
    '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d}\n',
    summary.requests, secs, summary.bytes, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000,
    e.connect, e.read, e.write, e.status, e.timeout))
end
