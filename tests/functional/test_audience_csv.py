"""Audience lists as CSV: the same members and the same checks as their JSON, safe in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest

from engagement import outbox
from engagement.accounts.models import User
from engagement.db import transaction, utcnow
from tests.functional.invitation_steps import log_in, make_user
from tests.functional.test_organizer_audiences import PARIS, committee, members

CSV = "/organizer/audiences/department/75.csv"


@pytest.fixture(autouse=True)
def drained() -> Iterator[None]:
    yield
    outbox.InProcessRelay.drain()


@pytest.fixture
def organizer(client: Any, app: Any) -> Any:
    make_user(app, "orga@example.org", role="organizer")
    log_in(client, "orga@example.org")
    return client


def rows(response: Any) -> list[list[str]]:
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_a_department_list_downloads_as_csv_with_french_headers(app, organizer):
    members(app, 2)

    response = organizer.client.get(CSV)

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    assert 'filename="audience-department-75.csv"' in response.headers["Content-Disposition"]
    header, *people = rows(response)
    assert header == ["Prénom", "Nom", "Code postal", "Commune", "Depuis (UTC)"]
    assert [(p[0], p[1], p[2], p[3]) for p in people] == [
        ("Camille", "N0", "75001", "Paris 1er Arrondissement"), ("Camille", "N1", "75001", "Paris 1er Arrondissement")]
    assert "@example.org" not in response.get_data(as_text=True)  # like the JSON: no e-mail address


def test_a_committee_list_has_the_members_role_and_the_page_links_both_formats(app, organizer):
    [host] = members(app, 1)
    _, slug = committee(app, host)

    header, *people = rows(organizer.client.get(f"/organizer/audiences/committee/{slug}.csv"))

    assert header[-1] == "Rôle" and len(people) == 1 and people[0][-1] == "Animateur"  # the host, in French
    organizer.get("/organizer/audiences")
    assert f'href="/organizer/audiences/committee/{slug}.csv"' in organizer.last_html
    assert f'href="/organizer/audiences/committee/{slug}.json"' in organizer.last_html


def test_cells_that_a_spreadsheet_would_run_are_neutralised(app, organizer):
    with transaction(app.extensions["engagement"].sessions) as session:
        session.add_all([User(email=f"x{n}@example.org", first_name=name, last_name="-2+3", activated_at=utcnow(),
                              address=PARIS) for n, name in enumerate(("=HYPERLINK(\"http://x\")", "@SUM(A1)", "+1"))])

    _, *people = rows(organizer.client.get(CSV))

    assert [p[0] for p in people] == ["'=HYPERLINK(\"http://x\")", "'@SUM(A1)", "'+1"]
    assert {p[1] for p in people} == {"'-2+3"}


def test_only_those_who_may_see_the_list_get_its_csv(app, client, new_client):
    members(app, 1)
    assert client.get(CSV).status_code == 302  # anonymous: to the log-in page
    for role in ("member", "analyst"):
        make_user(app, f"{role}@example.org", role=role)
        visitor = new_client()
        log_in(visitor, f"{role}@example.org")
        assert visitor.get(CSV).status_code == 403
    make_user(app, "orga@example.org", role="organizer")
    log_in(client, "orga@example.org")
    assert client.get("/organizer/audiences/department/99.csv").status_code == 404
    assert client.get("/organizer/audiences/everyone/all.csv").status_code == 404
