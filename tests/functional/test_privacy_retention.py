"""Retention (engagement.privacy.retention): rows planted on both sides of every limit; the dry run counts them
exactly and changes nothing, the purge does it once, and a purge interrupted then run again ends where one
run would have."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker

from engagement.accounts.models import User
from engagement.accounts.service import create_user
from engagement.config import ConfigError, Retention, load_settings
from engagement.db import Base, make_engine, make_session_factory, transaction, utcnow
from engagement.events.models import Event, EventRegistration
from engagement.invitations.models import Invitation
from engagement.mail.models import MailMessage, MailSuppression
from engagement.privacy import retention
from engagement.privacy.hashing import keyed
from engagement.workflow.models import WorkflowInstance, WorkflowTransition
from tests.functional.helpers import AVAILABILITY, IDENTITY, URL, advance, confirm, instances, text
from tests.functional.test_signup import PASSWORD, activation_link, join

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)  # years from the wall clock: what the purge dated stands out
POLICY = Retention()
PLANTED = {"unactivated": 1, "anonymous_instances": 1, "invitation_friends": 1, "invitation_mails": 1,
           "event_guests": 1, "mail_ledger": 1, "inactive_erased": 1, "inactive_warned": 1, "inactive_staff": 1}
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
NOTHING_MORE = {**dict.fromkeys(PLANTED, 0), "inactive_staff": 1}  # staff are reported at every run, never erased


def ago(days: float, now: datetime = NOW) -> datetime:
    return now - timedelta(days=days)


def account(email: str, *, role: str = "member", created: datetime, activated: datetime | None = None,
            seen: datetime | None = None, warned: datetime | None = None) -> User:
    return User(email=email, first_name=email.split("@")[0].split("-")[0].title(), last_name="Durand", role=role,
                created_at=created, activated_at=activated, last_seen_at=seen, retention_warned_at=warned)


def volunteer(name: str, updated: datetime, actor: User | None = None,
              scrubbed: datetime | None = None) -> WorkflowInstance:
    data = {"first_name": name, "email": f"{name.lower()}@example.org", "age": 30, "missions": ["events"]}
    return WorkflowInstance(workflow_id="volunteer", version=4, state="availability", data=data,
                            drafts={"availability": {"phone": "06 12 34 56 78"}}, history=["identity"],
                            actor_id=actor.id if actor else None, started_at=updated, updated_at=updated,
                            entered_at=updated, scrubbed_at=scrubbed)


def answered(session: Session, instance: WorkflowInstance) -> None:
    """The log of ``instance``'s first step, with the answers it gave."""
    session.flush()
    session.add(WorkflowTransition(instance_id=instance.id, workflow_id=instance.workflow_id, version=4,
                                   source="identity", dest="availability", trigger="next", at=instance.updated_at,
                                   duration_ms=40_000, changes=dict(instance.data)))


def invited(session: Session, inviter: User, friend: str, created: datetime) -> None:
    """An invitation of ``friend`` by ``inviter``, with the instance that sent it."""
    address = f"{friend.lower()}@example.org"
    sender = WorkflowInstance(workflow_id="invitation", version=3, state="sent", history=["check"],
                              data={"friend_first_name": friend, "friend_email": address, "friend_gender": "woman",
                                    "message_body": f"Bonjour {friend}, viens !", "self_email": inviter.email},
                              actor_id=inviter.id, is_completed=True, started_at=created, updated_at=created,
                              entered_at=created, completed_at=created)
    session.add(sender)
    session.flush()
    session.add(Invitation(
        inviter_id=inviter.id, instance_id=sender.id, sender_first_name="Ana", sender_last_name="Lopez",
        sender_email=inviter.email, friend_first_name=friend, friend_email=address, answers={"friend_gender": "woman"},
        subject=f"{friend}, rejoins-nous", body=f"Bonjour {friend}, viens !", locale="fr", created_at=created))


