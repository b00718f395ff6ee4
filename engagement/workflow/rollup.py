"""The analytics rollup: per workflow, start day, version, source and state, what the instances did.

Reading the whole transition log for every figure costs seconds per million rows. The log and the
instances only change for the instances someone moved, so the figures are kept per (workflow, UTC
day the instances started, their current version, source, state) in ``workflow_rollups``: instances
standing there (live, abandoned, completed), instances that entered it, and every exit's duration
(sorted, compressed), so that exact percentiles of any selection of days are one merge away.

``refresh`` recomputes the days whose instances changed since the last refresh: it reads the
instances updated since the mark it left (``updated_at``, which every change of an instance sets,
minus OVERLAP for transactions that committed late and for clocks that differ) and rebuilds those days whole, in one
transaction. The beat runs it every minute; the dashboard and ``engagement stats`` run it first
when it is older than MAX_AGE. ``refresh(full=True)`` rebuilds everything (``engagement stats
--rebuild``, after a restore or a manual change of the log).
"""

from __future__ import annotations

import logging
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import Integer, Select, String, cast, delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from engagement.db import transaction
from engagement.workflow.models import WorkflowInstance, WorkflowRollup, WorkflowRollupMark, WorkflowTransition
from engagement.workflow.registry import REGISTRY

log = logging.getLogger(__name__)

MAX_AGE = timedelta(seconds=60)
OVERLAP = timedelta(minutes=5)  # longer than any transaction that writes an instance, and than clock skew
CHUNK_DAYS = 31  # days rebuilt per pass: a month of a busy workflow's log fits in memory
MARK_ID = 1


def referred(instances: Any) -> Any:
    """Whether an instance came through a referral: it carries the answer the referring domain registered
    (``REGISTRY.referrals``: the invitations' join link). With none registered, every instance is direct: a
    condition never true, yet not a constant (a constant in GROUP BY is a column's position to SQLite)."""
    key = REGISTRY.referrals.key
    return instances.data[key].as_integer().is_not(None) if key else instances.id.is_(None)


def encode(durations: Sequence[int] | np.ndarray) -> bytes | None:
    """Sorted int64 values as zlib-compressed deltas (a few bytes a value)."""
    if len(durations) == 0:
        return None
    values = np.sort(np.asarray(durations, dtype=np.int64))
    return zlib.compress(np.diff(values, prepend=np.int64(0)).tobytes(), 1)


def encode_ids(values: Sequence[int] | np.ndarray) -> bytes | None:
    """int64 values kept in their order, zlib-compressed."""
    return zlib.compress(np.asarray(values, dtype=np.int64).tobytes(), 1) if len(values) else None


def decode_ids(blob: bytes | None) -> np.ndarray:
    return np.frombuffer(zlib.decompress(blob), dtype=np.int64) if blob else np.empty(0, dtype=np.int64)


def decode(blob: bytes | None) -> np.ndarray:
    if not blob:
        return np.empty(0, dtype=np.int64)
    return np.cumsum(np.frombuffer(zlib.decompress(blob), dtype=np.int64))


@dataclass
class _Cell:
    live: int = 0
    abandoned: int = 0
    completed: int = 0
    reached: int = 0
    durations: Any = ()  # the exits' durations (a numpy array once read)
    live_since: Any = ()  # when the live instances entered the state (seconds since 1970, UTC), oldest first
    live_ids: Any = ()  # those instances' numbers, in the same order
    completed_on: dict[str, int] = field(default_factory=dict)


