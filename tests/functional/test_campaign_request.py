"""The organizer's confirmation does not grow with the audience (issue #24): its post writes the campaign and
its outbox row and counts nobody; the expansion counts the recipients, and the campaign's page says "being
counted" until then, the number after. Before confirming, the organizer is told the exact size of a small
audience and an estimate of a large one, never from a count of the whole audience."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select

from engagement.campaigns import drafts, lists, service
from engagement.campaigns.models import Campaign
from engagement.mail.models import MailMessage
from engagement.outbox import OutboxMessage
from tests.conftest import FormClient
from tests.functional.campaign_steps import PARIS, compose, draft_id, members
from tests.functional.conftest import CheckedClient
from tests.functional.helpers import count, text
from tests.functional.invitation_steps import log_in, make_user

ORGANIZER = "orga@example.org"


class Held:
    """A relay that delivers nothing: the test runs the expansion itself, when it chooses."""

    handed: list[int] = []

    def __init__(self, _factory: Any) -> None:
        pass

    def __call__(self, ids: list[int], queue: str = "transactional", detached: bool = False) -> None:
        Held.handed.extend(ids)


@pytest.fixture
def held_app(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import web.app

    monkeypatch.setattr(web.app, "relay_factory", lambda _settings: Held)
    Held.handed = []
    app = web.app.create_app(settings)
    yield app
    app.extensions["engagement"].engine.dispose()


@pytest.fixture
def organizer(held_app: Any) -> CheckedClient:
    make_user(held_app, ORGANIZER, role="organizer", first_name="Olivia", last_name="Orga")
    client = CheckedClient(FormClient(held_app.test_client()))
    client.client.environ_base["REMOTE_ADDR"] = "10.24.4.1"
    log_in(client, ORGANIZER)
    return client


@pytest.fixture
def paris(held_app: Any) -> list[int]:
    return members(held_app, ("ana@example.net", PARIS), ("ben@example.net", PARIS))


def statements_of(app: Any, action: Any) -> tuple[Any, list[str]]:
    """What ``action`` returns, and every SQL statement it sent."""
    sent: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        sent.append(" ".join(statement.split()).lower())

    engine = app.extensions["engagement"].engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        return action(), sent
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def test_the_confirmation_post_counts_nobody_and_queues_the_campaign_once(held_app, organizer, paris, factory):
    number = draft_id(compose(organizer, audience="department:75"))
    organizer.get(f"/organizer/campaigns/{number}/confirm")
    data = {"audience": organizer.hidden("audience"), "confirm": "y", "send_at": ""}
    url = f"/organizer/campaigns/{number}/confirm"
    response, sent = statements_of(held_app, lambda: organizer.post(url, data))
    assert response.status_code == 303 and response.headers["Location"] == f"/organizer/campaigns/{number}"
    assert not [s for s in sent if "count(" in s], sent  # nothing counted, bounded or not
    audience_reads = [s for s in sent if "users.department = " in s]  # the audience's members
    assert len(audience_reads) == 1 and " limit " in audience_reads[0]  # one row at most: is anyone in it?
    with factory() as session:
        row = session.get(Campaign, number)
        assert (row.status, row.recipients, row.counted_at) == ("queued", 0, None)
        expand_rows = list(session.scalars(select(OutboxMessage.id).where(OutboxMessage.topic == "campaign.expand")))
        assert len(expand_rows) == 1 and expand_rows[0] in Held.handed
        assert count(session, MailMessage, MailMessage.campaign_id == number) == 0


def test_the_page_says_being_counted_until_the_expansion_counts_then_the_number(held_app, organizer, paris,
                                                                                factory):
    number = draft_id(compose(organizer, audience="department:75"))
    organizer.get(f"/organizer/campaigns/{number}/confirm")
    organizer.post(f"/organizer/campaigns/{number}/confirm",
                   {"audience": organizer.hidden("audience"), "confirm": "y", "send_at": ""})
    organizer.get(f"/organizer/campaigns/{number}")
    assert 'data-counted="false">en cours de calcul</dd>' in organizer.last_html
    assert "<span data-total>en cours de calcul</span>" in organizer.last_html
    assert organizer.get(f"/organizer/campaigns/{number}/progress.json").get_json()["counted"] is False
    sessions = held_app.extensions["engagement"].sessions
    service.expand(sessions, {"campaign": number})
    service.expand(sessions, {"campaign": number})  # retried, or a second worker: nobody is written twice
    organizer.get(f"/organizer/campaigns/{number}")
    shown = re.search(r'<dd data-testid="recipients" data-counted="true">(.*?)</dd>', organizer.last_html)
    assert shown and shown.group(1) == "2" and "<span data-total>2</span>" in organizer.last_html
    progress = organizer.get(f"/organizer/campaigns/{number}/progress.json").get_json()
    assert (progress["counted"], progress["recipients"]) == (True, 2)
    with factory() as session:
        assert session.get(Campaign, number).recipients == 2
        assert session.scalar(select(func.count(func.distinct(MailMessage.audience_key))).where(
            MailMessage.campaign_id == number)) == count(session, MailMessage, MailMessage.campaign_id == number) == 2


def test_a_large_audience_is_estimated_never_counted_whole(held_app, organizer, paris, factory, monkeypatch):
    monkeypatch.setattr(drafts, "EXACT_UP_TO", 1)  # two members are "many"
    number = draft_id(compose(organizer, audience="department:75"))
    organizer.get(f"/organizer/campaigns/{number}/confirm")
    assert 'data-size="over"' in organizer.last_html and "plus de 1 personnes" in text(organizer.last_html)
    assert 'data-testid="estimate"' in organizer.last_html
    lists.build(held_app.extensions["engagement"].sessions, lists.department_key("75"))
    organizer.get(f"/organizer/campaigns/{number}/confirm")
    page = text(organizer.last_html)
    assert 'data-size="about"' in organizer.last_html and "Envoyer à environ 2 personnes" in page
    assert "Oui, envoyer ce message à tout le public" in page
    response = organizer.post(f"/organizer/campaigns/{number}/confirm",
                              {"audience": organizer.hidden("audience"), "confirm": "y", "send_at": ""})
    assert response.status_code == 303


def test_a_post_without_the_audience_shown_queues_nothing(held_app, organizer, paris, factory):
    number = draft_id(compose(organizer, audience="department:75"))
    organizer.get(f"/organizer/campaigns/{number}/confirm")
    response = organizer.post(f"/organizer/campaigns/{number}/confirm", {"confirm": "y", "send_at": ""})
    assert response.status_code == 409
    with factory() as session:
        assert session.get(Campaign, number).status == "draft"
        assert count(session, OutboxMessage, OutboxMessage.topic == "campaign.expand") == 0
