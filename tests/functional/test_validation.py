"""A refused step re-renders with 422, its messages next to the fields, every answer kept, nothing saved."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from tests.functional.helpers import (
    AVAILABILITY,
    IDENTITY,
    URL,
    checked,
    field_error,
    in_wizard,
    input_value,
    instances,
    state_of,
    summary_links,
    text,
    transitions,
)

PATHS = {"identity": [], "availability": [IDENTITY], "summary": [IDENTITY, AVAILABILITY]}
TRIGGERS = {"identity": "next", "availability": "next", "summary": "next"}  # summary, then the review
VALID = {"identity": IDENTITY, "availability": AVAILABILITY, "summary": {"comment": "Bonjour", "terms": "y"}}

# (step, answers replacing the valid ones, field in error, French message, English message)
CASES = [
    ("identity", {"first_name": ""}, "first_name", "Saisissez votre prénom", "Enter your first name"),
    ("identity", {"first_name": "A"}, "first_name", "Saisissez au moins 2 caractères.",
     "Enter at least 2 characters."),
    ("identity", {"email": "camille@"}, "email", "Saisissez une adresse e-mail valide, comme nom@exemple.fr.",
     "Enter a valid email address, like name@example.org."),
    ("identity", {"age": "14"}, "age", "Il faut avoir au moins 15 ans pour nous rejoindre.",
     "You must be at least 15 to join."),
    ("identity", {"age": "131"}, "age", "La valeur doit être au plus 130.", "The value must be at most 130."),
    ("identity", {"age": "trente"}, "age", "Saisissez un nombre entier.", "Enter a whole number."),
    ("availability", {"missions": []}, "missions", "Choisissez au moins une mission",
     "Choose at least one mission"),
    ("availability", {"missions": ["canvassing", "events", "digital", "logistics"]}, "missions",
     "Choisissez au plus 3 missions", "Choose at most 3 missions"),
    ("availability", {"missions": ["phoning"], "phone": ""}, "phone", "Saisissez votre numéro de téléphone",
     "Enter your phone number"),
    ("availability", {"missions": ["phoning"], "phone": "12"}, "phone",
     "Saisissez un numéro de téléphone valide, comme 06 12 34 56 78.",
     "Enter a valid phone number, like 06 12 34 56 78."),
    ("summary", {"terms": ""}, "terms", "Cochez la case pour accepter la charte des bénévoles",
     "Tick the box to accept the volunteer charter"),
    ("summary", {"comment": "x" * 1001}, "comment", "Saisissez au plus 1000 caractères.",
     "Enter at most 1000 characters."),
]


def reach(client: Any, state: str, **kwargs: Any) -> str:
    client.get(URL, **kwargs)
    for answers in PATHS[state]:
        client.post(URL, {**answers, "trigger": "next"}, **kwargs)
        client.get(URL, **kwargs)
    assert state_of(client.last_html) == state
    return client.last_html


def refuse(client: Any, state: str, changes: dict[str, Any], **kwargs: Any) -> tuple[Any, str]:
    answers = {k: v for k, v in {**VALID[state], **changes}.items() if v != ""}
    response = client.post(URL, {**answers, "trigger": TRIGGERS[state]}, **kwargs)
    return response, client.last_html


def snapshot(read: Any) -> tuple[Any, ...]:
    session = read()
    rows = [(i.state, i.lock_version, dict(i.data), list(i.history)) for i in instances(session)]
    return tuple(rows), len(transitions(session))


@pytest.mark.parametrize(("state", "changes", "field", "french", "_english"), CASES)
def test_invalid_answer_rerenders_422_with_french_message_next_to_field(client, state, changes, field, french,
                                                                       _english):
    reach(client, state)
    response, page = refuse(client, state, changes)
    assert response.status_code == 422
    assert state_of(page) == state
    assert field_error(page, field) == french
    assert "Il y a 1 problème" in page


@pytest.mark.parametrize(("state", "changes", "field", "_french", "english"), CASES)
def test_invalid_answer_is_explained_in_english_with_accept_language(client, state, changes, field, _french,
                                                                     english):
    headers = {"Accept-Language": "en"}
    reach(client, state, headers=headers)
    response, page = refuse(client, state, changes, headers=headers)
    assert response.status_code == 422
    assert field_error(page, field) == english
    assert "There is 1 problem" in page


@pytest.mark.parametrize(("state", "changes", "field"), [case[:3] for case in CASES])
def test_refused_step_persists_nothing(client, read, state, changes, field):
    reach(client, state)
    before = snapshot(read)
    response, _page = refuse(client, state, changes)
    assert response.status_code == 422
    assert snapshot(read) == before
    if state == "identity":
        # only the instance the first GET started: initial state, first lock version, no answers, no transition
        assert before == ((("identity", 1, {}, []),), 0)


def test_error_summary_links_to_each_field_in_error(client):
    reach(client, "identity")
    response = client.post(URL, {"first_name": "", "email": "nope", "age": "3", "trigger": "next"})
    page = client.last_html
    assert response.status_code == 422
    assert summary_links(page) == ["first_name", "email", "age"]
    for anchor in summary_links(page):
        assert f'id="{anchor}"' in page
    assert "Il y a 3 problèmes" in page
    assert 'aria-invalid="true"' in page and 'aria-describedby="age-error"' in page


def test_error_summary_links_to_a_checkbox_group(client):
    reach(client, "availability")
    client.post(URL, {"trigger": "next"})
    assert summary_links(client.last_html) == ["missions"]
    assert '<ul class="options" id="missions">' in client.last_html


def test_refused_identity_keeps_every_answer_typed(client):
    reach(client, "identity")
    client.post(URL, {"first_name": "Camille", "email": "camille@example.org", "age": "12", "trigger": "next"})
    page = client.last_html
    assert (input_value(page, "first_name"), input_value(page, "email"), input_value(page, "age")) == (
        "Camille", "camille@example.org", "12")


def test_refused_availability_keeps_ticked_missions_and_phone(client):
    reach(client, "availability")
    answers = {"missions": ["phoning", "events"], "phone": "12", "driving_licence": "y"}
    response = client.post(URL, {**answers, "trigger": "next"})
    page = client.last_html
    assert response.status_code == 422
    assert checked(page, "missions") == {"phoning", "events"}
    assert input_value(page, "phone") == "12"
    assert checked(page, "driving_licence") == {"y"}


def test_refused_summary_keeps_the_comment(client):
    reach(client, "summary")
    client.post(URL, {"comment": "Je suis <disponible> le soir & le week-end", "trigger": "next"})
    page = client.last_html
    assert "Je suis &lt;disponible&gt; le soir &amp; le week-end</textarea>" in page
    assert field_error(page, "terms") == "Cochez la case pour accepter la charte des bénévoles"


def test_language_chosen_with_post_lang_applies_to_messages(client):
    client.get(URL)
    response = client.post("/lang", {"lang": "en", "next": URL})
    assert response.status_code == 303
    assert in_wizard(response.headers["Location"], URL)
    client.get(URL)
    assert '<html lang="en">' in client.last_html and "About you" in client.last_html
    response = client.post(URL, {**IDENTITY, "first_name": "", "trigger": "next"})
    assert response.status_code == 422
    assert field_error(client.last_html, "first_name") == "Enter your first name"
    assert "There is 1 problem" in client.last_html


def test_french_is_the_default_language(client):
    client.get(URL)
    assert '<html lang="fr">' in client.last_html
    assert "Vous" in text(client.last_html) and "Suivant" in client.last_html


def test_unknown_language_is_refused(client):
    client.get(URL)
    response = client.post("/lang", {"lang": "de", "next": URL})
    assert response.status_code == 400
    assert "Traceback" not in client.last_html


def test_instance_answers_unchanged_after_refusal_on_a_later_step(client, read):
    reach(client, "availability")
    client.post(URL, {"missions": [], "trigger": "next"})
    [instance] = instances(read())
    assert instance.state == "availability"
    assert "missions" not in instance.data
    assert instance.data["first_name"] == "Camille"


def _summary_texts(page: str) -> list[str]:
    found = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    return [html.unescape(t) for t in re.findall(r'<a href="#[^"]+">([^<]*)</a>', found.group(0))] if found else []


def _title(page: str) -> str:
    found = re.search(r"<title>([^<]*)</title>", page)
    assert found, "no <title>"
    return html.unescape(found.group(1))


def test_a_refused_step_says_error_first_in_the_page_title(client):
    reach(client, "identity")
    assert _title(client.last_html) == "Vous · Engagement"
    refuse(client, "identity", {"first_name": ""})
    assert _title(client.last_html) == "Erreur\u00a0: Vous · Engagement"


def test_the_error_title_in_english(client):
    headers = {"Accept-Language": "en"}
    reach(client, "identity", headers=headers)
    refuse(client, "identity", {"first_name": ""}, headers=headers)
    assert _title(client.last_html) == "Error: About you · Engagement"


def test_the_error_summary_joins_label_and_message_with_french_typography(client):
    reach(client, "identity")
    client.post(URL, {"first_name": "", "email": "", "age": "", "trigger": "next"})
    assert _summary_texts(client.last_html) == [
        "Prénom\u00a0: Saisissez votre prénom",
        "Adresse e-mail\u00a0: Saisissez votre adresse e-mail",
        "Âge\u00a0: Saisissez votre âge",
    ]


def test_the_error_summary_joins_label_and_message_in_english(client):
    headers = {"Accept-Language": "en"}
    reach(client, "identity", headers=headers)
    client.post(URL, {**IDENTITY, "email": "", "trigger": "next"}, headers=headers)
    assert _summary_texts(client.last_html) == ["Email address: Enter your email address"]


def test_the_error_summary_takes_the_focus_without_javascript(client):
    reach(client, "identity")
    assert "autofocus" not in client.last_html  # nothing to announce on a fresh step
    refuse(client, "identity", {"first_name": ""})
    summary = re.search(r'<div class="error-summary"[^>]*>', client.last_html)
    assert summary and 'tabindex="-1"' in summary.group(0) and re.search(r"\sautofocus\b", summary.group(0))
    assert len(re.findall(r"\sautofocus\b", client.last_html)) == 1  # one element only may ask for it


def _phone_marker(page: str) -> str:
    found = re.search(r'<div class="field[^"]*" data-field="phone".*?</label>(.*?)</div>', page, re.S)
    assert found, "no phone field"
    return found.group(0)


def test_a_required_if_marker_shows_the_state_at_render(client):
    reach(client, "availability")
    box = _phone_marker(client.last_html)
    assert "data-required-if" in box
    assert re.search(r'<span class="req" aria-hidden="true" data-required-marker hidden>\*</span>', box)
    assert not re.search(r'<input[^>]*\srequired\b', box)
    client.post(URL, {"missions": ["phoning"], "trigger": "next"})
    box = _phone_marker(client.last_html)
    assert re.search(r'<span class="req" aria-hidden="true" data-required-marker>\*</span>', box)
    assert re.search(r'<input[^>]*name="phone"[^>]*\srequired\b|<input[^>]*\srequired\b[^>]*name="phone"', box)


def test_the_volunteer_missions_say_how_many_to_choose(client):
    reach(client, "availability")
    assert 'id="missions-hint">Choisissez entre 1 et 3 réponses</p>' in client.last_html
    assert re.search(r'<fieldset[^>]*aria-describedby="missions-hint"', client.last_html)
