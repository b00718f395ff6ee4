"""The analytics of issue #8 on MariaDB: 1,000,000 instances and 5,000,000 transitions of one workflow.

Targets: ``engagement stats ID --json`` under 2 s, the dashboard's computation and page under 1 s.
The history comes from bench/analytics_data.py (a throwaway database next to ``DATABASE_URL``'s, or
the local server's, dropped at the end). Median of ``--runs`` runs each of:

- ``cli_fresh``: ``engagement stats bench_funnel --json --fresh`` in a subprocess: every figure
  computed from the log now (what the beat task does every 5 minutes, and a filter's first view);
- ``cli``: the same without ``--fresh``, right after such a computation: the stored figures;
- ``analyse``: ``analytics.analyse`` in process (the computation alone, no subprocess, no storing);
- ``analyse_30_days``: the same for the instances started in the last 30 days (a date filter joins
  the log to its instances);
- ``page``: ``GET /analyst/workflows/bench_funnel`` as an analyst through the Flask test client,
  figures stored (the default view, which the beat keeps fresh);
- ``page_csv``: the same with ``?format=csv``.

    DATABASE_URL=mysql+pymysql://... python bench/analytics.py [--runs 3] [--instances N] [--transitions M]
        [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from analytics_data import WORKFLOW, populate
from harness import BIN, LOCAL_MYSQL, ROOT, Database, deployment_env, emit, machine

sys.path.insert(0, str(ROOT))

TARGETS_S = {"cli": 2.0, "cli_fresh": 2.0, "analyse": 1.0, "page": 1.0, "page_csv": 1.0}
NOW = datetime(2026, 11, 20, tzinfo=UTC)  # the generated history ends the day before


def timed(action: Callable[[], Any], runs: int) -> dict[str, Any]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return {"runs_s": [round(t, 3) for t in times], "median_s": round(statistics.median(times), 3)}


def cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run([str(BIN / "engagement"), "stats", WORKFLOW, "--json", *args], env={**os.environ, **env},
                          capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout)


def page_client(env: dict[str, str]) -> tuple[Any, Any]:
    """The real app on the benchmark's database, and a test client logged in as an analyst."""
    from engagement.accounts.service import create_user
    from engagement.config import load_settings
    from engagement.db import transaction
    from web.app import create_app

    app = create_app(load_settings(env))
    with transaction(app.extensions["engagement"].sessions) as session:
        user_id = create_user(session, "analyst@bench.invalid", role="analyst", password="correct horse battery").id
    client = app.test_client()
    with client.session_transaction() as http_session:
        http_session["_user_id"] = str(user_id)
        http_session["_fresh"] = True
    return app, client


def measure(url: str, runs: int, instances: int, transitions: int) -> dict[str, Any]:
    from engagement.db import make_engine, make_session_factory
    from engagement.workflow import snapshots
    from engagement.workflow.analytics import Filters, analyse

    result: dict[str, Any] = {"data": populate(url, instances, transitions)}
    with tempfile.TemporaryDirectory(prefix="bench-analytics-") as tmp:
        (Path(tmp) / "workflows").mkdir()
        env = {**deployment_env(Path(tmp), Path(tmp) / "workflows"), "DATABASE_URL": url}
        env.pop("CELERY_BROKER_URL", None)
        result["cli_fresh"] = timed(lambda: cli(env, "--fresh"), runs)
        result["cli"] = timed(lambda: cli(env), runs)
        figures = cli(env)
        result["figures"] = {k: figures[k] for k in ("started", "completed", "completion_rate", "by_state")}
        result["figures"]["time_in_state"] = figures["time_in_state"]
        result["stored_compute_ms"] = _stored_ms(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)

        def live(filters: Filters) -> None:
            with factory() as session:
                assert analyse(session, WORKFLOW, filters, now=NOW) is not None

        result["analyse"] = timed(lambda: live(Filters()), runs)
        result["analyse_30_days"] = timed(lambda: live(Filters(since=NOW - timedelta(days=30))), runs)
        snapshots.compute(factory, WORKFLOW, Filters(), now=datetime.now(UTC))  # as the beat task would
        app, client = page_client(env)
        for name, query in (("page", ""), ("page_csv", "?format=csv")):
            def get(query: str = query) -> None:
                response = client.get(f"/analyst/workflows/{WORKFLOW}{query}")
                assert response.status_code == 200, response.status_code
            result[name] = timed(get, runs)
        app.extensions["engagement"].engine.dispose()
        engine.dispose()
    return result


def _stored_ms(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(text("SELECT compute_ms FROM workflow_analytics_snapshots")).scalar()
    engine.dispose()
    return int(value or 0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--instances", type=int, default=1_000_000)
    parser.add_argument("--transitions", type=int, default=5_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 instances, 500,000 transitions, one run")
    parser.add_argument("--json")
    args = parser.parse_args()
    if args.quick:
        args.instances, args.transitions, args.runs = 100_000, 500_000, 1
    given = os.environ.get("DATABASE_URL", "")
    with Database(given if given.startswith("mysql") else LOCAL_MYSQL) as database:
        result = measure(database.url, args.runs, args.instances, args.transitions)
    result["machine"] = machine()
    result["targets"] = {name: {"target_s": target, "median_s": result[name]["median_s"],
                                "met": result[name]["median_s"] < target} for name, target in TARGETS_S.items()}
    print(json.dumps(result, indent=2))
    emit(result, sys.argv)


if __name__ == "__main__":
    main()
