"""A real Celery worker process through RabbitMQ, for the tests that need one (CELERY_BROKER_URL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engagement import PROJECT_ROOT

BROKER = os.environ.get("CELERY_BROKER_URL", "")


@pytest.fixture
def broker_env(env: dict[str, str]) -> dict[str, str]:
    env["CELERY_BROKER_URL"] = BROKER
    return env


def celery(env: dict[str, str], *args: str, **kwargs: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "workers.app", *args],
                            env={**os.environ, **env}, cwd=PROJECT_ROOT, **kwargs)


@pytest.fixture
def worker_log(broker_env: dict[str, str], settings: Any, tmp_path: Path) -> Iterator[Path]:
    """A real worker process on this test's database (stale messages of earlier runs purged first); its log."""
    assert celery(broker_env, "purge", "-f", "-Q", "transactional").wait(timeout=60) == 0
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        process = celery(broker_env, "worker", "--pool", "solo", "--loglevel", "INFO", "-Q", "transactional",
                         "--without-gossip", "--without-mingle", stdout=out, stderr=subprocess.STDOUT)
    yield log
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
