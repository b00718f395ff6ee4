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

from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from engagement.invitations.models import Invitation
from engagement.invitations.service import INVITED_BY  # the answer an invitation's join link leaves
from engagement.workflow import definitions
from engagement.workflow.models import WorkflowDefinition, WorkflowInstance, WorkflowTransition
from engagement.workflow.spec import WorkflowSpec
from engagement.workflow.stats import WorkflowStats, count_instances, grouped_percentiles, percentiles, ranked

SOURCES = ("invitation", "direct")
OLDEST_STUCK = 20


@dataclass(frozen=True)
class Filters:
    """Which instances to count; None means any."""

    version: int | None = None
    since: datetime | None = None  # started at or after (aware UTC)
    until: datetime | None = None  # started before
    source: str | None = None  # one of SOURCES

    @property
    def narrows_instances(self) -> bool:
        """Whether the transition log must be joined to its instances (the version is on both)."""
        return self.since is not None or self.until is not None or self.source is not None


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
    invited = WorkflowInstance.data[INVITED_BY].as_integer()
    if filters.source == "invitation":
        where.append(invited.is_not(None))
    elif filters.source == "direct":
        where.append(invited.is_(None))
    return where


def _log(workflow_id: str, filters: Filters, *columns: Any) -> Select[Any]:
    """A query over the transition log of the instances ``filters`` select.

    Narrowed to some instances (dates, source), the query starts from them (the started_at index)
    and reaches their transitions by instance: MariaDB would otherwise walk the workflow's whole
    log and look each instance up (STRAIGHT_JOIN keeps the order written).
    """
    T = WorkflowTransition
    query = select(*columns)
    if filters.narrows_instances:
        query = (query.select_from(WorkflowInstance).join(T, T.instance_id == WorkflowInstance.id)
                 .where(*instance_conditions(workflow_id, filters)).prefix_with("STRAIGHT_JOIN", dialect="mysql"))
    query = query.where(T.workflow_id == workflow_id)
    if filters.version is not None:
        query = query.where(T.version == filters.version)
    return query


def analyse(session: Session, workflow_id: str, filters: Filters, *, now: datetime) -> Analysis | None:
    """Every figure of ``workflow_id`` for the instances ``filters`` select (None: no such workflow)."""
    spec = published_spec(session, workflow_id, filters.version) or published_spec(session, workflow_id)
    if spec is None:
        return None
    where = instance_conditions(workflow_id, filters)
    states = funnel_order(spec)
    analysis = Analysis(workflow_id, filters, now, _versions(session, workflow_id), states,
                        count_instances(session, workflow_id, where))
    analysis.edges = list(dict.fromkeys((source, t.dest) for t in spec.transitions for source in t.sources))
    _funnel(session, analysis, spec)
    analysis.time_in_state = _time_in_state(session, workflow_id, filters, states)
    _stuck(session, analysis, spec, where)
    analysis.per_day = _per_day(session, where)
    analysis.by_source = _by_source(session, workflow_id, filters)
    analysis.invitations = _invitations(session, where)
    return analysis


def _versions(session: Session, workflow_id: str) -> list[int]:
    return list(session.scalars(select(WorkflowDefinition.version).where(
        WorkflowDefinition.workflow_id == workflow_id).order_by(WorkflowDefinition.version)))


def _funnel(session: Session, analysis: Analysis, spec: WorkflowSpec) -> None:
    """Entering needs the log (distinct instances per dest); stopping is where instances stand now,
    so "left" costs nothing more: reached - stopped."""
    T = WorkflowTransition
    reached: dict[str, int] = dict(session.execute(
        _log(analysis.workflow_id, analysis.filters, T.dest, func.count(T.instance_id.distinct()))
        .group_by(T.dest)).all())
    reached[spec.initial] = analysis.stats.started
    for name in analysis.states:
        final = spec.states[name].final
        into = reached.get(name, 0)
        dropped = 0 if final else min(into, analysis.stats.ended_in.get(name, 0))
        analysis.funnel.append(Step(name, into, 0 if final else into - dropped, dropped,
                                    round(dropped / into, 4) if into else 0.0, final))


