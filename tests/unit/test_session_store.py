"""The database session store's read (engagement/sessions/models.py): one statement on the driver's connection,
which finds a live session and never an expired or unknown one (SQLite, or MariaDB with DATABASE_URL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from engagement.db import utcnow
from engagement.sessions import models


def test_the_read_outside_a_transaction_finds_only_live_sessions(session: Session) -> None:
    now = utcnow()
    models.save(session, "live", b"payload", now + timedelta(seconds=2))
    models.save(session, "gone", b"stale", now - timedelta(microseconds=1))
    models.save(session, "edge", b"edge", now.replace(microsecond=0))  # a whole second: stored as ".000000"
    session.commit()
    engine = session.get_bind()
    assert isinstance(engine, Engine)

    assert models.load_outside_transaction(engine, "live", now) == b"payload"
    assert models.load_outside_transaction(engine, "gone", now) is None
    assert models.load_outside_transaction(engine, "nobody", now) is None
    assert models.load_outside_transaction(engine, "edge", now.replace(microsecond=0)) is None
    assert models.load_outside_transaction(engine, "edge", now.replace(microsecond=0) - timedelta(microseconds=1)) \
        == b"edge"
    assert models.load(session, "live", now) == models.load_outside_transaction(engine, "live", now)
