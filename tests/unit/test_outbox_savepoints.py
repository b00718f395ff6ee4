"""Side effects leave after the whole transaction commits, never when a SAVEPOINT inside it is released: a relay
run at that moment would not see the row (not committed yet) and leave it undelivered (a mail lost)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from engagement.db import transaction
from engagement.outbox import OutboxMessage, relay_after_commit
from engagement.privacy.models import ConsentText


def test_a_savepoint_released_relays_nothing_and_the_commit_relays_once(factory):
    relayed: list[tuple[list[int], str]] = []
    relay_after_commit(factory, lambda ids, queue: relayed.append((ids, queue)))
    with transaction(factory) as session:
        session.add(OutboxMessage(topic="mail.deliver", payload={"mail_id": 1}))
        session.flush()
        with session.begin_nested():
            session.add(ConsentText(version="a" * 64, text="J’accepte"))
        assert relayed == []  # the savepoint is released; the row is still uncommitted
        try:
            with session.begin_nested():
                session.add(ConsentText(version="a" * 64, text="J’accepte"))  # the same key: refused
        except IntegrityError:
            pass
        assert relayed == []
    [(ids, _queue)] = relayed
    assert len(ids) == 1
    with factory() as session:
        assert session.get(OutboxMessage, ids[0]) is not None
