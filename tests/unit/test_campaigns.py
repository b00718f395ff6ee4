"""Campaigns: queued in one small transaction, expanded page by page (resumable), each recipient
sent exactly once through the real Mailjet client against the loopback fake."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from engagement import outbox
from engagement.accounts.models import User
from engagement.campaigns import audiences, messages, service
from engagement.campaigns.models import Campaign
from engagement.committees.models import Committee, CommitteeMembership
from engagement.config import load_settings
from engagement.core import Core, bootstrap
from engagement.db import Base, transaction, utcnow
from engagement.events.models import Event, EventRegistration
from engagement.mail import service as mail
from engagement.mail import suppression
from engagement.mail.mailjet import custom_id
from engagement.mail.models import MailMessage
from engagement.outbox import OutboxMessage
from tests.fakes.mailjet import FakeMailjet

PARIS = {"street": "1 rue de Rivoli", "postal_code": "75001", "city": "75101", "city_name": "Paris 1er",
         "country": "FR"}
LYON = {"street": "1 place Bellecour", "postal_code": "69002", "city": "69382", "city_name": "Lyon 2e",
        "country": "FR"}


class Recorder:
    """A relay that only records what it is handed: the test delivers rows itself, in order."""

    def __init__(self, _factory: Any) -> None:
        self.handed: list[tuple[list[int], str]] = []

    def __call__(self, ids: list[int], queue: str = outbox.TRANSACTIONAL) -> None:
        self.handed.append((ids, queue))


@pytest.fixture
def fake() -> Iterator[FakeMailjet]:
    with FakeMailjet() as server:
        yield server


@pytest.fixture
def core(tmp_path: Path, fake: FakeMailjet) -> Iterator[Core]:
    settings = load_settings({
        "ENGAGEMENT_ENV": "test", "ENGAGEMENT_INSTANCE_DIR": str(tmp_path), "SECRET_KEY": "campaign-test-key",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'engagement.db'}", "MAIL_BACKEND": "mailjet",
        "MAILJET_API_KEY": fake.api_key, "MAILJET_API_SECRET": fake.api_secret, "MAILJET_API_URL": fake.url,
        "MAIL_CLAIM_LEASE": "3",
    })
    core = bootstrap(settings, Recorder)
    Base.metadata.create_all(core.engine)
    yield core
    core.engine.dispose()
    mail.configure("outbox", "Engagement <ne-pas-repondre@engagement.local>")


@pytest.fixture
def factory(core: Core) -> sessionmaker[Session]:
    return core.sessions


def members(factory: sessionmaker[Session], count: int, address: dict[str, str] = PARIS, prefix: str = "m",
            **extra: Any) -> list[int]:
    """Activated members who asked for the newsletter (so that ``all`` reaches them), unless ``extra`` says not."""
    extra = {"has_newsletter": True, **extra}
    with transaction(factory) as session:
        users = [User(email=f"{prefix}{n}@example.org", first_name="Camille", activated_at=utcnow(),
                      address=dict(address), **extra) for n in range(count)]
        session.add_all(users)
        session.flush()
        return [u.id for u in users]


def queue_campaign(factory: sessionmaker[Session], audience: str = "all", **extra: Any) -> int:
    with transaction(factory) as session:
        return service.create(session, audience=audience, subject="Samedi", body="Rendez-vous samedi.",
                              author=None, **extra).id


def run_outbox(factory: sessionmaker[Session], rounds: int = 50) -> int:
    """Deliver every pending row (and those they enqueue) until none is left; returns rows delivered."""
    done = 0
    for _ in range(rounds):
        with factory() as session:
            pending = [i for ids in outbox.pending(session).values() for i in ids]
        if not pending:
            return done
        for outbox_id in pending:
            try:
                done += outbox.deliver(factory, outbox_id)
            except Exception:  # a row owed a retry stays pending; the next round retries it
                continue
    raise AssertionError("the outbox never drained")


def campaign(factory: sessionmaker[Session], campaign_id: int) -> Campaign:
    with factory() as session:
        found = session.get(Campaign, campaign_id)
        assert found is not None
        session.expunge(found)
        return found


def statuses(factory: sessionmaker[Session], campaign_id: int) -> dict[str, int]:
    with factory() as session:
        return dict(session.execute(select(MailMessage.status, func.count()).where(
            MailMessage.campaign_id == campaign_id).group_by(MailMessage.status)).all())


def test_queueing_writes_the_campaign_and_one_outbox_row_on_the_campaigns_queue(core, factory):
    members(factory, 30)
    campaign_id = queue_campaign(factory)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(MailMessage)) == 0
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.topic.like("campaign.%"))).all()
    assert [(r.topic, r.payload) for r in rows] == [("campaign.expand", {"campaign": campaign_id})]
    assert core.relay.handed[-1] == ([rows[0].id], "campaigns")
    assert campaign(factory, campaign_id).recipients == 30


def test_every_recipient_gets_exactly_one_message_in_calls_of_fifty(factory, fake, monkeypatch):
    monkeypatch.setattr(service, "PAGE", 300)
    monkeypatch.setattr(service, "SLICE", 120)
    ids = members(factory, 1234)
    campaign_id = queue_campaign(factory)
    run_outbox(factory)
    assert sorted(fake.recipients()) == sorted(f"m{n}@example.org" for n in range(1234))
    with factory() as session:
        mail_ids = list(session.scalars(select(MailMessage.id).where(MailMessage.campaign_id == campaign_id)))
        keys = list(session.scalars(select(MailMessage.audience_key).where(MailMessage.campaign_id == campaign_id)))
        slices = session.scalar(select(func.count()).select_from(OutboxMessage)
                                .where(OutboxMessage.topic == "campaign.send"))
    assert sorted(keys) == sorted(ids)
    assert sorted(fake.custom_ids()) == sorted(custom_id(i) for i in mail_ids)
    assert fake.calls >= 1234 // 50 and all(len(m.get("To", [])) == 1 for m in fake.messages)
    assert slices == 4 * 3 + 1  # four pages of 300 (120 + 120 + 60), then one of 34
    finished = campaign(factory, campaign_id)
    assert (finished.status, finished.expanded, finished.cursor) == ("done", 1234, max(ids))
    assert statuses(factory, campaign_id) == {"sent": 1234}
    with factory() as session:
        figures = service.progress(session, finished)
    assert (figures["percent"], figures["final"], figures["finished"]) == (100, 1234, True)


def test_an_expansion_killed_midway_resumes_after_its_last_commit_without_duplicates(factory, fake, monkeypatch):
    monkeypatch.setattr(service, "PAGE", 100)
    members(factory, 450)
    campaign_id = queue_campaign(factory)
    real_page, calls = audiences.page, {"n": 0}

    def dying_page(*args: Any, **kwargs: Any) -> list[audiences.Recipient]:
        calls["n"] += 1
        if calls["n"] == 3:
            raise SystemExit("the worker was killed")  # not an Exception: nothing may catch it
        return real_page(*args, **kwargs)

    monkeypatch.setattr(audiences, "page", dying_page)
    with factory() as session:
        expand_row = session.scalar(select(OutboxMessage.id).where(OutboxMessage.topic == "campaign.expand"))
    with pytest.raises(SystemExit):
        outbox.deliver(factory, expand_row)
    assert campaign(factory, campaign_id).expanded == 200  # two pages committed, the third lost
    monkeypatch.setattr(audiences, "page", real_page)
    run_outbox(factory)
    assert sorted(fake.recipients()) == sorted(f"m{n}@example.org" for n in range(450))
    assert len(fake.messages) == 450
    assert campaign(factory, campaign_id).status == "done"


def test_rows_relayed_twice_send_nothing_twice(factory, fake, monkeypatch):
    monkeypatch.setattr(service, "SLICE", 40)
    members(factory, 130)
    campaign_id = queue_campaign(factory)
    run_outbox(factory)
    with transaction(factory) as session:  # every row relayed again, as after a lost acknowledgement
        session.execute(update(OutboxMessage).values(delivered_at=None))
    run_outbox(factory)
    assert len(fake.messages) == 130 == len(set(fake.custom_ids()))
    assert campaign(factory, campaign_id).expanded == 130


def test_a_slice_whose_call_timed_out_after_acceptance_is_reconciled_not_resent(factory, fake, monkeypatch):
    monkeypatch.setattr(service, "SLICE", 50)
    members(factory, 100)
    queue_campaign(factory)
    fake.fail_next("timeout_after")  # Mailjet accepts the first call but the answer is lost
    fake.timeout_seconds = 0.3
    mail._transport["mailjet"].timeout = 0.2
    run_outbox(factory)
    assert len(fake.messages) == 100 == len(set(fake.custom_ids()))


def test_suppressed_addresses_are_marked_at_expansion_and_never_sent(factory, fake):
    members(factory, 5)
    with transaction(factory) as session:
        suppression.suppress(session, "m1@example.org", "unsubscribed", "link", utcnow())
        suppression.suppress(session, "M3@example.org", "bounced", "mailjet", utcnow())
    campaign_id = queue_campaign(factory)
    run_outbox(factory)
    assert sorted(fake.recipients()) == ["m0@example.org", "m2@example.org", "m4@example.org"]
    assert statuses(factory, campaign_id) == {"sent": 3, "suppressed": 2}
    assert campaign(factory, campaign_id).status == "done"


def test_each_message_carries_its_recipients_own_unsubscribe_link(factory, fake):
    ids = dict(zip(("m0@example.org", "m1@example.org"), members(factory, 2), strict=True))
    queue_campaign(factory, sender_name="Claire Dupont")
    run_outbox(factory)
    by_recipient = {m["To"][0]["Email"]: m for m in fake.messages}
    for email, message in by_recipient.items():
        link = message["Headers"]["List-Unsubscribe"].strip("<>")
        assert message["Headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["TextPart"].startswith("Rendez-vous samedi.") and link in message["TextPart"]
        token, member = link.split("/unsubscribe/", 1)[1].split("/")  # the member's id: their newsletter too
        assert mail.read_unsubscribe(token) == suppression.digest(email) and int(member) == ids[email]
        assert message["From"]["Name"] == "Claire Dupont (via Engagement)"
        assert message["Subject"] == "Samedi"
    links = {m["Headers"]["List-Unsubscribe"] for m in fake.messages}
    assert len(links) == 2
    assert mail.read_unsubscribe(next(iter(links)).strip("<>").split("/")[-2][:-2] + "xx") is None


def test_a_cancelled_campaign_stops_writing_and_sending(factory, fake, monkeypatch):
    monkeypatch.setattr(service, "PAGE", 100)
    monkeypatch.setattr(service, "SLICE", 100)
    members(factory, 300)
    campaign_id = queue_campaign(factory)
    with factory() as session:
        expand_row = session.scalar(select(OutboxMessage.id).where(OutboxMessage.topic == "campaign.expand"))
    real_page, calls = audiences.page, {"n": 0}

    def stopped_after_one_page(*args: Any, **kwargs: Any) -> list[audiences.Recipient]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("the expanding worker is stopped between two pages")
        return real_page(*args, **kwargs)

    monkeypatch.setattr(audiences, "page", stopped_after_one_page)
    with pytest.raises(SystemExit):
        outbox.deliver(factory, expand_row)
    with transaction(factory) as session:  # the organizer presses "cancel" meanwhile
        assert service.cancel(session, session.get(Campaign, campaign_id), utcnow()) == 100
    monkeypatch.setattr(audiences, "page", real_page)
    run_outbox(factory)
    assert fake.messages == []
    assert statuses(factory, campaign_id) == {"cancelled": 100}  # the other 200 were never written
    stopped = campaign(factory, campaign_id)
    assert (stopped.status, stopped.finished_at is not None, stopped.expanded) == ("cancelled", True, 100)


@pytest.mark.parametrize(("audience", "field"), [
    ("everyone", "audience"), ("committee:nowhere", "audience"), ("department:20", "audience"),
    ("department:999", "audience"), ("event:nothing", "audience"), ("committee:", "audience"),
])
def test_an_audience_that_names_nothing_is_refused(factory, audience, field):
    with transaction(factory) as session, pytest.raises(service.CampaignError) as refused:
        service.create(session, audience=audience, subject="S", body="B", author=None)
    assert refused.value.field == field


@pytest.mark.parametrize(("subject", "body", "field"), [
    ("   ", "Un message.", "subject"), ("x" * 201, "Un message.", "subject"),
    ("Sujet", " \n ", "body"), ("Sujet", "x" * 20_001, "body"),
])
def test_an_empty_or_oversized_message_is_refused(factory, subject, body, field):
    with transaction(factory) as session, pytest.raises(service.CampaignError) as refused:
        service.create(session, audience="all", subject=subject, body=body, author=None)
    assert refused.value.field == field
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_audiences_take_active_confirmed_members_of_the_committee_department_or_event(factory):
    paris = members(factory, 3, PARIS, prefix="paris")
    lyon = members(factory, 2, LYON, prefix="lyon")
    members(factory, 1, PARIS, prefix="inactive", is_active=False)
    members(factory, 1, PARIS, prefix="quiet", has_newsletter=False)  # the movement's mail, not the newsletter
    with transaction(factory) as session:
        session.add(User(email="unconfirmed@example.org", address=dict(PARIS)))  # never activated
        committee = Committee(slug="lyon-centre", name="Lyon centre", address=dict(LYON), postal_code="69002",
                              status="approved")
        pending = Committee(slug="attente", name="En attente", address=dict(LYON), postal_code="69002")
        session.add_all([committee, pending])
        session.flush()
        session.add_all([CommitteeMembership(committee_id=committee.id, user_id=lyon[0], role="host"),
                         CommitteeMembership(committee_id=committee.id, user_id=paris[1])])
        event = Event(slug="meeting-lyon", name="Meeting", begins_at=utcnow() + timedelta(days=3),
                      ends_at=utcnow() + timedelta(days=3, hours=2), category="meeting", address=dict(LYON))
        session.add(event)
        session.flush()
        session.add_all([EventRegistration(event_id=event.id, email=f"guest{n}@example.org", first_name="A",
                                           last_name="B", status=status)
                         for n, status in enumerate(("registered", "waitlisted", "registered", "cancelled"))])
    with factory() as session:
        def emails(spec: str) -> list[str]:
            audience = audiences.parse(session, spec)
            found = audiences.page(session, audience, 0, 100)
            assert audiences.count(session, audience) == len(found)
            return sorted(r.email for r in found)

        assert emails("all") == sorted([*(f"paris{n}@example.org" for n in range(3)),
                                         *(f"lyon{n}@example.org" for n in range(2))])
        assert emails("department:75") == sorted([*(f"paris{n}@example.org" for n in range(3)), "quiet0@example.org"])
        assert emails("department:69") == ["lyon0@example.org", "lyon1@example.org"]
        assert emails("committee:lyon-centre") == ["lyon0@example.org", "paris1@example.org"]
        assert emails("event:meeting-lyon") == ["guest0@example.org", "guest2@example.org"]
        with pytest.raises(audiences.AudienceError):
            audiences.parse(session, "committee:attente")  # not approved
        assert audiences.parse(session, " Department:2a ").spec == "department:2A"


def test_pages_follow_the_key_so_an_interrupted_reader_resumes_exactly(factory):
    ids = members(factory, 25)
    with factory() as session:
        audience = audiences.parse(session, "all")
        first = audiences.page(session, audience, 0, 10)
        second = audiences.page(session, audience, first[-1].key, 10)
        rest = audiences.page(session, audience, second[-1].key, 10)
    assert [r.key for r in first + second + rest] == sorted(ids)


def test_merge_fields_are_filled_per_recipient_at_mailjet_and_for_event_registrants(factory, fake):
    with transaction(factory) as session:
        session.add_all([User(email="ana@example.org", first_name="Ana", last_name="Lopez", activated_at=utcnow(),
                              address=dict(PARIS), has_newsletter=True),
                         User(email="ben@example.org", first_name="Ben", activated_at=utcnow(), address=dict(PARIS),
                              has_newsletter=True)])
    with transaction(factory) as session:
        service.create(session, audience="all", subject="Samedi", body="Bonjour {{ first_name }} {{last_name}} !",
                       author=None)
    run_outbox(factory)
    texts = {m["To"][0]["Email"]: m["TextPart"] for m in fake.messages}
    assert texts["ana@example.org"].startswith("Bonjour Ana Lopez !\n\n-- \n")
    assert texts["ben@example.org"].startswith("Bonjour Ben  !")
    assert messages.merge("{{ first_name }} {{ town }}", {"first_name": "Zoé"}) == "Zoé {{ town }}"
    assert messages.unknown_fields("{{ town }} {{first_name}} {{ x }}") == ["town", "x"]


def test_names_are_read_only_for_a_campaign_that_shows_them_and_a_fixed_subject_is_cleaned_once(factory, fake,
                                                                                                 monkeypatch):
    members(factory, 3)
    read: list[int] = []
    values = audiences.values
    monkeypatch.setattr(audiences, "values", lambda *args: read.append(len(args[2])) or values(*args))
    queue_campaign(factory)  # neither the subject nor the body names a merge field
    run_outbox(factory)
    assert read == [] and {m["Subject"] for m in fake.messages} == {"Samedi"}
    with transaction(factory) as session:
        service.create(session, audience="all", subject="Samedi, {{ first_name }}", body="Rendez-vous samedi.",
                       author=None)
    run_outbox(factory)
    assert read == [3] and {m["Subject"] for m in fake.messages[3:]} == {"Samedi, Camille"}


def test_an_unknown_merge_field_is_refused(factory):
    with transaction(factory) as session, pytest.raises(service.CampaignError) as refused:
        service.create(session, audience="all", subject="Samedi", body="Bonjour {{ prenom }}", author=None)
    assert refused.value.field == "merge"


@pytest.mark.parametrize("status", ["draft", "scheduled"])
def test_a_draft_or_scheduled_campaign_is_never_expanded(factory, status):
    members(factory, 3)
    with transaction(factory) as session:
        row = Campaign(audience="all", subject="Pas encore", body="Texte", status=status, created_at=utcnow())
        session.add(row)
        session.flush()
        campaign_id = row.id
    service.expand(factory, {"campaign": campaign_id})
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(MailMessage)) == 0
        assert session.get(Campaign, campaign_id).status == status


def test_a_subject_lengthened_by_merge_fields_is_shortened_cleanly_not_refused(factory, fake):
    members(factory, 3)
    with transaction(factory) as session:
        session.execute(update(User).values(first_name="Marie-Bérénice-Alexandrine de La Tour du Pin-Gouvernet"[:50]))
        number = service.create(session, audience="all", subject="Bonjour {{ first_name }} ! " * 7,
                                body="Texte", author=None).id  # 189 characters typed, 400 once merged
    run_outbox(factory)
    assert statuses(factory, number) == {"sent": 3}
    subjects = {m["Subject"] for m in fake.messages}
    assert len(subjects) == 1 and fake.refused == []
    [subject] = subjects
    assert subject.startswith("Bonjour Marie-Bérénice") and subject.endswith("…") and len(subject) <= 255
