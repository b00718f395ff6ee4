"""The Celery application (``celery -A workers.app worker``)."""

from __future__ import annotations

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
)
