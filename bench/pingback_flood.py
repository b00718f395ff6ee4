"""A pingback flood against the real app (issue #11): 20,000 WordPress pingback verifications while
legitimate visitors load the home page, next to the same legitimate load without the flood.

gunicorn (2 sync workers) serves a throwaway deployment; one wrk sends the flood (a Lua script sets
the pingback User-Agent and stops each thread after its share of answers; ``-d`` bounds it in time),
another measures the home page's latency. Each worker writes, as it exits, how many requests its
shield refused and how many Flask dispatched (bench/pingback_app.py): pingbacks dispatched must be 0.

    python bench/pingback_flood.py [--quick] [--json out.json]
"""

from __future__ import annotations

import json
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from harness import create_tables, deployment_env, emit, machine
from loadgen import Server, WrkResult, gunicorn, parse

HERE = Path(__file__).resolve().parent
FLOOD = 20_000
FLOOD_THREADS, FLOOD_CONNECTIONS = 2, 16
LEGIT_CONNECTIONS = 4


def wrk(server: Server, path: str, *, threads: int, connections: int, seconds: int, script: Path) -> WrkResult:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency",
               "-s", str(script), server.base + path]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True)
    return parse(done.stdout, 0.0, 0.0)


def legit(server: Server, seconds: int) -> dict[str, Any]:
    result = wrk(server, "/", threads=2, connections=LEGIT_CONNECTIONS, seconds=seconds, script=HERE / "p95.lua")
    return {"requests_per_s": result.requests_per_s, "requests": result.requests,
            "p50_ms": result.latency_ms["p50"], "p95_ms": result.extra["p95_us"] / 1000,
            "p99_ms": result.latency_ms["p99"], "errors": result.non_2xx_3xx + result.socket_errors}


def send_flood(server: Server, work: Path, size: int, limit_s: int = 120) -> dict[str, Any]:
    """``size`` pingbacks (wrk bounded by -d ``limit_s`` too), interrupted once every thread has its share."""
    done_dir = work / f"flood-{time.monotonic_ns()}"
    done_dir.mkdir()
    script = done_dir / "flood.lua"
    script.write_text((HERE / "pingback_flood.lua").read_text().replace("@PER_THREAD@", str(size // FLOOD_THREADS))
                      .replace("@DONE_DIR@", str(done_dir)))
    command = ["wrk", f"-t{FLOOD_THREADS}", f"-c{FLOOD_CONNECTIONS}", f"-d{limit_s}s", "--timeout", "10s", "--latency",
               "-s", str(script), server.base + "/"]
    start = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    while len(list(done_dir.glob("*.done"))) < FLOOD_THREADS and process.poll() is None:
        time.sleep(0.02)
    elapsed = time.monotonic() - start
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    result = parse(output, 0.0, 0.0)
    return {"seconds": round(elapsed, 2), "requests": result.requests, "refused_seen_by_wrk": result.extra["refused"],
            "requests_per_s": round(result.requests / elapsed, 1), "errors": result.socket_errors}


def flood_and_legit(server: Server, work: Path, seconds: int, size: int) -> dict[str, Any]:
    """The flood in a thread, the legitimate load measured while it runs."""
    flood: dict[str, Any] = {}

    def send() -> None:
        flood.update(send_flood(server, work, size))

    sender = threading.Thread(target=send)
    sender.start()
    time.sleep(0.3)  # the flood is running
    during = legit(server, seconds)
    sender.join()
    return {"legit": during, "flood": flood}


def main(argv: list[str]) -> dict[str, Any]:
    quick = "--quick" in argv
    runs, seconds, size = (1, 2, 4_000) if quick else (3, 3, FLOOD)
    per_run: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-pingback-") as tmp:
        root = Path(tmp)
        env = deployment_env(root, HERE.parent / "workflows")
        create_tables(env["DATABASE_URL"])
        counts_dir = root / "counts"
        counts_dir.mkdir()
        env["BENCH_COUNTS_DIR"] = str(counts_dir)
        options = ("--config", "python:bench.pingback_gunicorn")
        with gunicorn("bench.pingback_app:app", env, root / "server.log", 2, "/healthz", options) as server:
            for index in range(runs):
                baseline = legit(server, seconds)
                flooded = flood_and_legit(server, root, seconds, size)
                per_run.append({"baseline": baseline, **flooded})
                print(f"run {index + 1}/{runs}: {json.dumps(per_run[-1])}", file=sys.stderr)
        counts = [json.loads(path.read_text()) for path in counts_dir.glob("*.json")]
    totals = {key: sum(c[key] for c in counts) for key in ("refused", "dispatched", "pingbacks_dispatched")}
    result = {
        "benchmark": "pingback_flood", "machine": machine(), "runs": runs, "flood_size": size,
        "legit_seconds": seconds, "workers": 2, "per_run": per_run, "server_counts": totals,
        "workers_reporting": len(counts),
        "median": {
            "baseline_p95_ms": statistics.median(r["baseline"]["p95_ms"] for r in per_run),
            "flooded_p95_ms": statistics.median(r["legit"]["p95_ms"] for r in per_run),
            "baseline_rps": statistics.median(r["baseline"]["requests_per_s"] for r in per_run),
            "flooded_rps": statistics.median(r["legit"]["requests_per_s"] for r in per_run),
            "flood_seconds": statistics.median(r["flood"]["seconds"] for r in per_run),
            "flood_rps": statistics.median(r["flood"]["requests_per_s"] for r in per_run),
        },
    }
    flood_sent = sum(r["flood"]["requests"] for r in per_run)
    result["pingbacks_refused_all"] = totals["refused"] >= flood_sent and totals["pingbacks_dispatched"] == 0
    print(json.dumps({k: result[k] for k in ("median", "server_counts", "pingbacks_refused_all")}, indent=2))
    emit(result, argv)
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
