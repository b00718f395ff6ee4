"""The analyst dashboard as a French reader gets it: Babel's number, percent and duration formats, the
steps' titles, and a funnel of the steps people see (automatic states left out).

The history is tests/analytics_data.py's ``survey``; "now" is its NOW.
"""

from __future__ import annotations

import re

import pytest

from tests.analytics_data import NOW, build
from tests.functional.invitation_steps import log_in, make_user
from tests.functional.test_analyst_dashboard import figure, state_row
from web.analyst import formats, views

PAGE = "/analyst/workflows/survey"
NBSP, NNBSP = "\u00a0", "\u202f"


@pytest.fixture
def analyst(app, factory, new_client, monkeypatch):
    build(factory)
    monkeypatch.setattr(views, "utcnow", lambda: NOW)
    make_user(app, "analyst@example.org", role="analyst")
    opened = new_client()
    log_in(opened, "analyst@example.org")
    opened.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    return opened


def test_figures_read_the_french_way(analyst):
    page = analyst.get(PAGE).get_data(as_text=True)

    assert figure(page, "completion_rate") == f"50,0{NBSP}%"
    intro = state_row(page, "intro")
    assert intro["drop_rate"] == f"30,0{NBSP}%"
    assert intro["p50"] == f"40{NNBSP}s" and intro["p90"] == f"1{NBSP}min 20{NNBSP}s"
    assert state_row(page, "details")["p90"] == f"2{NBSP}min"
    assert " s<" not in page and ".0 %" not in page


def test_steps_are_named_by_their_titles_with_the_id_in_small(analyst):
    page = analyst.get(PAGE).get_data(as_text=True)

    assert re.search(r'<tr data-state="details">\s*<th scope="row">Détails <span class="state-id">details</span>', page)
    assert re.search(r'<li data-state="details">\s*<span class="funnel-label" title="details">Détails</span>', page)
    assert re.search(r'<g data-state="intro" data-live="2">\s*<title>Introduction \(intro\)', page)
    assert "Où en est chacun dans Questionnaire" in page


def test_the_funnel_leaves_out_automatic_states_and_the_diagram_bridges_them(app, factory, new_client, analyst):
    for _ in range(2):
        new_client().get("/w/volunteer")  # instances standing in the first step

    page = analyst.get("/analyst/workflows/volunteer").get_data(as_text=True)

    funnel = re.findall(r'<li data-state="(\w+)">', page)
    assert funnel == ["identity", "availability", "guardian", "summary", "check", "done"]  # no "routing"
    assert re.findall(r'<g data-state="(\w+)"', page) == funnel
    assert 'data-state="routing"' not in page
    assert "Vos disponibilités" in page
    csv_states = [line.split(",")[0] for line in analyst.get("/analyst/workflows/volunteer?format=csv")
                  .get_data(as_text=True).lstrip("\ufeff").splitlines()[1:]]
    assert "routing" in csv_states  # the export keeps every state, by id


@pytest.mark.parametrize(("ms", "fr", "en"), [
    (None, "–", "–"),
    (400, f"0,4{NNBSP}s", "0.4 sec"),
    (12_000_000, f"3{NNBSP}h 20{NBSP}min", "3 hr 20 min"),
    (172_800_000, f"2{NBSP}jours", "2 days"),
    (187_200_000, f"2{NBSP}jours 4{NNBSP}h", "2 days 4 hr"),
])
def test_durations_in_words(app, ms, fr, en):
    for locale, expected in (("fr", fr), ("en", en)):
        with app.test_request_context(headers={"Accept-Language": locale}):
            assert formats.duration(ms) == expected


def test_numbers_and_percentages(app):
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert formats.percent(0.111) == f"11,1{NBSP}%"
        assert formats.number(12345) == f"12{NNBSP}345"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert formats.percent(0.111) == "11.1%"
        assert formats.number(12345) == "12,345"
