"""Where everyone stands in a workflow: the figures of the analyst dashboard and ``engagement stats``.

Counts only, never answers. Definitions (docs/analytics.md says the same for analysts):

- the instances counted are those of the workflow *started* in ``[since, until)`` (UTC), of one
  version if asked, and of one source if asked;
- **source**: ``invitation`` for instances opened through an invitation's join link (their
  answers carry ``invited_by``, the invitation followed: that is how a sign-up is attributed to
  the inviter), ``direct`` for the others;
- **funnel**: the published definition's states in breadth-first order from ``initial``. An
  instance *reached* a state when a logged transition entered it (every instance reached
  ``initial``); its *drop-off* are the instances that stopped there (in progress or abandoned
  in it now), and *left* is reached - drop-off;
- **time in state**: p50, p90 and p99 of the time spent in a state before leaving it, over the
  logged transitions out of it (Back included), by the nearest-rank definition;
- **stuck**: live instances that entered a state declaring ``sla:`` longer ago than the sla.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.workflow import definitions, rollup
from engagement.workflow.models import WorkflowDefinition, WorkflowInstance
from engagement.workflow.registry import REGISTRY
from engagement.workflow.spec import WorkflowSpec
from engagement.workflow.stats import PERCENTILES, Filters, WorkflowStats, nearest_rank

SOURCES = ("invitation", "direct")
OLDEST_STUCK = 20
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Step:
    state: str
    reached: int
    left: int
    dropped: int
    drop_rate: float
    is_final: bool


@dataclass
class TimeInState:
    state: str
    count: int  # transitions out of the state
    p50_ms: int | None
    p90_ms: int | None
    p99_ms: int | None


@dataclass
class Stuck:
    state: str
    sla_seconds: int
    count: int


@dataclass
class Analysis:
    """Every figure of one workflow under one set of filters."""

    workflow_id: str
    filters: Filters
    now: datetime
    versions: list[int]
    states: list[str]
    stats: WorkflowStats
    edges: list[tuple[str, str]] = field(default_factory=list)  # the definition's (source, dest), for diagrams
    funnel: list[Step] = field(default_factory=list)
    time_in_state: list[TimeInState] = field(default_factory=list)
    stuck: list[Stuck] = field(default_factory=list)
    oldest_stuck: list[dict[str, Any]] = field(default_factory=list)  # {id, state, entered_at}
    per_day: list[dict[str, Any]] = field(default_factory=list)  # {day, started, completed}
    by_source: dict[str, int] = field(default_factory=dict)
    invitations: dict[str, int] = field(default_factory=dict)  # sent through this workflow, joined

    def as_dict(self) -> dict[str, Any]:
        """JSON-able; the keys of ``engagement stats --json`` (the first eight are the historical ones)."""
        return {
            **self.stats.as_dict(),
            "filters": {"version": self.filters.version, "since": _iso(self.filters.since),
                        "until": _iso(self.filters.until), "source": self.filters.source},
            "now": self.now.isoformat(),
            "versions": self.versions,
            "states": self.states,
            "edges": [list(edge) for edge in self.edges],
            "funnel": [asdict(step) for step in self.funnel],
            "time_in_state": [asdict(t) for t in self.time_in_state],
            "stuck": [asdict(s) for s in self.stuck],
            "oldest_stuck": [{**row, "entered_at": row["entered_at"].isoformat()} for row in self.oldest_stuck],
            "per_day": self.per_day,
            "by_source": self.by_source,
            "invitations": self.invitations,
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def published_spec(session: Session, workflow_id: str, version: int | None = None) -> WorkflowSpec | None:
    """The asked version's definition, else the active one, else the newest (None: no such workflow)."""
    query = select(WorkflowDefinition).where(WorkflowDefinition.workflow_id == workflow_id)
    if version is not None:
        query = query.where(WorkflowDefinition.version == version)
    row = session.scalars(query.order_by(WorkflowDefinition.is_active.desc(),
                                         WorkflowDefinition.version.desc()).limit(1)).first()
    return definitions.spec_of(row) if row is not None else None


