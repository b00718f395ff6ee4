"""A process that stops taking work leaves its rows pending, quietly, to be delivered later (issue #23).

An interrupted command's background work went on while the interpreter exited: the rows it queued in turn
(a campaign's sends) raised "cannot schedule new futures after interpreter shutdown" with a traceback. Now a
stopped relay starts nothing, a submission the interpreter refuses leaves its rows pending with one warning,
a campaign's expansion stops after a page and resumes at its cursor, and a row is claimed by one deliverer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from engagement import claims, outbox
from engagement.core import Core
from engagement.db import transaction, utcnow
from engagement.outbox import LISTS, InProcessRelay, OutboxMessage


@pytest.fixture
def topics(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Two test topics, one on a background queue, recording what they delivered."""
    delivered: list[str] = []
    for name in ("HANDLERS", "QUEUES"):
        monkeypatch.setattr(outbox, name, dict(getattr(outbox, name)))
    outbox.handler("test.inline")(lambda _session, _payload: delivered.append("test.inline"))
    outbox.handler("test.bulk", queue=LISTS)(lambda _session, _payload: delivered.append("test.bulk"))
    return delivered


@pytest.fixture
def stopped() -> Iterator[None]:
    InProcessRelay.stop()
    yield
    InProcessRelay.resume()


def _rows(core: Core) -> list[tuple[str, bool, int, str | None]]:
    with core.sessions() as session:
        return [(row.topic, row.delivered_at is not None, row.attempts, row.last_error)
                for row in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def _queue(core: Core, *names: str) -> None:
    with transaction(core.sessions) as session:
        for name in names:
            outbox.enqueue(session, name, {})


def test_a_stopped_relay_starts_nothing_and_leaves_the_rows_pending(core: Core, topics: list[str],
                                                                    stopped: None) -> None:
    _queue(core, "test.inline", "test.bulk")
    InProcessRelay.drain()
    assert topics == []
    assert _rows(core) == [("test.inline", False, 0, None), ("test.bulk", False, 0, None)]


def test_work_queued_while_the_interpreter_exits_stays_pending_with_one_warning(
        core: Core, topics: list[str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    gone = ThreadPoolExecutor(max_workers=1)
    gone.shutdown()  # as every executor is once the interpreter exits: submit raises RuntimeError
    with monkeypatch.context() as patched, caplog.at_level(logging.WARNING, logger="engagement.outbox"):
        patched.setattr(InProcessRelay, "_background", gone)
        _queue(core, "test.bulk")  # the commit returns: no RuntimeError out of the after-commit hook
    assert _rows(core) == [("test.bulk", False, 0, None)]
    assert [(r.getMessage(), r.exc_info) for r in caplog.records] == [
        ("outbox rows [1] left pending: this process is exiting", None)]


def test_a_campaign_expansion_stopped_after_a_page_resumes_at_its_cursor(
        core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    from engagement.accounts.models import User
    from engagement.campaigns import service
    from engagement.campaigns.models import Campaign
    from engagement.mail.models import MailMessage

    monkeypatch.setattr(service, "PAGE", 2)
    with transaction(core.sessions) as session:
        session.add_all([User(email=f"m{n}@example.org", activated_at=utcnow(), has_newsletter=True)
                         for n in range(5)])
    InProcessRelay.stop()
    try:
        with transaction(core.sessions) as session:
            service.create(session, audience="all", subject="Samedi", body="Bonjour.", author=None)
        expand = 1
        with pytest.raises(outbox.Stopped):
            outbox.deliver(core.sessions, expand)
        with core.sessions() as session:
            campaign = session.scalars(select(Campaign)).one()
            assert (campaign.expanded, campaign.status) == (2, "sending")  # one page written, then it stopped
        assert _rows(core)[0] == ("campaign.expand", False, 0, None)  # pending, and no failure
    finally:
        InProcessRelay.resume()
    assert outbox.deliver(core.sessions, expand)
    InProcessRelay.drain()
    with core.sessions() as session:
        assert session.scalar(select(func.count(func.distinct(MailMessage.to)))) == 5
        assert session.scalar(select(func.count()).select_from(MailMessage)) == 5


def test_a_row_claimed_by_one_thread_is_not_delivered_by_another(core: Core, topics: list[str],
                                                                 stopped: Any) -> None:
    _queue(core, "test.inline")
    InProcessRelay.resume()
    with claims.claim(core.sessions, 1) as mine:
        assert mine
        assert outbox.deliver(core.sessions, 1) is False  # held: left to its claimant
        with claims.claim(core.sessions, 1) as again:
            assert not again
    assert topics == []
    assert outbox.deliver(core.sessions, 1) is True
    assert topics == ["test.inline"]
