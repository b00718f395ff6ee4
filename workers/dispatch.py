"""The relay used when a broker is configured: committed outbox ids become Celery messages by name."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from engagement.outbox import TRANSACTIONAL
from workers.app import app

log = logging.getLogger(__name__)
DELIVER = "engagement.outbox.deliver"


def check_broker() -> None:
    """Raise unless the broker accepts a connection within about a second."""
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=1)


class CeleryRelay:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def __call__(self, ids: list[int], queue: str = TRANSACTIONAL) -> None:
        for outbox_id in ids:
            try:
                app.send_task(DELIVER, args=[outbox_id], queue=queue)
            except Exception:
                # The broker is down: the row stays pending and `engagement outbox relay` sends it later.
                log.warning("broker unreachable; outbox row %s left pending", outbox_id, exc_info=True)
