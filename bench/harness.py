"""What every benchmark shares: statistics, an isolated deployment, the machine's description.

Not a test helper: the benchmarks measure, they never assert on timings.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOCAL_MYSQL = "mysql+pymysql://root@localhost/test?unix_socket=/run/mysqld/mysqld.sock&charset=utf8mb4"


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in 0..1) of ``values``."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def summary(values: Sequence[float]) -> dict[str, float]:
    """Median, p90 and p99 of one run's samples."""
    return {"median": statistics.median(values), "p90": percentile(values, 0.90), "p99": percentile(values, 0.99)}


def median_of_runs(runs: Sequence[dict[str, float]]) -> dict[str, float]:
    """Key by key, the median over runs (each run already summarised)."""
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def deployment_env(root: Path, workflows_dir: Path) -> dict[str, str]:
    """The environment of a fresh deployment under ``root`` (as tests/conftest.py builds one)."""
    return {
        "ENGAGEMENT_ENV": "test",
        "ENGAGEMENT_INSTANCE_DIR": str(root / "instance"),
        "SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "DATABASE_URL": f"sqlite:///{root / 'engagement.db'}",
        "ENGAGEMENT_WORKFLOWS_DIR": str(workflows_dir),
    }


def create_tables(database_url: str) -> None:
    """Every table of the metadata, as the test suite creates them (no Alembic run to time)."""
    from sqlalchemy import create_engine

    from engagement.db import Base
    from engagement.tables import import_models

    import_models()
    engine = create_engine(database_url)
    Base.metadata.create_all(engine)
    engine.dispose()


class Database:
    """A throwaway MariaDB database beside DATABASE_URL's."""

    def __init__(self, base_url: str, keep: bool = False, prefix: str = "engagement_bench") -> None:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        self.base = make_url(base_url)
        self.name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        self.keep = keep  # left in place at the end, to look into a result (dropped by hand)
        admin = create_engine(self.base)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE DATABASE `{self.name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
        admin.dispose()
        self.url = self.base.set(database=self.name).render_as_string(hide_password=False)
        create_tables(self.url)

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.keep:
            print(f"kept: {self.url}", file=sys.stderr)
            return
        self.drop()

    def drop(self) -> None:
        from sqlalchemy import create_engine, text

        admin = create_engine(self.base)
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{self.name}`"))
        admin.dispose()


def rss_kib() -> int:
    """The resident set size now (VmRSS), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal:"))
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "sqlite": _sqlite_version(),
        "kernel": platform.release(),
        "wrk": _first_line(["wrk", "-v"]).split(" [")[0],
    }


def _sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


def _first_line(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "missing"
    return (done.stdout + done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr) else ""


def emit(result: dict[str, Any], argv: Sequence[str]) -> None:
    """Write ``result`` as JSON to the path after ``--json`` (how run_all collects results)."""
    if "--json" in argv:
        target = Path(argv[list(argv).index("--json") + 1])
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(result, indent=2))


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)
