"""A command's queued work is delivered before it exits (web/command_relay.py; issue #23, finding 9)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engagement import outbox
from engagement.config import load_settings
from engagement.core import Core, bootstrap
from engagement.db import Base, transaction
from engagement.outbox import LISTS, InProcessRelay, OutboxMessage
from web import command_relay


@pytest.fixture
def command_core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Core]:
    """A core built as a command builds it (embedded), on a fresh SQLite file; test topics cleaned up."""
    monkeypatch.setattr(outbox, "HANDLERS", dict(outbox.HANDLERS))
    monkeypatch.setattr(outbox, "QUEUES", dict(outbox.QUEUES))
    monkeypatch.setattr(command_relay, "_RELAYS", [])
    settings = load_settings({"ENGAGEMENT_ENV": "test", "ENGAGEMENT_INSTANCE_DIR": str(tmp_path),
                              "SECRET_KEY": "test-secret-key", "DATABASE_URL": f"sqlite:///{tmp_path / 'e.db'}"})
    core = bootstrap(settings, command_relay.relay_for(settings))
    Base.metadata.create_all(core.engine)
    yield core
    InProcessRelay.drain()
    core.engine.dispose()


def _queue(core: Core, topic: str, payload: dict[str, Any] | None = None) -> None:
    with transaction(core.sessions) as session:
        outbox.enqueue(session, topic, payload or {})


def _statuses(core: Core) -> list[tuple[str, bool]]:
    """Each row's topic and whether it was delivered, in the order queued."""
    with core.sessions() as session:
        rows = session.execute(select(OutboxMessage.topic, OutboxMessage.delivered_at).order_by(OutboxMessage.id))
        return [(topic, delivered is not None) for topic, delivered in rows]


def test_work_queued_by_background_work_is_delivered_before_the_command_ends(command_core: Core) -> None:
    # As a campaign's expansion queues its sends: the second row is handed over from the background thread.
    outbox.handler("test.expand", queue=LISTS)(lambda session, payload: outbox.enqueue(session, "test.send", {}))
    outbox.handler("test.send", queue=LISTS)(lambda session, payload: None)
    _queue(command_core, "test.expand")
    command_relay.deliver_before_exit()
    assert _statuses(command_core) == [("test.expand", True), ("test.send", True)]


def test_a_row_that_failed_in_the_background_is_delivered_once_more_before_the_command_ends(
        command_core: Core, capsys: pytest.CaptureFixture[str]) -> None:
    attempts: list[int] = []

    def busy_once(session: Any, payload: Any) -> None:  # SQLite busy while the command itself was writing
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("database is locked")

    outbox.handler("test.index", queue=LISTS)(busy_once)
    _queue(command_core, "test.index")
    InProcessRelay.drain()
    assert _statuses(command_core) == [("test.index", False)]  # what the command left before
    command_relay.deliver_before_exit()
    assert _statuses(command_core) == [("test.index", True)] and len(attempts) == 2
    assert "pending" not in capsys.readouterr().err


def test_the_command_says_what_it_could_not_deliver(command_core: Core, capsys: pytest.CaptureFixture[str]) -> None:
    def down(session: Any, payload: Any) -> None:
        raise ConnectionError("provider unreachable")

    outbox.handler("test.mail")(down)  # the transactional queue: tried at commit, in the committing thread
    _queue(command_core, "test.mail")
    _queue(command_core, "test.mail")
    command_relay.deliver_before_exit()
    assert _statuses(command_core) == [("test.mail", False), ("test.mail", False)]
    err = capsys.readouterr().err
    assert "2 queued task(s) could not be delivered and stay pending" in err
    assert "`engagement outbox relay` retries them" in err


def test_a_command_that_queued_nothing_says_nothing(command_core: Core, capsys: pytest.CaptureFixture[str]) -> None:
    command_relay.deliver_before_exit()
    assert capsys.readouterr().err == ""
