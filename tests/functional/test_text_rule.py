"""The one text rule through the real app (issue #23, finding 6): NUL, control and bidi characters are refused
with a message next to the input and nothing is stored, in workflows and in hand-written forms; every text is
capped; an oversized urlencoded field is a 413; legitimate text (accents, ’, Arabic, Hebrew, emoji, line
breaks in a text area) is accepted and stored as typed (in NFC)."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import select

from engagement.accounts.models import User
from engagement.campaigns.models import Campaign
from engagement.committees.models import Committee
from engagement.events.models import Event
from engagement.invitations.models import Invitation
from engagement.mail.models import MailMessage
from tests.functional.campaign_steps import compose
from tests.functional.helpers import count, field_error, instances, serve_workflows, text
from tests.functional.invitation_steps import SELF, log_in, make_user, send, to_summary

HOSTILE = {"NUL": "Dominique\x00Durand", "escape": "Dominique\x1b[2JDurand", "override": "Dominique \u202eDurand"}
REFUSED = "Retirez de ce texte les caractères de contrôle invisibles (ils viennent souvent d’un copier-coller)."
REFUSED_EN = "Remove the invisible control characters from this text (they often come from a copy and paste)."
TOO_LARGE = "Ce que vous avez envoyé est trop volumineux."
STREET = {"address-country": "FR", "address-postal_code": "75011", "address-city": "75111"}


def nothing_sent(read: Any) -> bool:
    session = read()
    return count(session, Invitation) == 0 and count(session, MailMessage) == 0


# --- workflows: the invitation's names, subject and body ----------------------------------------------------

@pytest.mark.parametrize("field", ["self_first_name", "self_last_name", "message_subject", "message_body"])
def test_control_and_bidi_characters_are_refused_in_the_invitation_and_nothing_is_sent(client, read, field):
    to_summary(client)
    for kind, value in HOSTILE.items():
        typed = value * 3 if field == "message_body" else value  # the body needs 20 characters
        response = send(client, **{field: typed})
        assert response.status_code == 422, kind
        assert field_error(client.last_html, field) == REFUSED, kind
    assert instances(read(), "invitation")[0].state == "summary"
    assert nothing_sent(read)


def test_legitimate_names_and_a_message_in_any_script_are_sent_as_typed(client, read):
    names = {"self_first_name": "Ève-Marie \u200fיוסי\u200f", "self_last_name": "d’Alembert محمد 🌻"}
    body = "Salut Camille,\r\n\r\n\tOn se voit samedi ? L’équipe t’attend 😊\r\nשלום, مرحبا"
    to_summary(client)
    response = send(client, message_subject="Viens avec nous\u00a0!", message_body=body,
                    **{**names, "self_first_name": "E\u0300ve-Marie \u200fיוסי\u200f"})  # È typed decomposed
    assert response.status_code == 303, text(client.last_html)[:1500]
    data = instances(read(), "invitation")[0].data
    assert data["self_first_name"] == names["self_first_name"] and data["self_first_name"][0] == "\u00c8"
    assert data["self_last_name"] == names["self_last_name"]
    assert data["message_body"] == body.replace("\r\n", "\n")  # line ends as LF, tab and scripts kept
    assert data["message_subject"] == "Viens avec nous\u00a0!"
    [invitation] = read().scalars(select(Invitation)).all()
    assert invitation.friend_email == SELF["friend_email"]


# --- workflows: defaults caps, a street ---------------------------------------------------------------------

FLOW = """\
id: texts
version: 1
title: Essai
initial: one
states:
  one:
    title: Vos réponses
    fields:
      - {name: word, type: text, label: Mot}
      - {name: note, type: textarea, label: Remarque}
      - {name: home, type: address, label: Adresse}
  done: {final: true, title: Merci}
transitions:
  - {trigger: next, source: one, dest: done}
