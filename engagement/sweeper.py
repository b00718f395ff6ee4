"""The embedded outbox sweep: every ``engagement serve`` process delivers, now and then, what no process did.

With a broker, the beat sweeps (workers/tasks.py). Embedded, a row stays pending when the process that queued
it stopped before delivering it (a command interrupted, a server restarted, a handler that failed): the
served processes' sweeper thread delivers it a minute or two later, so nothing waits for an operator to run
``engagement outbox relay``. Each row is claimed first (engagement/claims.py), so two sweeping processes, or a
sweep and the process that queued the row, never deliver a row twice; and one process sweeps at a time.
"""

from __future__ import annotations

import logging
import random
import threading
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from engagement import claims
from engagement.outbox import deliver, pending

log = logging.getLogger(__name__)

SWEEP_EVERY = 60.0  # seconds between two sweeps of a process
SWEEP_AFTER = timedelta(minutes=1)  # a younger row is still the queuing process's to deliver
FIRST_SWEEP = 5.0  # seconds after a server process starts: what a restart left is caught up at once
PICKED_UP_WITHIN = timedelta(seconds=SWEEP_EVERY * 1.1) + SWEEP_AFTER  # at most, once a server runs


def sweep_once(factory: sessionmaker[Session], older_than: timedelta = SWEEP_AFTER) -> int:
    """Deliver the rows pending for longer than ``older_than``, oldest first, unless another process is
    sweeping; returns how many this sweep delivered (a row another process holds is left to it)."""
    with claims.claim(factory, claims.SWEEP) as claimed:
        if not claimed:
            return 0
        with factory() as session:
            ids = sorted(outbox_id for ids in pending(session, older_than).values() for outbox_id in ids)
        delivered = 0
        for outbox_id in ids:
            try:
                delivered += deliver(factory, outbox_id)
            except Exception as exc:  # recorded on the row (last_error, attempts): the next sweep retries it
                log.warning("outbox row %s failed in the sweep (%s); left pending", outbox_id, type(exc).__name__)
        return delivered


class Sweeper(threading.Thread):
    """A server process's sweeper: a first sweep soon after start, then one about every SWEEP_EVERY seconds."""

    def __init__(self, factory: sessionmaker[Session], every: float = SWEEP_EVERY, first: float = FIRST_SWEEP,
                 older_than: timedelta = SWEEP_AFTER) -> None:
        super().__init__(name="outbox-sweep", daemon=True)  # a process exiting mid-row strands nothing: claims
        self.factory, self.every, self.first, self.older_than = factory, every, first, older_than
        self.stopped = threading.Event()

    def run(self) -> None:
        delay = self.first
        while not self.stopped.wait(delay):
            try:
                swept = sweep_once(self.factory, self.older_than)
            except Exception as exc:  # the database away for a while: the next sweep tries again
                log.warning("outbox sweep failed (%s)", type(exc).__name__)
            else:
                if swept:
                    log.info("outbox sweep: %s pending row(s) delivered", swept)
            delay = self.every * random.uniform(0.9, 1.1)  # noqa: S311 - spreading processes, not crypto  # nosec B311
