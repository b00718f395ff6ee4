"""The pool's reset at check-in (engagement/db.py): no ROLLBACK after a COMMIT, but a connection given back
in the middle of a transaction is still rolled back, whatever the driver."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.pool import PoolResetState

from engagement.config import Settings
from engagement.db import _CLEAN, _reset_on_return, _track_transactions, make_engine


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url, pool_size=1, max_overflow=0)  # one connection: the same each time
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE pool_probe (id INTEGER PRIMARY KEY)"))
    yield engine
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE pool_probe"))
    engine.dispose()


def _count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT COUNT(*) FROM pool_probe")).scalar_one())


def test_a_raw_connection_given_back_mid_transaction_is_rolled_back(engine: Engine) -> None:
    raw = engine.raw_connection()
    cursor = raw.cursor()
    if engine.dialect.name == "sqlite":
        cursor.execute("BEGIN")  # the driver is in autocommit mode: SQLAlchemy begins itself
    cursor.execute("INSERT INTO pool_probe (id) VALUES (1)")
    cursor.close()
    raw.close()  # back to the pool, never committed
    assert _count(engine) == 0


def test_a_raw_connection_after_a_committed_transaction_is_still_rolled_back(engine: Engine) -> None:
    with engine.begin() as connection:  # the record's last transaction ended with a COMMIT
        connection.execute(text("INSERT INTO pool_probe (id) VALUES (1)"))
    raw = engine.raw_connection()  # the same connection (a pool of one), checked out raw
    cursor = raw.cursor()
    if engine.dialect.name == "sqlite":
        cursor.execute("BEGIN")
    cursor.execute("INSERT INTO pool_probe (id) VALUES (2)")
    cursor.close()
    raw.close()
    assert _count(engine) == 1


def test_a_connection_closed_inside_its_transaction_is_rolled_back(engine: Engine) -> None:
    connection = engine.connect()
    connection.execute(text("INSERT INTO pool_probe (id) VALUES (1)"))
    connection.close()
    assert _count(engine) == 0


def test_a_committed_connection_is_not_rolled_back_again(engine: Engine) -> None:
    """On MySQL/MariaDB the ROLLBACK the pool used to send after each COMMIT was a round trip; the server
    counts the session's rollbacks."""
    if engine.dialect.name == "sqlite":
        pytest.skip("the server-side count is MySQL's (SQLite's in_transaction is covered below)")

    def rollbacks() -> int:
        with engine.connect() as connection:
            row = connection.execute(text("SHOW SESSION STATUS LIKE 'Com_rollback'")).one()
            connection.commit()
            return int(row[1])

    before = rollbacks()
    for number in range(5):
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO pool_probe (id) VALUES (:id)"), {"id": number})
    assert rollbacks() == before
    assert _count(engine) == 5


class _Driver:
    def __init__(self, in_transaction: bool | None = None) -> None:
        if in_transaction is not None:
            self.in_transaction = in_transaction
        self.rollbacks = 0

    def rollback(self) -> None:
        self.rollbacks += 1


class _Record:
    def __init__(self, clean: bool | None) -> None:
        self.info: dict[str, Any] = {} if clean is None else {_CLEAN: clean}


def _state(was_reset: bool = False) -> PoolResetState:
    return PoolResetState(transaction_was_reset=was_reset, terminate_only=False, asyncio_safe=True)


@pytest.mark.parametrize(("driver", "record", "was_reset", "rolled_back"), [
    (_Driver(), _Record(clean=True), False, 0),  # a COMMIT or ROLLBACK was the last thing done
    (_Driver(), _Record(clean=False), False, 1),  # checked out or begun since
    (_Driver(), _Record(clean=None), False, 1),  # never marked
    (_Driver(), None, False, 1),  # detached from its record
    (_Driver(), _Record(clean=False), True, 0),  # SQLAlchemy rolled back on close
    (_Driver(in_transaction=False), _Record(clean=False), False, 0),  # sqlite3 says none is open
    (_Driver(in_transaction=True), _Record(clean=True), False, 1),  # sqlite3 says one is open (a failed COMMIT)
])
def test_reset_decision(driver: _Driver, record: _Record | None, was_reset: bool, rolled_back: int) -> None:
    _reset_on_return(driver, record, _state(was_reset))
    assert driver.rollbacks == rolled_back


class _Dialect:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def do_begin(self, _connection: Any) -> None:
        return None

    def do_commit(self, _connection: Any) -> None:
        if self.fail:
            raise RuntimeError("commit failed")

    def do_rollback(self, _connection: Any) -> None:
        return None


class _Fairy:
    def __init__(self) -> None:
        self._connection_record = _Record(clean=False)


def test_clean_only_once_the_drivers_commit_returned() -> None:
    dialect, fairy = _Dialect(), _Fairy()
    _track_transactions(dialect)
    dialect.do_begin(fairy)
    assert fairy._connection_record.info[_CLEAN] is False
    dialect.do_commit(fairy)
    assert fairy._connection_record.info[_CLEAN] is True
    dialect.do_begin(fairy)  # the next statement's autobegin
    assert fairy._connection_record.info[_CLEAN] is False
    dialect.do_rollback(fairy)
    assert fairy._connection_record.info[_CLEAN] is True


def test_a_failed_commit_leaves_the_connection_to_be_rolled_back() -> None:
    dialect, fairy = _Dialect(fail=True), _Fairy()
    _track_transactions(dialect)
    dialect.do_begin(fairy)
    with pytest.raises(RuntimeError):
        dialect.do_commit(fairy)
    driver = _Driver()
    _reset_on_return(driver, fairy._connection_record, _state())
    assert driver.rollbacks == 1
