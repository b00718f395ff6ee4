"""Organizers edit the invitation's choices and arguments at /organizer/invitation (no deploy needed)."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from engagement.invitations.models import InvitationContent
from tests.functional.helpers import checked, count, input_value, state_of, text
from tests.functional.invitation_steps import (
    FRIEND,
    INTERESTS,
    PROJECT,
    REASONS,
    URL,
    log_in,
    make_user,
    step,
    textarea,
    to_summary,
)

SECTIONS = ("Textes du message", "Genre", "Situations professionnelles", "Projets de vie", "Centres d’intérêt",
            "Raisons du sympathisant")
TEACHER_LABEL = "Professeur·e des écoles"
TEACHER_ARGUMENT = "Toi qui fais classe tous les jours, {{ first_name }}, tu sais ce que l'école change."
TOO_FEW = "Il resterait trop peu de choix proposés pour pouvoir répondre au formulaire."


@pytest.fixture
def organizer(app, client):
    make_user(app, "orga@example.org", role="organizer", first_name="Olivia", last_name="Orga")
    log_in(client, "orga@example.org")
    return client


def piece(read, kind: str, key: str) -> InvitationContent:
    return read().scalar(select(InvitationContent).where(InvitationContent.kind == kind, InvitationContent.key == key))


def current_values(page: str) -> dict[str, str]:
    """What the edit form holds, as a browser would send it back unchanged."""
    values = {name: input_value(page, name) or "" for name in ("label_fr", "label_en", "position")}
    values.update({name: textarea(page, name) for name in ("body_fr", "body_en")})
    if checked(page, "is_active"):
        values["is_active"] = "y"
    return values


def edit(client, row: InvitationContent, **changes: str | None) -> object:
    """Open the piece's edit page, change some inputs (None unticks or empties), and save."""
    url = f"/organizer/invitation/{row.id}"
    client.get(url)
    data = {**current_values(client.last_html), **changes}
    return client.post(url, {k: v for k, v in data.items() if v is not None})


def error_next_to(page: str, name: str) -> str | None:
    """The message shown in the field wrapper of the input called ``name``."""
    start = page.index(f'name="{name}"')
    end = page.find('<div class="field', start)
    found = re.search(r'<p class="error">([^<]*)</p>', page[start:end if end != -1 else len(page)])
    return html.unescape(found.group(1)) if found else None


def options(page: str, name: str) -> dict[str, str]:
    """value -> label of a select's options."""
    select_html = re.search(rf'<select\b[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return {v: text(label) for v, label in re.findall(r'<option\b[^>]*value="([^"]*)"[^>]*>([^<]*)</option>',
                                                      select_html)}


def boxes(page: str, name: str) -> set[str]:
    return {v for tag in re.findall(r"<input\b[^>]*>", page) if f'name="{name}"' in tag
            for v in re.findall(r'\svalue="([^"]*)"', tag)}


# --- Who may enter ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/organizer/", "/organizer/invitation"])
def test_anonymous_visitors_are_sent_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=/organizer/")


@pytest.mark.parametrize("path", ["/organizer/", "/organizer/invitation"])
def test_members_are_refused_with_a_friendly_page(app, client, path):
    make_user(app, "member@example.org")
    log_in(client, "member@example.org")
    response = client.get(path)
    assert response.status_code == 403
    page = text(client.last_html)
    assert "Vous n’avez pas accès à cette page." in page and "Traceback" not in page
    assert 'href="/organizer/"' not in client.last_html  # nor does the header offer it


@pytest.mark.parametrize("role", ["organizer", "admin"])
def test_organizers_and_admins_see_every_section(app, client, role):
    make_user(app, f"{role}@example.org", role=role)
    log_in(client, f"{role}@example.org")
    client.get("/account")
    assert 'href="/organizer/"' in client.last_html  # the header leads there
    assert client.get("/organizer/").status_code == 200
    assert 'href="/organizer/invitation"' in client.last_html
    response = client.get("/organizer/invitation")
    assert response.status_code == 200
    page = text(client.last_html)
    for title in SECTIONS:
        assert f">{title}</h2>" in page, title
    for kind in ("text", "gender", "position", "project", "interest", "reason"):
        assert f'<h2 id="{kind}">' in page
    assert "Enseignant·e" in page and "Je préfère agir plutôt que râler" in page
    assert re.search(r'href="/organizer/invitation/\d+"', page)


# --- Editing a choice reaches visitors -------------------------------------------------------------

def test_an_edited_label_and_argument_reach_the_next_visitor(organizer, new_client, read):
    teacher = piece(read, "position", "teacher")
    response = edit(organizer, teacher, label_fr=TEACHER_LABEL, body_fr=TEACHER_ARGUMENT)
    assert response.status_code == 303 and response.headers["Location"].startswith("/organizer/invitation")
    saved = piece(read, "position", "teacher")
    assert saved.label["fr"] == TEACHER_LABEL and saved.body["fr"] == TEACHER_ARGUMENT
    assert saved.label["en"] == "Teacher" and saved.is_active  # what was not changed stays
    organizer.get("/organizer/invitation")
    assert "Enregistré." in text(organizer.last_html) and TEACHER_LABEL in text(organizer.last_html)
    visitor = new_client()
    page = visitor.get(URL).get_data(as_text=True)
    assert options(page, "friend_position")["teacher"] == TEACHER_LABEL
    assert "Enseignant·e" not in text(page)
    body = textarea(to_summary(visitor), "message_body")
    assert "Toi qui fais classe tous les jours, Camille, tu sais ce que l'école change." in body
    assert "Tu sais mieux que personne ce qui se passe vraiment dans une classe." not in body


