"""A campaign survives its worker being SIGKILLed mid-way: RabbitMQ redelivers the unacknowledged
tasks, the expansion resumes from its cursor, stale claims are reconciled with Mailjet (the real
client against the loopback fake), and every recipient receives exactly one message.

45,000 recipients by default, as in the issue (``CAMPAIGN_KILL_RECIPIENTS`` to change it); the
default suite proves the same on a smaller scale in process (tests/unit/test_campaigns.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, insert, select
from sqlalchemy.orm import Session

from engagement import PROJECT_ROOT
from engagement.accounts.models import User
from engagement.campaigns.models import Campaign
from engagement.db import utcnow
from engagement.mail.mailjet import custom_id
from engagement.mail.models import MailMessage
from tests.fakes.mailjet import FakeMailjet
from tests.services.conftest import celery

BROKER = os.environ.get("CELERY_BROKER_URL", "")
RECIPIENTS = int(os.environ.get("CAMPAIGN_KILL_RECIPIENTS", "45000"))
pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(not BROKER, reason="set CELERY_BROKER_URL=amqp://... to run the Celery worker tests"),
]


def add_members(url: str, count: int) -> None:
    engine = create_engine(url)
    now = utcnow()
    with engine.begin() as conn:
        for start in range(0, count, 5000):
            conn.execute(insert(User), [
                {"email": f"member{n:06d}@example.org", "first_name": "Camille", "last_name": "Martin",
                 "role": "member", "is_active": True, "activated_at": now, "created_at": now, "department": "13",
                 "interests": [], "has_newsletter": False} for n in range(start, min(count, start + 5000))])
    engine.dispose()


@pytest.fixture
def fake() -> Iterator[FakeMailjet]:
    with FakeMailjet() as server:
        yield server


@pytest.fixture
def deployment(broker_env: dict[str, str], settings: Any, fake: FakeMailjet) -> dict[str, str]:
    """The environment of a deployment sending through the fake, with a short claim lease."""
    return {**os.environ, **broker_env, "MAIL_BACKEND": "mailjet", "MAILJET_API_KEY": fake.api_key,
            "MAILJET_API_SECRET": fake.api_secret, "MAILJET_API_URL": fake.url, "MAIL_CLAIM_LEASE": "6"}


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return celery(env, "worker", "-Q", "campaigns", "--concurrency", "2", "--without-gossip", "--without-mingle",
                      "-n", f"kill-{uuid.uuid4().hex[:6]}@%h", "--loglevel", "WARNING", stdout=out,
                      stderr=subprocess.STDOUT, start_new_session=True)


def kill_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def counts(url: str, campaign_id: int) -> tuple[dict[str, int], Campaign | None, list[int]]:
    engine = create_engine(url)
    with Session(engine) as session:
        by_status = dict(session.execute(select(MailMessage.status, func.count()).where(
            MailMessage.campaign_id == campaign_id).group_by(MailMessage.status)).all())
        campaign = session.get(Campaign, campaign_id)
        ids = list(session.scalars(select(MailMessage.id).where(MailMessage.campaign_id == campaign_id)))
        session.expunge_all()
    engine.dispose()
    return by_status, campaign, ids


def test_a_worker_killed_mid_campaign_and_restarted_sends_each_message_exactly_once(
        deployment: dict[str, str], settings: Any, fake: FakeMailjet, tmp_path: Path) -> None:
    assert celery(deployment, "purge", "-f", "-Q", "campaigns").wait(timeout=60) == 0
    add_members(settings.database_url, RECIPIENTS)
    body = tmp_path / "body.txt"
    body.write_text("Bonjour,\n\nRendez-vous samedi au marché.\n", encoding="utf-8")
    log = tmp_path / "worker.log"
    worker = start_worker(deployment, log)
    try:
        sent = subprocess.run([sys.executable, "-m", "web.cli", "campaign", "send", "--audience", "department:13",
                               "--subject", "Samedi", "--body-file", str(body)], env=deployment, cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=120, check=True)
        queued = json.loads(sent.stdout)
        assert queued["recipients"] == RECIPIENTS
        deadline = time.monotonic() + 300
        while len(fake.messages) < RECIPIENTS // 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        killed_at = len(fake.messages)
        assert 0 < killed_at < RECIPIENTS, "the worker must die mid-campaign"
        kill_group(worker, signal.SIGKILL)  # no goodbye: its claimed messages and unacked tasks are left
        left_behind, _, _ = counts(settings.database_url, queued["campaign"])
        worker = start_worker(deployment, log)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            by_status, campaign, ids = counts(settings.database_url, queued["campaign"])
            if campaign is not None and campaign.finished_at is not None:
                break
            time.sleep(1)
        time.sleep(2)  # anything sent twice would arrive now
    finally:
        kill_group(worker, signal.SIGKILL)
    assert campaign is not None and campaign.status == "done", (by_status, log.read_text()[-3000:])
    assert by_status == {"sent": RECIPIENTS}
    received = fake.custom_ids()
    assert len(received) == RECIPIENTS == len(set(received)), f"{len(received) - len(set(received))} duplicates"
    assert sorted(received) == sorted(custom_id(i) for i in ids)
    assert sorted(fake.recipients()) == sorted(f"member{n:06d}@example.org" for n in range(RECIPIENTS))
    print(f"killed after {killed_at} messages; left behind {left_behind}")
