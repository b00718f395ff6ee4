"""Search as the platform uses it: which engines, indexing after commit, searching, reindexing.

Indexing follows the database. ``track`` makes every flush that creates, changes or deletes an
indexed row (a committee, an event, a content page) write one outbox row naming them, in the same
transaction: a rollback indexes nothing, and the handler runs only after commit. The handler
re-reads each row and saves its record, or deletes it when the row is gone or no longer searchable,
in the local index and then in Algolia when configured; a failure leaves the outbox row pending, to
be retried until Algolia answers (the local index is always kept too: it answers searches while
Algolia does not).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from engagement import outbox
from engagement.db import utcnow
from engagement.search import records
from engagement.search.local import LocalIndex
from engagement.search.port import Query, Results, SearchIndex

if TYPE_CHECKING:  # the client's import costs a second: only deployments with Algolia pay it
    from engagement.search.algolia import AlgoliaIndex

log = logging.getLogger(__name__)
TOPIC = "search.sync"
BREAKER_SECONDS = 30.0  # after Algolia failed a search, the local engine answers alone this long
#: The columns whose change changes a record (an event's seats_taken, say, does not).
FIELDS = {
    "committee": ("slug", "name", "description", "address", "postal_code", "department", "status"),
    "event": ("slug", "name", "description", "begins_at", "ends_at", "timezone", "address", "postal_code",
              "department", "status"),
    "page": ("slug", "title", "body", "is_published"),
}
_state: dict[str, Any] = {"algolia": None, "down_until": 0.0}


def configure(algolia: AlgoliaIndex | None) -> None:
    """Index in Algolia too (and search there first), or in the local engine only (None)."""
    _state.update(algolia=algolia, down_until=0.0)


def algolia() -> AlgoliaIndex | None:
    return _state["algolia"]


def engines(factory: sessionmaker[Session]) -> list[SearchIndex]:
    """Where records are written: the local index always, then Algolia when configured."""
    return [LocalIndex(factory), *([_state["algolia"]] if _state["algolia"] is not None else [])]


# -- indexing --------------------------------------------------------------------------------------

def sync(factory: sessionmaker[Session], items: list[tuple[str, int]], now: datetime | None = None) -> None:
    """Bring the records of ``items`` ((kind, id) pairs) in step with their rows, in every engine."""
    now = now or utcnow()
    with factory() as session:
        found = {records.object_id(kind, row_id): records.current(session, kind, row_id, now)
                 for kind, row_id in items}
    saved = [record for record in found.values() if record is not None]
    gone = [object_id for object_id, record in found.items() if record is None]
    for engine in engines(factory):
        engine.save(saved)
        engine.delete(gone)


@outbox.self_managed(TOPIC, queue=outbox.SEARCH)
def _sync_queued(factory: sessionmaker[Session], payload: dict[str, Any]) -> None:
    sync(factory, [(kind, int(row_id)) for kind, row_id in payload["items"]])


def track(factory: sessionmaker[Session]) -> None:
    """Have every flush of ``factory``'s sessions queue the indexing of the rows it changed (once per
    factory: ``bootstrap`` does it)."""
    event.listen(factory, "after_flush", _after_flush)


def _after_flush(session: Session, _context: Any) -> None:
    # after_flush: new rows have their ids, and new/dirty/deleted still list what this flush wrote.
    # The outbox row is flushed by the flush that commit runs next, in the same transaction.
    items = changed(session)
    if items:
        outbox.enqueue(session, TOPIC, {"items": [list(item) for item in sorted(items)]})


def changed(session: Session) -> set[tuple[str, int]]:
    """(kind, id) of the indexed rows that the session's flush inserts, changes or deletes."""
    items: set[tuple[str, int]] = set()
    for obj in (*session.new, *session.deleted):
        if (kind := records.kind_of(obj)) is not None and obj.id is not None:
            items.add((kind, obj.id))
    for obj in session.dirty:
        kind = records.kind_of(obj)
        if kind is not None and obj.id is not None and _changed(obj, FIELDS[kind]):
            items.add((kind, obj.id))
    return items


def _changed(obj: Any, names: tuple[str, ...]) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in names)


def reindex(factory: sessionmaker[Session], batch: int = 1000, progress: Callable[[int], None] | None = None,
            now: datetime | None = None) -> dict[str, int]:
    """Rebuild every engine from the database, reading keyset pages of ``batch`` rows (the command's
    ``--batch``); then replay the changes committed meanwhile (their outbox rows), which the rebuild may
    have missed. Records per engine."""
    now, started = now or utcnow(), utcnow()

    def pages() -> Iterator[list[records.Record]]:
        with factory() as session:
            for page in records.every(session, now, batch):
                yield page
                if progress is not None:
                    progress(len(page))

    written = {engine.name: engine.rebuild(pages()) for engine in engines(factory)}
    replay(factory, since=started)
    return written


def total(factory: sessionmaker[Session], now: datetime | None = None) -> int:
    """Records a reindex writes to each engine."""
    with factory() as session:
        return records.count(session, now or utcnow())


def replay(factory: sessionmaker[Session], since: datetime) -> int:
    """Sync again the rows named by the indexing outbox rows written since ``since``."""
    with factory() as session:
        payloads = session.scalars(select(outbox.OutboxMessage.payload).where(
            outbox.OutboxMessage.topic == TOPIC, outbox.OutboxMessage.created_at >= since))
        items = sorted({(kind, int(row_id)) for payload in payloads for kind, row_id in payload["items"]})
    if items:
        sync(factory, items)
    return len(items)


# -- searching -------------------------------------------------------------------------------------

def search(factory: sessionmaker[Session], query: Query) -> Results:
    """One page of results: from Algolia when configured and answering, else from the local index."""
    if query.is_empty:
        return Results(engine="algolia" if _state["algolia"] is not None else "local")
    engine: AlgoliaIndex | None = _state["algolia"]
    if engine is not None and time.monotonic() >= _state["down_until"]:
        try:
            return engine.search(query)
        except Exception as exc:  # whatever the failure, the site answers from the local index
            log.warning("Algolia search failed (%s): the local index answers for %.0f s",
                        type(exc).__name__, BREAKER_SECONDS)
            _state["down_until"] = time.monotonic() + BREAKER_SECONDS
    results = LocalIndex(factory).search(query)
    return replace(results, degraded=engine is not None)
