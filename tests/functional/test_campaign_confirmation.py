"""A campaign cannot go out by accident: no audience is chosen for the organizer, the first post only
keeps a draft, the preview is the mail one real recipient receives, a test goes to the organizer
only, and only the deliberate confirmation of the exact number queues it, once. Scheduled ones
wait (cancellable) and leave when due; organizers only reach the audiences of their scopes."""

from __future__ import annotations

import html as markup
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from engagement.accounts.models import User
from engagement.campaigns import drafts
from engagement.campaigns.models import Campaign
from engagement.db import transaction, utcnow
from engagement.mail import service as mail
from engagement.mail.models import MailMessage
from engagement.outbox import InProcessRelay, OutboxMessage
from tests.functional.campaign_steps import (
    PARIS,
    THIAIS,
    campaign_id,
    committee,
    compose,
    confirm,
    draft_id,
    finished,
    members,
    messages,
)
from tests.functional.helpers import count, field_error, text
from tests.functional.invitation_steps import log_in, make_user

ORGANIZER = "orga@example.org"
PARIS_TIME = ZoneInfo("Europe/Paris")
BODY = "Bonjour {{ first_name }} {{last_name}},\r\n\r\nOn se retrouve samedi."


@pytest.fixture
def organizer(app, client):
    make_user(app, ORGANIZER, role="organizer", first_name="Olivia", last_name="Orga")
    log_in(client, ORGANIZER)
    client.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def people(app):
    """Ana and Ben in Paris, Cléo in Thiais; the committee "Paris Est" hosted by Ana, followed by Cléo."""
    ids = members(app, ("ana@example.net", PARIS), ("ben@example.net", PARIS), ("cleo@example.net", THIAIS))
    return {"ids": ids, "committee": committee(app, "Paris Est", ids[0], ids[2])}


def queued(factory) -> tuple[int, int, int]:
    """(campaigns past the draft, campaign outbox rows, campaign messages): what has left the draft."""
    with factory() as session:
        return (count(session, Campaign, Campaign.status.not_in(("draft",))),
                count(session, OutboxMessage, OutboxMessage.topic.like("campaign%")),
                count(session, MailMessage, MailMessage.campaign_id.is_not(None)))


def preview_text(page: str) -> str:
    found = re.search(r'<div class="mail-body" data-testid="preview-text">(.*?)</div>', page, re.S)
    assert found, text(page)[:2000]
    return markup.unescape(found.group(1))


def paris(moment) -> str:
    return moment.astimezone(PARIS_TIME).strftime("%Y-%m-%dT%H:%M")


def test_no_audience_is_chosen_and_the_first_post_queues_nothing(organizer, people, factory):
    organizer.get("/organizer/campaigns/new")
    page = organizer.last_html
    select_html = re.search(r'<select[^>]*name="audience".*?</select>', page, re.S).group(0)
    assert re.search(r'<option selected value="">|<option value="" selected>', select_html)
    assert "selected" not in select_html.replace('value="" selected', "").replace('selected value=""', "")
    assert 'value="all"' in select_html and 'value="department:75"' in select_html
    assert 'value="send"' not in page  # no way to send from the compose page
    response = compose(organizer, audience="", body=BODY)
    assert response.status_code == 422 and field_error(organizer.last_html, "audience")
    assert queued(factory) == (0, 0, 0)
    number = draft_id(compose(organizer, audience="department", department="75", body=BODY))
    assert queued(factory) == (0, 0, 0)
    with factory() as session:
        row = session.get(Campaign, number)
        assert (row.status, row.audience, row.body) == ("draft", "department:75", BODY.replace("\r\n", "\n"))


def test_the_preview_is_the_mail_a_real_recipient_receives(app, organizer, people, factory):
    number = draft_id(compose(organizer, audience="department", department="75", body=BODY))
    organizer.get(f"/organizer/campaigns/{number}/preview")
    page = organizer.last_html
    shown = preview_text(page)
    assert shown.startswith("Bonjour Ana ,\n\nOn se retrouve samedi.")  # Ana's first name (her last is empty)
    assert mail.unsubscribe_link("ana@example.net", people["ids"][0]) in shown  # hers: it names her account too
    assert "Pour ne plus recevoir ces messages" in shown
    assert "ana@example.net" in text(page) and 'data-count="2"' in page
    assert queued(factory) == (0, 0, 0)
    sent = campaign_id(confirm(organizer, number))
    finished(factory, sent)
    with factory() as session:
        ana = session.scalar(select(MailMessage.id).where(MailMessage.campaign_id == sent,
                                                          MailMessage.audience_key == people["ids"][0]))
        ben = session.scalar(select(MailMessage.id).where(MailMessage.campaign_id == sent,
                                                          MailMessage.audience_key == people["ids"][1]))
        assert mail.one(session, ana).text_body == shown  # the very text the sending renders
        assert mail.one(session, ben).text_body.startswith("Bonjour Ben ,")