def refresh(factory: sessionmaker[Session], now: datetime, *, full: bool = False) -> int | None:
    """Rebuild the days whose instances changed since the last refresh (every day when ``full``).
    Returns the number of (workflow, day) rebuilt, or None when another refresh holds the mark (it
    does the same work)."""
    _create_mark(factory)
    with transaction(factory) as session:
        mark = session.scalar(select(WorkflowRollupMark).where(WorkflowRollupMark.id == MARK_ID)
                              .with_for_update(skip_locked=True))
        if mark is None:
            return None
        through = session.scalar(select(func.max(WorkflowInstance.updated_at)))
        days = _all_days(session) if full or mark.through is None else _changed_days(session, mark.through - OVERLAP)
        for workflow, runs in days.items():
            for first, last in _runs(runs):
                _rebuild(session, workflow, first, last)
        # Never past this clock: a writer whose clock runs ahead would hide the others' changes.
        mark.through = min(through, now) if through is not None else mark.through
        mark.refreshed_at = now
        rebuilt = sum(len(d) for d in days.values())
    log.info("analytics rollup: %d workflow-days rebuilt", rebuilt)
    return rebuilt


def refresh_if_stale(factory: sessionmaker[Session], now: datetime, max_age: timedelta = MAX_AGE) -> None:
    with factory() as session:
        refreshed = session.scalar(select(WorkflowRollupMark.refreshed_at).where(WorkflowRollupMark.id == MARK_ID))
    if refreshed is None or not timedelta(0) <= now - refreshed < max_age:
        refresh(factory, now)


