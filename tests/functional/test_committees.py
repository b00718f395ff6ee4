"""Committees: the public list and pages, following, proposing one, and the organizers' decision."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from engagement.committees import service as committees
from engagement.committees.models import Committee, CommitteeMembership
from engagement.db import transaction, utcnow
from engagement.events import service as events
from engagement.events.service import EventInput
from tests.functional.helpers import count, text
from tests.functional.invitation_steps import log_in, make_user

PARIS = {"street": "1 rue de Rivoli", "postal_code": "75001", "city": "75101",
         "city_name": "Paris 1er Arrondissement", "country": "FR"}
LYON = {"street": "1 place des Terreaux", "postal_code": "69001", "city": "69381",
        "city_name": "Lyon 1er Arrondissement", "country": "FR"}
AJACCIO = {"street": "1 cours Napoléon", "postal_code": "20000", "city": "2A004", "city_name": "Ajaccio",
           "country": "FR"}


@pytest.fixture
def browser(new_client: Any) -> Any:
    """A fresh browser asking for English pages (the French catalog is merged separately)."""

    def open_browser(email: str | None = None) -> Any:
        client = new_client()
        client.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        if email:
            log_in(client, email)
        return client

    return open_browser


def committee(app: Any, name: str, host_id: int, address: dict[str, str] = PARIS, approved: bool = True,
              description: str = "") -> str:
    """A committee proposed by ``host_id`` (and approved unless told otherwise), by slug."""
    with transaction(app.extensions["engagement"].sessions) as session:
        row = committees.propose(session, name=name, description=description, address=address,
                                 creator_id=host_id, now=utcnow())
        if approved:
            committees.decide(session, row, True, utcnow())
        return row.slug


def by_slug(read: Any, slug: str) -> Committee:
    found = committees.by_slug(read(), slug)
    assert found is not None
    return found


def members(read: Any, slug: str) -> dict[int, str]:
    """user id -> role of everyone in the committee, as committed."""
    session = read()
    rows = session.scalars(select(CommitteeMembership).join(Committee, Committee.id == CommitteeMembership.committee_id)
                           .where(Committee.slug == slug))
    return {row.user_id: row.role for row in rows}


def followers_shown(page: str) -> int:
    found = re.search(r'<dd data-testid="followers">\s*(\d+) followers?\s*</dd>', page)
    assert found, "no follower count on the page"
    return int(found.group(1))


def listed(page: str) -> set[str]:
    return set(re.findall(r'<li class="card" data-committee="([^"]+)"', page))


def flashes(page: str) -> list[str]:
    return [text(m) for m in re.findall(r'<div class="notice" role="status">([^<]*)</div>', page)]


def press(client: Any, slug: str, action: str) -> Any:
    """Press Follow or Unfollow on the committee's page, as a browser would (its CSRF token)."""
    client.get(f"/committees/{slug}")
    return client.post(f"/committees/{slug}/{action}", {})


def test_anonymous_visitors_are_asked_to_log_in_to_follow(app, browser, read):
    host = make_user(app, "host@example.org")
    slug = committee(app, "Paris Centre", host)
    visitor = browser()
    page = visitor.get(f"/committees/{slug}").get_data(as_text=True)
    assert f'href="/login?next=/committees/{slug}"' in page and "Log in to follow" in page
    assert f'action="/committees/{slug}/follow"' not in page
    # The page holds no form (nor token) for an anonymous visitor; one with a token from the log-in page:
    response = visitor.post(f"/committees/{slug}/follow", {}, page="/login")
    assert response.status_code == 302 and response.headers["Location"] == f"/login?next=/committees/{slug}"
    assert members(read, slug) == {host: "host"}


def test_a_member_follows_once_and_unfollows(app, browser, read):
    host = make_user(app, "host@example.org")
    fan = make_user(app, "fan@example.org")
    slug = committee(app, "Paris Centre", host)
    client = browser("fan@example.org")
    assert followers_shown(client.get(f"/committees/{slug}").get_data(as_text=True)) == 1

    response = press(client, slug, "follow")
    assert response.status_code == 303 and response.headers["Location"] == f"/committees/{slug}"
    page = client.get(f"/committees/{slug}").get_data(as_text=True)
    assert followers_shown(page) == 2 and f'action="/committees/{slug}/unfollow"' in page
    assert any(message.startswith("You follow Paris Centre") for message in flashes(page))
    assert press(client, slug, "follow").status_code == 303  # a second press (another tab) changes nothing
    assert members(read, slug) == {host: "host", fan: "follower"}

    assert press(client, slug, "unfollow").status_code == 303
    page = client.get(f"/committees/{slug}").get_data(as_text=True)
    assert followers_shown(page) == 1 and f'action="/committees/{slug}/follow"' in page
    assert "You no longer follow Paris Centre." in flashes(page)
    assert members(read, slug) == {host: "host"}