def test_a_test_goes_to_the_organizer_only_and_queues_nothing(organizer, people, factory):
    number = draft_id(compose(organizer, audience="department", department="75", body=BODY))
    with factory() as session:
        before = session.scalar(select(func.max(MailMessage.id))) or 0  # the committee's own mails
    organizer.get(f"/organizer/campaigns/{number}/preview")
    response = organizer.post(f"/organizer/campaigns/{number}/test", {})
    assert response.status_code == 303 and response.headers["Location"] == f"/organizer/campaigns/{number}/preview"
    with factory() as session:
        tests = list(session.scalars(select(MailMessage).where(MailMessage.id > before)))
        assert [m.to for m in tests] == [[ORGANIZER]] and tests[0].campaign_id is None
        assert tests[0].subject == "[Test] Nouvelles du mouvement"
        assert tests[0].text_body.startswith("Bonjour Olivia Orga,")
        row = session.get(Campaign, number)
        assert (row.status, row.tests) == ("draft", 1) and row.tested_at is not None
    assert queued(factory) == (0, 0, 0)
    organizer.get(f"/organizer/campaigns/{number}/preview")
    assert "A test was sent to your address" in text(organizer.last_html) and "1 test sent" in organizer.last_html
    for _ in range(5):  # five every ten minutes
        organizer.get(f"/organizer/campaigns/{number}/preview")
        organizer.post(f"/organizer/campaigns/{number}/test", {})
    organizer.get(f"/organizer/campaigns/{number}/preview")
    assert "many tests" in organizer.last_html
    with factory() as session:
        assert count(session, MailMessage, MailMessage.id > before) == 5


def test_the_confirmation_states_the_exact_count_and_only_its_post_queues_once(organizer, people, factory):
    number = draft_id(compose(organizer, audience="department", department="75"))
    page = organizer.get(f"/organizer/campaigns/{number}/confirm")
    html = text(organizer.last_html)
    assert page.status_code == 200 and 'data-count="2"' in html
    assert "Send to 2 people" in html and "Yes, send this message to the 2 people in “Department: Paris (75)”." in html
    assert queued(factory) == (0, 0, 0)  # a GET never queues
    unticked = organizer.post(f"/organizer/campaigns/{number}/confirm", {"audience": "department:75", "send_at": ""})
    assert unticked.status_code == 422 and field_error(organizer.last_html, "confirm")
    organizer.get(f"/organizer/campaigns/{number}/confirm")  # another tab changes the audience, then this one posts
    organizer.post(f"/organizer/campaigns/{number}/edit", {"audience": "department:94", "subject": "Nouvelles",
                                                          "body": "Bonjour", "sender_name": ""},
                   f"/organizer/campaigns/{number}/edit")
    stale = organizer.post(f"/organizer/campaigns/{number}/confirm", {"audience": "department:75", "confirm": "y",
                                                                       "send_at": ""},
                           f"/organizer/campaigns/{number}/confirm")
    assert stale.status_code == 409 and "was changed since this page was shown" in organizer.last_html
    assert "1 person" in text(organizer.last_html) and "Department: Val-de-Marne (94)" in text(organizer.last_html)
    assert queued(factory) == (0, 0, 0)
    organizer.post(f"/organizer/campaigns/{number}/edit", {"audience": "department:75", "subject": "Nouvelles",
                                                          "body": "Bonjour", "sender_name": ""},
                   f"/organizer/campaigns/{number}/edit")
    organizer.get(f"/organizer/campaigns/{number}/confirm")
    form_page, data = organizer.last_html, {"audience": "department:75", "confirm": "y", "send_at": ""}
    first = organizer.post(f"/organizer/campaigns/{number}/confirm", data)
    assert campaign_id(first) == number
    again = organizer.post(f"/organizer/campaigns/{number}/confirm", data, form_page)  # a double click
    assert again.status_code == 303 and again.headers["Location"] == f"/organizer/campaigns/{number}"
    finished(factory, number)
    assert messages(factory, number) == {"ana@example.net": "sent", "ben@example.net": "sent"}
    with factory() as session:
        assert count(session, OutboxMessage, OutboxMessage.topic == "campaign.expand") == 1
        assert session.get(Campaign, number).recipients == 2