def invitation_mail(friend: str, created: datetime, status: str = "sent") -> MailMessage:
    return MailMessage(sender="Ana Lopez (via Engagement) <ne-pas-repondre@engagement.local>",
                       to=[f"{friend.lower()}@example.org"], cc=["ana@example.org"], subject=f"{friend}, rejoins-nous",
                       text_body=f"Bonjour {friend}, viens !", html_body=f"<p>Bonjour {friend}</p>",
                       template="invitation_friend", status=status, created_at=created)


def event(slug: str, ended: datetime) -> Event:
    return Event(slug=slug, name=slug.title(), begins_at=ended - timedelta(hours=2), ends_at=ended,
                 category="meeting", address=None, online_url="https://example.org/visio")


def guest(session: Session, at: Event, first_name: str, user: User | None = None) -> None:
    """A place at ``at`` (an event of its own) for ``first_name``: without an account unless ``user``."""
    session.add(at)
    session.flush()
    session.add(EventRegistration(event_id=at.id, user_id=user.id if user else None, status="registered",
                                  email=f"{first_name.lower()}@example.org", first_name=first_name,
                                  last_name="Guest", postal_code="69003"))


def ledger_mail(name: str, created: datetime, status: str = "sent") -> MailMessage:
    return MailMessage(sender="Engagement <ne-pas-repondre@engagement.local>", to=[f"{name.lower()}@example.org"],
                       subject=f"Votre inscription, {name}", text_body=f"Bonjour {name}", template="event_registered",
                       status=status, created_at=created)


def plant(factory: sessionmaker[Session], now: datetime = NOW, copies: int = 1) -> None:
    """Per category, ``copies`` rows just past its limit and rows just short of it (31 and 29 days...)."""
    with transaction(factory) as session:
        inviter = account("inviter@example.org", created=ago(40, now), activated=ago(40, now), seen=ago(1, now))
        session.add(inviter)
        for n in range(copies):
            session.add_all([
                account(f"oldsignup-{n}@example.org", created=ago(31, now)),
                account(f"warnedlongago-{n}@example.org", created=ago(1200, now), activated=ago(1200, now),
                        seen=ago(1100, now), warned=ago(31, now)),
                account(f"towarn-{n}@example.org", created=ago(1200, now), activated=ago(1200, now),
                        seen=ago(1066, now)),
                invitation_mail(f"Oldfriend{n}", ago(31, now)),
            ])
            guest(session, event(f"ended-{n}", ago(91, now)), f"Oldguest{n}")
            session.add(ledger_mail(f"Oldmail{n}", ago(366, now)))
            old = volunteer(f"Oldanon{n}", ago(91, now))
            session.add(old)
            answered(session, old)
            invited(session, inviter, f"Oldfriend{n}", ago(31, now))
        session.add_all([
            account("newsignup@example.org", created=ago(29, now)),
            account("warnedlately@example.org", created=ago(1200, now), activated=ago(1200, now),
                    seen=ago(1100, now), warned=ago(29, now)),
            account("notyet@example.org", created=ago(1200, now), activated=ago(1200, now), seen=ago(1064, now)),
            account("oldorganizer@example.org", role="organizer", created=ago(1200, now), activated=ago(1200, now),
                    seen=ago(1096, now)),
            account("organizer@example.org", role="organizer", created=ago(1200, now), activated=ago(1200, now),
                    seen=ago(1094, now)),
            volunteer("Newanon", ago(89, now)),
            volunteer("Scrubbed", ago(200, now), scrubbed=ago(100, now)),
            invitation_mail("Newfriend", ago(29, now)),
            invitation_mail("Stuckfriend", ago(31, now), status="queued"),  # still owed: left to the sender
            ledger_mail("Recentmail", ago(364, now)), ledger_mail("Stuckmail", ago(400, now), status="queued"),
        ])
        session.flush()
        guest(session, event("ended-lately", ago(89, now)), "Recentguest")
        guest(session, event("ended-long-ago", ago(400, now)), "Memberguest", user=inviter)  # a member's own stays
        session.add(volunteer("Mine", ago(200, now), actor=inviter))  # a member's own answers stay
        invited(session, inviter, "Newfriend", ago(29, now))


