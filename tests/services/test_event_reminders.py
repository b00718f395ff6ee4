"""The 24-hour reminders as Celery beat would send them, without beat: the task
``engagement.events.send_reminders`` sent through RabbitMQ to a real worker process (needs
CELERY_BROKER_URL). Each due registrant gets one reminder, however often the task runs."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engagement.db import transaction, utcnow
from engagement.events import registration, service
from engagement.events.models import Event, EventRegistration
from engagement.events.registration import Person
from engagement.events.service import EventInput
from engagement.mail.models import MailMessage

BROKER = os.environ.get("CELERY_BROKER_URL", "")
TASK = "engagement.events.send_reminders"
pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(not BROKER, reason="set CELERY_BROKER_URL=amqp://... to run the Celery worker tests"),
]
ADDRESS = {"street": "12 rue de la Paix", "postal_code": "75002", "city": "75102",
           "city_name": "Paris 2e Arrondissement", "country": "FR"}
DUE = ["r1@example.org", "r2@example.org", "r3@example.org"]


@pytest.fixture
def sender() -> Iterator[Celery]:
    """The project's Celery app configuration, to send by name as beat does (no task import)."""
    from workers.app import app

    yield app


def _event(session: Session, name: str, starts_in: timedelta, capacity: int | None = None) -> Event:
    begins = utcnow().replace(microsecond=0) + starts_in
    data = EventInput(name=name, description="", begins_at=begins, ends_at=begins + timedelta(hours=2),
                      address=ADDRESS, capacity=capacity, category="meeting")
    return service.create(session, data, organizer_id=None, now=utcnow() - timedelta(days=2))


def _place(session: Session, event: Event, email: str, waitlist: bool = False) -> str:
    return registration.place(session, event.id, Person(email, "Camille", "Martin"), waitlist=waitlist,
                              now=utcnow() - timedelta(days=1), locale="fr")


def _people(factory: sessionmaker[Session]) -> None:
    """Three due registrants (two events within 24 h); people and events that must get nothing."""
    with transaction(factory) as session:
        soon = _event(session, "Réunion ce soir", timedelta(hours=3), capacity=2)
        assert [_place(session, soon, e) for e in DUE[:2]] == ["registered", "registered"]
        assert _place(session, soon, "waiting@example.org", waitlist=True) == "waitlisted"
        tomorrow = _event(session, "Réunion demain matin", timedelta(hours=20))
        _place(session, tomorrow, DUE[2])
        _place(session, tomorrow, "gave-up@example.org")
        gave_up = session.scalar(select(EventRegistration.id).where(EventRegistration.email == "gave-up@example.org"))
        registration.cancel(session, gave_up, utcnow() - timedelta(hours=12))
        _place(session, _event(session, "Dans deux jours", timedelta(hours=48)), "far@example.org")
        _place(session, _event(session, "Déjà commencée", timedelta(minutes=-30)), "started@example.org")
        called_off = _event(session, "Annulée", timedelta(hours=2))
        _place(session, called_off, "called-off@example.org")
        service.cancel(session, called_off, utcnow() - timedelta(hours=1))


def _reminders(factory: sessionmaker[Session]) -> list[MailMessage]:
    with factory() as session:
        return list(session.scalars(select(MailMessage).where(MailMessage.template == "event_reminder")
                                    .order_by(MailMessage.id)))


def _wait(condition: Callable[[], bool], timeout: float = 45) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _runs(log: Path) -> int:
    """How many runs of the task the worker finished (its own log line for each)."""
    return len(re.findall(rf"Task {re.escape(TASK)}\[[^\]]+\] succeeded", log.read_text(errors="replace")))


def test_a_worker_sends_each_due_reminder_once(worker_log: Path, factory: sessionmaker[Session],
                                               sender: Celery) -> None:
    _people(factory)
    sender.send_task(TASK)
    assert _wait(lambda: _runs(worker_log) == 1), worker_log.read_text()
    sent = _reminders(factory)
    assert sorted(m.to[0] for m in sent) == DUE
    assert all(len(m.to) == 1 for m in sent)
    # Each reminder's outbox row is relayed to the transactional queue after the task's commit and
    # delivered by a worker (this one) as its own task.
    assert _wait(lambda: {m.status for m in _reminders(factory)} == {"sent"}), [m.status for m in _reminders(factory)]
    assert all(m.attachments and m.attachments[0]["filename"].endswith(".ics") for m in sent)
    with factory() as session:
        reminded = set(session.scalars(select(EventRegistration.email)
                                       .where(EventRegistration.reminded_at.is_not(None))))
    assert reminded == set(DUE)

    # Beat runs it again five minutes later (twice, here): nobody hears twice.
    sender.send_task(TASK)
    sender.send_task(TASK)
    assert _wait(lambda: _runs(worker_log) == 3), worker_log.read_text()
    assert sorted(m.to[0] for m in _reminders(factory)) == DUE
    assert "succeeded" in worker_log.read_text() and "Traceback" not in worker_log.read_text()
