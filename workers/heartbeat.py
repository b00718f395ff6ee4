"""The heartbeat of workers and beat (engagement/heartbeat.py), which their Kubernetes probes read.

A worker beats from its consumer's own loop (the event loop's timer with RabbitMQ or Redis), from when it
consumes until it stops: a loop that hangs, or a consumer that lost the broker and has not reconnected, stops
beating. Beat beats after each tick and wakes up at least every ``heartbeat.INTERVAL`` seconds to do so.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from celery import Celery, bootsteps
from celery.beat import PersistentScheduler

from engagement import heartbeat

log = logging.getLogger(__name__)
SETTING = "engagement_heartbeat_file"  # the app's conf key holding the file's path (None: no heartbeat)


def install(app: Celery, path: Path | None) -> None:
    """Make ``app``'s workers and beat keep ``path`` fresh (HEARTBEAT_FILE); nothing is written when None."""
    app.conf[SETTING] = str(path) if path is not None else None
    app.conf.beat_scheduler = f"{__name__}:HeartbeatScheduler"
    app.steps["consumer"].add(ConsumerHeartbeat)


def _path(app: Celery) -> Path | None:
    value = app.conf.get(SETTING)
    return Path(value) if value else None


def _beat(path: Path) -> None:
    """One beat; a failure to write is logged, never raised into Celery's loop (the probe will tell)."""
    try:
        heartbeat.beat(path)
    except OSError as exc:
        log.warning("cannot write the heartbeat file %s: %s", path, exc.strerror or exc)


class ConsumerHeartbeat(bootsteps.StartStopStep):
    """Beats every ``heartbeat.INTERVAL`` seconds from the consumer's timer while it consumes."""

    requires = ("celery.worker.consumer.tasks:Tasks",)  # started once the queues are consumed

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.path = _path(parent.app)
        self.timer_ref: Any = None
        if self.path is not None:
            heartbeat.clear(self.path)  # an earlier container's beat says nothing about this one

    def start(self, parent: Any) -> None:
        if self.path is None:
            return
        _beat(self.path)
        self.timer_ref = parent.timer.call_repeatedly(heartbeat.INTERVAL, _beat, (self.path,), priority=10)

    def stop(self, parent: Any) -> None:
        """Stop beating (the broker connection was lost, or the worker stops): the file ages from now on."""
        if self.timer_ref is not None:
            self.timer_ref.cancel()
            self.timer_ref = None

    def shutdown(self, parent: Any) -> None:
        self.stop(parent)


class HeartbeatScheduler(PersistentScheduler):
    """Celery's default scheduler, beating after each tick and ticking at least every ``heartbeat.INTERVAL``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.heartbeat_file = _path(self.app)
        if self.heartbeat_file is not None:
            heartbeat.clear(self.heartbeat_file)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        interval = super().tick(*args, **kwargs)
        if self.heartbeat_file is None:
            return interval
        _beat(self.heartbeat_file)
        return min(interval, heartbeat.INTERVAL)