def snapshot(factory: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table; times the wall clock gave (a mail's ``created_at``) as one marker."""
    wall = utcnow()

    def plain(value: Any) -> Any:
        if isinstance(value, datetime) and abs(value.replace(tzinfo=UTC) - wall) < timedelta(hours=1):
            return "(wall clock)"
        return value

    with factory() as session:
        return {table.name: [tuple(plain(v) for v in row) for row in
                             session.execute(select(table).order_by(*table.primary_key.columns))]
                for table in Base.metadata.sorted_tables}


def anywhere(factory: sessionmaker[Session], needle: str) -> bool:
    """Whether ``needle`` is held in any column of any table (case-insensitive)."""
    return needle.lower() in json.dumps(snapshot(factory), default=str, ensure_ascii=False).lower()


def user(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email)).one_or_none()


def seen(session: Session, email: str) -> datetime | None:
    found = user(session, email)
    assert found is not None
    return found.last_seen_at


@pytest.fixture
def databases(tmp_path: Path) -> Any:
    """Fresh databases of their own (two deployments planted alike), disposed of after the test."""
    engines = []

    def fresh(name: str) -> sessionmaker[Session]:
        url = f"sqlite:///{tmp_path / name}"
        engines.append(create_engine(url))
        Base.metadata.create_all(engines[-1])
        engines.append(make_engine(url))
        return make_session_factory(engines[-1])

    yield fresh
    for engine in engines:
        engine.dispose()


def test_the_dry_run_counts_exactly_what_was_planted_and_changes_nothing(app, factory):
    plant(factory)
    before = snapshot(factory)
    assert retention.purge(factory, POLICY, NOW, dry_run=True) == PLANTED
    assert snapshot(factory) == before


def test_the_purge_does_what_the_dry_run_counted_and_a_second_run_nothing_more(app, factory):
    plant(factory)
    assert retention.purge(factory, POLICY, NOW) == PLANTED
    session = factory()
    emails = set(session.scalars(select(User.email)))
    assert emails == {"inviter@example.org", "newsignup@example.org", "warnedlately@example.org",
                      "notyet@example.org", "oldorganizer@example.org", "organizer@example.org",
                      "towarn-0@example.org"}
    for gone in ("oldsignup-0", "warnedlongago-0", "oldanon0", "oldfriend0", "oldguest0", "oldmail0"):
        assert not anywhere(factory, gone), gone
    for kept in ("newsignup@", "warnedlately@", "notyet@", "newanon", "newfriend", "stuckfriend", "mine@example",
                 "recentguest", "memberguest", "recentmail", "stuckmail"):
        assert anywhere(factory, kept), kept
    hashes = set(session.scalars(select(MailSuppression.email_hash)))
    assert keyed("warnedlongago-0@example.org") in hashes  # erased after the warning: never written to again
    assert keyed("oldsignup-0@example.org") not in hashes  # never confirmed: perhaps not even theirs
    assert [u.retention_warned_at for u in session.scalars(select(User).where(User.role == "organizer"))] == [
        None, None]
    assert retention.purge(factory, POLICY, NOW) == NOTHING_MORE
    session.close()


def test_what_each_category_keeps(app, factory):
    plant(factory)
    retention.purge(factory, POLICY, NOW)
    session = factory()
    [old, new, scrubbed, mine] = instances(session)
    assert (old.data, old.drafts, old.scrubbed_at, old.state, old.history) == (
        {"missions": ["events"]}, None, NOW, "availability", ["identity"])  # a choice identifies nobody
    [log] = session.scalars(select(WorkflowTransition).where(WorkflowTransition.instance_id == old.id))
    assert (log.changes, log.duration_ms) == ({"missions": ["events"]}, 40_000)
    assert new.data["first_name"] == "Newanon" and new.scrubbed_at is None
    assert scrubbed.data["first_name"] == "Scrubbed" and scrubbed.scrubbed_at == ago(100)  # done before: left
    assert mine.data["first_name"] == "Mine" and mine.scrubbed_at is None
    hashed, kept = session.scalars(select(Invitation).order_by(Invitation.id))
    assert (hashed.friend_email, hashed.friend_first_name, hashed.subject, hashed.body) == ("", "", "", "")
    assert (hashed.friend_email_hash, hashed.friend_hashed_at) == (keyed("oldfriend0@example.org"), NOW)
    assert hashed.inviter_id is not None and hashed.answers == {"friend_gender": "woman"}
    sender = session.get(WorkflowInstance, hashed.instance_id)
    assert sender is not None and sender.scrubbed_at == NOW and sender.data == {"friend_gender": "woman"}
    assert (kept.friend_email, kept.friend_hashed_at) == ("newfriend@example.org", None)
    assert session.get(WorkflowInstance, kept.instance_id).scrubbed_at is None
    mails = {m.subject or m.status: m for m in session.scalars(select(MailMessage).where(
        MailMessage.template == "invitation_friend"))}
    emptied = mails["sent"]
    assert (emptied.to, emptied.cc, emptied.text_body, emptied.html_body) == ([], [], "", None)
    assert {"Newfriend, rejoins-nous", "Stuckfriend, rejoins-nous"} <= set(mails)
    session.close()


def test_the_dry_run_counts_each_row_where_the_purge_does_when_an_erasure_would_reach_it_too(app, factory):
    with transaction(factory) as session:  # a sign-up never activated, invited before and mailed then
        inviter = account("inviter@example.org", created=ago(40), activated=ago(40), seen=ago(1))
        session.add_all([inviter, account("oldfriend@example.org", created=ago(31)),
                         invitation_mail("Oldfriend", ago(31))])
        session.flush()
        invited(session, inviter, "Oldfriend", ago(31))
    expected = {**dict.fromkeys(PLANTED, 0), "invitation_friends": 1, "invitation_mails": 1, "unactivated": 1}
    assert retention.purge(factory, POLICY, NOW, dry_run=True) == expected
    assert retention.purge(factory, POLICY, NOW) == expected
    assert not anywhere(factory, "oldfriend@")


WHERE_IT_STOPS = [  # (what fails at its second call, the category it stops in)
    ("engagement.privacy.erasure.erase_user", "unactivated"),
    ("engagement.privacy.erasure.scrub_instance", "anonymous_instances"),
    ("engagement.privacy.retention.forget_friend", "invitation_friends"),
    ("engagement.privacy.retention.forget_mail", "invitation_mails"),
    ("engagement.privacy.retention.warn", "inactive_warned"),
]


@pytest.mark.parametrize(("target", "category"), WHERE_IT_STOPS)
def test_a_purge_interrupted_halfway_and_run_again_ends_where_one_run_would(app, databases, monkeypatch, target,
                                                                           category):
    whole, halted = databases("whole.db"), databases("halted.db")
    for factory in (whole, halted):
        plant(factory, copies=2)
    assert retention.purge(whole, POLICY, NOW) == {**dict.fromkeys(PLANTED, 2), "inactive_staff": 1}
    module, name = target.rsplit(".", 1)
    original, calls = getattr(__import__(module, fromlist=[name]), name), []

    def lost_halfway(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        if len(calls) == 2:
            raise RuntimeError("the worker was lost")
        return original(*args, **kwargs)

    monkeypatch.setattr(retention, "BATCH", 1)
    monkeypatch.setattr(retention, "ERASURE_BATCH", 1)
    monkeypatch.setattr(target, lost_halfway)
    with pytest.raises(RuntimeError, match="the worker was lost"):
        retention.purge(halted, POLICY, NOW)
    monkeypatch.undo()
    assert snapshot(halted) != snapshot(whole)
    again = retention.purge(halted, POLICY, NOW)
    assert again[category] == 1  # the first batch stayed done
    assert snapshot(halted) == snapshot(whole)
    assert retention.purge(halted, POLICY, NOW) == NOTHING_MORE


def test_an_inactive_member_is_warned_then_erased_unless_they_log_in(app, factory, client, read):
    now = utcnow()
    with transaction(factory) as session:
        for email in ("gone@example.org", "back@example.org"):
            create_user(session, email, password=PASSWORD).last_seen_at = ago(1070, now)
    assert retention.purge(factory, POLICY, now)["inactive_warned"] == 2
    warnings = list(read().scalars(select(MailMessage).where(MailMessage.template == "retention_warning")
                                   .order_by(MailMessage.id)))
    assert [m.to for m in warnings] == [["gone@example.org"], ["back@example.org"]]
    on = (now + timedelta(days=30)).date()  # the warning's time: the last log-in was only 1070 days ago
    day = f"{on.day} {MONTHS[on.month - 1]} {on.year}"
    assert warnings[0].subject == f"Votre compte sera effacé le {day}"
    assert "/login" in warnings[0].text_body and day in warnings[0].text_body
    client.get("/login")
    assert client.post("/login", {"email": "back@example.org", "password": PASSWORD}).status_code == 303
    back = user(read(), "back@example.org")
    assert back is not None and back.retention_warned_at is None
    assert back.last_seen_at is not None and back.last_seen_at >= now
    assert retention.purge(factory, POLICY, now + timedelta(days=29))["inactive_erased"] == 0  # not yet
    counts = retention.purge(factory, POLICY, now + timedelta(days=31))
    assert (counts["inactive_erased"], counts["inactive_warned"]) == (1, 0)
    session = read()
    assert user(session, "gone@example.org") is None and user(session, "back@example.org") is not None
    assert keyed("gone@example.org") in set(session.scalars(select(MailSuppression.email_hash)))
    assert all("gone@example.org" not in m.to for m in session.scalars(select(MailMessage)))


def test_activation_marks_the_member_seen(client, new_client, read):
    join(client)
    assert seen(read(), "camille.martin@example.org") is None
    new_client().get("/" + activation_link(read))
    assert seen(read(), "camille.martin@example.org") is not None


def test_a_new_password_chosen_from_the_link_cancels_the_warning(app, factory, client, new_client, read):
    now = utcnow()
    with transaction(factory) as session:
        create_user(session, "lou@example.org", password=PASSWORD).last_seen_at = ago(1070, now)
    assert retention.purge(factory, POLICY, now)["inactive_warned"] == 1
    client.get("/password/reset")
    client.post("/password/reset", {"email": "lou@example.org"})
    [mail] = read().scalars(select(MailMessage).where(MailMessage.template == "password_reset"))
    link = re.search(r"https?://[^/\s]+(/password/reset/[A-Za-z0-9_\-]+)", mail.text_body)
    assert link is not None
    visitor = new_client()
    visitor.get(link.group(1))
    assert visitor.post(link.group(1), {"password": "une autre phrase de passe", "confirm": "une autre phrase de passe"}
                        ).status_code == 200
    lou = user(read(), "lou@example.org")
    assert lou is not None and lou.retention_warned_at is None
    assert lou.last_seen_at is not None and lou.last_seen_at >= now
    assert retention.purge(factory, POLICY, now + timedelta(days=31))["inactive_erased"] == 0


def test_the_inviter_still_sees_their_invitations_once_the_friends_are_hashed(app, factory, client):
    now = utcnow()
    with transaction(factory) as session:
        inviter = create_user(session, "ana@example.org", password=PASSWORD)
        invited(session, inviter, "Zoe", ago(31, now))
        invited(session, inviter, "Lea", ago(2, now))
    assert retention.purge(factory, POLICY, now)["invitation_friends"] == 1
    client.get("/login")
    client.post("/login", {"email": "ana@example.org", "password": PASSWORD})
    page = text(client.get("/account").get_data(as_text=True))
    assert "adresse effacée" in page and "Lea" in page and "Zoe" not in page
    assert "<strong>2</strong>" in page  # both still count as invited


def stats(cli: Any) -> dict[str, Any]:
    result = cli("stats", "volunteer", "--json", "--rebuild")  # from the log and the instances, nothing cached
    assert result.exit_code == 0, result.output
    return {k: v for k, v in json.loads(result.stdout).items() if k != "now"}  # when they were computed


def test_the_analyst_figures_do_not_change_when_anonymous_answers_are_scrubbed(client, new_client, factory, cli):
    client.get(URL)
    advance(client, IDENTITY)
    advance(client, AVAILABILITY)
    confirm(client)
    other = new_client()
    other.get(URL)
    advance(other, {"first_name": "Lou", "email": "lou.b@example.org", "age": "40"})
    before = stats(cli)
    assert (before["started"], before["completed"]) == (2, 1)
    assert retention.purge(factory, POLICY, utcnow() + timedelta(days=91))["anonymous_instances"] == 2
    assert stats(cli) == before
    for name in ("camille", "lou.b"):
        assert not any(name in json.dumps([i.data, i.drafts]).lower() for i in instances(factory()))


def test_privacy_purge_on_the_command_line(app, factory, cli):
    plant(factory, now=utcnow())
    before = snapshot(factory)
    dry = cli("privacy", "purge", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout) == {"dry_run": True, "counts": PLANTED}
    assert snapshot(factory) == before
    said = cli("privacy", "purge", "--dry-run").stdout.splitlines()
    assert "     1  sign-ups never activated would be erased" in said
    assert len([line for line in said if line.startswith("     1  ")]) == len(PLANTED)  # a line each
    done = cli("privacy", "purge")
    assert done.exit_code == 0, done.output
    assert "     1  sign-ups never activated erased" in done.stdout.splitlines()
    assert "     1  inactive members warned by mail" in done.stdout.splitlines()
    assert "     1  staff accounts not seen for 1095 days (never erased automatically: review them)" in (
        done.stdout.splitlines())
    assert json.loads(cli("privacy", "purge", "--json").stdout)["counts"] == NOTHING_MORE


def test_the_policy_is_read_from_the_environment_and_checked(env):
    assert load_settings(env).retention == Retention(unactivated_days=30, anonymous_days=90, invitation_friend_days=30,
                                                     inactive_member_days=1095, warning_days=30)
    custom = load_settings({**env, "RETENTION_UNACTIVATED_DAYS": "7", "RETENTION_INACTIVE_MEMBER_DAYS": "730",
                            "RETENTION_WARNING_DAYS": "60"}).retention
    assert (custom.unactivated_days, custom.inactive_member_days, custom.warning_days) == (7, 730, 60)
    for name, value in (("RETENTION_ANONYMOUS_DAYS", "0"), ("RETENTION_ANONYMOUS_DAYS", "ninety"),
                        ("RETENTION_ANONYMOUS_DAYS", "13"), ("RETENTION_INVITATION_FRIEND_DAYS", "-3"),
                        ("RETENTION_INVITATION_FRIEND_DAYS", "6"), ("RETENTION_UNACTIVATED_DAYS", "2"),
                        ("RETENTION_WARNING_DAYS", "1095"), ("RETENTION_WARNING_DAYS", "0")):
        with pytest.raises(ConfigError, match=name):
            load_settings({**env, name: value})


def test_an_anonymous_sender_s_name_and_address_go_with_the_friend_s(app, factory):
    with transaction(factory) as session:
        session.add_all([Invitation(
            inviter_id=None, sender_first_name=name, sender_last_name="Sanscompte", sender_email=f"{name}@example.org",
            friend_first_name="Ami", friend_email=f"ami.{name}@example.org", answers={}, subject="Viens", body="Viens",
            locale="fr", created_at=ago(days)) for name, days in (("oldanonsender", 31), ("newanonsender", 29))])
    assert retention.purge(factory, POLICY, NOW)["invitation_friends"] == 1
    assert not anywhere(factory, "oldanonsender") and anywhere(factory, "newanonsender@example.org")
