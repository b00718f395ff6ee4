"""The composed invitation message: golden files, plain-text first names, hidden and unknown keys, locales.

The golden files ``tests/golden/invitation_message_<locale>.txt`` hold the message composed from the
seeded content for ``ANSWERS``: a first line ``Subject: <subject>``, a blank line, then the body
exactly, followed by one final newline. After a deliberate change of ``content.yml`` or of the
composition, regenerate them and read the diff before committing::

    UPDATE_GOLDEN=1 .venv/bin/pytest -q -p no:cacheprovider tests/unit/test_invitation_compose.py
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.expressions import Answers
from engagement.invitations import content
from engagement.invitations.compose import compose
from engagement.invitations.content import Catalog
from engagement.invitations.models import InvitationContent
from engagement.mail import service as mail
from engagement.workflow.spec import localize

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
ANSWERS: dict[str, Any] = {
    "friend_first_name": "Camille",
    "friend_gender": "female",
    "friend_position": "teacher",
    "friend_project": "start_family",
    # Both lists are ticked in the reverse of the content's order: the content's order must win.
    "friend_interests": ["education", "ecology"],
    "self_reasons": ["act_not_complain", "local_action"],
}


@pytest.fixture
def catalog(session: Session) -> Catalog:
    """The real seeded content."""
    content.seed(session)
    return content.catalog(session)


def argument(catalog: Catalog, kind: str, key: str, locale: str = "fr") -> str:
    piece = catalog.get(kind, key)
    assert piece is not None, (kind, key)
    return localize(piece.body, locale)


def greeting(catalog: Catalog, first_name: str, locale: str = "fr") -> str:
    return localize(catalog.text("introduction"), locale).replace("{{ first_name }}", first_name)


def paragraphs(body: str) -> list[str]:
    return body.split("\n\n")


def hide(session: Session, kind: str, key: str) -> None:
    piece = session.scalar(select(InvitationContent).where(InvitationContent.kind == kind,
                                                           InvitationContent.key == key))
    assert piece is not None
    content.update(session, piece.id, label=piece.label, body=piece.body, position=piece.position,
                   is_active=False, now=NOW)


# -- golden files ----------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_composed_message_matches_its_golden_file(catalog: Catalog, locale: str):
    message = compose(catalog, ANSWERS, locale)
    rendered = f"Subject: {message.subject}\n\n{message.body}\n"
    path = GOLDEN / f"invitation_message_{locale}.txt"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered, encoding="utf-8")

    assert path.read_text(encoding="utf-8") == rendered


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_paragraphs_follow_the_documented_order_and_the_content_order(catalog: Catalog, locale: str):
    message = compose(catalog, ANSWERS, locale)

    assert paragraphs(message.body) == [
        greeting(catalog, "Camille", locale),
        argument(catalog, "gender", "female", locale),
        argument(catalog, "reason", "local_action", locale),
        argument(catalog, "reason", "act_not_complain", locale),
        argument(catalog, "position", "teacher", locale),
        argument(catalog, "interest", "ecology", locale),
        argument(catalog, "interest", "education", locale),
        argument(catalog, "project", "start_family", locale),
        localize(catalog.text("conclusion"), locale),
    ]


def test_subject_greets_the_friend(catalog: Catalog):
    assert compose(catalog, ANSWERS, "fr").subject == "Camille, et si tu nous rejoignais\u00a0?"
    assert compose(catalog, ANSWERS, "en").subject == "Camille, why not join us?"


def test_organizers_order_decides_between_two_chosen_interests(session: Session, catalog: Catalog):
    ecology = session.scalar(select(InvitationContent).where(InvitationContent.kind == "interest",
                                                             InvitationContent.key == "ecology"))
    assert ecology is not None
    content.update(session, ecology.id, label=ecology.label, body=ecology.body, position=10_000,
                   is_active=True, now=NOW)

    body = compose(content.catalog(session), ANSWERS, "fr").body

    assert body.index(argument(catalog, "interest", "education")) < body.index(argument(catalog, "interest", "ecology"))


# -- the friend's first name is text, never a template -----------------------------------------


@pytest.mark.parametrize("name", ["{{ 7*7 }}", "{% for %}", "{{ data.x }}", "{% raw %}", "{#", "}}"])
def test_first_name_is_inserted_verbatim_and_never_evaluated(catalog: Catalog, name: str):
    message = compose(catalog, {**ANSWERS, "friend_first_name": name}, "fr")

    assert paragraphs(message.body)[0] == greeting(catalog, name)
    assert message.subject == f"{name}, et si tu nous rejoignais\u00a0?"
    assert "49" not in message.body


def test_first_name_markup_stays_as_is_in_the_plain_text_body(catalog: Catalog):
    message = compose(catalog, {**ANSWERS, "friend_first_name": "<b>Zoé</b>"}, "fr")

    assert message.body.startswith("Salut <b>Zoé</b>, ")
    assert message.subject.startswith("<b>Zoé</b>, ")
    assert "&lt;" not in message.body


def test_first_name_whitespace_is_collapsed(catalog: Catalog):
    message = compose(catalog, {**ANSWERS, "friend_first_name": "  Marie \n\n Anne\t"}, "fr")

    assert message.body.startswith("Salut Marie Anne, ")
    assert "\n\n\n" not in message.body


def invitation_mail(session: Session, body: str, subject: str = "Sujet") -> Any:
    data = {"message_subject": subject, "message_body": body, "self_first_name": "Lou",
            "self_last_name": "Martin", "self_email": "lou@example.org",
            "join_link": "https://example.org/invitation/join/abc",
            "optout_link": "https://example.org/invitation/optout/def"}
    return mail.compose(session, to=["zoe@example.org"], template="invitation_friend", locale="fr",
                        context={"data": Answers(data)})


def test_html_mail_escapes_the_message_and_the_text_mail_does_not(session: Session, catalog: Catalog):
    message = compose(catalog, {**ANSWERS, "friend_first_name": "<b>Zoé</b>"}, "fr")

    sent = invitation_mail(session, message.body, message.subject)

    assert "&lt;b&gt;Zoé&lt;/b&gt;" in sent.html_body
    assert "<b>Zoé" not in sent.html_body
    assert sent.text_body.startswith("Salut <b>Zoé</b>, ")
    assert sent.subject == "<b>Zoé</b>, et si tu nous rejoignais\u00a0?"


def test_html_mail_puts_each_paragraph_in_its_own_p(session: Session):
    sent = invitation_mail(session, "Premier paragraphe.\n\nDeuxième,\nsur deux lignes.\n\nTroisième.")

    assert "<p>Premier paragraphe.</p>" in sent.html_body
    assert "<p>Deuxième,<br>sur deux lignes.</p>" in sent.html_body
    assert "<p>Troisième.</p>" in sent.html_body
    assert sent.text_body.startswith("Premier paragraphe.\n\nDeuxième,\nsur deux lignes.\n\nTroisième.\n")


def test_html_mail_of_the_composed_message_has_one_p_per_paragraph(session: Session, catalog: Catalog):
    message = compose(catalog, ANSWERS, "fr")

    sent = invitation_mail(session, message.body, message.subject)

    for paragraph in paragraphs(message.body):
        assert f"<p>{escape(paragraph)}</p>" in sent.html_body


# -- hidden, unknown and missing answers -------------------------------------------------------


def test_a_hidden_choice_still_gives_its_argument_to_those_who_chose_it(session: Session, catalog: Catalog):
    for kind, key in [("position", "teacher"), ("interest", "ecology"), ("reason", "local_action"),
                      ("gender", "female"), ("project", "start_family")]:
        hide(session, kind, key)

    hidden = content.catalog(session)
    assert "teacher" not in dict(hidden.choices("position"))

    assert compose(hidden, ANSWERS, "fr") == compose(catalog, ANSWERS, "fr")


def test_an_unknown_key_is_skipped(catalog: Catalog):
    answers = {**ANSWERS, "friend_position": "astronaut", "friend_interests": ["ecology", "unknown"],
               "self_reasons": ["gone"], "friend_gender": "robot", "friend_project": ""}

    assert paragraphs(compose(catalog, answers, "fr").body) == [
        greeting(catalog, "Camille"),
        argument(catalog, "interest", "ecology"),
        localize(catalog.text("conclusion"), "fr"),
    ]


def test_a_key_of_another_kind_is_not_used(catalog: Catalog):
    """``health`` is both a job type and an interest: each answer reads its own kind."""
    message = compose(catalog, {**ANSWERS, "friend_position": "health", "friend_interests": ["work"]}, "fr")

    assert argument(catalog, "position", "health") in message.body
    assert argument(catalog, "interest", "health") not in message.body


def test_missing_gender_gives_no_gender_paragraph(catalog: Catalog):
    answers = {k: v for k, v in ANSWERS.items() if k != "friend_gender"}

    body = compose(catalog, answers, "fr").body

    assert paragraphs(body) == [p for p in paragraphs(compose(catalog, ANSWERS, "fr").body)
                                if p != argument(catalog, "gender", "female")]
    for gender in ("female", "male", "other"):
        assert argument(catalog, "gender", gender) not in body


def test_no_answers_give_the_introduction_and_the_conclusion(catalog: Catalog):
    message = compose(catalog, {}, "fr")

    assert paragraphs(message.body) == [greeting(catalog, ""), localize(catalog.text("conclusion"), "fr")]
    assert message.subject == ", et si tu nous rejoignais\u00a0?"


# -- locales ---------------------------------------------------------------------------------


def test_english_uses_the_english_texts(catalog: Catalog):
    body = compose(catalog, ANSWERS, "en").body

    assert body.startswith("Hi Camille, ")
    assert argument(catalog, "position", "teacher", "en") in body
    assert argument(catalog, "position", "teacher", "fr") not in body


def test_english_falls_back_to_french_for_a_piece_without_english(session: Session, catalog: Catalog):
    teacher = session.scalar(select(InvitationContent).where(InvitationContent.kind == "position",
                                                             InvitationContent.key == "teacher"))
    assert teacher is not None
    content.update(session, teacher.id, label={"fr": "Enseignant·e"}, body={"fr": "Seulement en français."},
                   position=teacher.position, is_active=True, now=NOW)

    message = compose(content.catalog(session), ANSWERS, "en")

    assert paragraphs(message.body)[4] == "Seulement en français."
    assert message.body.startswith("Hi Camille, ")
    assert argument(catalog, "interest", "ecology", "en") in message.body


def test_an_unknown_locale_falls_back_to_french(catalog: Catalog):
    assert compose(catalog, ANSWERS, "de") == compose(catalog, ANSWERS, "fr")
