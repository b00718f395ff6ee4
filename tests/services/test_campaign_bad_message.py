"""A real worker on RabbitMQ sends a campaign of 50 in which one recipient's message makes Mailjet
refuse the whole call (issue #23, finding 8): the call is split, that message fails alone, the 49
others leave once, no task is retried and the campaign finishes. Before, the worker's task retried
the 50 eight times and the campaign never finished."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engagement import PROJECT_ROOT
from engagement.mail.mailjet import custom_id
from tests.fakes.mailjet import FakeMailjet
from tests.services.conftest import celery
from tests.services.test_campaign_kill import add_members, counts, kill_group, start_worker

BROKER = os.environ.get("CELERY_BROKER_URL", "")
pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(not BROKER, reason="set CELERY_BROKER_URL=amqp://... to run the Celery worker tests"),
]
BAD = "member000017@example.org"


@pytest.fixture
def fake() -> Iterator[FakeMailjet]:
    with FakeMailjet() as server:
        server.refuse_whole.add(BAD)
        yield server


def test_a_worker_splits_a_call_refused_for_one_message_and_the_campaign_finishes(
        broker_env: dict[str, str], settings: Any, fake: FakeMailjet, tmp_path: Path) -> None:
    env = {**os.environ, **broker_env, "MAIL_BACKEND": "mailjet", "MAILJET_API_KEY": fake.api_key,
           "MAILJET_API_SECRET": fake.api_secret, "MAILJET_API_URL": fake.url}
    assert celery(env, "purge", "-f", "-Q", "campaigns").wait(timeout=60) == 0
    add_members(settings.database_url, 50)
    body = tmp_path / "body.txt"
    body.write_text("Bonjour,\n\nRendez-vous samedi.\n", encoding="utf-8")
    log = tmp_path / "worker.log"
    worker = start_worker(env, log)
    try:
        sent = subprocess.run([sys.executable, "-m", "web.cli", "campaign", "send", "--audience", "department:13",
                               "--subject", "Samedi", "--body-file", str(body)], env=env, cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=120, check=True)
        number = json.loads(sent.stdout)["campaign"]
        deadline = time.monotonic() + 90  # the task's first retry alone would come later than the whole run
        while time.monotonic() < deadline:
            by_status, campaign, ids = counts(settings.database_url, number)
            if campaign is not None and campaign.finished_at is not None:
                break
            time.sleep(0.5)
    finally:
        kill_group(worker, signal.SIGTERM)
    assert campaign is not None and campaign.status == "done", (by_status, log.read_text()[-3000:])
    assert by_status == {"sent": 49, "failed": 1}
    assert fake.calls == 13  # 1 refused whole, then 2 a level over 6 levels of halves
    assert len(fake.messages) == 49 == len(set(fake.custom_ids()))  # each once
    assert set(fake.custom_ids()) < {custom_id(i) for i in ids}
    assert BAD not in fake.recipients()
    assert "Retry in" not in log.read_text()  # Celery logs each retry it schedules
