"""Tasks take ids, re-read state and are idempotent."""

from __future__ import annotations

import random
from functools import cache

from engagement.core import Core, bootstrap
from engagement.db import utcnow
from engagement.events.registration import remind_all
from engagement.outbox import InProcessRelay, deliver
from workers.app import app, settings


@cache
def core() -> Core:
    # Inside a worker, rows a handler enqueues are delivered right after its commit.
    return bootstrap(settings, InProcessRelay)


@app.task(name="engagement.outbox.deliver", bind=True, max_retries=8, acks_late=True)
def deliver_outbox(self, outbox_id: int) -> bool:
    """Deliver one outbox row; a failure retries with exponential backoff and jitter."""
    try:
        return deliver(core().sessions, outbox_id)
    except Exception as exc:
        # Full jitter: a provider's 429 storm is not answered by every worker in the same second.
        countdown = random.uniform(0.5, 1.0) * min(600, 2 ** self.request.retries)  # noqa: S311 - not crypto
        raise self.retry(exc=exc, countdown=countdown) from None


@app.task(name="engagement.events.send_reminders", acks_late=True)
def send_reminders() -> int:
    """Mail the 24-hour reminders that are due (each registrant once: ``reminded_at``)."""
    return remind_all(core().sessions, utcnow())
