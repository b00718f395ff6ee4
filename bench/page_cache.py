"""Cached pages against Flask's hello world (issue #11): with the "under attack" switch on, an anonymous
cached page at no less than 70 % of hello world's requests per second; with it off, a cached public page
at no less than 50 %.

The real application (gunicorn, 2 sync workers) with the demo data serves its home page (12 events and
committees with covers, 25 KB of HTML) from the page cache; hello world (bench/hello.py) runs beside it
under the same gunicorn. For each run, in turn: hello world, the cached page with the switch off, the same
page with the switch on, the page asked with a made-up session cookie, of another shape than the store
issues and of the same shape (issue #23: served from the cache, the cookie cleared), and the page rendered
by Flask for a visitor with a real session (no cache: what the cache saves). wrk: 2 threads, 32
connections; the median of the runs.

    python bench/page_cache.py [--quick] [--services] [--json out.json]

``--services``: MariaDB (a throwaway database beside ``DATABASE_URL``, or the local socket's) and the
page cache, sessions and switch polling as deployed: the cache in Redis (``REDIS_URL`` or the local one).
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import requests
from harness import LOCAL_MYSQL, Database, create_tables, deployment_env, emit, machine
from loadgen import Server, gunicorn, run_wrk

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"switch_on": 0.70, "switch_off": 0.50}
CASES = ("hello", "switch_off", "switch_on", "odd_cookie", "bogus_cookie", "rendered")
CONNECTIONS = 32


def cli(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "web.cli", *args], env={**os.environ, **env}, cwd=ROOT, check=True,
                   capture_output=True, timeout=600)


def prime(server: Server, path: str, expect_hit: bool = True) -> None:
    """Fetch until the page comes from the cache (each worker process may keep its own copy, embedded)."""
    for _ in range(20):
        with urllib.request.urlopen(server.base + path, timeout=30) as response:
            if not expect_hit or response.headers.get("X-Page-Cache") == "hit":
                return
    raise RuntimeError(f"{path} never came from the cache")


def load(server: Server, path: str, seconds: int, headers: tuple[str, ...] = ()) -> dict[str, Any]:
    result = run_wrk(server, server.base + path, threads=2, connections=CONNECTIONS, seconds=seconds, headers=headers)
    return {"requests_per_s": result.requests_per_s, "p50_ms": result.latency_ms["p50"],
            "p99_ms": result.latency_ms["p99"], "errors": result.non_2xx_3xx + result.socket_errors,
            "server_cpu_ms_per_request": result.server_cpu_ms_per_request}


def real_session(server: Server) -> str:
    """The cookie of a session the app stored (the log-in page's CSRF secret): a visitor Flask must answer."""
    with requests.Session() as browser:
        browser.get(server.base + "/login", timeout=30)
        return f"engagement_session={browser.cookies['engagement_session']}"


def one_run(app: Server, hello: Server, env: dict[str, str], seconds: int) -> dict[str, dict[str, Any]]:
    run = {"hello": load(hello, "/", seconds)}
    cli(env, "under-attack", "off")
    time.sleep(2.5)  # every worker reads the switch every 2 s
    prime(app, "/")
    run["switch_off"] = load(app, "/", seconds)
    cli(env, "under-attack", "on")
    time.sleep(2.5)
    prime(app, "/")
    run["switch_on"] = load(app, "/", seconds)
    cli(env, "under-attack", "off")
    time.sleep(2.5)
    # Made up: of another shape than the store issues (refused without a look-up), then well-formed (43
    # characters, as the store issues them: each request pays one look-up of the store).
    run["odd_cookie"] = load(app, "/", seconds, headers=("Cookie: engagement_session=bench-no-such-session",))
    made_up = f"Cookie: engagement_session={secrets.token_urlsafe(32)}"
    run["bogus_cookie"] = load(app, "/", seconds, headers=(made_up,))
    run["rendered"] = load(app, "/", seconds, headers=(f"Cookie: {real_session(app)}",))
    return run


def _deployment(root: Path, database: Database | None) -> dict[str, str]:
    env = deployment_env(root, ROOT / "workflows")
    if database is None:
        create_tables(env["DATABASE_URL"])
        return {**env, "REDIS_URL": ""}
    return {**env, "DATABASE_URL": database.url, "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
            "REDIS_PREFIX": f"bench-{uuid.uuid4().hex[:8]}:"}


def _summary(per_run: list[dict[str, dict[str, Any]]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name in CASES:
        rates = [run[name]["requests_per_s"] for run in per_run]
        result[name] = {"runs_requests_per_s": rates, "requests_per_s": statistics.median(rates),
                        "p50_ms": statistics.median(run[name]["p50_ms"] for run in per_run),
                        "p99_ms": statistics.median(run[name]["p99_ms"] for run in per_run),
                        "errors": sum(run[name]["errors"] for run in per_run),
                        "server_cpu_ms_per_request": statistics.median(
                            run[name]["server_cpu_ms_per_request"] for run in per_run)}
    hello = result["hello"]["requests_per_s"]
    for name in CASES[1:]:
        result[name]["ratio_to_hello"] = round(result[name]["requests_per_s"] / hello, 3)
    for name, target in TARGETS.items():
        result[name].update(target_ratio=target, met=result[name]["ratio_to_hello"] >= target
                            and result[name]["errors"] == 0)
    return result


def main(argv: list[str]) -> dict[str, Any]:
    quick, services = "--quick" in argv, "--services" in argv
    runs, seconds = (1, 3) if quick else (5, 10)
    database = Database(os.environ.get("DATABASE_URL") or LOCAL_MYSQL) if services else None
    try:
        with tempfile.TemporaryDirectory(prefix="bench-page-cache-") as tmp:
            root = Path(tmp)
            env = _deployment(root, database)
            cli(env, "demo", "load")
            per_run = []
            with gunicorn("web.wsgi:app", env, root / "web.log", 2, ready_path="/healthz") as app, \
                    gunicorn("bench.hello:app", {}, root / "hello.log", 2) as hello:
                for index in range(runs):
                    per_run.append(one_run(app, hello, env, seconds))
                    line = ", ".join(f"{k} {v['requests_per_s']:.0f}/s" for k, v in per_run[-1].items())
                    print(f"run {index + 1}/{runs}: {line}", file=sys.stderr)
    finally:
        if database is not None:
            database.drop()
    result = _summary(per_run)
    result.update(mode="MariaDB + Redis (cache, sessions)" if services else "SQLite + in-process cache",
                  runs=runs, seconds=seconds, connections=CONNECTIONS, workers=2, machine=machine())
    return result


if __name__ == "__main__":
    outcome = main(sys.argv[1:])
    emit(outcome, sys.argv[1:])
    if "--json" not in sys.argv:
        print(json.dumps({k: v.get("ratio_to_hello") for k, v in outcome.items() if isinstance(v, dict)
                          and "ratio_to_hello" in v}))
