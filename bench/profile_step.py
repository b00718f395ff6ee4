"""Where a wizard step's CPU goes: the POST of bench/wizard_load.py in process, under cProfile.

The same deployment as the load test (``--services``: a throwaway MariaDB database and Redis
sessions), driven through Flask's test client, so the figures leave out gunicorn and HTTP parsing.
Prints the mean time of a POST without the profiler, then the functions with the most cumulative time.

    python bench/profile_step.py [--services] [--posts 2000] [--sort tottime] [--limit 40]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from harness import LOCAL_MYSQL, ROOT, Database
from wizard_load import ANSWERS, PATH, _deployment

sys.path.insert(0, str(ROOT))


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html)
    if found is None:
        raise RuntimeError(f"no hidden input {name!r} on the page")
    return found.group(1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", action="store_true")
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--runs", type=int, default=1, help="timed runs without the profiler (their median)")
    parser.add_argument("--dump", help="also write the profile to this file (pstats)")
    args = parser.parse_args()
    database = Database(os.environ.get("DATABASE_URL") or LOCAL_MYSQL) if args.services else None
    try:
        with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
            env = _deployment(Path(tmp), database)
            os.environ.update(env)
            from engagement.config import load_settings
            from web.app import create_app

            app = create_app(load_settings(env))
            client = app.test_client()
            page = client.get(PATH, follow_redirects=True).get_data(as_text=True)
            first = {"csrf_token": _hidden(page, "csrf_token"), "step": _hidden(page, "step"), **ANSWERS,
                     "quantity": "1"}
            assert client.post(PATH, data=first).status_code == 303
            page = client.get(PATH, follow_redirects=True).get_data(as_text=True)
            step, prefix = int(_hidden(page, "step")), urlencode({"csrf_token": _hidden(page, "csrf_token"),
                                                                   **ANSWERS})

            def post() -> None:
                nonlocal step
                body = f"{prefix}&quantity={step}&step={step}"
                response = client.post(PATH, data=body, content_type="application/x-www-form-urlencoded")
                if response.status_code != 303 or "stale" in response.headers.get("Location", ""):
                    raise RuntimeError(f"step refused: {response.status_code}")
                step += 1

            for _ in range(200):
                post()
            means, cpus = [], []
            for _ in range(args.runs):
                started, cpu = time.perf_counter(), time.process_time()
                for _ in range(args.posts):
                    post()
                means.append((time.perf_counter() - started) / args.posts * 1000)
                cpus.append((time.process_time() - cpu) / args.posts * 1000)
            mean_ms, cpu_ms = statistics.median(means), statistics.median(cpus)
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.posts):
                post()
            profiler.disable()
            print(f"{'MariaDB + Redis' if database else 'SQLite'}: {mean_ms:.3f} ms a POST in process, "
                  f"{cpu_ms:.3f} ms of it on this process's CPU (no profiler, {args.posts} posts, "
                  f"median of {args.runs} runs: {', '.join(f'{c:.3f}' for c in cpus)})")
            if args.dump:
                profiler.dump_stats(args.dump)
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.limit)
            app.extensions["engagement"].engine.dispose()
    finally:
        if database is not None:
            database.drop()


if __name__ == "__main__":
    main()
