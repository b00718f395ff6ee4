"""Erasure (GDPR art. 17) through ``engagement privacy erase`` and /account/delete: a member who signed up
through an invitation, registered for events, sent an invitation, received a campaign and had a session
leaves no trace of their address or names in any column of any table, while the analysts' figures stay
the same, the waitlist moves up and no campaign or invitation reaches the address again."""

from __future__ import annotations

import gzip
import json
import re
import zlib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import close_all_sessions

from engagement.accounts.models import User
from engagement.accounts.service import hash_password
from engagement.campaigns import service as campaigns
from engagement.db import Base, transaction, utcnow
from engagement.events.models import Event, EventRegistration
from engagement.invitations.models import Invitation
from engagement.mail import suppression
from engagement.mail.models import MailMessage, MailSuppression
from engagement.media import service as media
from engagement.outbox import InProcessRelay
from engagement.privacy.hashing import keyed
from engagement.sessions.models import HttpSession, logged_in_as
from engagement.workflow.models import WorkflowInstance
from tests.functional.campaign_steps import finished
from tests.functional.helpers import field_error, mails, state_of, text
from tests.functional.invitation_steps import (
    FRIEND,
    PASSWORD,
    log_in,
    mail_link,
    make_user,
    send,
    start_again,
    to_summary,
)
from tests.functional.test_event_registration import create_event, final_state, open_registration, press, statuses
from tests.functional.test_signup import AGREEMENT, TOPICS
from tests.functional.test_signup import URL as SIGNUP
from tests.media_data import photo

EMAIL = "zephyrine.quilleboeuf-tardivel@example.net"
FIRST, LAST, STREET = "Zéphyrine", "Quillebœuf-Tardivel", "41 rue du Hérisson-Bleu"
NEEDLES = (EMAIL, FIRST, LAST, "Quillebœuf", "Hérisson-Bleu")
IDENTITY = {"first_name": FIRST, "last_name": LAST, "email": "Zephyrine.Quilleboeuf-Tardivel@Example.net",
            "password": PASSWORD, "birth_date": "1987-02-11"}
HOME = {"address-country": "FR", "address-street": STREET, "address-postal_code": "94320"}
VISITOR = {"first_name": FIRST, "last_name": LAST, "email": EMAIL.upper(), "postal_code": "94320", "terms": "y"}
WORKFLOWS = ("signup", "event_registration", "invitation")
OPTED_OUT = "Cette personne a demandé à ne plus recevoir nos invitations."


@dataclass
class Planted:
    member_id: int
    inviter: Any  # Dominique's browser, logged in
    browser: Any  # the member's browser, logged in
    upcoming: str  # an event of one seat: theirs, Sam waitlisted
    past: str  # an event they attended, over since
    media_key: str


# --- Planting a member ------------------------------------------------------------------------------

def sessions_of(app: Any) -> Any:
    return app.extensions["engagement"].sessions


def mail_to(read: Any, template: str, address: str = EMAIL) -> MailMessage:
    found = [m for m in mails(read()) if m.template == template and address in [a.lower() for a in m.to]]
    assert found, f"no {template} mail to {address}"
    return found[-1]


def local_link(body: str, pattern: str) -> str:
    found = re.search(rf"http://[^\s/]+(/{pattern}/\S+)", body)
    assert found, body
    return found.group(1)


def sign_up(browser: Any) -> None:
    for data, trigger in ((IDENTITY, "next"), (HOME, "next"), (TOPICS, "next"), (AGREEMENT, "next"), ({}, "join")):
        browser.get(SIGNUP)
        response = browser.post(SIGNUP, {**data, "trigger": trigger})
        assert response.status_code == 303, text(browser.last_html)[:1500]


def invite(browser: Any, friend_first_name: str, friend_email: str, **sender: str) -> None:
    to_summary(browser, friend={**FRIEND, "friend_first_name": friend_first_name})
    assert send(browser, friend_email=friend_email, **sender).status_code == 303, text(browser.last_html)[:1500]


