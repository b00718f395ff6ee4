"""The organizer's audience lists: the JSON served with ETag and gzip, its protection, and the page of counts."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from engagement import outbox
from engagement.accounts.models import User
from engagement.campaigns import lists
from engagement.campaigns.models import AudienceList
from engagement.committees import service as committees
from engagement.db import transaction, utcnow
from tests.functional.helpers import text
from tests.functional.invitation_steps import log_in, make_user

PARIS = {"street": "1 rue de Rivoli", "postal_code": "75001", "city": "75101",
         "city_name": "Paris 1er Arrondissement", "country": "FR"}
URL = "/organizer/audiences/department/75.json"


def members(app: Any, count: int, prefix: str = "m") -> list[int]:
    with transaction(app.extensions["engagement"].sessions) as session:
        users = [User(email=f"{prefix}{n}@example.org", first_name="Camille", last_name=f"N{n}",
                      activated_at=utcnow(), address=PARIS) for n in range(count)]
        session.add_all(users)
        session.flush()
        return [user.id for user in users]


def committee(app: Any, host_id: int, name: str = "Comité Paris Centre") -> tuple[int, str]:
    with transaction(app.extensions["engagement"].sessions) as session:
        row = committees.propose(session, name=name, description="", address=PARIS, creator_id=host_id, now=utcnow())
        committees.decide(session, row, True, utcnow())
        return row.id, row.slug


@pytest.fixture(autouse=True)
def drained() -> Iterator[None]:
    """Let the builds queued in the background finish before the test's database goes."""
    yield
    outbox.InProcessRelay.drain()


@pytest.fixture
def organizer(client: Any, app: Any) -> Any:
    make_user(app, "orga@example.org", role="organizer")
    log_in(client, "orga@example.org")
    client.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_the_list_is_served_gzipped_with_an_etag_and_answers_304_when_unchanged(app, organizer):
    ids = members(app, 3)
    raw_client = organizer.client  # werkzeug's own: the page checks would decode the gzip body as text
    response = raw_client.get(URL, headers={"Accept-Encoding": "gzip, deflate"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert "Accept-Encoding" in response.headers["Vary"]
    raw = gzip.decompress(response.get_data())
    assert [row["id"] for row in json.loads(raw)] == ids
    assert b"@" not in raw
    etag = response.headers["ETag"]
    assert etag == f'W/"{hashlib.sha256(raw).hexdigest()}"'

    again = raw_client.get(URL, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag

    plain = organizer.get(URL, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    assert plain.get_data() == raw and plain.headers["ETag"] == etag


def test_a_change_gives_the_list_a_new_etag(app, organizer):
    members(app, 1)
    etag = organizer.get(URL).headers["ETag"]
    members(app, 1, prefix="late")
    lists.build(app.extensions["engagement"].sessions, "department:75")  # what the queued build does
    response = organizer.get(URL, headers={"If-None-Match": etag})
    assert response.status_code == 200 and response.headers["ETag"] != etag
    assert len(json.loads(response.get_data())) == 2


def test_a_list_never_built_is_built_on_first_request(app, organizer, read):
    host = make_user(app, "host@example.org")
    committee_id, slug = committee(app, host)
    outbox.InProcessRelay.drain()  # the build the committee queued is done: nothing races the deletion
    with transaction(app.extensions["engagement"].sessions) as session:
        session.execute(AudienceList.__table__.delete())  # as if the committee predated the lists
    response = organizer.get(f"/organizer/audiences/committee/{slug}.json")
    assert response.status_code == 200
    assert [(row["id"], row["role"]) for row in json.loads(response.get_data())] == [(host, "host")]
    assert read().get(AudienceList, lists.committee_key(committee_id)).built_at is not None


def test_unknown_audiences_are_not_found(organizer):
    assert organizer.get("/organizer/audiences/department/20.json").status_code == 404
    assert organizer.get("/organizer/audiences/department/999.json").status_code == 404
    assert organizer.get("/organizer/audiences/committee/nowhere.json").status_code == 404
    assert organizer.get("/organizer/audiences/event/x.json").status_code == 404


def test_members_and_visitors_cannot_read_the_lists(app, client, new_client):
    members(app, 1)
    visitor = new_client()
    response = visitor.get(URL)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert visitor.get("/organizer/audiences").status_code == 302
    make_user(app, "member@example.org")
    log_in(client, "member@example.org")
    assert client.get(URL).status_code == 403
    assert client.get("/organizer/audiences").status_code == 403


def counts(page: str, testid: str) -> dict[str, str]:
    """Label -> members column of one table of the page."""
    table = re.search(rf'data-testid="{testid}">(.*?)</table>', page, re.S)
    assert table, f"no table {testid!r}"
    rows = re.findall(r"<tr data-list=\"[^\"]*\">\s*<td>([^<]*)</td>\s*<td[^>]*>([^<]*)</td>", table.group(1))
    return {text(label): value for label, value in rows}


def test_the_page_shows_each_lists_count_from_the_stored_lists(app, organizer, read):
    host = make_user(app, "host@example.org")
    committee_id, slug = committee(app, host)
    members(app, 2)
    sessions = app.extensions["engagement"].sessions
    lists.build(sessions, "department:75")
    lists.build(sessions, lists.committee_key(committee_id))
    page = organizer.get("/organizer/").get_data(as_text=True)
    assert 'href="/organizer/audiences"' in page
    page = organizer.get("/organizer/audiences").get_data(as_text=True)
    departments = counts(page, "departments")
    assert departments["Paris (75)"] == "2"
    assert departments["Corse-du-Sud (2A)"] == "—"
    assert len(departments) == 109  # the 101 departments and the 8 collectivities of the commune data
    assert departments["Nouvelle-Calédonie (988)"] == "—"
    assert counts(page, "committees") == {"Comité Paris Centre": "1"}
    assert f'href="/organizer/audiences/committee/{slug}.json"' in page
    assert 'href="/organizer/audiences/department/75.json"' in page


def test_building_the_missing_lists_queues_them(app, organizer, read):
    members(app, 1)
    lists.build(app.extensions["engagement"].sessions, "department:75")
    response = organizer.post("/organizer/audiences/build", {}, page="/organizer/audiences")
    assert response.status_code == 303
    keys = set(read().scalars(select(AudienceList.key)))
    assert len({key for key in keys if key.startswith("department:")}) == 109  # with 975, 977, 978, 984, 986-989
    page = organizer.get("/organizer/audiences").get_data(as_text=True)
    assert "108 lists are being built" in text(page)
