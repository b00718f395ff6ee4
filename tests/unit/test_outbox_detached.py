"""A detached topic's side effect never runs in the request that queued it, even embedded: the request's duration
must not depend on what the handler finds (issue #23, finding 4: a password reset timed to tell who is a member).
A forgetful topic's payload (it names an address) is emptied once delivered."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import select

from engagement import outbox
from engagement.db import transaction
from engagement.outbox import InProcessRelay, OutboxMessage, relay_after_commit

DETACHED, INLINE = "test.detached", "test.inline"


@pytest.fixture
def handlers(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Two test topics whose handlers record the thread they ran on."""
    ran: dict[str, list[str]] = {DETACHED: [], INLINE: []}
    for name in ("HANDLERS", "QUEUES", "DETACHED", "FORGETFUL"):
        monkeypatch.setattr(outbox, name, type(getattr(outbox, name))(getattr(outbox, name)))

    def recorder(topic: str) -> Any:
        return lambda _session, _payload: ran[topic].append(threading.current_thread().name)

    outbox.handler(DETACHED, detached=True, forget=True)(recorder(DETACHED))
    outbox.handler(INLINE)(recorder(INLINE))
    return ran


def test_the_commit_hands_detached_rows_over_as_detached(factory, handlers):
    relayed: list[tuple[list[int], str, bool]] = []
    relay_after_commit(factory, lambda ids, queue, detached=False: relayed.append((ids, queue, detached)))
    with transaction(factory) as session:
        outbox.enqueue(session, DETACHED, {"email": "lou@example.org"})
        outbox.enqueue(session, INLINE, {"id": 1})
    assert sorted((len(ids), queue, detached) for ids, queue, detached in relayed) == [
        (1, outbox.TRANSACTIONAL, False), (1, outbox.TRANSACTIONAL, True)]


def test_embedded_a_detached_row_is_delivered_after_the_commit_off_the_committing_thread(factory, handlers):
    relay_after_commit(factory, InProcessRelay(factory))
    with transaction(factory) as session:
        outbox.enqueue(session, DETACHED, {"email": "lou@example.org"})
        outbox.enqueue(session, INLINE, {"id": 1})
    assert handlers[INLINE] == [threading.current_thread().name]  # delivered before the commit returned
    InProcessRelay.drain()
    [detached_thread] = handlers[DETACHED]
    assert detached_thread != threading.current_thread().name


def test_a_forgetful_row_keeps_no_payload_once_delivered(factory, handlers):
    relay_after_commit(factory, InProcessRelay(factory))
    with transaction(factory) as session:
        outbox.enqueue(session, DETACHED, {"email": "lou@example.org"})
        outbox.enqueue(session, INLINE, {"id": 1})
    InProcessRelay.drain()
    with factory() as session:
        rows = {row.topic: row for row in session.scalars(select(OutboxMessage))}
        assert rows[DETACHED].delivered_at is not None and rows[DETACHED].payload == {}
        assert rows[INLINE].payload == {"id": 1}


def test_held_detached_rows_wait_for_their_release(factory, handlers):
    """The web holds a request's detached rows until its answer is built (web/relays.py)."""
    relay_after_commit(factory, InProcessRelay(factory))
    InProcessRelay.hold()
    try:
        with transaction(factory) as session:
            outbox.enqueue(session, DETACHED, {"email": "lou@example.org"})
        InProcessRelay._detached.submit(lambda: None).result(timeout=10)  # its thread idle, not draining
        assert handlers[DETACHED] == []  # committed, not handed over yet
    finally:
        InProcessRelay.release()
    InProcessRelay.drain()
    assert len(handlers[DETACHED]) == 1


def test_a_hold_never_released_leaves_at_the_next_hold_or_drain(factory, handlers):
    """A response nobody closed (a test client's) loses nothing: the thread's next request, or a drain, sends it."""
    relay_after_commit(factory, InProcessRelay(factory))
    InProcessRelay.hold()
    with transaction(factory) as session:
        outbox.enqueue(session, DETACHED, {"email": "lou@example.org"})
    InProcessRelay.hold()  # the next request on this thread
    InProcessRelay.drain()
    assert len(handlers[DETACHED]) == 1
    InProcessRelay.release()
