"""Every `engagement` command delivers what it queued before it exits (issue #23, finding 9).

Embedded, the bulk queues (campaigns, lists, search) run on a background thread of the command's process.
Work that work queued in turn (a campaign's expansion queues its sends) was refused once the interpreter
began to exit ("cannot schedule new futures after interpreter shutdown") and stayed pending until
`engagement outbox relay`. The commands run here as an operator runs them: a process each, no relay after.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engagement import PROJECT_ROOT
from engagement.db import transaction, utcnow
from engagement.outbox import OutboxMessage


def engagement(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`engagement ARGS` in its own process, embedded (no broker, whatever the shell says)."""
    inherited = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
    return subprocess.run([sys.executable, "-m", "web.cli", *args], env={**inherited, **env}, cwd=PROJECT_ROOT,
                          input=stdin, capture_output=True, text=True, timeout=180, check=False)


def _pending(factory: sessionmaker[Session]) -> dict[str, int]:
    with factory() as session:
        rows = session.execute(select(OutboxMessage.topic, func.count()).where(OutboxMessage.delivered_at.is_(None))
                               .group_by(OutboxMessage.topic))
        return {topic: int(count) for topic, count in rows}


def _members(factory: sessionmaker[Session], count: int) -> None:
    from engagement.accounts.models import User

    with transaction(factory) as session:
        session.add_all([User(email=f"lyon{n}@example.org", activated_at=utcnow(), address={
            "street": "1 place Bellecour", "postal_code": "69002", "city": "69382", "city_name": "Lyon 2e",
            "country": "FR"}) for n in range(count)])


def test_a_campaign_sent_from_the_command_line_has_left_when_the_command_exits(
        env: dict[str, str], settings: Any, factory: sessionmaker[Session]) -> None:
    from engagement.mail.models import MailMessage

    _members(factory, 12)
    result = engagement(env, "campaign", "send", "--audience", "department:69", "--subject", "Samedi",
                        "--body-file", "-", stdin="Bonjour,\nRéunion samedi place Bellecour.\n")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    with factory() as session:
        statuses = dict(session.execute(select(MailMessage.status, func.count()).group_by(MailMessage.status)).all())
    assert statuses == {"sent": 12}  # the stored outbox holds every message, sent, with no relay run
    assert _pending(factory) == {}


def test_demo_load_alone_leaves_the_demo_events_searchable(
        env: dict[str, str], settings: Any, factory: sessionmaker[Session]) -> None:
    from engagement.search.port import Query
    from engagement.search.service import search

    result = engagement(env, "demo", "load")
    assert result.returncode == 0, result.stderr
    assert _pending(factory) == {}
    found = search(factory, Query(text="climat", now=utcnow(), kind="event"))
    assert [hit["url"] for hit in found.hits] == ["/events/conference-le-climat-c-est-maintenant"]



def test_with_a_broker_down_the_command_says_what_it_could_not_hand_over(
        env: dict[str, str], settings: Any, factory: sessionmaker[Session]) -> None:
    _members(factory, 3)
    unreachable = {**env, "CELERY_BROKER_URL": "amqp://guest:guest@127.0.0.1:9//"}  # nothing listens on port 9
    result = engagement(unreachable, "campaign", "send", "--audience", "department:69", "--subject", "Samedi",
                        "--body-file", "-", stdin="Bonjour.\n")
    assert result.returncode == 0, result.stderr
    assert _pending(factory) == {"campaign.expand": 1}  # stranded: the beat's sweep relays it later
    assert ("1 queued task(s) were not handed to the broker (unreachable): the beat's outbox sweep relays them"
            in result.stderr)
