"""Two `engagement worker` processes on one host, through RabbitMQ (issue #23, finding 5; needs CELERY_BROKER_URL).

Both used to be ``celery@<host>``: RabbitMQ grants that node's control queue to one connection, and the second
worker died at start with ResourceLocked. Now each names its node from its queues, the second one numbered.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engagement import PROJECT_ROOT
from engagement.db import transaction
from engagement.outbox import OutboxMessage
from engagement.search.service import TOPIC as SEARCH_SYNC
from tests.services.conftest import celery

BROKER = os.environ.get("CELERY_BROKER_URL", "")
pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(not BROKER, reason="set CELERY_BROKER_URL=amqp://... to run the Celery worker tests"),
]
READY = re.compile(r"(\S+@\S+) ready\.")
ROWS = 40  # enough for RabbitMQ to hand some to each consumer (4 prefetched a worker)
STAY_UP = 8.0  # seconds both workers must stay up once ready


def _worker(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    """`engagement worker ARGS` as an operator starts it (one process a worker, so that the log is short)."""
    with log.open("w") as out:
        return subprocess.Popen([sys.executable, "-m", "web.cli", "worker", *args],
                                env={**os.environ, **env, "CELERY_WORKER_CONCURRENCY": "1"}, cwd=PROJECT_ROOT,
                                stdout=out, stderr=subprocess.STDOUT)


def _ready_node(process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> str:
    """The node name the worker announces once it consumes; fails with its log if it dies first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = READY.search(log.read_text(errors="replace"))
        if found:
            return found.group(1)
        if process.poll() is not None:
            pytest.fail(f"worker exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    pytest.fail(f"worker not ready in {timeout:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture
def workers(broker_env: dict[str, str], settings: Any, tmp_path: Path) -> Iterator[list[tuple[Any, Path]]]:
    """Two `engagement worker --queues search` on this host and this test's database (the queue purged first)."""
    assert celery(broker_env, "purge", "-f", "-Q", "search").wait(timeout=60) == 0
    started = []
    for n in (1, 2):
        log = tmp_path / f"worker{n}.log"
        started.append((_worker(broker_env, log, "--queues", "search"), log))
    yield started
    for process, _log in started:
        process.terminate()
    for process, _log in started:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _delivered(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).where(OutboxMessage.delivered_at.is_not(None))) or 0


def test_two_workers_with_the_same_queues_on_one_host_both_stay_up_and_consume(
        workers: list[tuple[Any, Path]], broker_env: dict[str, str], factory: sessionmaker[Session]) -> None:
    from workers.dispatch import CeleryRelay

    names = [_ready_node(process, log) for process, log in workers]
    host = names[0].split("@", 1)[1]
    assert sorted(names) == [f"search-2@{host}", f"search@{host}"]
    print(f"\nnodes: {names}")
    time.sleep(STAY_UP)
    assert [process.poll() for process, _log in workers] == [None, None], "a worker died"

    with transaction(factory) as session:
        rows = [OutboxMessage(topic=SEARCH_SYNC, payload={"items": []}) for _ in range(ROWS)]
        session.add_all(rows)
        session.flush()
        ids = [row.id for row in rows]
    CeleryRelay(factory)(ids, "search")
    deadline = time.monotonic() + 60
    while _delivered(factory) < ROWS and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _delivered(factory) == ROWS
    consumed = [log.read_text(errors="replace").count("succeeded in") for _process, log in workers]
    print(f"tasks run by each: {dict(zip(names, consumed, strict=True))}")
    assert all(count > 0 for count in consumed), consumed
    assert sum(consumed) == ROWS
    assert [process.poll() for process, _log in workers] == [None, None]
