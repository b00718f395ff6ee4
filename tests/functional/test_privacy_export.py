"""Access and portability (GDPR art. 15, 20) and who looked: /account/data, `engagement privacy export` and
the access log that staff pages write and the member's download lists. Real pages, real forms, the CLI."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from engagement import outbox
from engagement.accounts.models import User
from engagement.db import transaction, utcnow
from engagement.mail import service as mail
from engagement.mail.models import MailMessage
from engagement.privacy import access
from engagement.privacy.export import FILES
from engagement.privacy.hashing import keyed
from engagement.privacy.models import ConsentRecord, DataAccess, DataAccessSubject
from tests.functional.helpers import instances, text
from tests.functional.invitation_steps import invite, log_in, make_user
from tests.functional.test_event_registration import create_event, final_state, open_registration, press
from tests.functional.test_member_places import take
from tests.functional.test_signup import PASSWORD, activation_link, join

EMAIL = "camille.martin@example.org"  # tests.functional.test_signup's member
FRIEND = "camille@example.net"
OTHER = "oscar.autre@example.org"
TERMS_AT = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
NEWSLETTER_AT = datetime(2026, 12, 1, 18, 5, tzinfo=UTC)
SACHA = "sacha.visiteur@example.org"  # a visitor: no account
VISITOR = {"first_name": "Sacha", "last_name": "Visiteur", "email": " Sacha.Visiteur@Example.org",
           "postal_code": "94320", "terms": "y"}


@pytest.fixture(autouse=True)
def drained() -> Iterator[None]:
    yield
    outbox.InProcessRelay.drain()


def sessions(app: Any) -> Any:
    return app.extensions["engagement"].sessions


@pytest.fixture
def member(app, client, new_client, read) -> dict[str, Any]:
    """A member who joined through the wizard, took a seat at an event and invited a friend, logged in;
    with a consent of their sign-up and one from their account (as engagement.privacy.consents records them)."""
    join(client)
    browser = new_client()
    browser.get("/" + activation_link(read))  # activates and logs in
    slug = create_event(app, "Réunion du canal", capacity=10)
    take(browser, slug)
    invite(browser, self_first_name="Camille", self_last_name="Martin", self_email=EMAIL)
    [signup] = instances(read(), "signup")
    user_id = read().scalar(select(User.id).where(User.email == EMAIL))
    with transaction(sessions(app)) as session:
        session.add_all([
            ConsentRecord(instance_id=signup.id, kind="terms", given=True, text="J’accepte les conditions.",
                          document="/conditions", version="terms-v3", method="form:signup/agreement", at=TERMS_AT),
            ConsentRecord(user_id=user_id, kind="newsletter", given=False, text="Recevoir la lettre.",
                          version="news-v2", method="account", at=NEWSLETTER_AT)])
    return {"browser": browser, "id": user_id, "slug": slug, "signup": signup.id}


def other_member(app) -> int:
    """Another member with data of their own: an account, a consent, a seat."""
    other = make_user(app, OTHER, first_name="Oscar", last_name="Autre")
    with transaction(sessions(app)) as session:
        session.add(ConsentRecord(user_id=other, kind="newsletter", given=True, text="Recevoir la lettre.",
                                  version="oscar-only-version", method="account", at=TERMS_AT))
    return other


def download(browser) -> zipfile.ZipFile:
    response = browser.client.get("/account/data")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/zip" and response.headers["Cache-Control"] == "no-store"
    assert re.fullmatch(r'attachment; filename="engagement-mes-donnees-\d{4}-\d{2}-\d{2}\.zip"',
                        response.headers["Content-Disposition"])
    return zipfile.ZipFile(io.BytesIO(response.get_data()))


def data_of(archive: zipfile.ZipFile) -> dict[str, Any]:
    return json.loads(archive.read("data.json").decode("utf-8"))


def csv_rows(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    body = archive.read(name).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


def moment(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


# --- the download ----------------------------------------------------------------------------------

def test_the_download_holds_the_account_consents_answers_registration_and_invitation(member):
    data = data_of(download(member["browser"]))
    account = data["account"]
    assert (account["email"], account["first_name"], account["last_name"]) == (EMAIL, "Camille", "Martin")
    assert account["birth_date"] == "1990-05-17" and account["interests"] == ["ecology", "europe"]
    assert account["address"]["city_name"] == "Thiais" and account["newsletter"] is True
    assert moment(account["activated_at"]).tzinfo is not None
    consents = {(c["kind"], c["version"], c["at"], c["given"], c["method"]) for c in data["consents"]}
    assert ("terms", "terms-v3", TERMS_AT.isoformat(), True, "form:signup/agreement") in consents
    assert ("newsletter", "news-v2", NEWSLETTER_AT.isoformat(), False, "account") in consents
    recorded = {c["kind"]: c for c in data["consents"] if c["method"] == "form:signup/agreement"
                and re.fullmatch(r"[0-9a-f]{64}", c["version"])}  # as the wizard recorded them, at sign-up
    assert recorded["terms"]["given"] is True and "conditions d" in recorded["terms"]["text"]
    assert recorded["terms"]["document"] == "/conditions-d-adhesion" and moment(recorded["terms"]["at"])
    assert recorded["newsletter"]["given"] is True
    [signup] = [i for i in data["instances"] if i["workflow"] == "signup"]
    assert signup["id"] == member["signup"] and signup["completed_at"]
    assert signup["answers"]["first_name"] == "Camille" and signup["answers"]["birth_date"]
    assert "password" not in signup["answers"]
    assert [t["from"] for t in signup["transitions"]][:2] == ["identity", "home"]
    assert all(moment(t["at"]) for t in signup["transitions"])
    [seat] = data["registrations"]
    assert (seat["event"], seat["status"], seat["email"]) == ("Réunion du canal", "registered", EMAIL)
    [invitation] = data["invitations"]
    assert (invitation["friend_first_name"], invitation["friend_email"], invitation["joined"]) == (
        "Camille", FRIEND, False)
    assert invitation["subject"] and moment(invitation["sent_at"])
    subjects = [m["subject"] for m in data["mails"]]
    assert any("Activez votre compte" in s for s in subjects) and len(subjects) >= 2  # and the seat's
    assert all(set(m) == {"created_at", "sent_at", "subject", "status", "role"} for m in data["mails"])  # no body
    assert data["access"] == []


def test_every_list_is_a_csv_that_parses_with_its_header_and_a_french_readme(member):
    archive = download(member["browser"])
    data = data_of(archive)
    assert {f"{name}.csv" for name in FILES} | {"account.csv", "data.json", "README.txt"} == set(archive.namelist())
    for name, columns in FILES.items():
        rows = csv_rows(archive, f"{name}.csv")
        body = archive.read(f"{name}.csv").decode("utf-8")[1:]
        assert next(csv.reader(io.StringIO(body))) == list(columns), name
        assert len(rows) == len(data[name]), name
    [account] = csv_rows(archive, "account.csv")
    assert account["email"] == EMAIL and json.loads(account["address"])["city_name"] == "Thiais"
    terms = [r for r in csv_rows(archive, "consents.csv") if r["version"] == "terms-v3"]
    assert terms and terms[0]["at"] == TERMS_AT.isoformat()
    assert csv_rows(archive, "invitations.csv")[0]["friend_email"] == FRIEND
    readme = archive.read("README.txt").decode("utf-8")
    assert "Vos données personnelles" in readme and "consents.csv\u00a0:" in readme


def test_the_copy_of_an_invitation_they_sent_and_a_mail_answered_to_them_are_in_their_mails(app, member, read):
    with transaction(sessions(app)) as session:  # an organizer's message to a guest, answered to the member
        mail.compose(session, to=["guest@example.org"], cc=["other.guest@example.org"], reply_to=EMAIL.upper(),
                     subject="Salle changée", body="La réunion a lieu salle B.", context={}, locale="fr")
    [copy] = [m for m in read().scalars(select(MailMessage)) if m.to == [FRIEND]]
    assert copy.cc == [EMAIL]  # the invitation: to the friend, the member in copy
    archive = download(member["browser"])
    data = data_of(archive)
    [invitation] = data["invitations"]
    roles = [(m["subject"], m["role"]) for m in data["mails"]]
    assert (copy.subject, "cc") in roles and ("Salle changée", "reply_to") in roles
    assert [m for m in roles if m[1] == "to"] and {role for _s, role in roles} == {"to", "cc", "reply_to"}
    assert copy.subject == invitation["subject"]
    assert [(r["subject"], r["role"]) for r in csv_rows(archive, "mails.csv")] == roles


def test_no_password_nor_its_hash_is_anywhere_in_the_download(member, read):
    stored_hash = read().scalar(select(User.password_hash).where(User.email == EMAIL))
    assert stored_hash and stored_hash.startswith("$argon2")
    archive = download(member["browser"])
    for name in archive.namelist():
        body = archive.read(name).decode("utf-8")
        assert stored_hash not in body and "$argon2" not in body and PASSWORD not in body, name
    assert '"password"' not in archive.read("data.json").decode("utf-8")


def test_a_cell_that_a_spreadsheet_would_run_is_neutralised(app, member):
    with transaction(sessions(app)) as session:
        session.add(ConsentRecord(user_id=member["id"], kind="charter", given=True, text="=HYPERLINK(\"x\")",
                                  version="v1", method="account", at=NEWSLETTER_AT))
    archive = download(member["browser"])
    [charter] = [r for r in csv_rows(archive, "consents.csv") if r["kind"] == "charter"]
    assert charter["text"] == "'=HYPERLINK(\"x\")"
    assert any(c["text"] == "=HYPERLINK(\"x\")" for c in data_of(archive)["consents"])  # JSON keeps it as given


def test_the_account_page_links_the_download(member):
    page = text(member["browser"].get("/account").get_data(as_text=True))
    assert re.search(r'<a href="/account/data"[^>]*>Télécharger mes données</a>', page)


# --- nobody else's data ----------------------------------------------------------------------------

def test_another_member_s_data_never_comes_out_whatever_the_url_says(app, member):
    other = other_member(app)
    browser = member["browser"]
    for path in (f"/account/data/{other}", f"/account/data/{OTHER}", "/account/data/", f"/account/{other}/data"):
        assert browser.client.get(path).status_code == 404, path
    assert browser.client.post("/account/data", data={"user_id": str(other)}).status_code in (400, 405)
    for query in (f"user_id={other}", f"id={other}", f"email={OTHER}", f"user={other}&email={OTHER}"):
        response = browser.client.get(f"/account/data?{query}")
        assert response.status_code == 200, query
        archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
        assert data_of(archive)["account"]["email"] == EMAIL, query
        for name in archive.namelist():
            body = archive.read(name).decode("utf-8")
            assert OTHER not in body and "Oscar" not in body and "oscar-only-version" not in body, (query, name)


def test_anonymous_visitors_are_sent_to_log_in(new_client):
    response = new_client().client.get("/account/data")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/account/data"


def test_a_member_downloads_at_most_ten_times_an_hour(member):
    browser = member["browser"]
    answers = [browser.client.get("/account/data").status_code for _ in range(11)]
    assert answers == [200] * 10 + [429]


# --- the command line ------------------------------------------------------------------------------

def test_the_command_prints_the_same_data_and_logs_the_export(member, cli, read):
    web = data_of(download(member["browser"]))
    result = cli("privacy", "export", EMAIL.upper())
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["generated_at"] and {k: v for k, v in printed.items() if k != "generated_at"} == {
        k: v for k, v in web.items() if k != "generated_at"}
    assert result.stdout.startswith('{\n  "generated_at"') and "Réunion du canal" in result.stdout  # UTF-8, indent 2
    [logged] = read().scalars(select(DataAccess)).all()
    assert (logged.actor_id, logged.actor_role, logged.action, logged.target, logged.subjects) == (
        None, "operator", "export", f"user:{member['id']}", 1)
    assert read().scalars(select(DataAccessSubject.user_id)).all() == [member["id"]]
    [entry] = data_of(download(member["browser"]))["access"]
    assert (entry["by_role"], entry["by_name"], entry["action"]) == ("operator", "", "export")


def test_an_unknown_address_is_a_clear_message_and_exit_1(cli, read):
    result = cli("privacy", "export", "nobody@example.org")
    assert result.exit_code == 1 and result.stdout == ""
    assert "nothing is held about 'nobody@example.org'" in result.stderr
    assert "Traceback" not in result.output
    assert read().scalars(select(DataAccess)).all() == []


@pytest.mark.parametrize("argument", ["", "   ", "rentrée", "camille.martin", "@example.org", "a@b@c.org"])
def test_an_argument_that_is_not_an_address_is_refused_and_nothing_is_exported(member, cli, read, argument):
    result = cli("privacy", "export", argument)
    assert result.exit_code == 1 and result.stdout == "", result.output
    assert "is not an e-mail address: nothing was exported" in result.stderr and "Traceback" not in result.output
    assert read().scalars(select(DataAccess)).all() == []


def only_logged_export(read, address: str) -> None:
    """The export is logged as the command line's, its target the address's keyed hash: one person, no member."""
    [logged] = read().scalars(select(DataAccess)).all()
    assert (logged.actor_id, logged.actor_role, logged.action, logged.target, logged.subjects) == (
        None, "operator", "export", f"address:{keyed(address)}", 1)
    assert read().scalars(select(DataAccessSubject)).all() == []


def test_a_visitor_without_an_account_gets_their_place_answers_consent_and_mail(app, new_client, cli, read):
    slug = create_event(app, "Atelier du quartier", capacity=10)
    for person in (VISITOR, {**VISITOR, "first_name": "Oscar", "last_name": "Autre", "email": OTHER}):
        browser = new_client()
        open_registration(browser, slug)
        assert final_state(press(browser, "register", person)) == "registered"

    result = cli("privacy", "export", SACHA.upper())
    assert result.exit_code == 0, result.output
    assert "No account with this address" in result.stderr
    data = json.loads(result.stdout)
    assert data["account"] is None and moment(data["generated_at"])
    [place] = data["registrations"]
    assert (place["event"], place["status"], place["email"], place["first_name"], place["last_name"],
            place["postal_code"]) == ("Atelier du quartier", "registered", SACHA, "Sacha", "Visiteur", "94320")
    [instance] = data["instances"]
    assert instance["workflow"] == "event_registration" and instance["state"] == "registered"
    assert (instance["answers"]["last_name"], instance["answers"]["email"].strip().lower()) == ("Visiteur", SACHA)
    assert [(c["kind"], c["given"], c["instance"]) for c in data["consents"]] == [
        ("event_registration.terms", True, instance["id"])]
    [confirmation] = data["mails"]
    assert confirmation["role"] == "to" and "Atelier du quartier" in confirmation["subject"]
    assert all(data[name] == [] for name in ("committees", "invitations", "invitations_received", "access",
                                             "roles", "media"))
    assert OTHER not in result.stdout and "Oscar" not in result.stdout  # the other visitor's place stays theirs
    only_logged_export(read, SACHA)


def test_an_invited_friend_without_an_account_gets_the_invitation_and_its_mail_only(member, cli, read):
    result = cli("privacy", "export", FRIEND)
    assert result.exit_code == 0, result.output
    assert "No account with this address" in result.stderr
    data = json.loads(result.stdout)
    assert data["account"] is None
    [received] = data["invitations_received"]
    assert received["first_name_given"] == "Camille" and received["subject"] and received["joined_at"] is None
    [invitation] = data["mails"]
    assert (invitation["subject"], invitation["role"]) == (received["subject"], "to")
    assert all(data[name] == [] for name in FILES if name not in ("invitations_received", "mails"))
    assert EMAIL not in result.stdout and "terms-v3" not in result.stdout  # nothing of the member who invited
    only_logged_export(read, FRIEND)


# --- who looked ------------------------------------------------------------------------------------

def staff(app, new_client, email: str, role: str, first_name: str, personal_data: bool = False) -> Any:
    user_id = make_user(app, email, role=role, first_name=first_name, last_name="Équipe")
    if personal_data:
        with transaction(sessions(app)) as session:
            session.get(User, user_id).can_see_personal_data = True
    browser = new_client()
    log_in(browser, email)
    return browser


def accesses(read) -> list[tuple[str | None, str, str, str, int, list[int]]]:
    session = read()
    return [(row.actor_role, row.action, row.target, row.at.isoformat(), row.subjects,
             sorted(session.scalars(select(DataAccessSubject.user_id).where(DataAccessSubject.access_id == row.id))))
            for row in session.scalars(select(DataAccess).order_by(DataAccess.id))]


def test_staff_views_of_personal_data_are_logged_and_the_member_s_export_lists_them(app, member, new_client, read):
    before = utcnow()
    organizer = staff(app, new_client, "orga@example.org", "organizer", "Olivia")
    assert organizer.get(f"/organizer/events/{member['slug']}/participants").status_code == 200
    assert organizer.client.get(f"/organizer/events/{member['slug']}/participants.csv").status_code == 200
    analyst = staff(app, new_client, "ana@example.org", "analyst", "Anna", personal_data=True)
    assert analyst.get(f"/analyst/workflows/signup/instances/{member['signup']}").status_code == 200
    blind = staff(app, new_client, "blind@example.org", "analyst", "Basile")  # no grant: pseudonyms only
    assert blind.get(f"/analyst/workflows/signup/instances/{member['signup']}").status_code == 200
    assert blind.get("/analyst/workflows/signup/instances").status_code == 200
    after = utcnow()

    logged = accesses(read)
    assert [(role, action, target, subjects, ids) for role, action, target, _at, subjects, ids in logged] == [
        ("organizer", "participants", f"event:{member['slug']}", 1, [member["id"]]),
        ("organizer", "participants_csv", f"event:{member['slug']}", 1, [member["id"]]),
        ("analyst", "explorer", f"instance:{member['signup']}", 1, [member["id"]]),
    ]
    assert all(before <= moment(at) <= after for *_, at, _s, _i in logged)

    listed = data_of(download(member["browser"]))["access"]
    assert [(e["by_role"], e["by_name"], e["action"], e["target"]) for e in listed] == [
        ("organizer", "Olivia Équipe", "participants", f"event:{member['slug']}"),
        ("organizer", "Olivia Équipe", "participants_csv", f"event:{member['slug']}"),
        ("analyst", "Anna Équipe", "explorer", f"instance:{member['signup']}"),
    ]
    assert [e["at"] for e in listed] == [at for *_, at, _s, _i in logged]


def test_the_explorer_list_with_the_grant_and_an_audience_csv_are_logged_too(app, member, new_client, read):
    analyst = staff(app, new_client, "ana@example.org", "analyst", "Anna", personal_data=True)
    assert analyst.get("/analyst/workflows/signup/instances").status_code == 200
    assert analyst.client.get("/analyst/workflows/signup/instances?format=csv&personal=1").status_code == 200
    organizer = staff(app, new_client, "orga@example.org", "organizer", "Olivia")
    response = organizer.client.get("/organizer/audiences/department/94.csv")  # Thiais, where the member lives
    assert response.status_code == 200 and "Camille" in response.get_data(as_text=True)
    assert [(role, action, target, ids) for role, action, target, _at, _n, ids in accesses(read)] == [
        ("analyst", "explorer", "workflow:signup", [member["id"]]),
        ("analyst", "explorer_csv", "workflow:signup", [member["id"]]),
        ("organizer", "audience_csv", "audience:department:94", [member["id"]]),
    ]


def test_the_log_keeps_each_member_once_and_skips_accounts_gone_in_chunks(app, read, monkeypatch):
    ids = [make_user(app, f"m{n}@example.org") for n in range(5)]
    monkeypatch.setattr(access, "CHUNK", 2)
    at = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    with transaction(sessions(app)) as session:
        access.log(session, None, "audience_csv", "audience:department:75", [*ids, *ids, None, 999_999], at)
    [(role, action, target, when, subjects, subject_ids)] = accesses(read)
    assert (role, action, target, when, subjects) == ("operator", "audience_csv", "audience:department:75",
                                                      at.isoformat(), 6)  # 5 members, and one gone since
    assert subject_ids == sorted(ids)