def funnel_order(spec: WorkflowSpec) -> list[str]:
    """States breadth-first from ``initial`` over the transitions in file order (then any left over)."""
    order, todo = [spec.initial], deque([spec.initial])
    while todo:
        state = todo.popleft()
        for transition in spec.transitions:
            if state in transition.sources and transition.dest not in order:
                order.append(transition.dest)
                todo.append(transition.dest)
    return order + [name for name in spec.states if name not in order]


def instance_conditions(workflow_id: str, filters: Filters) -> list[Any]:
    where: list[Any] = [WorkflowInstance.workflow_id == workflow_id]
    if filters.version is not None:
        where.append(WorkflowInstance.version == filters.version)
    if filters.since is not None:
        where.append(WorkflowInstance.started_at >= filters.since)
    if filters.until is not None:
        where.append(WorkflowInstance.started_at < filters.until)
    if filters.source is not None:
        came = rollup.referred(WorkflowInstance)
        where.append(came if filters.source == "invitation" else ~came)
    return where


def analyse(session: Session, workflow_id: str, filters: Filters, *, now: datetime) -> Analysis | None:
    """Every figure of ``workflow_id`` for the instances ``filters`` select (None: no such workflow).

    Everything but the invitations comes from the rollup, as of its last refresh (rollup.refresh
    first for figures of this instant).
    """
    spec = published_spec(session, workflow_id, filters.version) or published_spec(session, workflow_id)
    if spec is None:
        return None
    every_source = rollup.select_rows(session, workflow_id, version=filters.version, since=_day(filters.since),
                                      until=_day(filters.until))
    cells = [c for c in every_source if filters.source in (None, c.source)]
    states = funnel_order(spec)
    analysis = Analysis(workflow_id, filters, now, _versions(session, workflow_id), states, _count(workflow_id, cells))
    analysis.edges = list(dict.fromkeys((source, t.dest) for t in spec.transitions for source in t.sources))
    _funnel(analysis, spec, cells)
    analysis.time_in_state = _time_in_state(cells, states)
    where = instance_conditions(workflow_id, filters)
    _stuck(analysis, spec, cells)
    analysis.per_day = _per_day(cells)
    analysis.by_source = _by_source(every_source, filters.source)
    analysis.invitations = REGISTRY.referrals.counts(session, where)  # as the referring domain counts them
    return analysis


def _day(moment: datetime | None) -> date | None:
    """A filter's bound as a UTC day (the form and the command give midnights)."""
    return moment.astimezone(UTC).date() if moment is not None else None


def _versions(session: Session, workflow_id: str) -> list[int]:
    return list(session.scalars(select(WorkflowDefinition.version).where(
        WorkflowDefinition.workflow_id == workflow_id).order_by(WorkflowDefinition.version)))


def _count(workflow_id: str, cells: Sequence[Any]) -> WorkflowStats:
    stats = WorkflowStats(workflow_id)
    for c in cells:
        standing = c.live + c.abandoned + c.completed
        if not standing:
            continue
        stats.started += standing
        stats.completed += c.completed
        stats.abandoned += c.abandoned
        stats.in_progress += c.live
        stats.by_version[c.version] = stats.by_version.get(c.version, 0) + standing
        stats.ended_in[c.state] = stats.ended_in.get(c.state, 0) + standing
        if c.live:
            stats.by_state[c.state] = stats.by_state.get(c.state, 0) + c.live
    return stats


def _funnel(analysis: Analysis, spec: WorkflowSpec, cells: Sequence[Any]) -> None:
    """Entering is the log's (distinct instances per state, kept by the rollup); stopping is where
    instances stand now, so "left" is reached - stopped."""
    reached: dict[str, int] = defaultdict(int)
    for c in cells:
        reached[c.state] += c.reached
    reached[spec.initial] = analysis.stats.started
    for name in analysis.states:
        final = spec.states[name].final
        into = reached.get(name, 0)
        dropped = 0 if final else min(into, analysis.stats.ended_in.get(name, 0))
        analysis.funnel.append(Step(name, into, 0 if final else into - dropped, dropped,
                                    round(dropped / into, 4) if into else 0.0, final))


