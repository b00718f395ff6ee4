"""The analytics rollup against a brute-force oracle: a random history of the ``survey`` workflow
(versions, sources, days, Back, abandoned and completed instances), every figure of the dashboard
computed by the rollup and, independently, in plain Python from the rows themselves."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select

from engagement.db import transaction
from engagement.workflow import rollup
from engagement.workflow.analytics import Filters, analyse
from engagement.workflow.models import WorkflowInstance, WorkflowRollup, WorkflowTransition
from tests.analytics_data import publish

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)  # after every change of the history
FIRST_DAY = date(2026, 10, 1)  # 51 days: more than one rebuild chunk (CHUNK_DAYS)


def random_history(seed: int, count: int) -> list[dict[str, Any]]:
    """Instances as dicts: their row and their log, drawn at random but always a possible walk."""
    rng = random.Random(seed)
    instances = []
    for ident in range(1, count + 1):
        version = rng.choice((1, 1, 2))
        started = datetime.combine(FIRST_DAY + timedelta(days=rng.randrange(51)), datetime.min.time(), UTC) \
            + timedelta(seconds=rng.randrange(86_400))
        state, at, log = "intro", started, []
        while state != "done" and rng.random() < 0.75:
            dest = {"intro": "details", "details": rng.choice(("done", "done", "intro"))}[state]
            duration = rng.choice((rng.randrange(1, 5_000), rng.randrange(1, 10_000_000), 60_000))
            at += timedelta(milliseconds=duration)
            log.append((state, dest, "back" if dest == "intro" else "next", duration, at))
            state = dest
        completed = state == "done"
        abandoned = not completed and rng.random() < 0.3
        instances.append({
            "id": ident, "version": version, "started": started, "state": state, "log": log,
            "completed_at": at if completed else None, "abandoned_at": at + timedelta(hours=1) if abandoned else None,
            "data": {"invited_by": rng.randrange(1, 9)} if rng.random() < 0.2 else {},
        })
    return instances


def write(factory, instances: list[dict[str, Any]]) -> None:
    with transaction(factory) as session:
        for i in instances:
            last = i["log"][-1][4] if i["log"] else i["started"]
            session.add(WorkflowInstance(
                id=i["id"], workflow_id="survey", version=i["version"], state=i["state"], data=i["data"],
                history=[], is_completed=i["completed_at"] is not None, started_at=i["started"],
                updated_at=i["abandoned_at"] or last, entered_at=last, completed_at=i["completed_at"],
                abandoned_at=i["abandoned_at"]))
            session.flush()
            for source, dest, trigger, duration, at in i["log"]:
                session.add(WorkflowTransition(instance_id=i["id"], workflow_id="survey", version=i["version"],
                                               source=source, dest=dest, trigger=trigger, at=at, duration_ms=duration))


def nearest(values: list[int], percent: int) -> int:
    ordered = sorted(values)
    return ordered[math.ceil(percent * len(ordered) / 100) - 1]


def oracle_instances(instances: list[dict[str, Any]], filters: Filters) -> list[dict[str, Any]]:
    return [i for i in instances
            if (filters.version is None or i["version"] == filters.version)
            and (filters.since is None or i["started"] >= filters.since)
            and (filters.until is None or i["started"] < filters.until)
            and (filters.source is None or filters.source == ("invitation" if i["data"] else "direct"))]


def oracle(instances: list[dict[str, Any]], filters: Filters) -> dict[str, Any]:
    """The figures by their definitions (docs/analytics.md), one instance at a time."""
    chosen = oracle_instances(instances, filters)
    live = [i for i in chosen if i["completed_at"] is None and i["abandoned_at"] is None]
    by_state: dict[str, int] = {}
    for i in live:
        by_state[i["state"]] = by_state.get(i["state"], 0) + 1
    funnel = []
    for state in ("intro", "details", "done"):
        reached = len(chosen) if state == "intro" else sum(any(t[1] == state for t in i["log"]) for i in chosen)
        dropped = 0 if state == "done" else sum(i["state"] == state for i in chosen)
        funnel.append((state, reached, 0 if state == "done" else reached - dropped, dropped))
    timings = []
    for state in ("intro", "details"):
        values = [t[3] for i in chosen for t in i["log"] if t[0] == state]
        if values:
            timings.append((state, len(values), nearest(values, 50), nearest(values, 90), nearest(values, 99)))
    started: dict[str, int] = {}
    completed: dict[str, int] = {}
    for i in chosen:
        day = i["started"].date().isoformat()
        started[day] = started.get(day, 0) + 1
        if i["completed_at"] is not None:
            done = i["completed_at"].date().isoformat()
            completed[done] = completed.get(done, 0) + 1
    return {
        "counts": (len(chosen), sum(i["completed_at"] is not None for i in chosen),
                   sum(i["abandoned_at"] is not None for i in chosen), len(live)),
        "by_state": by_state, "funnel": funnel, "timings": timings,
        "started": started, "completed": completed,
    }


def figures_of(factory, filters: Filters) -> dict[str, Any]:
    with factory() as session:
        analysis = analyse(session, "survey", filters, now=NOW)
    assert analysis is not None
    stats = analysis.stats
    return {
        "counts": (stats.started, stats.completed, stats.abandoned, stats.in_progress),
        "by_state": stats.by_state,
        "funnel": [(s.state, s.reached, s.left, s.dropped) for s in analysis.funnel],
        "timings": [(t.state, t.count, t.p50_ms, t.p90_ms, t.p99_ms) for t in analysis.time_in_state],
        "started": {r["day"]: r["started"] for r in analysis.per_day if r["started"]},
        "completed": {r["day"]: r["completed"] for r in analysis.per_day if r["completed"]},
    }


def midnight(day: int) -> datetime:
    return datetime.combine(FIRST_DAY + timedelta(days=day), datetime.min.time(), UTC)


FILTERS = [Filters(), Filters(version=1), Filters(version=2), Filters(source="invitation"), Filters(source="direct"),
           Filters(since=midnight(10), until=midnight(40)), Filters(since=midnight(31)),
           Filters(until=midnight(5), version=1, source="direct"), Filters(since=midnight(50), until=midnight(51))]


@pytest.fixture
def history(factory):
    with transaction(factory) as session:
        publish(session, 1)
        publish(session, 2)
    instances = random_history(seed=20261129, count=400)
    write(factory, instances)
    rollup.refresh(factory, NOW, full=True)
    return instances


@pytest.mark.parametrize("filters", FILTERS, ids=str)
def test_every_figure_equals_the_brute_force_one(factory, history, filters):
    assert figures_of(factory, filters) == oracle(history, filters)


def test_the_random_history_exercises_every_case(history):
    # The oracle comparison is only worth what the history covers.
    assert {i["version"] for i in history} == {1, 2}
    assert sum(bool(i["data"]) for i in history) > 40
    assert sum(i["abandoned_at"] is not None for i in history) > 20
    assert sum(any(t[2] == "back" for t in i["log"]) for i in history) > 20
    assert len({i["started"].date() for i in history}) > rollup.CHUNK_DAYS
    assert max(t[4] for i in history for t in i["log"]) < NOW - rollup.OVERLAP


def test_a_refresh_rebuilds_only_the_days_whose_instances_changed(factory, history):
    moved = next(i for i in history if i["state"] == "intro" and i["completed_at"] is None
                 and i["abandoned_at"] is None)
    with transaction(factory) as session:  # what the engine writes when the visitor goes on
        instance = session.get(WorkflowInstance, moved["id"])
        at = NOW + timedelta(minutes=5)
        session.add(WorkflowTransition(instance_id=moved["id"], workflow_id="survey", version=moved["version"],
                                       source="intro", dest="details", trigger="next", at=at, duration_ms=1234))
        instance.state, instance.entered_at, instance.updated_at = "details", at, at
    moved["log"].append(("intro", "details", "next", 1234, at))
    moved["state"] = "details"
    # That instance's day, and the day of the last change before the previous refresh (OVERLAP).
    assert rollup.refresh(factory, at) <= 2
    for filters in FILTERS:
        assert figures_of(factory, filters) == oracle(history, filters), filters


def test_an_abandoned_and_a_new_instance_are_counted_at_the_next_refresh(factory, history):
    live = next(i for i in history if i["completed_at"] is None and i["abandoned_at"] is None)
    later = NOW + timedelta(minutes=1)
    with transaction(factory) as session:
        instance = session.get(WorkflowInstance, live["id"])
        instance.abandoned_at = instance.updated_at = later
    live["abandoned_at"] = later
    fresh = {"id": 9_999, "version": 2, "started": later, "state": "intro", "log": [], "completed_at": None,
             "abandoned_at": None, "data": {}}
    write(factory, [fresh])
    history.append(fresh)
    assert rollup.refresh(factory, later) <= 3  # their days, and the last change's before (OVERLAP)
    assert figures_of(factory, Filters()) == oracle(history, Filters())


def test_a_full_rebuild_empties_the_days_that_no_longer_have_instances(factory, history):
    gone = [i for i in history if i["started"].date() == FIRST_DAY]
    assert gone
    with transaction(factory) as session:
        for i in gone:
            session.delete(session.get(WorkflowInstance, i["id"]))
    rollup.refresh(factory, NOW, full=True)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(WorkflowRollup)
                              .where(WorkflowRollup.day == FIRST_DAY)) == 0
    rest = [i for i in history if i not in gone]
    assert figures_of(factory, Filters()) == oracle(rest, Filters())


def test_stale_and_clock_skew_trigger_a_refresh(factory, history, monkeypatch):
    calls = []
    monkeypatch.setattr(rollup, "refresh", lambda factory, now, **kw: calls.append(now))
    rollup.refresh_if_stale(factory, NOW + timedelta(seconds=30))  # refreshed at NOW: fresh enough
    rollup.refresh_if_stale(factory, NOW + timedelta(seconds=61))
    rollup.refresh_if_stale(factory, NOW - timedelta(hours=1))  # a clock behind the last refresh
    assert calls == [NOW + timedelta(seconds=61), NOW - timedelta(hours=1)]


@pytest.mark.parametrize("values", [[], [0], [5, 5, 5], [3, 1, 2], [2**40, 0, 7, 2**40 + 1]])
def test_durations_survive_their_encoding_sorted(values):
    assert rollup.decode(rollup.encode(values)).tolist() == sorted(values)
    assert rollup.decode(None).dtype == np.int64


@pytest.mark.parametrize("day", [20, 45, 49, 50, 55])
@pytest.mark.parametrize("filters", FILTERS[:6], ids=str)
def test_stuck_counts_equal_the_brute_force_ones(factory, history, filters, day):
    # intro's sla is 1 hour, details' 2 days: live instances that entered them before now - sla.
    now = midnight(day) + timedelta(hours=7, seconds=0.5)
    slas = {"intro": timedelta(hours=1), "details": timedelta(days=2)}
    chosen = oracle_instances(history, filters)
    expected = {state: sum(1 for i in chosen if i["state"] == state and i["completed_at"] is None
                           and i["abandoned_at"] is None and entered(i) < now - sla)
                for state, sla in slas.items()}
    with factory() as session:
        analysis = analyse(session, "survey", filters, now=now)
    assert analysis is not None
    assert {s.state: s.count for s in analysis.stuck} == expected
    # The rollup keeps entries to the second: ties within a second go to the lower instance number.
    late = [i for i in chosen if i["state"] in slas and i["completed_at"] is None and i["abandoned_at"] is None
            and entered(i) < now - slas[i["state"]]]
    oldest = sorted((int(entered(i).timestamp()), i["id"]) for i in late)[:20]
    assert [row["id"] for row in analysis.oldest_stuck] == [ident for _, ident in oldest]


def entered(instance: dict[str, Any]) -> datetime:
    return instance["log"][-1][4] if instance["log"] else instance["started"]