def test_a_draft_is_edited_without_losing_its_text(organizer, people, factory):
    number = draft_id(compose(organizer, audience="committee", committee=people["committee"], body=BODY))
    organizer.get(f"/organizer/campaigns/{number}/edit")
    page = organizer.last_html
    assert "On se retrouve samedi." in page
    assert f'<option selected value="committee:{people["committee"]}">' in page
    again = organizer.post(f"/organizer/campaigns/{number}/edit", {
        "audience": "department:94", "subject": "Autre objet", "body": "Nouveau texte", "sender_name": ""})
    assert draft_id(again) == number
    with factory() as session:
        row = session.get(Campaign, number)
        assert (row.audience, row.subject, row.body, row.status) == ("department:94", "Autre objet",
                                                                    "Nouveau texte", "draft")
        assert count(session, Campaign) == 1
    campaign_id(confirm(organizer, number))
    assert organizer.get(f"/organizer/campaigns/{number}/edit").status_code == 303  # no longer a draft


def test_a_scheduled_campaign_waits_and_is_cancelled_before_it_starts(app, organizer, people, factory):
    number = draft_id(compose(organizer, audience="department", department="75"))
    organizer.get(f"/organizer/campaigns/{number}/confirm")
    past = organizer.post(f"/organizer/campaigns/{number}/confirm", {
        "audience": "department:75", "confirm": "y", "schedule": "y", "send_at": paris(utcnow() - timedelta(hours=1))})
    assert past.status_code == 422 and field_error(organizer.last_html, "send_at")
    when = (utcnow() + timedelta(days=2)).replace(second=0, microsecond=0)
    organizer.get(f"/organizer/campaigns/{number}/confirm")
    response = organizer.post(f"/organizer/campaigns/{number}/confirm", {
        "audience": "department:75", "confirm": "y", "schedule": "y", "send_at": paris(when)})
    assert campaign_id(response) == number
    with factory() as session:
        row = session.get(Campaign, number)
        assert (row.status, row.scheduled_at) == ("scheduled", when)
    assert queued(factory) == (1, 0, 0)  # scheduled: no outbox row, no message
    organizer.get(f"/organizer/campaigns/{number}")
    assert 'data-testid="scheduled"' in organizer.last_html and 'data-testid="cancel"' in organizer.last_html
    assert 'http-equiv="refresh"' not in organizer.last_html
    organizer.post(f"/organizer/campaigns/{number}/cancel", {"confirm": "y"})
    organizer.get(f"/organizer/campaigns/{number}")
    assert "it will not be sent" in organizer.last_html
    page = organizer.last_html
    assert 'data-testid="progress"' not in page and 'data-testid="scheduled-at"' not in page
    assert drafts.start_due(app.extensions["engagement"].sessions, when + timedelta(minutes=1)) == 0
    with factory() as session:
        assert session.get(Campaign, number).status == "cancelled"
        assert count(session, MailMessage, MailMessage.campaign_id.is_not(None)) == 0


def test_a_scheduled_campaign_goes_out_when_due(app, organizer, people, factory):
    number = draft_id(compose(organizer, audience="department", department="75"))
    when = (utcnow() + timedelta(hours=3)).replace(second=0, microsecond=0)
    campaign_id(confirm(organizer, number, schedule="y", send_at=paris(when)))
    sessions = app.extensions["engagement"].sessions
    assert drafts.start_due(sessions, when - timedelta(minutes=1)) == 0
    assert drafts.start_due(sessions, when) == 1
    assert drafts.start_due(sessions, when + timedelta(minutes=1)) == 0  # once
    finished(factory, number)
    assert messages(factory, number) == {"ana@example.net": "sent", "ben@example.net": "sent"}


