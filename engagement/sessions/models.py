"""The table behind database-backed sessions: only an opaque id reaches the browser."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, LargeBinary, String, bindparam, delete, select
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, Session, mapped_column

from engagement.db import Base, utcnow


class HttpSession(Base):
    __tablename__ = "http_sessions"

    store_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    payload: Mapped[bytes] = mapped_column(LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql"))
    expires_at: Mapped[datetime] = mapped_column(index=True)


_LOAD = select(HttpSession.payload).where(HttpSession.store_id == bindparam("store_id"),
                                         HttpSession.expires_at > bindparam("now"))


def load(connection: Connection | Session, store_id: str, now: datetime | None = None) -> bytes | None:
    """The payload of a live session (read on every request: a plain, cached Core query)."""
    return connection.execute(_LOAD, {"store_id": store_id, "now": now or utcnow()}).scalar()


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
