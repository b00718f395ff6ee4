"""On RabbitMQ a worker beats from its consumer's event loop (kombu's hub), not from a thread of its own:
the heartbeat stops with the loop (issue #23, finding 10; the embedded variant: tests/functional/)."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest
from kombu import Connection

from tests.functional.test_heartbeat_processes import assert_beats_until_frozen, running

BROKER = os.environ.get("CELERY_BROKER_URL", "")
pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(not BROKER, reason="set CELERY_BROKER_URL=amqp://... to run the Celery worker tests"),
]


def test_a_worker_on_the_broker_beats_from_its_event_loop(env: dict[str, str], settings: object,
                                                           tmp_path: Path) -> None:
    path = tmp_path / "heartbeat"
    queue = f"heartbeat-test-{uuid.uuid4().hex[:8]}"  # its own queue: it takes no other test's task
    argv = [sys.executable, "-m", "celery", "-A", "workers.app", "worker", "--concurrency", "1", "-Q", queue,
            "-n", f"{queue}@%h", "--without-gossip", "--without-mingle", "--loglevel", "INFO"]
    try:
        with running({**env, "HEARTBEAT_FILE": str(path), "CELERY_BROKER_URL": BROKER}, tmp_path, *argv) as process:
            assert_beats_until_frozen(path, process, tmp_path / "process.log")
        assert "ready" in (tmp_path / "process.log").read_text()
    finally:
        with Connection(BROKER) as connection:
            connection.default_channel.queue_delete(queue)