# --- Validation: nothing saved, the message next to the input --------------------------------------

@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"label_fr": "É" * 81}, "label_fr", "80 caractères au maximum."),
    ({"body_fr": "Bonjour {{ user.email }}, viens."}, "body_fr",
     "Le seul emplacement permis est {{ first_name }}, écrit exactement ainsi."),
    ({"label_fr": ""}, "label_fr", "Le libellé en français est obligatoire."),
])
def test_an_invalid_edit_is_refused_next_to_its_input_and_saves_nothing(organizer, read, changes, field, message):
    before = piece(read, "position", "teacher")
    response = edit(organizer, before, **changes)
    assert response.status_code == 422
    assert error_next_to(organizer.last_html, field) == message
    after = piece(read, "position", "teacher")
    assert (after.label, after.body, after.is_active, after.updated_at) == (
        before.label, before.body, before.is_active, before.updated_at)


def test_reasons_may_be_hidden_but_two_stay_offered(organizer, new_client, read):
    keys = [row.key for row in read().scalars(select(InvitationContent).where(InvitationContent.kind == "reason")
                                              .order_by(InvitationContent.position))]
    assert len(keys) == 5
    for key in keys[:3]:
        assert edit(organizer, piece(read, "reason", key), is_active=None).status_code == 303
    visitor = new_client()
    for data in (FRIEND, PROJECT, INTERESTS):
        step(visitor, data)
    page = visitor.get(URL).get_data(as_text=True)
    assert state_of(page) == "reasons" and boxes(page, "self_reasons") == set(keys[3:])
    response = edit(organizer, piece(read, "reason", keys[3]), is_active=None)
    assert response.status_code == 422
    assert error_next_to(organizer.last_html, "is_active") == TOO_FEW
    assert piece(read, "reason", keys[3]).is_active
    assert count(read(), InvitationContent, InvitationContent.kind == "reason",
                 InvitationContent.is_active.is_(True)) == 2


# --- Adding a choice -------------------------------------------------------------------------------

def test_a_new_interest_is_offered_to_visitors(organizer, new_client, read):
    organizer.get("/organizer/invitation/new/interest")
    response = organizer.post("/organizer/invitation/new/interest", {
        "key": "gardening", "label_fr": "Jardinage", "label_en": "Gardening",
        "body_fr": "Les jardins partagés, {{ first_name }}, c'est aussi notre affaire.", "body_en": ""})
    assert response.status_code == 303
    added = piece(read, "interest", "gardening")
    assert added.label == {"fr": "Jardinage", "en": "Gardening"} and added.is_active
    visitor = new_client()
    step(visitor, FRIEND)
    step(visitor, PROJECT)
    page = visitor.get(URL).get_data(as_text=True)
    assert state_of(page) == "interests" and "gardening" in boxes(page, "friend_interests")
    assert "Jardinage" in text(page)
    step(visitor, {"friend_interests": ["gardening", "ecology"]})
    step(visitor, REASONS)
    body = textarea(visitor.get(URL).get_data(as_text=True), "message_body")
    assert "Les jardins partagés, Camille, c'est aussi notre affaire." in body


def test_a_key_already_used_is_refused(organizer, read):
    before = count(read(), InvitationContent)
    organizer.get("/organizer/invitation/new/interest")
    response = organizer.post("/organizer/invitation/new/interest", {
        "key": "ecology", "label_fr": "Écologie bis", "body_fr": "Un autre argument sur l'écologie."})
    assert response.status_code == 422
    assert error_next_to(organizer.last_html, "key") == "Cette clé est déjà utilisée."
    assert count(read(), InvitationContent) == before
    assert piece(read, "interest", "ecology").label["fr"] == "Écologie"


# --- CSRF ------------------------------------------------------------------------------------------

def test_an_edit_without_the_csrf_token_is_refused(organizer, read):
    teacher = piece(read, "position", "teacher")
    url = f"/organizer/invitation/{teacher.id}"
    organizer.get(url)
    data = {**current_values(organizer.last_html), "label_fr": TEACHER_LABEL}
    response = organizer.client.post(url, data=data)  # the raw client: no token added
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)
    assert piece(read, "position", "teacher").label["fr"] == "Enseignant·e"
    before = count(read(), InvitationContent)
    added = organizer.client.post("/organizer/invitation/new/interest",
                                  data={"key": "gardening", "label_fr": "Jardinage", "body_fr": "Un argument."})
    assert added.status_code == 400 and count(read(), InvitationContent) == before