def test_the_command_starts_the_due_campaigns(app, organizer, people, factory, monkeypatch):
    from click.testing import CliRunner

    from web.cli import campaigns, main

    number = draft_id(compose(organizer, audience="department", department="94"))
    campaign_id(confirm(organizer, number, schedule="y", send_at=paris(utcnow() + timedelta(minutes=5))))
    InProcessRelay.drain()  # the background work the pages queued holds SQLite's one writer lock meanwhile
    with factory() as session:
        row = session.get(Campaign, number)
        row.scheduled_at = utcnow() - timedelta(minutes=1)
        session.commit()
    monkeypatch.setattr(campaigns, "_core", lambda: app.extensions["engagement"])
    result = CliRunner().invoke(main, ["campaign", "start-due"])
    assert result.exit_code == 0 and "1 scheduled campaign(s) started" in result.output
    finished(factory, number)
    assert messages(factory, number) == {"cleo@example.net": "sent"}


def test_an_organizer_reaches_only_the_audiences_of_their_scopes(app, organizer, people, new_client, factory):
    national = draft_id(compose(organizer, audience="all"))
    make_user(app, "host@example.org", role="organizer", scopes=(f"committee:{people['committee']}",))
    host = new_client()
    log_in(host, "host@example.org")
    host.get("/organizer/campaigns/new")
    offered = re.findall(r'<option[^>]*value="([^"]*)"', re.search(
        r'<select[^>]*name="audience".*?</select>', host.last_html, re.S).group(0))
    assert offered == ["", f"committee:{people['committee']}"]
    refused = compose(host, audience="all")
    assert refused.status_code == 422 and field_error(host.last_html, "audience")
    for url in (f"/organizer/campaigns/{national}/preview", f"/organizer/campaigns/{national}/confirm",
                f"/organizer/campaigns/{national}/edit", f"/organizer/campaigns/{national}"):
        assert host.get(url).status_code == 403, url
    host.get("/organizer/campaigns/new")
    assert host.post(f"/organizer/campaigns/{national}/confirm", {"audience": "all", "confirm": "y"}).status_code == 403
    assert host.post(f"/organizer/campaigns/{national}/test", {}).status_code == 403
    host.get("/organizer/campaigns")
    assert f'data-campaign="{national}"' not in host.last_html
    own = draft_id(compose(host, audience="committee", committee=people["committee"]))
    campaign_id(confirm(host, own))
    assert queued(factory)[0] == 1


def test_merge_fields_fill_the_subject_too_and_an_unknown_one_there_is_refused(organizer, people, factory):
    response = compose(organizer, audience="department", department="75", body=BODY,
                       subject="{{ prenom }}, on compte sur vous")
    assert response.status_code == 422 and field_error(organizer.last_html, "subject")
    number = draft_id(compose(organizer, audience="department", department="75", body=BODY,
                              subject="{{ first_name }}, on compte sur vous"))
    organizer.get(f"/organizer/campaigns/{number}/preview")
    assert "Ana, on compte sur vous" in organizer.last_html
    organizer.post(f"/organizer/campaigns/{number}/test", {})
    sent = campaign_id(confirm(organizer, number))
    finished(factory, sent)
    with factory() as session:
        subjects = {m.subject for m in mail.recent(session, 10)}
    assert {"Ana, on compte sur vous", "Ben, on compte sur vous",
            "[Test] Olivia, on compte sur vous"} <= subjects


def test_a_test_to_an_address_no_mail_reaches_says_so_and_sends_nothing(app, client, people, factory):
    user_id = make_user(app, "orga@demo.example.org", role="organizer", first_name="Olivia")
    with transaction(app.extensions["engagement"].sessions) as session:  # an account from before the address rule
        session.execute(update(User).where(User.id == user_id).values(email="orga@demo.invalid"))  # reserved domain
    log_in(client, "orga@demo.invalid")
    client.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    number = draft_id(compose(client, audience="department", department="75", body=BODY))
    with factory() as session:
        before = count(session, MailMessage)
    client.get(f"/organizer/campaigns/{number}/preview")
    response = client.post(f"/organizer/campaigns/{number}/test", {})
    assert response.status_code == 303
    client.get(f"/organizer/campaigns/{number}/preview")
    assert "cannot receive mail: no test was sent" in text(client.last_html)
    with factory() as session:
        assert count(session, MailMessage) == before and session.get(Campaign, number).tests == 0