def test_the_last_host_cannot_leave_but_one_of_two_hosts_can(app, browser, read):
    host = make_user(app, "host@example.org")
    slug = committee(app, "Paris Centre", host)
    client = browser("host@example.org")
    assert press(client, slug, "unfollow").status_code == 303
    page = client.get(f"/committees/{slug}").get_data(as_text=True)
    assert any("You are the last host of this committee" in message for message in flashes(page))
    assert members(read, slug) == {host: "host"} and followers_shown(page) == 1

    other = make_user(app, "other@example.org")
    committee_id = by_slug(read, slug).id  # before the transaction: `read` waits for background work it would block
    with transaction(app.extensions["engagement"].sessions) as session:
        session.add(CommitteeMembership(committee_id=committee_id, user_id=other, role="host"))
    assert press(client, slug, "unfollow").status_code == 303
    assert members(read, slug) == {other: "host"}


def propose(client: Any, **changes: str) -> Any:
    client.get("/committees/new")
    data = {"name": "Écologie Paris Centre", "description": "We meet every Tuesday.", "address-country": "FR",
            "address-street": "1 rue de Rivoli", "address-postal_code": "75001", **changes}
    return client.post("/committees/new", data)


def test_proposing_creates_a_pending_committee_only_its_host_sees(app, browser, read):
    creator = make_user(app, "creator@example.org")
    make_user(app, "other@example.org")
    client = browser("creator@example.org")
    response = propose(client)
    assert response.status_code == 303
    slug = response.headers["Location"].removeprefix("/committees/")
    row = by_slug(read, slug)
    assert (row.name, row.status, row.department, row.created_by_id) == ("Écologie Paris Centre", "pending", "75",
                                                                         creator)
    assert row.address == {**PARIS, "street": "1 rue de Rivoli"}
    assert members(read, slug) == {creator: "host"}

    page = client.get(f"/committees/{slug}").get_data(as_text=True)
    assert 'data-status="pending"' in page
    assert any("An organizer will review it" in message for message in flashes(page))
    assert f'action="/committees/{slug}/follow"' not in page and f'action="/committees/{slug}/unfollow"' not in page
    assert slug not in listed(browser().get("/committees").get_data(as_text=True))
    assert browser("other@example.org").get(f"/committees/{slug}").status_code == 404
    assert browser().get(f"/committees/{slug}").status_code == 404


def test_an_invalid_proposal_is_explained_and_creates_nothing(app, browser, read):
    make_user(app, "creator@example.org")
    client = browser("creator@example.org")
    for changes in ({"name": "  "}, {"name": "x" * 101}, {"description": "x" * 2001},
                    {"address-postal_code": "99999"}, {"address-street": ""}):
        response = propose(client, **changes)
        assert response.status_code == 422, changes
        assert '<p class="error"' in client.last_html
    assert count(read(), Committee) == 0


def test_anonymous_visitors_are_asked_to_log_in_to_propose(browser):
    response = browser().get("/committees/new")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/committees/new"


def test_an_organizer_approves_a_proposal_which_is_then_listed_and_followable(app, browser, read):
    host = make_user(app, "host@example.org")
    fan = make_user(app, "fan@example.org")
    make_user(app, "orga@example.org", role="organizer")
    slug = committee(app, "Paris Centre", host, approved=False)
    organizer = browser("orga@example.org")
    assert 'data-status="pending"' in organizer.get(f"/committees/{slug}").get_data(as_text=True)
    page = organizer.get("/organizer/").get_data(as_text=True)
    assert 'href="/organizer/committees"' in page
    assert slug in listed(organizer.get("/organizer/committees").get_data(as_text=True))

    response = organizer.post(f"/organizer/committees/{slug}/approve", {})
    assert response.status_code == 303 and response.headers["Location"] == "/organizer/committees"
    page = organizer.get("/organizer/committees").get_data(as_text=True)
    assert "Paris Centre is approved: it is listed and members can follow it." in flashes(page)
    assert slug not in listed(page) and f'<tr data-committee="{slug}">' in page  # among the recent decisions
    assert by_slug(read, slug).status == "approved" and by_slug(read, slug).decided_at is not None

    assert organizer.post(f"/organizer/committees/{slug}/refuse", {}).status_code == 303  # a stale page
    assert "This committee was already decided: nothing changed." in flashes(organizer.get("/organizer/committees")
                                                                             .get_data(as_text=True))
    assert by_slug(read, slug).status == "approved"

    assert slug in listed(browser().get("/committees").get_data(as_text=True))
    client = browser("fan@example.org")
    assert press(client, slug, "follow").status_code == 303
    assert members(read, slug) == {host: "host", fan: "follower"}


