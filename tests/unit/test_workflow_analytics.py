"""The analytics core on a hand-built history (tests/analytics_data.py): every figure worked out by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engagement.db import transaction
from engagement.workflow import snapshots
from engagement.workflow.analytics import Filters, analyse, funnel_order
from engagement.workflow.checker import check_text
from engagement.workflow.models import WorkflowAnalyticsSnapshot, WorkflowInstance
from engagement.workflow.stats import nearest_rank
from tests.analytics_data import HISTORY, NOW, SURVEY, build, d


@pytest.fixture
def survey(factory):
    build(factory)
    return factory


def figures(factory, **filters):
    with factory() as session:
        analysis = analyse(session, "survey", Filters(**filters), now=NOW)
    assert analysis is not None
    return analysis


def test_counts_and_completion_rate(survey):
    # completed 1, 2, 5, 6, 9; abandoned 4; live 3 and 8 in details, 7 and 10 in intro
    analysis = figures(survey)
    stats = analysis.stats
    assert (stats.started, stats.completed, stats.abandoned, stats.in_progress) == (10, 5, 1, 4)
    assert stats.completion_rate == 0.5
    assert stats.by_state == {"intro": 2, "details": 2}
    assert stats.by_version == {1: 9, 2: 1}
    assert analysis.versions == [1, 2]


def test_funnel_reached_left_and_drop_off_per_step(survey):
    # intro: all 10 reached it; 1, 2, 3, 5, 6, 8, 9 left it: 3 dropped (4 abandoned, 7 and 10 live), 30 %.
    # details: the same 7 entered it (5 twice, counted once); 1, 2, 5, 6, 9 left it: 2 dropped (3, 8), 2/7.
    # done: 1, 2, 5, 6, 9 reached it.
    funnel = [(s.state, s.reached, s.left, s.dropped, s.drop_rate) for s in figures(survey).funnel]
    assert funnel == [("intro", 10, 7, 3, 0.3), ("details", 7, 5, 2, 0.2857), ("done", 5, 0, 0, 0.0)]


def test_time_in_state_percentiles_by_nearest_rank(survey):
    # intro was left 8 times: 10 20 30 40 50 60 70 80 s. p50 = 4th value (ceil 0.5 * 8), p90 = 8th (ceil 7.2).
    # details was left 6 times: 5 10 30 60 90 120 s (5's Back included). p50 = 3rd, p90 = 6th (ceil 5.4).
    timings = {t.state: (t.count, t.p50_ms, t.p90_ms, t.p99_ms) for t in figures(survey).time_in_state}
    assert timings == {"intro": (8, 40_000, 80_000, 80_000), "details": (6, 30_000, 120_000, 120_000)}


def test_nearest_rank():
    # Of 20 values, p50 is the 10th, p90 the 18th, p99 the 20th; of one value, that one.
    assert [nearest_rank(p, 20) for p in (50, 90, 99)] == [10, 18, 20]
    assert [nearest_rank(p, 1) for p in (50, 90, 99)] == [1, 1, 1]
    assert [nearest_rank(p, 8) for p in (50, 90, 99)] == [4, 8, 8]


def test_stuck_instances_past_their_state_sla(survey):
    # intro (1h): 7 entered on the 11th (stuck), 10 half an hour ago (not), 4 was abandoned (not counted).
    # details (2d): 3 entered on the 10th (stuck), 8 23 hours ago (not).
    analysis = figures(survey)
    assert [(s.state, s.sla_seconds, s.count) for s in analysis.stuck] == [("intro", 3600, 1),
                                                                           ("details", 172_800, 1)]
    assert [(row["id"], row["state"], row["entered_at"]) for row in analysis.oldest_stuck] == [
        (3, "details", d(10, 11)), (7, "intro", d(11, 11))]


def test_started_and_completed_per_day(survey):
    per_day = {row["day"]: (row["started"], row["completed"]) for row in figures(survey).per_day}
    assert len(per_day) == 11  # the 10th to the 20th, quiet days included
    assert per_day["2026-11-10"] == (4, 2)
    assert per_day["2026-11-11"] == (3, 1)
    assert per_day["2026-11-12"] == (0, 1)  # 6 started on the 11th, completed on the 12th
    assert per_day["2026-11-13"] == (1, 1)
    assert per_day["2026-11-14"] == (0, 0)
    assert per_day["2026-11-20"] == (1, 0)
    assert sum(s for s, _ in per_day.values()) == len(HISTORY)


def test_sources_and_invitations(survey):
    analysis = figures(survey)
    assert analysis.by_source == {"invitation": 2, "direct": 8}  # 5 and 6 came through a join link
    assert analysis.invitations == {"sent": 2, "joined": 1}  # sent by 2 and 9; 9's was followed


def test_date_range_keeps_instances_started_in_it(survey):
    # [11th, 13th): 5, 6, 7. Transitions too: intro left by 5 (40 s, then 50 s) and 6 (60 s).
    analysis = figures(survey, since=d(11, 0), until=d(13, 0))
    stats = analysis.stats
    assert (stats.started, stats.completed, stats.in_progress, stats.completion_rate) == (3, 2, 1, 0.6667)
    assert [(s.state, s.reached, s.left, s.dropped) for s in analysis.funnel] == [
        ("intro", 3, 2, 1), ("details", 2, 2, 0), ("done", 2, 0, 0)]
    assert (analysis.time_in_state[0].state, analysis.time_in_state[0].count, analysis.time_in_state[0].p50_ms) == (
        "intro", 3, 50_000)
    assert [(r["day"], r["started"], r["completed"]) for r in analysis.per_day] == [
        ("2026-11-11", 3, 1), ("2026-11-12", 0, 1)]
    assert analysis.invitations == {"sent": 0, "joined": 0}


def test_version_filter(survey):
    assert figures(survey, version=1).stats.started == 9
    only = figures(survey, version=2)  # instance 10, still on intro
    assert (only.stats.started, only.stats.in_progress) == (1, 1)
    assert (only.funnel[0].state, only.funnel[0].reached, only.funnel[0].dropped) == ("intro", 1, 1)
    assert only.time_in_state == []


def test_source_filter(survey):
    # 5 and 6, both completed; details left by 5 (5 s back, 30 s) and 6 (90 s): p50 = 2nd = 30 s.
    analysis = figures(survey, source="invitation")
    assert (analysis.stats.started, analysis.stats.completion_rate) == (2, 1.0)
    assert analysis.by_source == {"invitation": 2, "direct": 0}
    details = next(t for t in analysis.time_in_state if t.state == "details")
    assert (details.count, details.p50_ms, details.p90_ms) == (3, 30_000, 90_000)
    assert figures(survey, source="direct").stats.started == 8


def test_analysis_is_json_and_keeps_the_historical_keys(survey):
    data = json.loads(json.dumps(figures(survey, since=d(10, 0)).as_dict()))
    assert {"workflow", "started", "completed", "abandoned", "in_progress", "completion_rate", "by_state",
            "by_version"} <= data.keys()
    assert data["by_version"] == {"1": 9, "2": 1}
    assert data["filters"]["since"] == "2026-11-10T00:00:00+00:00"
    assert data["oldest_stuck"][0] == {"id": 3, "state": "details", "entered_at": "2026-11-10T11:00:00+00:00"}


def test_unknown_workflow_has_no_analysis(factory):
    with factory() as session:
        assert analyse(session, "nothing", Filters(), now=datetime.now(UTC)) is None


def test_funnel_order_is_breadth_first_from_initial():
    text = SURVEY.format(version=1).replace(
        "  - {trigger: next, source: intro, dest: details}",
        "  - {trigger: skip, source: intro, dest: done}\n  - {trigger: next, source: intro, dest: details}")
    spec, diagnostics = check_text(text, "survey.yml")
    assert spec is not None, diagnostics
    assert funnel_order(spec) == ["intro", "done", "details"]


def test_sla_is_read_in_seconds():
    spec, _ = check_text(SURVEY.format(version=1).replace("sla: 2d", "sla: 90m"), "survey.yml")
    assert spec is not None
    assert (spec.states["intro"].sla_seconds, spec.states["details"].sla_seconds) == (3600, 5400)
    assert spec.states["done"].sla_seconds is None
    assert timedelta(seconds=spec.states["details"].sla_seconds) == timedelta(minutes=90)


def test_stored_figures_are_refreshed_by_the_beat_and_old_filters_forgotten(survey):
    week_ago = NOW - timedelta(days=7)
    assert snapshots.figures(survey, "survey", Filters(source="direct"), now=week_ago)["started"] == 8
    assert snapshots.figures(survey, "survey", Filters(), now=week_ago)["started"] == 10
    with transaction(survey) as session:  # instance 10 is abandoned meanwhile
        session.get(WorkflowInstance, 10).abandoned_at = NOW
    assert snapshots.figures(survey, "survey", Filters(), now=week_ago)["abandoned"] == 1  # as stored
    assert snapshots.refresh_active(survey, NOW) == ["survey"]
    with survey() as session:
        rows = session.scalars(select(WorkflowAnalyticsSnapshot)).all()
    # the unfiltered figures recomputed now; the week-old `direct` ones deleted
    assert [(r.filters_key, r.computed_at, r.figures["abandoned"]) for r in rows] == [("|||", NOW, 2)]
