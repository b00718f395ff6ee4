"""The table behind database-backed sessions: only an opaque id reaches the browser."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Engine, LargeBinary, String, bindparam, delete, func, literal, or_, select
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, Session, mapped_column

from engagement.db import Base, utcnow
from engagement.signing import LOGIN_STAMP


class HttpSession(Base):
    __tablename__ = "http_sessions"

    store_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    payload: Mapped[bytes] = mapped_column(LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql"))
    expires_at: Mapped[datetime] = mapped_column(index=True)


_LOAD = select(HttpSession.payload).where(HttpSession.store_id == bindparam("store_id"),
                                         HttpSession.expires_at > bindparam("now"))
_HOLDS = select(literal(1)).where(HttpSession.store_id == bindparam("store_id"),
                                  HttpSession.expires_at > bindparam("now"))


def load(connection: Connection | Session, store_id: str, now: datetime | None = None) -> bytes | None:
    """The payload of a live session (read on every request: a plain, cached Core query)."""
    return connection.execute(_LOAD, {"store_id": store_id, "now": now or utcnow()}).scalar()


def load_outside_transaction(engine: Engine, store_id: str, now: datetime | None = None) -> bytes | None:
    """`load` in one statement on the driver's connection: no BEGIN and no ROLLBACK around it on SQLite, and
    none of SQLAlchemy's per-statement work (every request reads its session: the wizard's step is one
    transaction, its own, not two)."""
    sql, order, expires = _driver_load(engine.dialect)
    values = {"store_id": store_id, "now": expires(now or utcnow())}
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            cursor.execute(sql, tuple(values[name] for name in order) if order is not None else values)
            row = cursor.fetchone()
        finally:
            cursor.close()
    finally:
        connection.close()  # back to the pool, which resets it (a rollback: nothing to undo on SQLite)
    return None if row is None else bytes(row[0])


@cache
def _driver_load(dialect: Any) -> tuple[str, tuple[str, ...] | None, Callable[[datetime], Any]]:
    """`_LOAD` compiled for ``dialect``: its SQL, the order of its parameters (None: by name) and how the
    column's type writes a time (SQLite stores text in SQLAlchemy's own format)."""
    compiled = _LOAD.compile(dialect=dialect)
    bind = HttpSession.__table__.c.expires_at.type.dialect_impl(dialect).bind_processor(dialect)
    order = tuple(compiled.positiontup or ()) if compiled.positional else None
    return str(compiled), order, bind or (lambda value: value)


def holds(connection: Connection | Session, store_id: str, now: datetime | None = None) -> bool:
    """Whether a live session has this id (the page cache asks, for a cookie, before Flask runs)."""
    return connection.execute(_HOLDS, {"store_id": store_id, "now": now or utcnow()}).first() is not None


def save(session: Session, store_id: str, payload: bytes, expires_at: datetime) -> None:
    row = session.get(HttpSession, store_id)
    if row is None:
        session.add(HttpSession(store_id=store_id, payload=payload, expires_at=expires_at))
    else:
        row.payload, row.expires_at = payload, expires_at


def remove(session: Session, store_id: str) -> None:
    session.execute(delete(HttpSession).where(HttpSession.store_id == store_id))


def purge_expired(session: Session, now: datetime | None = None) -> int:
    expired = select(HttpSession.store_id).where(HttpSession.expires_at <= (now or utcnow())).limit(10_000)
    ids = list(session.scalars(expired))
    if ids:
        session.execute(delete(HttpSession).where(HttpSession.store_id.in_(ids)))
    return len(ids)


def logged_in_as(user_id: int) -> tuple[bytes, bytes]:
    """How a stored payload says it is logged in as ``user_id``: Flask-Login's ``_user_id``, the id then a dot and
    a stamp of fixed length (engagement.signing.login_id), as Flask-Session writes it in msgpack (its default: a
    length byte first) or in JSON; matched whatever the stamp."""
    value = f"{user_id}.".encode()
    return b"\xa8_user_id" + bytes([0xA0 | (len(value) + LOGIN_STAMP)]) + value, b'"_user_id":"' + value


def remove_holding(session: Session, needles: Iterable[bytes]) -> int:
    """Delete the sessions whose stored payload holds any of ``needles`` (bytes, matched as they are stored);
    how many were deleted."""
    found = [func.instr(HttpSession.payload, literal(needle, LargeBinary())) > 0 for needle in needles if needle]
    if not found:
        return 0
    ids = list(session.scalars(select(HttpSession.store_id).where(or_(*found))))
    if ids:
        session.execute(delete(HttpSession).where(HttpSession.store_id.in_(ids)))
    return len(ids)