def test_a_refused_committee_stays_hidden_and_cannot_be_followed(app, browser, read):
    host = make_user(app, "host@example.org")
    fan = make_user(app, "fan@example.org")
    make_user(app, "admin@example.org", role="admin")
    slug = committee(app, "Paris Centre", host, approved=False)
    admin = browser("admin@example.org")
    admin.get("/organizer/committees")
    assert admin.post(f"/organizer/committees/{slug}/refuse", {}).status_code == 303
    assert by_slug(read, slug).status == "refused"
    assert slug not in listed(browser().get("/committees").get_data(as_text=True))
    client = browser("fan@example.org")
    assert client.get(f"/committees/{slug}").status_code == 404
    client.get("/committees")
    assert client.post(f"/committees/{slug}/follow", {}).status_code == 404
    assert 'data-status="refused"' in browser("host@example.org").get(f"/committees/{slug}").get_data(as_text=True)
    assert members(read, slug) == {host: "host"} and fan not in members(read, slug)


def test_members_may_not_review_proposals(app, browser, read):
    host = make_user(app, "host@example.org")
    slug = committee(app, "Paris Centre", host, approved=False)
    client = browser("host@example.org")
    assert client.get("/organizer/committees").status_code == 403
    client.get("/committees")
    assert client.post(f"/organizer/committees/{slug}/approve", {}).status_code == 403
    assert by_slug(read, slug).status == "pending"
    anonymous = browser()
    assert anonymous.get("/organizer/committees").status_code == 302


def event(app: Any, name: str, committee_slug: str, read: Any, starts_in: timedelta) -> str:
    begins = utcnow() + starts_in
    committee_id = by_slug(read, committee_slug).id  # before the transaction (see above)
    with transaction(app.extensions["engagement"].sessions) as session:
        row = events.create(session, EventInput(
            name=name, description="", begins_at=begins, ends_at=begins + timedelta(hours=2), address=PARIS,
            committee_id=committee_id), organizer_id=None, now=utcnow())
        return row.slug


def test_a_committee_page_shows_its_upcoming_events_and_followers(app, browser, read):
    host = make_user(app, "host@example.org")
    fan = make_user(app, "fan@example.org")
    mine = committee(app, "Paris Centre", host, description="We meet every Tuesday.\n\nAll welcome.")
    theirs = committee(app, "Lyon Presqu'île", host, address=LYON)
    followed = by_slug(read, mine)  # before the transaction: `read` waits for background work it would block
    with transaction(app.extensions["engagement"].sessions) as session:
        committees.follow(session, followed, fan, utcnow())
    soon = event(app, "Tuesday meeting", mine, read, timedelta(days=2))
    later = event(app, "Canvassing in the market", mine, read, timedelta(days=9))
    past = event(app, "Last month's meeting", mine, read, -timedelta(days=30))
    elsewhere = event(app, "Lyon debate", theirs, read, timedelta(days=3))

    page = browser().get(f"/committees/{mine}").get_data(as_text=True)
    linked = re.findall(r'<a href="/events/([^"]+)">', page)
    assert linked == [soon, later]
    assert past not in page and elsewhere not in page
    assert followers_shown(page) == 2
    shown = text(page)
    assert "1 rue de Rivoli" in shown and "75001 Paris 1er Arrondissement" in shown
    assert "<p>We meet every Tuesday.</p><p>All welcome.</p>" in shown


def test_the_list_filters_by_department(app, browser):
    host = make_user(app, "host@example.org")
    paris = committee(app, "Paris Centre", host)
    lyon = committee(app, "Lyon Presqu'île", host, address=LYON)
    ajaccio = committee(app, "Ajaccio", host, address=AJACCIO)
    hidden = committee(app, "Paris Nord", host, approved=False)
    client = browser()

    everything = client.get("/committees").get_data(as_text=True)
    assert listed(everything) == {paris, lyon, ajaccio} and hidden not in everything
    assert "75001 Paris 1er Arrondissement" in everything and "1 follower" in everything
    assert listed(client.get("/committees?department=75").get_data(as_text=True)) == {paris}
    assert listed(client.get("/committees?department=69").get_data(as_text=True)) == {lyon}
    assert listed(client.get("/committees?department=2a").get_data(as_text=True)) == {ajaccio}
    assert listed(client.get("/committees?department=971").get_data(as_text=True)) == set()
    wrong = client.get("/committees?department=ZZ")
    assert wrong.status_code == 200 and listed(client.last_html) == set()
    assert "This is not a French department number." in client.last_html


def test_a_committee_named_like_the_proposal_form_gets_its_own_address(app, browser):
    host = make_user(app, "host@example.org")
    slug = committee(app, "New", host)
    assert slug != "new"
    assert browser().get(f"/committees/{slug}").status_code == 200
