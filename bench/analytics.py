"""The analytics of issue #8 on MariaDB: 1,000,000 instances and 5,000,000 transitions of one workflow.

Targets: ``engagement stats ID --json`` under 2 s, the dashboard's computation and page under 1 s.
The history comes from bench/analytics_data.py (a throwaway database next to ``DATABASE_URL``'s, or
the local server's, dropped at the end). Median of ``--runs`` runs each of:

- ``rollup_build`` (once): ``rollup.refresh(full=True)``, the rollup built from the whole log (after
  the upgrade to 0010, or ``engagement stats --rebuild``);
- ``rollup_refresh``: 1,000 live instances started in the last 30 days take a step (a log row each,
  as the engine writes it), then the incremental refresh that the beat runs every minute (the days
  those instances started on are rebuilt; a change on every day of the year costs ``rollup_build``);
- ``cli_fresh``: ``engagement stats bench_funnel --json --fresh`` in a subprocess: the rollup
  refreshed and every figure computed now;
- ``cli``: the same without ``--fresh``, right after such a computation: the stored figures;
- ``analyse``: ``analytics.analyse`` in process (the computation alone from the rollup, no
  subprocess, no storing), unfiltered; ``analyse_30_days``, ``analyse_version``, ``analyse_source``:
  the instances started in the last 30 days, of version 2, through an invitation;
- ``page_fresh``: ``GET /analyst/workflows/bench_funnel`` as an analyst through the Flask test
  client with no stored figures (computed for the request); ``page``: figures stored (the default
  view, which the beat keeps fresh); ``page_filtered``: a 30-day filter's first view (nothing stored);
- ``page_csv``: the stored figures as CSV.

    DATABASE_URL=mysql+pymysql://... python bench/analytics.py [--runs 3] [--instances N] [--transitions M]
        [--quick] [--json out.json] [--keep]
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

TARGETS_S = {"cli": 2.0, "cli_fresh": 2.0, "analyse": 1.0, "analyse_30_days": 1.0, "page_fresh": 1.0,
             "page_filtered": 1.0, "page": 1.0, "page_csv": 1.0}
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
        user_id = create_user(session, "analyst@bench.example.org", role="analyst", password="correct horse battery").id
    client = app.test_client()
    with client.session_transaction() as http_session:
        http_session["_user_id"] = str(user_id)
        http_session["_fresh"] = True
    return app, client


def measure(url: str, runs: int, instances: int, transitions: int) -> dict[str, Any]:
    from engagement.db import make_engine, make_session_factory
    from engagement.workflow import rollup
    from engagement.workflow.analytics import Filters, analyse

    result: dict[str, Any] = {"data": populate(url, instances, transitions)}
    engine = make_engine(url)
    factory = make_session_factory(engine)
    clock = [NOW]

    def later() -> datetime:
        clock[0] += timedelta(minutes=1)
        return clock[0]

    result["rollup_build"] = timed(lambda: rollup.refresh(factory, later(), full=True), 1)
    result["rollup_rows"] = _count(url, "workflow_rollups")
    refreshes = []
    for _ in range(runs):
        _step(url, 1_000, later())  # not timed
        refreshes.append(timed(lambda: rollup.refresh(factory, clock[0]), 1)["median_s"])
    result["rollup_refresh"] = {"runs_s": refreshes, "median_s": statistics.median(refreshes)}
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

        def live(filters: Filters) -> None:
            with factory() as session:
                assert analyse(session, WORKFLOW, filters, now=NOW) is not None

        result["analyse"] = timed(lambda: live(Filters()), runs)
        result["analyse_30_days"] = timed(lambda: live(Filters(since=NOW - timedelta(days=30))), runs)
        result["analyse_version"] = timed(lambda: live(Filters(version=2)), runs)
        result["analyse_source"] = timed(lambda: live(Filters(source="invitation")), runs)
        app, client = page_client(env)
        since = (NOW - timedelta(days=30)).date().isoformat()
        for name, query, forget in (("page_fresh", "", True), ("page_filtered", f"?since={since}", True),
                                    ("page", "", False), ("page_csv", "?format=csv", False)):
            def get(query: str = query, forget: bool = forget) -> None:
                if forget:
                    _forget_stored(url)
                response = client.get(f"/analyst/workflows/{WORKFLOW}{query}")
                assert response.status_code == 200, response.status_code
            result[name] = timed(get, runs)
        app.extensions["engagement"].engine.dispose()
    engine.dispose()
    return result


def _step(url: str, count: int, now: datetime) -> None:
    """``count`` live instances of the last 30 days take a step, as the engine writes it: a log row and
    the instance's new state and times."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        ids = [row[0] for row in conn.execute(text(
            "SELECT id FROM workflow_instances WHERE is_completed = 0 AND abandoned_at IS NULL "
            "AND state <> 'done' AND started_at >= :recent ORDER BY RAND() LIMIT :n"),
            {"n": count, "recent": NOW - timedelta(days=30)})]
        for ident in ids:
            conn.execute(text(
                "INSERT INTO workflow_transitions (instance_id, workflow_id, version, source, dest, `trigger`, at, "
                "duration_ms) SELECT id, workflow_id, version, state, state, 'save', :now, 1000 "
                "FROM workflow_instances WHERE id = :id"), {"id": ident, "now": now})
            conn.execute(text("UPDATE workflow_instances SET entered_at = :now, updated_at = :now WHERE id = :id"),
                         {"id": ident, "now": now})
    engine.dispose()


def _count(url: str, table: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar()
    engine.dispose()
    return int(value or 0)


def _forget_stored(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM workflow_analytics_snapshots"))
    engine.dispose()


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
    parser.add_argument("--keep", action="store_true", help="keep the database at the end (its URL on stderr)")
    args = parser.parse_args()
    if args.quick:
        args.instances, args.transitions, args.runs = 100_000, 500_000, 1
    given = os.environ.get("DATABASE_URL", "")
    with Database(given if given.startswith("mysql") else LOCAL_MYSQL, keep=args.keep) as database:
        result = measure(database.url, args.runs, args.instances, args.transitions)
    result["machine"] = machine()
    result["targets"] = {name: {"target_s": target, "median_s": result[name]["median_s"],
                                "met": result[name]["median_s"] < target} for name, target in TARGETS_S.items()}
    print(json.dumps(result, indent=2))
    emit(result, sys.argv)


if __name__ == "__main__":
    main()
