-- wrk script of bench/pingback_flood.py's legitimate load: prints the p95 latency (wrk's --latency stops at p90, p99).
function done(summary, latency, requests)
  io.write(string.format("BENCH p95_us=%d\n", latency:percentile(95)))
end
