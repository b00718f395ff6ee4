"""The relay used when a broker is configured: committed outbox ids become Celery messages by name."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from workers.app import app

log = logging.getLogger(__name__)
DELIVER = "engagement.outbox.deliver"


class CeleryRelay:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def __call__(self, ids: list[int]) -> None:
        for outbox_id in ids:
            try:
                app.send_task(DELIVER, args=[outbox_id])
            except Exception:
                # The broker is down: the row stays pending and `engagement outbox relay` sends it later.
                log.warning("broker unreachable; outbox row %s left pending", outbox_id, exc_info=True)