def campaign_to_everyone(app: Any) -> int:
    with transaction(sessions_of(app)) as session:
        campaign_id = campaigns.create(session, audience="all", subject="Des nouvelles", author=None,
                                       body="Bonjour {{ first_name }}, voici nos nouvelles.").id
    InProcessRelay.drain()
    finished(sessions_of(app), campaign_id)
    return campaign_id


def plant(app: Any, new_client: Any, read: Any) -> Planted:
    """The member, as the module's docstring tells; Sam waits for the seat of ``upcoming``."""
    make_user(app, "dominique@example.org")
    inviter = new_client()
    log_in(inviter, "dominique@example.org")
    invite(inviter, FIRST, EMAIL)
    upcoming, past = create_event(app, "Atelier", capacity=1), create_event(app, "Réunion", capacity=10)
    other = create_event(app, "Débat", capacity=10)
    browser = new_client()
    open_registration(browser, other)  # before joining, as a visitor
    assert final_state(press(browser, "register", VISITOR)) == "registered"
    browser.get(mail_link(mail_to(read, "invitation_friend").text_body, "join"))
    sign_up(browser)
    assert browser.get(local_link(mail_to(read, "account_activation").text_body, "account/activate")).status_code == 200
    for slug in (upcoming, past):
        open_registration(browser, slug)
        press(browser, "register")
    sam = new_client()
    open_registration(sam, upcoming)
    assert state_of(press(sam, "register", {**VISITOR, "first_name": "Sam", "last_name": "Durand",
                                            "email": "sam@example.org"})) == "full"
    press(sam, "join_waitlist")
    invite(browser, "Camille", "camille@example.net", self_first_name=FIRST, self_last_name=LAST, self_email=EMAIL)
    member_id = read().scalar(select(User.id).where(User.email == EMAIL))
    with transaction(sessions_of(app)) as session:
        key = media.upload(session, photo(64, 48), filename="zéphyrine-quillebœuf.jpg", uploaded_by_id=member_id).key
        over = utcnow() - timedelta(days=2)
        session.execute(update(Event).where(Event.slug == past).values(begins_at=over,
                                                                        ends_at=over + timedelta(hours=2)))
    campaign_to_everyone(app)
    InProcessRelay.drain()
    assert traces(read) != [] and statuses(read(), upcoming) == {EMAIL: "registered", "sam@example.org": "waitlisted"}
    return Planted(member_id, inviter, browser, upcoming, past, key)


# --- What a test checks -----------------------------------------------------------------------------

def as_text(value: Any) -> str | None:
    """A column's value as text: JSON serialized, binary decompressed (gzip, zlib) or decoded as it is."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bytes):
        for unpack in (gzip.decompress, zlib.decompress):
            try:
                value = unpack(value)
                break
            except (OSError, zlib.error, EOFError):
                continue
        return value.decode("utf-8", errors="ignore")
    return None


def traces(read: Any, needles: tuple[str, ...] = NEEDLES) -> list[str]:
    """``table.column: needle`` for every text-like value of every table that holds one of ``needles``."""
    session, found = read(), []
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table)).mappings():
            for column, value in row.items():
                found += [f"{table.name}.{column}: {needle}" for needle in needles
                          if (shown := as_text(value)) is not None and needle.lower() in shown.lower()]
    return found


def figures(cli: Any) -> dict[str, Any]:
    """The analysts' figures of the three workflows, rebuilt from the log (all but the time of computing)."""
    result = {}
    for workflow in WORKFLOWS:
        run = cli("stats", workflow, "--json", "--rebuild")
        assert run.exit_code == 0, run.output
        result[workflow] = {k: v for k, v in json.loads(run.output).items() if k != "now"}
    return result


