"""Every ``engagement`` command delivers what it queued before it exits (issue #23, finding 9).

Embedded, the bulk queues (campaigns, lists, search) run on background threads of the command's process. A
command used to return while they worked: the interpreter then refused the work that work queued in turn (a
campaign's expansion queues its sends: "cannot schedule new futures after interpreter shutdown"), and a row
that failed meanwhile (SQLite busy under the command's own writes) stayed pending until ``engagement outbox
relay``. Each command's core now relays through a ``CommandRelay``, which remembers the rows handed over;
when the command ends (its click context closes, after success or failure alike), ``deliver_before_exit``
waits until the background threads are idle, delivers once more, in the foreground, what failed, and says
on stderr what is still pending. With a broker, workers deliver: what is left to do is to hand over the
rows the broker refused (the relay's watcher thread dies with the process). A command interrupted (Ctrl-C,
SIGTERM: web/interrupts.py) waits for nothing but the task in progress: ``after_interrupt`` says what is
left pending, which ``engagement outbox relay`` or a running ``engagement serve`` (engagement/sweeper.py)
delivers.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from engagement.config import Settings
from engagement.outbox import TRANSACTIONAL, InProcessRelay, OutboxMessage

NOTICE_AFTER = 1.0  # seconds of waiting after which the command says why it has not returned yet
GRACE = 15.0  # seconds an interrupted command waits for the task in progress (a page of a campaign, a slice)
WAIT_AT_MOST = 24 * 3600.0  # a command waits for its work as long as it takes (Ctrl-C stops it)
CHUNK = 500  # ids per query

_RELAYS: list[CommandRelay] = []  # the relays of the cores this process built, settled at its end


class CommandRelay:
    """The deployment's relay (in process, or Celery), remembering the outbox rows a command handed to it."""

    def __init__(self, relay: Any, factory: sessionmaker[Session]) -> None:
        self.relay, self.factory = relay, factory
        self.handed: set[int] = set()
        self.calls = 0  # rows handed over, including by the background work itself
        self._lock = threading.Lock()

    def __call__(self, ids: list[int], queue: str = TRANSACTIONAL, detached: bool = False) -> None:
        with self._lock:
            self.handed.update(ids)
            self.calls += 1
        if detached:
            self.relay(ids, queue, detached=True)
        else:
            self.relay(ids, queue)

    def finish(self) -> list[int]:
        """Deliver (embedded) or hand to the broker what this command queued; returns the ids still pending."""
        if isinstance(self.relay, InProcessRelay):
            return self._finish_in_process()
        return self._finish_with_broker()

    def _settle(self) -> None:
        """Until the background threads are idle: the work handed over, and the work it handed over in turn."""
        while True:
            seen = self.calls
            InProcessRelay.drain(timeout=WAIT_AT_MOST)
            if self.calls == seen:
                return

    def _finish_in_process(self) -> list[int]:
        self._settle()
        left = self.undelivered()
        if left:
            self.relay.run(left)  # once more, in this thread: a lock the command's own writes held is free now
            self._settle()
            left = self.undelivered()
        return left

    def _finish_with_broker(self) -> list[int]:
        from workers.dispatch import STRANDED

        if self.undelivered(STRANDED):
            self.relay.relay_stranded()  # what the broker refused, while it was down, if it answers now
        return self.undelivered(STRANDED)

    def undelivered(self, last_error: str | None = None) -> list[int]:
        """The rows handed over and not delivered yet (with ``last_error``: only those marked so)."""
        ids = sorted(self.handed)
        left: list[int] = []
        with self.factory() as session:
            for start in range(0, len(ids), CHUNK):
                query = select(OutboxMessage.id).where(OutboxMessage.id.in_(ids[start:start + CHUNK]),
                                                       OutboxMessage.delivered_at.is_(None))
                if last_error is not None:
                    query = query.where(OutboxMessage.last_error == last_error)
                left.extend(session.scalars(query))
        return left


def relay_for(settings: Settings) -> Callable[[sessionmaker[Session]], CommandRelay]:
    """The relay factory of a command's core: the deployment's relay, settled when the command ends."""
    from web.relays import relay_factory

    chosen = relay_factory(settings)

    def build(factory: sessionmaker[Session]) -> CommandRelay:
        relay = CommandRelay(chosen(factory), factory)
        _RELAYS.append(relay)
        return relay

    return build


