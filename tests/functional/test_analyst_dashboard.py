"""The analyst dashboard (/analyst/workflows/<id>): who may see it, its figures, filters and exports.

The history is tests/analytics_data.py's ``survey``; "now" is its NOW (2026-11-20 12:00 UTC).
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.analytics_data import NOW, build
from tests.functional.helpers import text
from tests.functional.invitation_steps import log_in, make_user
from web.analyst import charts, views

PAGE = "/analyst/workflows/survey"


@pytest.fixture
def survey(app, factory, monkeypatch):
    build(factory)
    monkeypatch.setattr(views, "utcnow", lambda: NOW)


@pytest.fixture
def browser(app, new_client):
    def open_as(role: str):
        email = f"{role}@example.org"
        make_user(app, email, role=role)
        opened = new_client()
        log_in(opened, email)
        opened.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        return opened

    return open_as


def figure(page: str, name: str) -> str:
    found = re.search(rf'data-figure="{name}">([^<]*)<', page)
    assert found, f"no figure {name!r}"
    return text(found.group(1))


def state_row(page: str, state: str) -> dict[str, str]:
    row = re.search(rf'<tr data-state="{state}">(.*?)</tr>', page, re.S)
    assert row, f"no row for {state!r}"
    return {k: text(v) for k, v in re.findall(r'<td data-col="([a-z_0-9]+)"[^>]*>([^<]*)</td>', row.group(1))}


def csv_rows(response) -> list[dict[str, str]]:
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


def test_members_and_organizers_are_refused_and_visitors_sent_to_log_in(survey, browser, client):
    assert browser("member").get(PAGE).status_code == 403
    assert browser("organizer").get(PAGE).status_code == 403
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_analyst_sees_the_figures(survey, browser):
    response = browser("analyst").get(PAGE)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert (figure(page, "started"), figure(page, "completed"), figure(page, "abandoned"),
            figure(page, "in_progress")) == ("10", "5", "1", "4")
    assert figure(page, "completion_rate") == "50.0%"
    assert (figure(page, "source-invitation"), figure(page, "source-direct")) == ("2", "8")
    assert (figure(page, "invitations-sent"), figure(page, "invitations-joined")) == ("2", "1")
    assert state_row(page, "intro") == {"live": "2", "reached": "10", "left": "7", "dropped": "3",
                                        "drop_rate": "30.0%", "p50": "40 sec", "p90": "1 min 20 sec",
                                        "p99": "1 min 20 sec", "stuck": "1"}
    assert state_row(page, "details")["p90"] == "2 min"
    assert state_row(page, "details")["drop_rate"] == "28.6%"
    assert state_row(page, "done")["reached"] == "5"
    # the heatmap: live counts per box; the stuck instances, oldest first, link to the explorer
    assert re.findall(r'<g data-state="(\w+)" data-live="(\d+)">', page) == [
        ("intro", "2"), ("details", "2"), ("done", "0")]
    assert re.findall(r'<tr data-instance="(\d+)">', page) == ["3", "7"]
    assert 'href="/analyst/workflows/survey/instances/3"' in page
    assert '<tr data-day="2026-11-12"><td>2026-11-12</td><td>0</td><td>1</td></tr>' in page
    assert "@example.org" not in page.replace("analyst@example.org", "")  # counts only, nobody named


def test_an_admin_sees_it_too(survey, browser):
    assert browser("admin").get(PAGE).status_code == 200


def test_filters_narrow_the_figures(survey, browser):
    analyst = browser("analyst")
    page = analyst.get(f"{PAGE}?since=2026-11-11&until=2026-11-13").get_data(as_text=True)
    assert (figure(page, "started"), figure(page, "completed"), figure(page, "completion_rate")) == (
        "3", "2", "66.7%")
    assert 'value="2026-11-11"' in page  # the form keeps the filters
    assert figure(analyst.get(f"{PAGE}?version=2").get_data(as_text=True), "started") == "1"
    assert figure(analyst.get(f"{PAGE}?source=invitation").get_data(as_text=True), "started") == "2"


def test_bad_filters_are_answered_400_with_the_message(survey, browser):
    analyst = browser("analyst")
    response = analyst.get(f"{PAGE}?since=2026-11-13&until=2026-11-11")
    assert response.status_code == 400
    assert "The end must come after the start." in text(response.get_data(as_text=True))
    assert analyst.get(f"{PAGE}?version=7").status_code == 400
    assert analyst.get(f"{PAGE}?source=elsewhere").status_code == 400


def test_csv_and_json_exports(survey, browser):
    analyst = browser("analyst")
    response = analyst.get(f"{PAGE}?format=csv")
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = csv_rows(response)
    columns = ("state", "reached", "left", "dropped", "p50_ms", "p90_ms", "stuck")
    assert [tuple(r[c] for c in columns) for r in rows] == [
        ("intro", "10", "7", "3", "40000", "80000", "1"), ("details", "7", "5", "2", "30000", "120000", "1"),
        ("done", "5", "0", "0", "", "", "")]
    days = csv_rows(analyst.get(f"{PAGE}?format=csv&table=days&since=2026-11-11&until=2026-11-13"))
    assert days == [{"day": "2026-11-11", "started": "3", "completed": "1"},
                    {"day": "2026-11-12", "started": "0", "completed": "1"}]
    data = analyst.get(f"{PAGE}?format=json&source=invitation").get_json()
    assert (data["workflow"], data["started"], data["completion_rate"]) == ("survey", 2, 1.0)
    assert data["filters"]["source"] == "invitation"


def test_unknown_workflow_is_404(survey, browser):
    assert browser("analyst").get("/analyst/workflows/nothing_here").status_code == 404


def test_the_list_links_every_published_workflow(survey, browser):
    page = browser("analyst").get("/analyst/workflows/").get_data(as_text=True)
    assert 'href="/analyst/workflows/survey"' in page
    assert 'href="/analyst/workflows/volunteer"' in page


def test_chart_geometry_follows_the_figures():
    figures = {"states": ["intro", "done", "details"], "by_state": {"intro": 4, "details": 2},
               "stuck": [{"state": "details", "count": 1}],
               "edges": [["intro", "done"], ["intro", "details"], ["details", "done"], ["details", "intro"]],
               "funnel": [{"state": "intro", "reached": 10, "left": 6, "dropped": 4, "is_final": False},
                          {"state": "details", "reached": 6, "left": 4, "dropped": 2, "is_final": False}],
               "per_day": [{"day": "2026-11-10", "started": 4, "completed": 0},
                           {"day": "2026-11-11", "started": 2, "completed": 2}]}
    diagram = charts.diagram(figures, {"intro": "Introduction"})  # details: half as many live as intro
    assert [(b.state, b.label, b.live, b.stuck, b.fill) for b in diagram["boxes"]] == [
        ("intro", "Introduction", 4, 0, "#1e3a8a"), ("done", "done", 0, 0, "#eef2ff"),
        ("details", "details", 2, 1, "#8696c4")]
    # next box: a straight arrow down; two boxes on: an arc on the right; backwards: dashed arcs on the left
    assert [(e.path.split()[1][0], e.back) for e in diagram["edges"]] == [
        ("L", False), ("Q", False), ("Q", True), ("Q", True)]
    funnel = charts.funnel(figures, {"details": "Détails"})
    assert [(r["title"], r["left_w"], r["dropped_w"]) for r in funnel["rows"]] == [
        ("intro", 60.0, 40.0), ("Détails", 40.0, 20.0)]
    days = charts.days(figures)
    assert [(b["h"], b["y"]) for b in days["bars"]] == [(160.0, 0.0), (80.0, 80.0)]
    assert days["line"] == "140.0,160.0 420.0,80.0"


def test_automatic_states_are_bridged_in_the_diagram_and_left_out_of_the_funnel():
    figures = {"states": ["ask", "route", "minor", "done"], "by_state": {}, "stuck": [],
               "edges": [["ask", "route"], ["route", "minor"], ["route", "done"], ["minor", "done"]],
               "funnel": [{"state": s, "reached": 3, "left": 3, "dropped": 0, "is_final": s == "done"}
                          for s in ("ask", "route", "minor", "done")]}
    diagram = charts.diagram(figures, skip={"route"})
    assert [b.state for b in diagram["boxes"]] == ["ask", "minor", "done"]
    assert charts.bridged([("ask", "route"), ("route", "minor"), ("route", "done"), ("minor", "done")], {"route"}) == [
        ("ask", "minor"), ("ask", "done"), ("minor", "done")]
    assert [r["state"] for r in charts.funnel(figures, skip={"route"})["rows"]] == ["ask", "minor", "done"]