"""
VALID = {"word": "Bonjour", "note": "Une\r\nremarque", "home-country": "BE", "home-street": "Rue Neuve 1",
         "home-postal_code": "1000", "home-city_name": "Bruxelles"}


@pytest.fixture
def flows_env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return serve_workflows(env, tmp_path / "flows", texts=FLOW)


def answer(client: Any, **answers: str) -> Any:
    client.get("/w/texts")
    return client.post("/w/texts/one", {**VALID, **answers, "trigger": "next"})


@pytest.mark.parametrize("part", ["home-street", "home-postal_code", "home-city_name"])
@pytest.mark.parametrize("kind", list(HOSTILE))
def test_an_address_part_with_a_control_or_bidi_character_is_refused_at_that_part(flows_env, client, read,
                                                                                  part, kind):
    response = answer(client, **{part: HOSTILE[kind][:18]})
    assert response.status_code == 422
    assert REFUSED in text(client.last_html)
    assert 'aria-invalid="true"' in re.search(rf'<input\b[^>]*name="{part}"[^>]*>', client.last_html).group(0)
    assert instances(read(), "texts")[0].state == "one"


def test_text_without_a_max_length_is_capped_at_200_characters_and_a_text_area_at_10000(flows_env, client, read):
    client.get("/w/texts")
    assert 'maxlength="200"' in client.last_html and 'maxlength="10000"' in client.last_html
    assert answer(client, word="x" * 201).status_code == 422
    assert field_error(client.last_html, "word") == "Saisissez au plus 200 caractères."
    assert answer(client, note="x" * 10_001).status_code == 422
    assert field_error(client.last_html, "note") == "Saisissez au plus 10000 caractères."
    assert instances(read(), "texts")[0].state == "one"
    assert answer(client, word="x" * 200, note="x\ty\n" * 2500).status_code == 303


def test_tabs_and_line_breaks_stay_in_a_text_area_and_become_spaces_on_one_line(flows_env, client, read):
    assert answer(client, word="a\tb\r\nc", note=" ligne un\r\n\tdeux ").status_code == 303
    data = instances(read(), "texts")[0].data
    assert data["word"] == "a b c" and data["note"] == "ligne un\n\tdeux"


# --- hand-written forms: profile, committee, event, campaign ------------------------------------------------

@pytest.fixture
def member(app: Any, client: Any) -> Any:
    make_user(app, "membre@example.org")
    log_in(client, "membre@example.org")
    return client


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_the_profile_refuses_a_street_with_a_control_or_bidi_character(member, read, kind):
    member.get("/account/edit")
    response = member.post("/account/edit", {**STREET, "address-street": "3 rue du Port " + HOSTILE[kind]})
    assert response.status_code == 422
    assert REFUSED in text(member.last_html)
    assert read().scalars(select(User)).one().address is None


def test_a_street_of_600000_characters_posted_urlencoded_is_too_large(app, member, read):
    member.get("/account/edit")
    response = member.post("/account/edit", {**STREET, "address-street": "x" * 600_000})
    assert response.status_code == 413
    assert TOO_LARGE in text(member.last_html)
    assert read().scalars(select(User)).one().address is None
    limit = app.config["MAX_FORM_MEMORY_SIZE"]
    assert member.post("/account/edit", {**STREET, "address-street": "é" * (limit // 2 + 1)}).status_code == 413
    assert member.post("/account/edit", {**STREET, "x" * (limit + 1): "y"}).status_code == 413  # a name too
    assert member.post("/account/edit", {**STREET, "address-street": "x" * 300_000}).status_code == 422
    assert "200 caractères" in text(member.last_html)  # under the byte limit: the street's own cap


@pytest.mark.parametrize(("changes", "kind"), [({"name": "Paris \u202eEst"}, "override"),
                                                ({"description": "On se réunit\x00 le mardi."}, "NUL"),
                                                ({"address-street": "1 rue de Rivoli\x1b"}, "escape")])
def test_a_committee_proposal_with_a_control_or_bidi_character_creates_nothing(member, read, changes, kind):
    member.get("/committees/new")
    response = member.post("/committees/new", {"name": "Écologie Paris Centre", "description": "Le mardi.",
                                               "address-country": "FR", "address-street": "1 rue de Rivoli",
                                               "address-postal_code": "75001", **changes})
    assert response.status_code == 422, kind
    assert REFUSED in text(member.last_html)
    assert count(read(), Committee) == 0


@pytest.fixture
def organizer(app: Any, client: Any) -> Any:
    make_user(app, "orga@example.org", role="organizer")
    log_in(client, "orga@example.org")
    return client


def test_an_event_named_with_a_nul_or_an_override_is_refused(organizer, read):
    event = {"description": "Ordre du jour.", "category": "meeting", "begins": "2099-12-05T10:00",
             "ends": "2099-12-05T12:00", "timezone": "Europe/Paris", "online_url": "https://visio.example.org/a",
             "capacity": "", "committee": "", "address-country": "FR"}
    for name in ("Réunion\x00", "Réunion \u202egnitcem"):
        organizer.get("/organizer/events/new")
        assert organizer.post("/organizer/events/new", {**event, "name": name}).status_code == 422
        assert field_error(organizer.last_html, "name") == REFUSED
    assert count(read(), Event) == 0


def test_a_campaign_subject_or_body_with_a_control_character_is_refused(organizer, read):
    organizer.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    for changes in ({"subject": "Nouvelles\x1b[31m"}, {"body": "Bonjour\x00"}, {"sender_name": "Olivia \u2067Orga"}):
        response = compose(organizer, audience="all", **changes)
        assert response.status_code == 422
        assert field_error(organizer.last_html, next(iter(changes))) == REFUSED_EN
    assert count(read(), Campaign) == 0


# --- every hand-written form carries the rule ---------------------------------------------------------------

def _all_subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    return found.union(*(_all_subclasses(sub) for sub in found))


def test_every_form_of_the_application_applies_the_text_rule(app):
    import forms
    import web
    from forms.step import StepForm
    from forms.text import TextForm

    for package in (forms, web):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            importlib.import_module(module.name)
    app_forms = {cls for cls in _all_subclasses(FlaskForm) if cls.__module__.split(".")[0] in ("forms", "web")}
    assert len(app_forms) > 20
    assert {cls.__qualname__ for cls in app_forms if not issubclass(cls, TextForm | StepForm)} == set()


# --- the command line and workflow files ---------------------------------------------------------------------

@pytest.mark.parametrize(("subject", "body", "sender", "refused"), [
    ("Samedi\x1b[2J", "Bonjour.", None, "subject_characters"),
    ("Samedi", "Bonjour\x00.\n", None, "body_characters"),
    ("Samedi", "Bonjour.", "Olivia \u202eagrO", "sender_characters"),
])
def test_campaign_send_on_the_command_line_refuses_control_and_bidi_characters(cli, factory, tmp_path, subject, body,
                                                                               sender, refused):
    path = tmp_path / "body.txt"
    path.write_text(body, encoding="utf-8")
    result = cli("campaign", "send", "--audience", "all", "--subject", subject, "--body-file", str(path),
                 *(("--from-name", sender) if sender else ()))
    assert result.exit_code == 1 and result.stdout == ""
    assert f"{refused}:" in result.stderr
    with factory() as session:
        assert count(session, Campaign) == 0


def test_the_studio_refuses_a_workflow_file_with_a_bidi_override_where_it_stands(app, client, read):
    make_user(app, "orga@example.org", role="organizer")
    log_in(client, "orga@example.org")
    source = FLOW.replace("title: Merci", "title: \"Merci \u202e!\"")
    client.get("/organizer/workflows/editor")
    response = client.post("/organizer/workflows/editor", {"source": source, "action": "check"})
    assert response.status_code == 422
    line = next(n for n, row in enumerate(source.split("\n"), 1) if "\u202e" in row)
    column = source.split("\n")[line - 1].index("\u202e") + 1
    assert f'data-line="{line}" data-column="{column}"' in client.last_html
    assert "caractère de contrôle invisible U+202E\u00a0: retirez-le" in text(client.last_html)