def check_erased(app: Any, read: Any, planted: Planted, settings: Any) -> None:
    """No trace left; the places, invitations, instances, mails and the suppression list as they must be."""
    InProcessRelay.drain()  # the audience lists rebuilt without them
    assert traces(read) == []
    session = read()
    assert session.get(User, planted.member_id) is None
    assert statuses(session, planted.upcoming)["sam@example.org"] == "registered"  # moved up, and told
    assert mail_to(read, "event_promoted", "sam@example.org").status == "sent"
    [kept] = session.scalars(select(EventRegistration).join(Event).where(Event.slug == planted.past)).all()
    assert (kept.status, kept.user_id, kept.email) == ("registered", None, f"{kept.id}@erased.invalid")
    assert session.get(Event, kept.event_id).seats_taken == 1  # the attendance of an event over stays
    sent_to_them, sent_by_them = session.scalars(select(Invitation).order_by(Invitation.id)).all()
    assert sent_to_them.friend_email_hash == keyed(EMAIL) and sent_to_them.joined_at is not None
    assert sent_by_them.inviter_id is None and sent_by_them.friend_email_hash == keyed("camille@example.net")
    assert all(i.scrubbed_at is not None and i.actor_id is None
               for i in session.scalars(select(WorkflowInstance).where(WorkflowInstance.workflow_id == "signup")))
    assert session.get(MailSuppression, keyed(EMAIL)).reason == "erased"
    assert suppression.blocked(session, [EMAIL], "campaign") == {EMAIL}
    assert suppression.blocked(session, [EMAIL], "transactional") == set()  # a new sign-up is still mailed
    markers = logged_in_as(planted.member_id)
    assert not [row for row in session.scalars(select(HttpSession.payload)) if any(m in row for m in markers)]
    assert not (Path(settings.instance_dir) / "media" / planted.media_key).exists()


def check_nothing_reaches_them(app: Any, new_client: Any, read: Any, inviter: Any) -> None:
    """A campaign to everyone skips the address and an invitation to it is refused, until the person joins again
    by their own choice: then their new consents speak (the newsletter they asked for reaches them)."""
    campaign_id = campaign_to_everyone(app)
    assert not [m for m in mails(read()) if m.campaign_id == campaign_id and EMAIL in m.to]
    start_again(inviter)
    to_summary(inviter, friend={**FRIEND, "friend_first_name": FIRST})
    assert send(inviter, friend_email=EMAIL).status_code == 422
    assert field_error(inviter.last_html, "friend_email") == OPTED_OUT
    again = new_client()
    sign_up(again)  # ticking the newsletter
    activation = mail_to(read, "account_activation")
    assert activation.status == "sent"  # transactional: it goes
    assert again.get(local_link(activation.text_body, "account/activate")).status_code == 200
    campaign_id = campaign_to_everyone(app)
    [message] = [m for m in mails(read()) if m.campaign_id == campaign_id and m.to == [EMAIL]]
    assert message.status == "sent"


# --- The tests --------------------------------------------------------------------------------------

def test_the_command_erases_every_trace_and_keeps_every_figure(app, cli, new_client, read, settings):
    planted = plant(app, new_client, read)
    before = figures(cli)
    result = cli("privacy", "erase", EMAIL, "--yes")
    assert result.exit_code == 0, result.output
    for line in ("1  account", "2  places at events to come given up", "3  event registrations pseudonymised",
                 "1  invitations sent", "1  invitations received", "5  workflow instances scrubbed",
                 "1  other people's workflow instances", "1  images deleted", "keyed hash on the suppression list"):
        assert line in result.output, result.output
    assert figures(cli) == before
    check_erased(app, read, planted, settings)
    again = cli("privacy", "erase", EMAIL, "--yes")
    assert again.exit_code == 1 and "no account or data found for this address" in again.output
    assert "Traceback" not in again.output
    check_nothing_reaches_them(app, new_client, read, planted.inviter)


