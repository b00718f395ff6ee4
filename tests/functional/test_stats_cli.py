"""``engagement stats ID``: the dashboard's figures on the command line (history in tests/analytics_data.py)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engagement.accounts.models import User
from engagement.db import transaction
from engagement.mail.models import MailMessage
from engagement.workflow import analytics
from engagement.workflow.models import WorkflowAnalyticsSnapshot, WorkflowInstance
from tests.analytics_data import NOW, build


@pytest.fixture
def survey(factory, monkeypatch):
    build(factory)
    monkeypatch.setattr("engagement.db.utcnow", lambda: NOW)  # stuck is relative to now


def stats(cli, *args: str) -> dict:
    result = cli("stats", "survey", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_stats_json_keeps_the_old_keys_and_adds_funnel_time_and_stuck(cli, survey):
    figures = stats(cli)
    assert (figures["workflow"], figures["started"], figures["completed"], figures["abandoned"],
            figures["in_progress"], figures["completion_rate"]) == ("survey", 10, 5, 1, 4, 0.5)
    assert figures["by_state"] == {"intro": 2, "details": 2}
    assert figures["by_version"] == {"1": 9, "2": 1}
    assert [(s["state"], s["reached"], s["left"], s["dropped"]) for s in figures["funnel"]] == [
        ("intro", 10, 7, 3), ("details", 7, 5, 2), ("done", 5, 0, 0)]
    assert [(t["state"], t["p50_ms"], t["p90_ms"]) for t in figures["time_in_state"]] == [
        ("intro", 40_000, 80_000), ("details", 30_000, 120_000)]
    assert [(s["state"], s["count"]) for s in figures["stuck"]] == [("intro", 1), ("details", 1)]
    assert [row["id"] for row in figures["oldest_stuck"]] == [3, 7]
    assert figures["by_source"] == {"invitation": 2, "direct": 8}


def test_stats_since_until_version_and_source(cli, survey):
    window = stats(cli, "--since", "2026-11-11", "--until", "2026-11-13")
    assert (window["started"], window["completed"], window["completion_rate"]) == (3, 2, 0.6667)
    assert [(r["day"], r["started"], r["completed"]) for r in window["per_day"]] == [
        ("2026-11-11", 3, 1), ("2026-11-12", 0, 1)]
    assert window["filters"] == {"version": None, "since": "2026-11-11T00:00:00+00:00",
                                 "until": "2026-11-13T00:00:00+00:00", "source": None}
    assert stats(cli, "--version", "1")["started"] == 9
    assert stats(cli, "--source", "invitation")["completed"] == 2


def test_stats_prints_the_same_figures_for_a_person(cli, survey):
    result = cli("stats", "survey", "--since", "2026-11-01")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "survey: 10 started, 5 completed (50.0%), 1 abandoned, 4 in progress"
    intro = next(line.split() for line in lines if line.strip().startswith("intro"))
    # live, reached, left, dropped, drop %, p50 s, p90 s, p99 s, stuck
    assert intro[1:] == ["2", "10", "7", "3", "30.0%", "40.0", "80.0", "80.0", "1"]
    assert "  stuck: instance 3 in details since 2026-11-10 11:00 UTC" in lines


def test_stats_figures_equal_the_analysis(cli, survey, factory):
    with factory() as session:
        direct = analytics.analyse(session, "survey", analytics.Filters(), now=NOW)
    assert direct is not None
    assert stats(cli) == json.loads(json.dumps(direct.as_dict()))


def test_stats_reads_stored_figures_until_asked_for_fresh_ones(cli, survey, factory):
    assert stats(cli)["started"] == 10
    with transaction(factory) as session:  # one more visitor after the figures were stored
        session.add(WorkflowInstance(workflow_id="survey", version=2, state="intro", data={}, history=[],
                                     started_at=NOW, updated_at=NOW, entered_at=NOW))
    assert stats(cli)["started"] == 10  # the same figures as the dashboard's, stored less than 10 minutes ago
    assert stats(cli, "--fresh")["started"] == 11
    assert stats(cli)["started"] == 11
    with factory() as session:
        rows = session.scalars(select(WorkflowAnalyticsSnapshot)).all()
    assert [(r.workflow_id, r.filters_key, r.figures["started"]) for r in rows] == [("survey", "|||", 11)]


def test_stored_figures_are_read_without_building_the_core(cli, survey, monkeypatch):
    """The common case answers in the time of one query: no mail, no definitions, no numpy."""
    assert stats(cli)["started"] == 10  # computed and stored

    def no_core() -> None:
        raise AssertionError("the core was built to read stored figures")

    monkeypatch.setattr("web.cli.workflows._core", no_core)
    assert stats(cli)["started"] == 10
    with pytest.raises(AssertionError, match="core was built"):
        stats(cli, "--fresh")


def test_stats_refuses_a_malformed_date(cli, survey):
    result = cli("stats", "survey", "--since", "yesterday")
    assert result.exit_code == 2
    assert "--since" in result.output


def test_alert_stuck_reports_each_stuck_entry_once(cli, survey, factory):
    with transaction(factory) as session:
        session.add(User(email="orga@example.org", role="organizer"))
    first = cli("workflows", "alert-stuck")
    assert first.exit_code == 0
    assert "2 stuck instance(s) reported" in first.stderr  # 3 in details, 7 in intro
    assert "0 stuck instance(s) reported" in cli("workflows", "alert-stuck").stderr
    with factory() as session:
        [mail] = session.scalars(select(MailMessage)).all()
    assert mail.to == ["orga@example.org"]
