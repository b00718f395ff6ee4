"""Claims on outbox rows: one deliverer of a row at a time, across the threads of a process and across processes.

A self-managed handler (a campaign's expansion, a slice of its sends, a search update) runs before its row is
marked delivered, outside any lock on the row: two processes relaying the same row (a command's background
thread, and a server's sweep of the rows no process delivered) both ran it. Its own ledger kept the effect
single, at the price of the work done twice and of racing writers. Now whoever delivers a row first claims
it: without waiting, so a row claimed elsewhere is simply left to its claimant, and released by the
operating system or the database when the claimant dies, so a crash strands nothing (no lease to expire).

Across processes: with SQLite, a POSIX record lock on byte ``key`` of a file beside the database (the
processes of an embedded deployment share a host); with MySQL/MariaDB, a named lock (``GET_LOCK``) held by a
connection of the claimant. Within a process, a set of the keys its threads hold (record locks belong to the
process, not to a thread).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

SWEEP = 0  # the key of the sweep itself (outbox ids start at 1): one process sweeps at a time

_mutex = threading.Lock()
_held: set[tuple[str, int]] = set()  # (database, key) claimed by a thread of this process


@contextmanager
def claim(factory: sessionmaker[Session], key: int) -> Iterator[bool]:
    """Claim ``key`` (an outbox row's id, or SWEEP) for the ``with`` block; yields whether it was free.

    Never waits: False means another thread or process holds it, and will deliver the row.
    """
    bind = factory.kw.get("bind")
    database = str(getattr(bind, "url", "")) if bind is not None else ""
    with _mutex:
        if (database, key) in _held:
            free = False
        else:
            _held.add((database, key))
            free = True
    if not free:
        yield False
        return
    try:
        with _across_processes(bind, key) as claimed:
            yield claimed
    finally:
        with _mutex:
            _held.discard((database, key))


@contextmanager
def _across_processes(bind: Any, key: int) -> Iterator[bool]:
    dialect = getattr(getattr(bind, "dialect", None), "name", "")
    if dialect == "sqlite":
        database = bind.url.database
        if not database or database == ":memory:":  # one process only
            yield True
            return
        with _record_lock(_lock_file(database + ".claims"), key) as claimed:
            yield claimed
    elif dialect in ("mysql", "mariadb"):
        with _named_lock(bind, key) as claimed:
            yield claimed
    else:
        yield True


class _LockFile:
    """One descriptor per process (closing any descriptor of a file drops all of the process's record locks on
    it, so it is never closed); a new one after a fork."""

    def __init__(self, path: str) -> None:
        self.path, self.fd, self.pid = path, -1, 0

    def descriptor(self) -> int:
        if self.pid != os.getpid():
            self.fd, self.pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
        return self.fd


_files: dict[str, _LockFile] = {}


def _lock_file(path: str) -> _LockFile:
    with _mutex:
        return _files.setdefault(path, _LockFile(path))


@contextmanager
def _record_lock(lock_file: _LockFile, key: int) -> Iterator[bool]:
    fd = lock_file.descriptor()
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, key)
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EAGAIN):
            raise
        claimed = False
    else:
        claimed = True
    try:
        yield claimed
    finally:
        if claimed:
            fcntl.lockf(fd, fcntl.LOCK_UN, 1, key)


def _lock_name(bind: Any, key: int) -> str:
    """At most 64 characters (MySQL's limit); the database's name hashed, as locks are server-wide."""
    database = hashlib.sha256(str(bind.url.database).encode()).hexdigest()[:16]
    return f"engagement-outbox-{database}-{key}"


@contextmanager
def _named_lock(bind: Any, key: int) -> Iterator[bool]:
    name = _lock_name(bind, key)
    with bind.connect() as connection:
        claimed = connection.execute(text("SELECT GET_LOCK(:name, 0)"), {"name": name}).scalar() == 1
        try:
            yield claimed
        finally:
            if claimed:
                connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": name})