def test_deleting_the_account_erases_every_trace_and_says_what_remains(app, cli, new_client, read, settings):
    planted = plant(app, new_client, read)
    before = figures(cli)
    browser = planted.browser
    browser.get("/account")
    response = browser.post("/account/delete", {"confirm": "y"})
    assert response.status_code == 303 and response.headers["Location"] == "/account/deleted"
    page = text(browser.get("/account/deleted").get_data(as_text=True))
    for said in ("Ce qui a été effacé", "Vos réponses à 5 formulaires.", "1 image que vous avez envoyée.",
                 "Ce qui reste", "empreinte de votre adresse"):
        assert said in page, page
    assert "Ce qui a été effacé" not in text(browser.get("/account/deleted").get_data(as_text=True))  # once
    assert browser.get("/account").status_code == 302  # logged out
    assert figures(cli) == before
    check_erased(app, read, planted, settings)
    again = cli("privacy", "erase", EMAIL, "--yes")
    assert again.exit_code == 1 and "no account or data found for this address" in again.output


def test_an_address_without_account_is_erased_from_what_it_left(app, cli, new_client, read):
    who = ("leontine@example.net", "Léontine", "Xérès-Ballandras")
    make_user(app, "dominique@example.org")
    inviter = new_client()
    log_in(inviter, "dominique@example.org")
    invite(inviter, who[1], who[0])
    slug = create_event(app, "Débat", capacity=10)
    visitor = new_client()
    open_registration(visitor, slug)
    press(visitor, "register", {**VISITOR, "first_name": who[1], "last_name": who[2], "email": who[0]})
    assert traces(read, who) != []
    result = cli("privacy", "erase", who[0].upper(), "--yes")
    assert result.exit_code == 0, result.output
    assert "1  invitations received" in result.output and "1  event registrations" in result.output
    assert "account" not in result.output
    InProcessRelay.drain()
    assert traces(read, who) == []
    assert cli("privacy", "erase", who[0], "--yes").exit_code == 1


def test_an_unknown_address_is_a_clear_message(cli):
    result = cli("privacy", "erase", "personne@example.org", "--yes")
    assert result.exit_code == 1
    assert result.output.strip() == ("Error: no account or data found for this address (unknown, or already "
                                     "erased)")


@pytest.mark.parametrize("answer", ["n", ""])
def test_the_command_asks_first(app, cli, read, answer):
    make_user(app, EMAIL, first_name=FIRST, last_name=LAST)
    result = cli("privacy", "erase", EMAIL, stdin=f"{answer}\n")
    assert result.exit_code == 1 and "Aborted" in result.output
    assert read().scalar(select(User.id).where(User.email == EMAIL)) is not None


def test_a_person_erased_who_joins_again_is_welcomed_back(app, cli, client, read):
    """Their activation mail goes (transactional), and once they confirm their address the erased mark is lifted:
    their new consents speak (a newsletter they ask for reaches them)."""
    from tests.functional.test_signup import IDENTITY as JOINING
    from tests.functional.test_signup import activation_link, join

    address = JOINING["email"].lower()
    make_user(app, address)
    assert cli("privacy", "erase", address, "--yes").exit_code == 0
    with read() as session:
        assert suppression.forgotten(session, address)
        assert suppression.blocked(session, [address], "campaign") == {address}
    join(client)
    InProcessRelay.drain()
    link = activation_link(read)  # the one mail of the sign-up: it was not suppressed
    assert client.get(f"/{link}").status_code in (200, 302, 303)
    with read() as session:
        assert not suppression.forgotten(session, address)
        assert suppression.blocked(session, [address], "campaign") == set()
        assert session.scalar(select(User.activated_at).where(User.email == address)) is not None


@pytest.mark.parametrize("argument", ["", "   ", "rentrée", "@example.org", "quelqu’un@"])
def test_what_is_not_an_address_is_refused_and_nothing_is_touched(app, cli, client, read, argument):
    """An unset variable in a script (``erase "$EMAIL"``) or a word must not scrub other people's answers."""
    client.get("/w/volunteer")
    client.post("/w/volunteer", {"first_name": "Rentrée", "email": "visiteur@example.org", "age": "40",
                                 "trigger": "next"})
    before = [(i.data, i.scrubbed_at) for i in read().scalars(select(WorkflowInstance))]
    assert before and any(data for data, _ in before)
    result = cli("privacy", "erase", argument, "--yes")
    assert result.exit_code == 1 and "is not an e-mail address: nothing was erased" in result.output
    assert "Traceback" not in result.output
    assert [(i.data, i.scrubbed_at) for i in read().scalars(select(WorkflowInstance))] == before
    assert read().scalar(select(MailSuppression.email_hash)) is None