def _time_in_state(cells: Sequence[Any], states: list[str]) -> list[TimeInState]:
    """Exact nearest-rank percentiles: the selected days' sorted durations merged, then the ranks
    picked out (a partial sort)."""
    blobs: dict[str, list[Any]] = defaultdict(list)
    for c in cells:
        if c.exits:
            blobs[c.state].append(rollup.decode(c.durations))
    result = []
    for state in states:
        if state not in blobs:
            continue
        values = np.concatenate(blobs[state])
        ranks = {p: nearest_rank(p, len(values)) for p in PERCENTILES}
        picked = np.partition(values, sorted({rank - 1 for rank in ranks.values()}))
        found = {p: int(picked[rank - 1]) for p, rank in ranks.items()}
        result.append(TimeInState(state, len(values), found[50], found[90], found[99]))
    return result


def _stuck(analysis: Analysis, spec: WorkflowSpec, cells: Sequence[Any]) -> None:
    """From the rollup, which keeps when each live instance entered its state: the count per state
    and the OLDEST_STUCK oldest (each cell's first ones, merged)."""
    slas = {name: sla for name in analysis.states if (sla := spec.states[name].sla_seconds) is not None}
    if not slas:
        return
    before = {name: int((analysis.now - timedelta(seconds=sla) - EPOCH).total_seconds()) for name, sla in slas.items()}
    counts: dict[str, int] = defaultdict(int)
    oldest: list[tuple[int, int, str]] = []  # (entered, instance, state), at most OLDEST_STUCK once sorted
    for c in sorted(cells, key=lambda cell: cell.day):
        if c.state not in before or not c.live:
            continue
        seconds = rollup.decode(c.live_since)
        late = int(np.searchsorted(seconds, before[c.state], side="left"))
        if not late:
            continue
        counts[c.state] += late
        # A day's instances entered their state that day or later: once OLDEST_STUCK are older than
        # this day began, its own cannot be among them.
        if len(oldest) >= OLDEST_STUCK and oldest[OLDEST_STUCK - 1][0] < _seconds(c.day):
            continue
        first = min(late, OLDEST_STUCK)
        ids = rollup.decode_ids(c.live_ids)[:first].tolist()
        oldest = sorted([*oldest, *zip(seconds[:first].tolist(), ids, [c.state] * first, strict=True)])
        oldest = oldest[:OLDEST_STUCK]
    analysis.stuck = [Stuck(name, sla, counts.get(name, 0)) for name, sla in slas.items()]
    analysis.oldest_stuck = [{"id": ident, "state": state, "entered_at": EPOCH + timedelta(seconds=at)}
                             for at, ident, state in oldest]


def _seconds(day: date) -> int:
    return int((datetime.combine(day, datetime.min.time(), UTC) - EPOCH).total_seconds())


def _per_day(cells: Sequence[Any]) -> list[dict[str, Any]]:
    """Started and completed per UTC day, every day from the first to the last (zeros included)."""
    started: dict[date, int] = defaultdict(int)
    completed: dict[date, int] = defaultdict(int)
    for c in cells:
        if c.live + c.abandoned + c.completed:
            started[c.day] += c.live + c.abandoned + c.completed
        for day, count in (c.completed_on or {}).items():
            completed[date.fromisoformat(day)] += count
    days = sorted({*started, *completed})
    if not days:
        return []
    first, last = days[0], days[-1]
    span = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [{"day": d.isoformat(), "started": started.get(d, 0), "completed": completed.get(d, 0)} for d in span]


def _by_source(cells: Sequence[Any], source: str | None) -> dict[str, int]:
    result = dict.fromkeys(SOURCES, 0)
    for c in cells:
        result[c.source] += c.live + c.abandoned + c.completed
    if source is not None:
        result = {key: value if key == source else 0 for key, value in result.items()}
    return result

