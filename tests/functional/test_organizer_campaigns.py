"""Organizers write campaigns (compose, preview, confirm), follow their progress and recipients, and cancel them.

The steps that keep a campaign from leaving by accident are in test_campaign_confirmation.py."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engagement.campaigns import service
from engagement.campaigns.models import Campaign
from engagement.db import transaction, utcnow
from engagement.mail import suppression
from engagement.outbox import OutboxMessage
from tests.functional.campaign_steps import (
    PARIS,
    THIAIS,
    campaign_id,
    committee,
    draft_id,
    finished,
    members,
    messages,
    write,
)
from tests.functional.helpers import count, field_error, text
from tests.functional.invitation_steps import log_in, make_user
from web.organizer import compose as compose_views

ORGANIZER = "orga@example.org"


@pytest.fixture
def organizer(app, client):
    make_user(app, ORGANIZER, role="organizer", first_name="Olivia", last_name="Orga")
    log_in(client, ORGANIZER)
    client.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the messages checked below, once translated
    return client


@pytest.fixture
def people(app):
    """Two members in Paris, one in Thiais; the committee "Paris Est" is hosted by the first and
    followed by the one in Thiais."""
    ids = members(app, ("ana@example.net", PARIS), ("ben@example.net", PARIS), ("cleo@example.net", THIAIS))
    return {"ids": ids, "committee": committee(app, "Paris Est", ids[0], ids[2])}


def unsent(factory, audience: str = "all", subject: str = "En attente") -> int:
    """A campaign queued outside the app: its outbox row is never relayed, so it waits (to be cancelled)."""
    with transaction(factory) as session:
        return service.create(session, audience=audience, subject=subject, body="Texte", author=None,
                              now=utcnow()).id


# --- who may ---------------------------------------------------------------------------------------

def test_anonymous_visitors_are_sent_to_log_in_and_members_are_refused(app, client, new_client, factory):
    number = unsent(factory)
    urls = ["/organizer/campaigns", "/organizer/campaigns/new", f"/organizer/campaigns/{number}",
            f"/organizer/campaigns/{number}/progress.json"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    make_user(app, "member@example.org")
    member = new_client()
    log_in(member, "member@example.org")
    for url in urls:
        assert member.get(url).status_code == 403, url
    member.get("/account")
    assert member.post(f"/organizer/campaigns/{number}/cancel", {"confirm": "y"}).status_code == 403
    with factory() as session:
        assert session.get(Campaign, number).status == "queued"


def test_the_organizer_area_links_to_the_campaigns(organizer):
    organizer.get("/organizer/")
    assert 'href="/organizer/campaigns"' in organizer.last_html


# --- writing and sending ---------------------------------------------------------------------------

def test_the_preview_counts_the_audience_and_shows_the_message_as_it_arrives(organizer, people, factory):
    number = draft_id(write(organizer, "preview", audience="department", department="75"))
    page = organizer.get(f"/organizer/campaigns/{number}/preview")
    html = text(organizer.last_html)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert re.search(r'data-testid="recipients" data-count="2"', html)
    preview = re.search(r'<div class="mail-body" data-testid="preview-text">(.*?)</div>', html, re.S).group(1)
    assert "On se retrouve samedi." in preview and "/unsubscribe/" in preview
    assert "Olivia Orga (via Engagement)" in html and "Nouvelles du mouvement" in html
    with factory() as session:
        assert session.get(Campaign, number).status == "draft"
        assert count(session, OutboxMessage, OutboxMessage.topic.like("campaign%")) == 0


def test_the_preview_counts_a_committee_and_everyone(organizer, people):
    number = draft_id(write(organizer, "preview", audience="committee", committee=people["committee"]))
    organizer.get(f"/organizer/campaigns/{number}/preview")
    assert 'data-count="2"' in organizer.last_html  # its host and its follower
    number = draft_id(write(organizer, "preview", audience="all"))
    organizer.get(f"/organizer/campaigns/{number}/preview")
    assert 'data-count="3"' in organizer.last_html  # the three members: the organizer did not ask for the newsletter


def test_a_campaign_to_a_department_is_sent_and_its_page_follows_it(organizer, people, factory):
    response = write(organizer, audience="department", department="75", subject="Paris : réunion")
    number = campaign_id(response)
    page = organizer.get(f"/organizer/campaigns/{number}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = text(organizer.last_html)
    assert "Paris : réunion" in html and "<progress max=\"100\"" in html and "Olivia Orga" in html
    finished(factory, number)
    assert messages(factory, number) == {"ana@example.net": "sent", "ben@example.net": "sent"}
    organizer.get(f"/organizer/campaigns/{number}")
    html = text(organizer.last_html)
    assert 'http-equiv="refresh"' not in html and 'data-testid="cancel"' not in html
    assert re.search(r'<progress max="100" value="100"', html)
    assert re.search(r"<strong data-final>2</strong> / <span data-total>2</span>", html)
    assert re.search(r'data-status-count="sent">2<', html) and 'data-status="done"' in html
    organizer.get("/organizer/campaigns")
    row = re.search(rf'<tr data-campaign="{number}">.*?</tr>', organizer.last_html, re.S).group(0)
    assert "Paris : réunion" in text(row) and 'data-percent="100"' in row


def test_a_campaign_to_a_committee_reaches_its_members_only(organizer, people, factory):
    number = campaign_id(write(organizer, audience="committee", committee=people["committee"]))
    finished(factory, number)
    assert messages(factory, number) == {"ana@example.net": "sent", "cleo@example.net": "sent"}
    with factory() as session:
        row = session.get(Campaign, number)
        assert (row.audience, row.sender_name, row.body) == (
            f"committee:{people['committee']}", "Olivia Orga", "Bonjour,\n\nOn se retrouve samedi.")


def test_a_campaign_to_everyone_reaches_every_member_who_asked_for_the_newsletter(organizer, people, factory):
    number = campaign_id(write(organizer, audience="all"))
    finished(factory, number)
    assert set(messages(factory, number)) == {"ana@example.net", "ben@example.net", "cleo@example.net"}


def test_an_unfinished_campaign_refreshes_itself_and_offers_to_cancel(organizer, people, factory):
    number = unsent(factory)
    organizer.get(f"/organizer/campaigns/{number}")
    html = organizer.last_html
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in html
    assert 'data-testid="cancel"' in html and 'src="/static/js/campaigns.js"' in html
    assert "<script>" not in html  # no inline script: the page runs under a CSP without unsafe-inline


def test_progress_is_also_given_as_json(organizer, people, factory):
    number = campaign_id(write(organizer, audience="department", department="94"))
    finished(factory, number)
    response = organizer.get(f"/organizer/campaigns/{number}/progress.json")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    data = response.get_json()
    assert data["campaign"] == number and data["finished"] and data["percent"] == 100
    assert data["recipients"] == 1 and data["statuses"]["sent"] == 1
    assert organizer.get("/organizer/campaigns/999999/progress.json").status_code == 404


# --- mistakes --------------------------------------------------------------------------------------

def test_validation_errors_are_shown_next_to_their_input_and_nothing_is_lost(organizer, people, factory):
    response = write(organizer, audience="committee", committee="", subject="  ", body="Mon texte à garder")
    page = organizer.last_html
    assert response.status_code == 422
    assert field_error(page, "audience") and field_error(page, "subject")
    assert "Mon texte à garder" in text(page)
    write(organizer, audience="department", department="20")  # no such code: Corsica is 2A and 2B
    assert field_error(organizer.last_html, "audience")
    write(organizer, body="x" * 20_001)
    assert field_error(organizer.last_html, "body")
    write(organizer, body="Bonjour {{ prenom }}")
    assert "first_name" in field_error(organizer.last_html, "body")
    with factory() as session:
        assert count(session, Campaign) == 0


def test_a_subject_longer_than_mailjet_accepts_is_refused_at_the_form(organizer, people, factory):
    response = write(organizer, subject="Une très longue histoire " * 12)  # 300 characters: Mailjet takes 255
    assert response.status_code == 422
    assert field_error(organizer.last_html, "subject") == "At most 200 characters."
    with factory() as session:
        assert count(session, Campaign) == 0


def test_a_refusal_of_the_core_is_shown_at_its_field(organizer, people, factory, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise service.CampaignError("subject", "a subject of 1 to 200 characters")

    monkeypatch.setattr(compose_views.drafts, "save", refuse)
    response = write(organizer, subject="Sujet gardé")
    assert response.status_code == 422
    assert field_error(organizer.last_html, "subject") and 'value="Sujet gardé"' in text(organizer.last_html)


def test_sending_is_limited_to_ten_campaigns_an_hour(organizer, people, factory):
    for i in range(10):
        campaign_id(write(organizer, audience="department", department="94", subject=f"Numéro {i}"))
    response = write(organizer, audience="department", department="94", subject="Une de trop")
    assert response.status_code == 429
    page = text(organizer.last_html)
    assert "wait" in page and "Une de trop" in page  # said kindly, and the draft is kept
    with factory() as session:
        assert count(session, Campaign, Campaign.status != "draft") == 10
        assert session.scalar(select(Campaign.status).where(Campaign.subject == "Une de trop")) == "draft"


# --- recipients and cancelling ---------------------------------------------------------------------

def test_recipients_are_listed_by_page_and_filtered_by_status(app, organizer, factory):
    members(app, *((f"m{i:02d}@example.net", THIAIS) for i in range(54)))
    with transaction(factory) as session:
        suppression.suppress(session, "m03@example.net", "unsubscribed", "link", utcnow())
    number = campaign_id(write(organizer, audience="department", department="94"))
    finished(factory, number)
    organizer.get(f"/organizer/campaigns/{number}")
    first = re.findall(r'<tr data-key="(\d+)" data-status="(\w+)">', organizer.last_html)
    assert len(first) == 50
    following = re.search(r'href="([^"]*after=\d+[^"]*)" rel="next"', organizer.last_html).group(1)
    organizer.get(following.replace("&amp;", "&"))
    second = re.findall(r'<tr data-key="(\d+)" data-status="(\w+)">', organizer.last_html)
    assert len(second) == 4 and int(second[0][0]) > int(first[-1][0])
    assert 'rel="next"' not in organizer.last_html
    organizer.get(f"/organizer/campaigns/{number}?status=suppressed")
    rows = re.findall(r'<tr data-key="\d+" data-status="(\w+)">\s*<td>([^<]+)</td>', organizer.last_html)
    assert rows == [("suppressed", "m03@example.net")]
    assert "suppression list" in organizer.last_html  # the reason is shown


def test_cancelling_needs_the_confirmation_then_stops_what_is_not_sent(organizer, people, factory):
    number = unsent(factory)
    service.expand(factory, {"campaign": number})  # its recipients written, none sent (nothing relays them)
    forged = organizer.client.post(f"/organizer/campaigns/{number}/cancel", data={"confirm": "y"})
    assert forged.status_code == 400  # no CSRF token: refused
    organizer.get(f"/organizer/campaigns/{number}")
    response = organizer.post(f"/organizer/campaigns/{number}/cancel", {})
    assert response.status_code == 303
    with factory() as session:
        assert session.get(Campaign, number).status == "sending"
    organizer.get(f"/organizer/campaigns/{number}")
    assert "Tick the box" in organizer.last_html
    response = organizer.post(f"/organizer/campaigns/{number}/cancel", {"confirm": "y"})
    assert response.status_code == 303 and response.headers["Location"] == f"/organizer/campaigns/{number}"
    assert set(messages(factory, number).values()) == {"cancelled"}
    with factory() as session:
        row = session.get(Campaign, number)
        assert row.status == "cancelled" and row.finished_at is not None
    organizer.get(f"/organizer/campaigns/{number}")
    html = organizer.last_html
    assert "3 messages will not be sent" in html and 'data-testid="cancel"' not in html
    assert 'data-status="cancelled"' in html and 'http-equiv="refresh"' not in html
    organizer.post(f"/organizer/campaigns/{number}/cancel", {"confirm": "y"})
    organizer.get(f"/organizer/campaigns/{number}")
    assert "already finished" in organizer.last_html


def test_the_list_is_newest_first_by_pages_of_fifty(organizer, factory):
    numbers = [unsent(factory, subject=f"Campagne {i}") for i in range(52)]
    organizer.get("/organizer/campaigns")
    shown = [int(n) for n in re.findall(r'<tr data-campaign="(\d+)">', organizer.last_html)]
    assert shown == numbers[::-1][:50]
    older = re.search(r'href="([^"]+)" rel="next"', organizer.last_html).group(1)
    organizer.get(older)
    assert [int(n) for n in re.findall(r'<tr data-campaign="(\d+)">', organizer.last_html)] == numbers[1::-1]
    with factory() as session:
        assert session.scalars(select(Campaign.status)).all() == ["queued"] * 52
