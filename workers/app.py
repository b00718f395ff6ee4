"""The Celery application (``celery -A workers.app worker``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from celery import Celery
from celery.schedules import crontab
from kombu import Exchange, Queue

from engagement.config import load_settings
from engagement.outbox import ALL_QUEUES, TRANSACTIONAL
from workers import heartbeat

settings = load_settings()

_amqp = (settings.celery_broker_url or "").startswith(("amqp", "pyamqp"))
app = Celery("engagement", broker=settings.celery_broker_url or "memory://", include=["workers.tasks"])
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    task_acks_late=True,  # a task killed mid-way is redelivered; handlers are idempotent
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=4,
    # Separate queues, so that a campaign never delays an activation mail: give each its own workers
    # (`engagement worker --queues campaigns`, `--queues lists`, `--queues search`); a worker without --queues
    # serves all four. Each worker's node name is its own (workers/nodes.py).
    task_queues=[Queue(name, Exchange(name), routing_key=name) for name in ALL_QUEUES],
    task_default_queue=TRANSACTIONAL,
    broker_connection_retry_on_startup=True,
    broker_connection_max_retries=None,  # a worker waits out a broker outage however long, then consumes again
    # A dead broker must not hold a request: a connection attempt gives up after a second, and a
    # publish retries once at once (the retry reconnects a pooled connection a broker restart closed).
    # The relay then leaves the row pending and relays it when the broker answers (workers/dispatch.py).
    broker_connection_timeout=1.0,
    task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2},
    # RabbitMQ confirms every message once stored (about 0.5 ms each): without it, a message taken
    # just before the broker crashed is lost while its outbox row looks relayed.
    broker_transport_options={"confirm_publish": True} if _amqp else {},
    task_ignore_result=True,
    # Reminders are found in the database (registrations not yet reminded), so a missed run only
    # delays them to the next one: the schedule itself holds no state worth keeping.
    beat_schedule={
        "event-reminders": {"task": "engagement.events.send_reminders", "schedule": 300.0},
        # Scheduled campaigns are found in the database too (status and time): a missed run starts them late.
        "campaigns-start-due": {"task": "engagement.campaigns.start_due", "schedule": 60.0},
        # Rows whose relay was lost (the broker was down at commit) are relayed again.
        "outbox-sweep": {"task": "engagement.outbox.sweep", "schedule": 60.0},
        # Instances stuck past their state's sla: one digest to the organizers (each entry once).
        "workflow-sla-alerts": {"task": "engagement.workflow.sla_alerts", "schedule": 3600.0},
        # The analytics rollup (the days whose instances moved), then the analyst dashboard's
        # unfiltered figures of every active workflow, ready when asked.
        "workflow-analytics": {"task": "engagement.workflow.refresh_analytics", "schedule": 60.0},
        # The retention policy (docs/privacy.md), daily at a quiet hour: a fixed time, not a 24-hour interval,
        # which would restart with every beat (each deployment) and might never come. What it finds is done
        # in committed batches, so a run a worker loses halfway is finished by the next one.
        "privacy-purge": {"task": "engagement.privacy.purge", "schedule": crontab(hour=3, minute=30)},
        # Donations (docs/donations.md): stale payment pages' holds, and last year's yearly receipts, which a
        # daily run issues in the first days of January (and again later only for what is not receipted yet).
        "donations-housekeeping": {"task": "engagement.donations.housekeeping",
                                   "schedule": crontab(hour=4, minute=10)},
    },
    beat_schedule_filename=str(Path(tempfile.gettempdir()) / "engagement-celerybeat-schedule"),
)
# HEARTBEAT_FILE, kept fresh by the consumer's loop and by beat's ticks: their probes read its age.
heartbeat.install(app, settings.heartbeat_file)