def _time_in_state(session: Session, workflow_id: str, filters: Filters, states: list[str]) -> list[TimeInState]:
    """Whole log: count per state, then each percentile read off the (workflow_id, source, duration_ms)
    index; narrowed to some instances: one window-function pass over their transitions."""
    T = WorkflowTransition
    found: dict[str, tuple[int, dict[int, Any]]]
    if filters.narrows_instances:
        found = grouped_percentiles(session, ranked(_log(workflow_id, filters), T.source, T.duration_ms))
    else:
        counts = session.execute(_log(workflow_id, filters, T.source, func.count()).group_by(T.source)).all()
        found = {state: (count, percentiles(session, _log(workflow_id, filters, T.duration_ms)
                                            .where(T.source == state), T.duration_ms, count))
                 for state, count in counts if state in states}
    return [TimeInState(s, found[s][0], found[s][1].get(50), found[s][1].get(90), found[s][1].get(99))
            for s in states if s in found]


def _stuck(session: Session, analysis: Analysis, spec: WorkflowSpec, where: list[Any]) -> None:
    """Counts per state in one query; the oldest by state on the (state, abandoned_at, entered_at) index,
    or, narrowed to some instances, in one query over them."""
    I = WorkflowInstance  # noqa: E741
    slas = {name: sla for name in analysis.states if (sla := spec.states[name].sla_seconds) is not None}
    if not slas:
        return
    # Only non-final states have an sla: no instance there is completed (the index covers this).
    late = {name: and_(I.state == name, I.entered_at < analysis.now - timedelta(seconds=sla))
            for name, sla in slas.items()}
    stuck = [*where, I.abandoned_at.is_(None), or_(*late.values())]
    counts = dict(session.execute(select(I.state, func.count()).where(*stuck).group_by(I.state)).all())
    analysis.stuck = [Stuck(name, sla, counts.get(name, 0)) for name, sla in slas.items()]
    oldest = select(I.id, I.state, I.entered_at).order_by(I.entered_at, I.id).limit(OLDEST_STUCK)
    if analysis.filters.narrows_instances:
        rows = list(session.execute(oldest.where(*stuck)))
    else:
        rows = [row for name in slas if counts.get(name)
                for row in session.execute(oldest.where(*where, I.abandoned_at.is_(None), late[name]))]
    analysis.oldest_stuck = [{"id": i, "state": state, "entered_at": at}
                             for i, state, at in sorted(rows, key=lambda r: (r[2], r[0]))[:OLDEST_STUCK]]


def _per_day(session: Session, where: list[Any]) -> list[dict[str, Any]]:
    """Started and completed per UTC day, every day from the first to the last (zeros included)."""
    I = WorkflowInstance  # noqa: E741
    started = _daily(session, func.date(I.started_at), where)
    completed = _daily(session, func.date(I.completed_at), [*where, I.completed_at.is_not(None)])
    days = sorted({*started, *completed})
    if not days:
        return []
    first, last = days[0], days[-1]
    span = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [{"day": d.isoformat(), "started": started.get(d, 0), "completed": completed.get(d, 0)} for d in span]


def _daily(session: Session, day: Any, where: list[Any]) -> dict[date, int]:
    rows = session.execute(select(day, func.count()).select_from(WorkflowInstance).where(*where).group_by(day))
    return {value if isinstance(value, date) else date.fromisoformat(str(value)): count for value, count in rows}


def _by_source(session: Session, workflow_id: str, filters: Filters) -> dict[str, int]:
    invited = WorkflowInstance.data[INVITED_BY].as_integer().is_not(None)
    where = instance_conditions(workflow_id, Filters(filters.version, filters.since, filters.until))
    found: dict[bool, int] = dict(session.execute(select(invited, func.count()).where(*where).group_by(invited)).all())
    result = {"invitation": 0, "direct": 0}
    for is_invited, count in found.items():
        result["invitation" if is_invited else "direct"] += count
    if filters.source is not None:
        result = {key: value if key == filters.source else 0 for key, value in result.items()}
    return result


def _invitations(session: Session, where: list[Any]) -> dict[str, int]:
    """Invitations these instances sent and the sign-ups credited to them (the invitation workflow)."""
    sent, joined = session.execute(
        select(func.count(Invitation.id), func.count(Invitation.joined_user_id))
        .join(WorkflowInstance, WorkflowInstance.id == Invitation.instance_id).where(*where)).one()
    return {"sent": int(sent), "joined": int(joined)}