def test_the_command_says_whose_account_it_found_before_asking(app, cli, read):
    make_user(app, EMAIL, first_name=FIRST, last_name=LAST)
    result = cli("privacy", "erase", EMAIL.upper(), stdin="n\n")
    assert f"An account: {FIRST} {LAST} (member)" in result.output and "Aborted" in result.output
    result = cli("privacy", "erase", "personne@example.org", stdin="n\n")
    assert "No account with this address" in result.output


def test_on_sqlite_the_erased_bytes_leave_the_database_files(app, cli, new_client, read, settings):
    """Deleted rows are overwritten (secure_delete) and the write-ahead log is emptied after an erasure: the
    address is not left in the files' free space, where a copy of the file would still hold it."""
    if not settings.database_url.startswith("sqlite:///"):
        pytest.skip("SQLite's files only: MariaDB's are covered by docs/privacy.md (free space, backups)")
    plant(app, new_client, read)
    InProcessRelay.drain()
    close_all_sessions()  # the test's own readers (a reader keeps the log: the web's pooled connections hold none)
    path = Path(settings.database_url.removeprefix("sqlite:///"))
    assert cli("privacy", "erase", EMAIL, "--yes").exit_code == 0
    files = [p for p in (path, path.with_name(path.name + "-wal")) if p.exists()]
    raw = b"".join(p.read_bytes() for p in files)
    assert raw and EMAIL.encode() not in raw and LAST.encode() not in raw, [p.name for p in files]


def test_on_sqlite_deleting_the_account_leaves_no_bytes_either_and_the_background_work_goes_on(
        app, cli, new_client, read, settings):
    """The web erasure empties the log in the background, leaving the lock free for the work its commit queued
    (the audience lists rebuilt without them): nothing is left pending, nothing of them in the files."""
    import threading

    if not settings.database_url.startswith("sqlite:///"):
        pytest.skip("SQLite's files only: MariaDB's are covered by docs/privacy.md (free space, backups)")
    planted = plant(app, new_client, read)
    InProcessRelay.drain()
    close_all_sessions()
    planted.browser.get("/account")
    assert planted.browser.post("/account/delete", {"confirm": "y"}).status_code == 303
    InProcessRelay.drain()
    for thread in [t for t in threading.enumerate() if t.name == "settle-deletions"]:
        thread.join(timeout=60)
    close_all_sessions()
    with read() as session:
        from engagement.outbox import OutboxMessage

        pending = session.execute(select(OutboxMessage.id, OutboxMessage.topic).where(
            OutboxMessage.delivered_at.is_(None))).all()
        assert not pending, pending
    path = Path(settings.database_url.removeprefix("sqlite:///"))
    raw = b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    assert EMAIL.encode() not in raw and LAST.encode() not in raw


def test_a_session_never_opens_another_account_given_the_same_id_later(app, new_client, read):
    """SQLite gives the highest id again once it is deleted: a session kept by an erased member (another
    browser, or Redis sessions that erasure cannot search) must not open the account that gets the id next."""
    first = make_user(app, EMAIL, first_name=FIRST, last_name=LAST)
    kept = new_client()
    log_in(kept, EMAIL)
    assert kept.get("/account").status_code == 200
    with transaction(sessions_of(app)) as session:
        session.execute(delete(User).where(User.id == first))
        session.add(User(id=first, email="suivant@example.org", first_name="Suivant", activated_at=utcnow(),
                         password_hash=hash_password(PASSWORD), created_at=utcnow() + timedelta(seconds=5)))
    response = kept.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    other = new_client()
    log_in(other, "suivant@example.org")
    assert other.get("/account").status_code == 200  # the new account's own sessions work
