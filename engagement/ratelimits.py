"""Rate limit counters in a database table, shared by every process that reaches it.

Without Redis (the embedded default), this is where the rate limiter counts (web/limits.py): the login
lock, the workflows' ``rate_limit`` and every limited route count the same way whichever gunicorn worker,
or whichever pod, answers. One counter is a fixed window: a hit inserts it, or adds to it, or starts it
again once its window has ended, in one UPSERT in its own short transaction; so two processes never lose
an increment. Keys are hashed first: no client address or account id is written to the database.

Where the table lives: the application's database when it is a server (MariaDB); with SQLite, a file of
its own next to the database (``<database>.rate-limits``). A request counts while its own transaction may
hold SQLite's only write lock (a workflow's ``rate_limit`` is checked inside it): counters in the same
file would wait for that lock behind themselves.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Double, Engine, Integer, String, Table, bindparam, case, delete, select, text
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.schema import CreateIndex, CreateTable

from engagement.db import Base, core_transaction, make_engine

PURGE_SECONDS = 60.0  # at most this often, each process deletes the counters whose window has ended


class RateLimitCounter(Base):
    __tablename__ = "rate_limit_counters"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True,
                                          comment="sha256 of the limiter's key (which names a client or account)")
    hits: Mapped[int] = mapped_column(Integer, comment="hits in the window")
    expires_at: Mapped[float] = mapped_column(Double, index=True, comment="end of the window, Unix time")


TABLE = cast(Table, RateLimitCounter.__table__)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def counters_engine(engine: Engine) -> Engine | None:
    """The engine of the counters: the application's own, or with SQLite a file of their own next to the
    database (its table created if missing); None for an in-memory SQLite database (one process)."""
    if engine.dialect.name != "sqlite":
        return engine
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    own = make_engine(f"sqlite:///{database}.rate-limits")
    with own.begin() as connection:  # several workers start at once: IF NOT EXISTS, never "already exists"
        connection.execute(CreateTable(TABLE, if_not_exists=True))
        for index in TABLE.indexes:
            connection.execute(CreateIndex(index, if_not_exists=True))
    own.dispose()  # no connection opened before a fork is shared after it
    return own


def _upsert(dialect: str) -> Any:
    """Add ``amount`` to a live counter; start a new window (``amount`` until ``expires_at``) for a missing
    or ended one. MariaDB assigns left to right: ``hits`` first, while ``expires_at`` is still the old one."""
    values: dict[str, Any] = {"key_hash": bindparam("key_hash"), "hits": bindparam("amount"),
                              "expires_at": bindparam("expires_at")}
    ended = TABLE.c.expires_at <= bindparam("now")
    if dialect == "sqlite":
        insert = sqlite.insert(TABLE).values(values)
        new = insert.excluded
        return insert.on_conflict_do_update(index_elements=[TABLE.c.key_hash], set_={
            "hits": case((ended, new.hits), else_=TABLE.c.hits + new.hits),
            "expires_at": case((ended, new.expires_at), else_=TABLE.c.expires_at)})
    if dialect not in ("mysql", "mariadb"):
        raise ValueError(f"rate limit counters: no UPSERT for {dialect} (SQLite, MariaDB and MySQL have one)")
    insert_ = mysql.insert(TABLE).values(values)
    new = insert_.inserted
    return insert_.on_duplicate_key_update([
        ("hits", case((ended, new.hits), else_=TABLE.c.hits + new.hits)),
        ("expires_at", case((ended, new.expires_at), else_=TABLE.c.expires_at))])


_HITS = select(RateLimitCounter.hits).where(RateLimitCounter.key_hash == bindparam("key_hash"))
_LIVE = (RateLimitCounter.key_hash == bindparam("key_hash"), RateLimitCounter.expires_at > bindparam("now"))
_LIVE_HITS = select(RateLimitCounter.hits).where(*_LIVE)
_LIVE_EXPIRY = select(RateLimitCounter.expires_at).where(*_LIVE)
_CLEAR = delete(RateLimitCounter).where(RateLimitCounter.key_hash == bindparam("key_hash"))
_ENDED = delete(RateLimitCounter).where(RateLimitCounter.expires_at <= bindparam("now"))


class Counters:
    """Fixed-window counters by key on one engine (what web/limits.py's storage for the limiter calls).

    Core statements built once: a hit is on the path of every limited request."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine, self.clock = engine, clock
        self.upsert = _upsert(engine.dialect.name)
        self.next_purge = 0.0

    def hit(self, key: str, seconds: float, amount: int = 1) -> int:
        """Count ``amount`` more on ``key`` (a window of ``seconds`` starts if none is running); the new count."""
        now, digest = self.clock(), key_hash(key)
        with core_transaction(self.engine) as connection:
            connection.execute(self.upsert, {"key_hash": digest, "amount": amount, "now": now,
                                             "expires_at": now + seconds})
            hits = connection.scalar(_HITS, {"key_hash": digest})
        if now >= self.next_purge:
            self.purge(now)
        return int(hits or 0)

    def _live(self, query: Any, key: str) -> Any:
        with self.engine.connect() as connection:
            return connection.scalar(query, {"key_hash": key_hash(key), "now": self.clock()})

    def count(self, key: str) -> int:
        """Hits in the running window of ``key`` (0 when none runs)."""
        return int(self._live(_LIVE_HITS, key) or 0)

    def expiry(self, key: str) -> float:
        """When the running window of ``key`` ends (Unix time; now when none runs)."""
        return float(self._live(_LIVE_EXPIRY, key) or self.clock())

    def clear(self, key: str) -> None:
        with core_transaction(self.engine) as connection:
            connection.execute(_CLEAR, {"key_hash": key_hash(key)})

    def clear_all(self) -> int:
        with core_transaction(self.engine) as connection:
            return connection.execute(delete(RateLimitCounter)).rowcount

    def purge(self, now: float) -> int:
        """Delete the counters whose window ended (the table holds the last few minutes' clients only)."""
        self.next_purge = now + PURGE_SECONDS
        with core_transaction(self.engine) as connection:
            return connection.execute(_ENDED, {"now": now}).rowcount

    def answers(self) -> bool:
        """Whether the database answers now."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True
