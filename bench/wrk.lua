-- wrk script of the benchmark: request headers from the environment, and one
-- machine-readable line at the end with the percentiles wrk's --latency omits (p95).
local cookie = os.getenv("BENCH_COOKIE")
local if_none_match = os.getenv("BENCH_IF_NONE_MATCH")
local authorization = os.getenv("BENCH_AUTHORIZATION")

if cookie and cookie ~= "" then wrk.headers["Cookie"] = cookie end
if if_none_match and if_none_match ~= "" then wrk.headers["If-None-Match"] = if_none_match end
if authorization and authorization ~= "" then wrk.headers["Authorization"] = authorization end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_JSON {\"requests\": %d, \"duration_us\": %d, \"bytes\": %d, " ..
    "\"connect_errors\": %d, \"read_errors\": %d, \"write_errors\": %d, " ..
    "\"status_errors\": %d, \"timeouts\": %d, \"p50_us\": %d, \"p90_us\": %d, " ..
    "\"p95_us\": %d, \"p99_us\": %d, \"max_us\": %d, \"mean_us\": %.1f}\n",
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean))
end