def deliver_before_exit() -> None:
    """At the end of a command: its queued work delivered (or handed to the broker), what failed said."""
    try:  # also the work of a core built otherwise (``under-attack`` builds the whole app)
        InProcessRelay.drain(timeout=NOTICE_AFTER)
    except TimeoutError:
        click.echo("Delivering what this command queued...", err=True)
    brokered, left = False, []
    while _RELAYS:
        relay = _RELAYS[-1]  # kept until settled: an interrupt meanwhile reports it (after_interrupt)
        brokered = brokered or not isinstance(relay.relay, InProcessRelay)
        try:
            left += relay.finish()
        except SQLAlchemyError as exc:  # the database went away meanwhile: say so in one line, no traceback
            click.echo(f"What this command queued could not be checked ({type(exc).__name__}): "
                       "`engagement outbox relay` delivers what is left.", err=True)
        _RELAYS.pop()
    if left and brokered:
        click.echo(f"{len(left)} queued task(s) were not handed to the broker (unreachable): the beat's outbox "
                   "sweep relays them once it answers, or run `engagement outbox relay`.", err=True)
    elif left:
        click.echo(f"{len(left)} queued task(s) could not be delivered and stay pending (see the errors above): "
                   "`engagement outbox relay` retries them.", err=True)


def after_interrupt(signum: int) -> None:
    """A command got SIGINT or SIGTERM: its background delivery stopped (InProcessRelay.stop), wait for the task
    in progress, then say in one line what is left pending and what delivers it."""
    InProcessRelay.stop()
    idle = _idle_after_stop()
    try:
        line = _left_line()
    except SQLAlchemyError as exc:  # the database went away meanwhile: one line, no traceback
        line = f"what this command queued could not be checked ({type(exc).__name__}): `engagement outbox relay` " \
               "delivers what is left"
    click.echo(f"Interrupted: {line}.", err=True)
    InProcessRelay.close()
    if not idle:  # a task still running would keep the interpreter from exiting: the rows it holds stay pending
        sys.stderr.flush()
        os._exit(128 + signum)


def _idle_after_stop() -> bool:
    """Whether the background threads are idle within GRACE (the rows queued behind them are skipped at once)."""
    try:
        InProcessRelay.drain(timeout=NOTICE_AFTER)
        return True
    except TimeoutError:
        click.echo("Stopping: the task in progress ends first (Ctrl-C again to stop at once)...", err=True)
    try:
        InProcessRelay.drain(timeout=GRACE)
        return True
    except TimeoutError:
        return False


def _left_line() -> str:
    """What the command's relays leave (embedded: pending; with a broker: refused by it), for one line."""
    from engagement.sweeper import PICKED_UP_WITHIN

    relays, left = list(_RELAYS), Counter[str]()
    _RELAYS.clear()
    embedded = [relay for relay in relays if isinstance(relay.relay, InProcessRelay)]
    stranded = _stranded([relay for relay in relays if relay not in embedded])
    for relay in embedded:
        left.update(_topics(relay, relay.undelivered()))
    if stranded:
        return (f"{stranded} queued task(s) were not handed to the broker: the beat's outbox sweep relays them once "
                "it answers, or run `engagement outbox relay`")
    if not left:
        return "nothing this command queued is left pending"
    kinds = ", ".join(f"{count} {topic}" for topic, count in sorted(left.items()))
    minutes = round(PICKED_UP_WITHIN.total_seconds() / 60)
    return (f"{left.total()} queued task(s) left pending ({kinds}): `engagement outbox relay` delivers them now, "
            f"else a running `engagement serve` within {minutes} minutes")


def _stranded(relays: list[CommandRelay]) -> int:
    if not relays:
        return 0
    from workers.dispatch import STRANDED

    return sum(len(relay.undelivered(STRANDED)) for relay in relays)


def _topics(relay: CommandRelay, ids: list[int]) -> Counter[str]:
    """How many of the rows ``ids`` each topic has (a campaign's expansion, its sends)."""
    topics: Counter[str] = Counter()
    with relay.factory() as session:
        for start in range(0, len(ids), CHUNK):
            topics.update(session.scalars(select(OutboxMessage.topic).where(
                OutboxMessage.id.in_(ids[start:start + CHUNK]))))
    return topics
