"""The outbox through RabbitMQ and a real Celery worker process (needs CELERY_BROKER_URL)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from engagement import PROJECT_ROOT
from engagement.mail.models import MailMessage
from engagement.mail.service import DELIVER_TOPIC
from engagement.outbox import OutboxMessage
from tests.services.conftest import celery

BROKER = os.environ.get("CELERY_BROKER_URL", "")
pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(not BROKER, reason="set CELERY_BROKER_URL=amqp://... to run the Celery worker tests"),
]


def _complete_volunteer(client: Any, email: str) -> None:
    client.get("/w/volunteer")
    assert client.post("/w/volunteer", {"trigger": "next", "first_name": "Lou", "email": email,
                                        "age": "34"}).status_code == 303
    client.get("/w/volunteer")
    assert client.post("/w/volunteer", {"trigger": "next", "missions": ["events"]}).status_code == 303
    client.get("/w/volunteer")
    assert client.post("/w/volunteer", {"trigger": "next", "terms": "y"}).status_code == 303
    client.get("/w/volunteer")  # the review page ("check your answers")
    assert client.post("/w/volunteer", {"trigger": "confirm"}).status_code == 303


def _wait_sent(url: str, expected: int, timeout: float = 45) -> list[MailMessage]:
    engine = create_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with Session(engine) as session:
                sent = list(session.scalars(select(MailMessage).where(MailMessage.status == "sent")))
            if len(sent) >= expected or time.monotonic() > deadline:
                return sent
            time.sleep(0.2)
    finally:
        engine.dispose()


@pytest.fixture
def broker_client(broker_env: dict[str, str], settings: Any) -> Any:
    from tests.conftest import FormClient
    from web.app import create_app

    app = create_app(settings)
    return FormClient(app.test_client())


def test_mail_leaves_through_rabbitmq_and_a_worker_process(worker_log: Any, broker_client: Any, settings: Any) -> None:
    _complete_volunteer(broker_client, "lou@example.org")
    sent = _wait_sent(settings.database_url, 1)
    assert [m.to for m in sent] == [["lou@example.org"]]
    engine = create_engine(settings.database_url)
    with Session(engine) as session:
        rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.topic == DELIVER_TOPIC)))
    engine.dispose()
    assert len(rows) == 1 and rows[0].delivered_at is not None and rows[0].attempts == 1


def test_outbox_row_left_pending_is_relayed_again_and_sent_once(
        broker_env: dict[str, str], settings: Any, broker_client: Any, tmp_path: Path) -> None:
    # The broker message is lost (purged before any worker runs): the row stays pending...
    _complete_volunteer(broker_client, "sam@example.org")
    assert celery(broker_env, "purge", "-f", "-Q", "transactional").wait(timeout=60) == 0
    engine = create_engine(settings.database_url)
    with Session(engine) as session:
        assert session.scalar(select(MailMessage.status)) == "queued"
    # ...until the sweeper relays it; relaying twice still sends one message.
    relay = [sys.executable, "-m", "web.cli", "outbox", "relay"]
    for _ in range(2):
        subprocess.run(relay, env={**os.environ, **broker_env}, cwd=PROJECT_ROOT, check=True, timeout=60)
    with (tmp_path / "worker.log").open("w") as log:
        process = celery(broker_env, "worker", "--pool", "solo", "-Q", "transactional", "--without-gossip",
                          "--without-mingle", stdout=log, stderr=subprocess.STDOUT)
    try:
        sent = _wait_sent(settings.database_url, 1)
        time.sleep(1)  # let the second relayed message be consumed too
        with Session(engine) as session:
            statuses = list(session.scalars(select(MailMessage.status)))
    finally:
        process.terminate()
        process.wait(timeout=20)
        engine.dispose()
    assert len(sent) == 1 and statuses == ["sent"]
