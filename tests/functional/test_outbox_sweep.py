"""Embedded, what no process delivered is delivered by a running `engagement serve`, once (issue #23).

Rows left pending by a command interrupted, or by a server stopped mid-campaign, waited for an operator to run
`engagement outbox relay`: a running embedded server never picked them up (the beat's sweep exists only with a
broker). Each served process now sweeps (engagement/sweeper.py), and every delivery claims its row first
(engagement/claims.py): two processes relaying the same rows deliver each once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from engagement import PROJECT_ROOT
from engagement.db import transaction, utcnow
from engagement.outbox import OutboxMessage
from tests.conftest import _free_port
from tests.functional.test_cli_delivery import _members

ROWS = 40

# Two processes at once: each registers a slow self-managed topic (as a campaign's slice is), waits for the
# other, then relays every row (``run``) or sweeps (``sweep``); each delivery is appended to a file.
RELAYING = """
import sys, time
from datetime import timedelta
from pathlib import Path
from engagement import outbox
from engagement.db import make_engine, make_session_factory
from engagement.tables import import_models

url, mode, log, ready, go = sys.argv[1:6]

@outbox.self_managed("test.slow")
def slow(factory, payload):
    time.sleep(0.02)
    with open(log, "a") as out:
        out.write(f"{payload['n']}\\n")

import_models()
factory = make_session_factory(make_engine(url))
with factory() as session:
    ids = sorted(i for ids in outbox.pending(session).values() for i in ids)
Path(ready).touch()
while not Path(go).exists():
    time.sleep(0.01)
if mode == "run":
    outbox.InProcessRelay(factory).run(ids)
else:
    from engagement.sweeper import sweep_once
    sweep_once(factory, older_than=timedelta(0))
"""


def _pending(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).where(OutboxMessage.delivered_at.is_(None))) or 0)


def _slow_rows(factory: sessionmaker[Session], count: int) -> None:
    with transaction(factory) as session:
        session.add_all([OutboxMessage(topic="test.slow", payload={"n": n}) for n in range(count)])


@pytest.mark.parametrize("mode", ["run", "sweep"])
def test_two_processes_relaying_the_same_rows_deliver_each_once(
        env: dict[str, str], settings: Any, factory: sessionmaker[Session], tmp_path: Path, mode: str) -> None:
    _slow_rows(factory, ROWS)
    log, go = tmp_path / "delivered.log", tmp_path / "go"
    ready = [tmp_path / f"ready{n}" for n in (1, 2)]
    processes = [subprocess.Popen([sys.executable, "-c", RELAYING, settings.database_url, mode, str(log),
                                   str(flag), str(go)], cwd=PROJECT_ROOT) for flag in ready]
    deadline = time.monotonic() + 60
    while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
        time.sleep(0.05)
    go.touch()  # both start relaying together
    assert [process.wait(timeout=120) for process in processes] == [0, 0]
    delivered = Counter(log.read_text().split())
    assert {n for n, times in delivered.items() if times > 1} == set()  # no row's work done twice
    assert len(delivered) == ROWS and _pending(factory) == 0


def test_a_running_serve_delivers_what_a_stopped_command_left_pending(
        env: dict[str, str], settings: Any, factory: sessionmaker[Session]) -> None:
    from engagement.campaigns import service
    from engagement.campaigns.models import Campaign
    from engagement.mail.models import MailMessage

    _members(factory, 6)
    with transaction(factory) as session:  # queued as an interrupted command leaves it: never relayed
        service.create(session, audience="department:69", subject="Samedi", body="Bonjour.", author=None)
        session.execute(update(OutboxMessage).values(created_at=utcnow() - timedelta(minutes=5)))
    port = _free_port()
    inherited = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "SITE_URL")}
    log = Path(env["ENGAGEMENT_INSTANCE_DIR"]) / "serve.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port), "--workers", "2"],
                                  env={**inherited, **env}, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while _pending(factory) and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert _pending(factory) == 0, log.read_text()[-3000:]
    with factory() as session:
        assert session.scalars(select(Campaign.status)).all() == ["done"]
        per_member = session.execute(select(MailMessage.to, func.count()).group_by(MailMessage.to)).all()
    assert len(per_member) == 6 and {count for _to, count in per_member} == {1}
