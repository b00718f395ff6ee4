"""Database plumbing: the declarative base, engines, sessions and the one transaction helper."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, create_engine, event
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC (portable across SQLite and MySQL) and always returns aware UTC."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name in ("mysql", "mariadb"):  # keep microseconds: time-in-state and ordering need them
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe with WAL
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA secure_delete=ON")  # what is deleted (an erasure) is overwritten, not left in free pages
    cursor.close()


def _sqlite_no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event below emits BEGIN itself


def _sqlite_begin(connection: Any) -> None:
    # Writers take the write lock up front: a deferred transaction that read a snapshot and then
    # writes fails at once with "database is locked" instead of waiting its turn.
    mode = "IMMEDIATE" if connection.get_execution_options().get("sqlite_immediate") else "DEFERRED"
    connection.exec_driver_sql(f"BEGIN {mode}")


def settle_deletions(engine: Engine, patience: float = 5.0) -> bool:
    """After an erasure: with SQLite, copy the write-ahead log into the database and empty it, so that the old
    pages (the erased data) do not stay in the log file. A reader still open keeps the log: tried again for
    ``patience`` seconds, never holding the write lock longer than a moment each time (other requests and the
    background work go on meanwhile). Whether the log was emptied (always True on other databases)."""
    if engine.dialect.name != "sqlite":
        return True
    deadline = time.monotonic() + patience
    while True:
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA busy_timeout=50")
            try:
                busy = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").scalar()
            finally:
                connection.exec_driver_sql("PRAGMA busy_timeout=5000")
        if not busy or time.monotonic() > deadline:
            return not busy
        time.sleep(0.2)


_CLEAN = "engagement_clean"  # on the connection's record: its last transaction ended, none began since


def _checked_out(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    record.info[_CLEAN] = False  # whatever is done with it now (raw DBAPI statements too) is rolled back


def _track_transactions(dialect: Any) -> None:
    """Mark the connection clean once the driver's COMMIT or ROLLBACK returned, dirty when SQLAlchemy
    begins a transaction (its autobegin included): the dialect's own methods, wrapped on this engine's
    dialect. Connection events (``begin``, ``commit``) would do the same but, once any is listened to,
    every statement of the engine goes through SQLAlchemy's event dispatch (90 calls more a step)."""
    begin, commit, rollback = dialect.do_begin, dialect.do_commit, dialect.do_rollback

    def mark(connection: Any, clean: bool) -> None:  # a pooled connection's record (none once detached)
        record = getattr(connection, "_connection_record", None)
        if record is not None:
            record.info[_CLEAN] = clean

    def do_begin(connection: Any) -> None:
        mark(connection, False)
        begin(connection)

    def do_commit(connection: Any) -> None:
        commit(connection)
        mark(connection, True)

    def do_rollback(connection: Any) -> None:
        rollback(connection)
        mark(connection, True)

    dialect.do_begin, dialect.do_commit, dialect.do_rollback = do_begin, do_commit, do_rollback


def _reset_on_return(dbapi_connection: Any, record: Any, state: Any) -> None:
    """The pool's reset at check-in, without the ROLLBACK round trip after a COMMIT (SQLAlchemy's
    "custom reset scheme": ``pool_reset_on_return=None`` and this ``reset`` listener).

    Rolled back unless the transaction is known to be over: SQLAlchemy closed it on the way back
    (``transaction_was_reset``); SQLite's driver says none is open (``in_transaction``, the library's
    own state); or SQLAlchemy's COMMIT or ROLLBACK was the last thing it did on the connection since
    it was handed out, and PyMySQL's last status from the server does not say a transaction is open (a
    write through the driver after the commit). The server's status alone is not enough: PyMySQL keeps
    none from a result set, so a read left open would keep its REPEATABLE READ snapshot (issue #7).
    What stays unseen: a read through the raw driver cursor after SQLAlchemy's commit on the same
    check-out, which nothing in the application does (its raw reads check out their own connection).
    """
    if state.transaction_was_reset:
        return
    in_transaction = getattr(dbapi_connection, "in_transaction", None)  # sqlite3
    if in_transaction is False:
        return
    status = getattr(dbapi_connection, "server_status", None)  # PyMySQL: flags of the last OK packet
    server_says_open = isinstance(status, int) and bool(status & _SERVER_STATUS_IN_TRANS)
    if in_transaction is None and not server_says_open and record is not None and record.info.get(_CLEAN):
        return
    dbapi_connection.rollback()


_SERVER_STATUS_IN_TRANS = 1  # MySQL's protocol: SERVER_STATUS_IN_TRANS


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the per-dialect settings the platform relies on."""
    kwargs.setdefault("hide_parameters", True)  # SQL errors end up in logs: never with members' data
    custom_reset = "pool_reset_on_return" not in kwargs
    if custom_reset:
        kwargs["pool_reset_on_return"] = None  # _reset_on_return does it
    if not url.startswith("sqlite"):
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_recycle", 3600)
    engine = create_engine(url, **kwargs)
    if custom_reset:
        if not url.startswith("sqlite"):  # SQLite's driver knows whether a transaction is open
            event.listen(engine, "checkout", _checked_out)
            _track_transactions(engine.dialect)
        event.listen(engine, "reset", _reset_on_return)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "connect", _sqlite_no_driver_transactions)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


class SQLiteWriterLock:
    """Queues SQLite writers of all processes on one file lock, re-entrant within a thread.

    SQLite's own busy handler makes a waiting writer sleep 1, 2, 5 ... 100 ms between retries;
    a blocking ``flock`` is woken by the kernel the moment the writer ahead finishes.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.mutex = threading.RLock()  # threads of this process
        self.depth = 0
        self.fd: int | None = None
        self.pid = 0

    def _descriptor(self) -> int:
        if self.fd is None or self.pid != os.getpid():  # after a fork, a descriptor of our own
            self.fd, self.pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
        return self.fd

    def __enter__(self) -> None:
        self.mutex.acquire()
        if self.depth == 0:
            try:
                fcntl.flock(self._descriptor(), fcntl.LOCK_EX)
            except BaseException:
                self.mutex.release()
                raise
        self.depth += 1

    def __exit__(self, *_exc: object) -> None:
        self.depth -= 1
        if self.depth == 0:
            fcntl.flock(self._descriptor(), fcntl.LOCK_UN)
        self.mutex.release()


_WRITER_LOCKS: dict[str, SQLiteWriterLock] = {}


def _writer_lock(factory: sessionmaker[Session]) -> AbstractContextManager[None]:
    return _engine_writer_lock(factory.kw.get("bind"))


def _engine_writer_lock(bind: Any) -> AbstractContextManager[None]:
    database = getattr(getattr(bind, "url", None), "database", None)
    if bind is None or bind.dialect.name != "sqlite" or not database or database == ":memory:":
        return nullcontext()
    lock = _WRITER_LOCKS.get(database)
    if lock is None:
        lock = _WRITER_LOCKS[database] = SQLiteWriterLock(database + ".writer-lock")
    return lock


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work: commits on success, rolls back on any error. Side effects leave after commit."""
    with _writer_lock(factory), factory() as session, session.begin():
        if session.get_bind().dialect.name == "sqlite":
            session.connection(execution_options={"sqlite_immediate": True})
        yield session


@contextmanager
def core_transaction(engine: Engine) -> Iterator[Connection]:
    """`transaction` for a few Core statements, without an ORM session (a hot path: a rate limit's counter).
    SQLite writers queue and take the write lock up front, as there."""
    with _engine_writer_lock(engine), engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection = connection.execution_options(sqlite_immediate=True)
        with connection.begin():
            yield connection
