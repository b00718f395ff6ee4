"""The Celery application (``celery -A workers.app worker``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from celery import Celery

from engagement.config import load_settings

settings = load_settings()

app = Celery("engagement", broker=settings.celery_broker_url or "memory://", include=["workers.tasks"])
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    task_acks_late=True,  # a task killed mid-way is redelivered; handlers are idempotent
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=4,
    task_default_queue="transactional",
    task_routes={"engagement.outbox.deliver": {"queue": "transactional"}},
    broker_connection_retry_on_startup=True,
    task_ignore_result=True,
    # Reminders are found in the database (registrations not yet reminded), so a missed run only
    # delays them to the next one: the schedule itself holds no state worth keeping.
    beat_schedule={"event-reminders": {"task": "engagement.events.send_reminders", "schedule": 300.0}},
    beat_schedule_filename=str(Path(tempfile.gettempdir()) / "engagement-celerybeat-schedule"),
)