def _create_mark(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        if session.get(WorkflowRollupMark, MARK_ID) is not None:
            return
    try:
        with transaction(factory) as session:
            session.add(WorkflowRollupMark(id=MARK_ID))
    except IntegrityError:
        pass  # another process created it


def _day_of(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _all_days(session: Session) -> dict[str, set[date]]:
    """Every (workflow, day) with instances, and those already in the rollup (to empty them)."""
    I, R = WorkflowInstance, WorkflowRollup  # noqa: E741
    found: dict[str, set[date]] = defaultdict(set)
    day = func.date(I.started_at)
    query = select(I.workflow_id, day).group_by(I.workflow_id, day)
    kept = select(R.workflow_id, R.day).distinct()
    for workflow, value in [*session.execute(query), *session.execute(kept)]:
        found[workflow].add(_day_of(value))
    return found


def _changed_days(session: Session, since: datetime) -> dict[str, set[date]]:
    I = WorkflowInstance  # noqa: E741
    day = func.date(I.started_at)
    query = select(I.workflow_id, day).where(I.updated_at >= since).distinct()
    found: dict[str, set[date]] = defaultdict(set)
    for workflow, value in session.execute(query):
        found[workflow].add(_day_of(value))
    return found


def _runs(days: Iterable[date]) -> Iterator[tuple[date, date]]:
    """Consecutive days as (first, last) ranges of at most CHUNK_DAYS."""
    first = last = None
    for day in sorted(days):
        if first is not None and last is not None and day == last + timedelta(days=1) \
                and (day - first).days < CHUNK_DAYS:
            last = day
            continue
        if first is not None and last is not None:
            yield first, last
        first = last = day
    if first is not None and last is not None:
        yield first, last


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _rebuild(session: Session, workflow_id: str, first: date, last: date) -> None:
    """Recompute the rows of ``workflow_id`` for the instances started from ``first`` to ``last``.

    The database does the grouping (a driver written in Python reads rows slowly): per cell, the
    counts, and the exits' durations as one comma-separated text.
    """
    I, T, R = WorkflowInstance, WorkflowTransition, WorkflowRollup  # noqa: E741
    since, until = _midnight(first), _midnight(last + timedelta(days=1))
    chosen = (I.workflow_id == workflow_id, I.started_at >= since, I.started_at < until)
    day, invited = func.date(I.started_at), referred(I)
    key = (day, I.version, invited)
    cells: dict[tuple[date, int, str, str], _Cell] = defaultdict(_Cell)

    def cell(where: Sequence[Any], state: str) -> _Cell:  # where: (day, version, invited)
        day, version, invited = where
        return cells[(_day_of(day), version, "invitation" if invited else "direct", state)]

    abandoned, finished = I.abandoned_at.is_not(None), func.date(I.completed_at)
    for *where, state, completed, is_abandoned, done, count in session.execute(
            select(*key, I.state, I.is_completed, abandoned, finished, func.count()).where(*chosen)
            .group_by(*key, I.state, I.is_completed, abandoned, finished)):
        target = cell(where, state)
        if completed:
            target.completed += count
            on = _day_of(done).isoformat()
            target.completed_on[on] = target.completed_on.get(on, 0) + count
        elif is_abandoned:
            target.abandoned += count
        else:
            target.live += count

    def log_of(*columns: Any) -> Select[Any]:  # the log of the chosen instances, reached from them
        return (select(*columns).select_from(I).join(T, T.instance_id == I.id).where(*chosen)
                .prefix_with("STRAIGHT_JOIN", dialect="mysql"))

    for *where, dest, count in session.execute(
            log_of(*key, T.dest, func.count(T.instance_id.distinct())).group_by(*key, T.dest)):
        cell(where, dest).reached = count
    if session.get_bind().dialect.name == "mysql":
        session.execute(text("SET SESSION group_concat_max_len = 4294967295"))
    for *where, source, durations in session.execute(
            log_of(*key, T.source, func.group_concat(T.duration_ms)).group_by(*key, T.source)):
        cell(where, source).durations = np.fromstring(durations, dtype=np.int64, sep=",")
    live = (I.is_completed.is_(False), I.abandoned_at.is_(None))
    pair = cast(_epoch(session, I.entered_at), String) + "," + cast(I.id, String)
    for *where, state, pairs in session.execute(
            select(*key, I.state, func.group_concat(pair)).where(*chosen, *live).group_by(*key, I.state)):
        seconds, idents = np.fromstring(pairs, dtype=np.int64, sep=",").reshape(-1, 2).T
        order = np.lexsort((idents, seconds))  # oldest entry first, then the lower instance number
        target = cell(where, state)
        target.live_since, target.live_ids = seconds[order], idents[order]
    session.execute(delete(R).where(R.workflow_id == workflow_id, R.day >= first, R.day <= last))
    rows = [{"workflow_id": workflow_id, "day": day, "version": version, "source": source, "state": state,
             "live": c.live, "abandoned": c.abandoned, "completed": c.completed, "reached": c.reached,
             "exits": len(c.durations), "durations": encode(c.durations), "live_since": encode(c.live_since),
             "live_ids": encode_ids(c.live_ids),
             "completed_on": c.completed_on or None}
            for (day, version, source, state), c in cells.items()]
    for start in range(0, len(rows), 1000):
        session.execute(insert(R), rows[start:start + 1000])


def _epoch(session: Session, moment: Any) -> Any:
    """Whole seconds since 1970 of a stored UTC time, whatever the connection's time zone."""
    if session.get_bind().dialect.name == "mysql":
        return func.timestampdiff(text("SECOND"), "1970-01-01 00:00:00", moment)
    return cast(func.strftime("%s", moment), Integer)


class Cell(NamedTuple):
    """One rollup row as the analysis reads it (plain tuples: thousands are summed per view)."""

    day: date
    version: int
    source: str
    state: str
    live: int
    abandoned: int
    completed: int
    reached: int
    exits: int
    durations: bytes | None
    live_since: bytes | None
    live_ids: bytes | None
    completed_on: dict[str, int] | None


def select_rows(session: Session, workflow_id: str, *, version: int | None = None, since: date | None = None,
                until: date | None = None, source: str | None = None) -> list[Cell]:
    """The rollup rows of the instances started in [since, until) (UTC days), of a version and a source."""
    R = WorkflowRollup
    query = select(R.day, R.version, R.source, R.state, R.live, R.abandoned, R.completed, R.reached, R.exits,
                   R.durations, R.live_since, R.live_ids, R.completed_on).where(R.workflow_id == workflow_id)
    if version is not None:
        query = query.where(R.version == version)
    if since is not None:
        query = query.where(R.day >= since)
    if until is not None:
        query = query.where(R.day < until)
    if source is not None:
        query = query.where(R.source == source)
    return [Cell._make(row) for row in session.execute(query)]
