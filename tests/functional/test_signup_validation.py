"""Each refused answer of workflows/signup.yml is explained, in French, next to its own field."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.functional.helpers import field_error, input_value, instances, state_of, text

URL = "/w/signup"
IDENTITY = {"first_name": "Camille", "last_name": "Martin", "email": "camille.martin@example.org",
            "password": "une phrase de passe solide", "birth_date": "1990-05-17"}
HOME = {"address-country": "FR", "address-street": "12 avenue de Versailles", "address-postal_code": "94320"}
TOPICS = {"interests": ["ecology", "europe"]}
# What each identity field says when left empty: the workflow's own GOV.UK-style wording.
REQUIRED = {"first_name": "Saisissez votre prénom", "last_name": "Saisissez votre nom",
            "email": "Saisissez votre adresse e-mail", "password": "Saisissez un mot de passe",
            "birth_date": "Saisissez votre date de naissance"}
SHOWN_BACK = ("first_name", "last_name", "email", "birth_date")  # a password is never displayed again


def years_ago(years: int) -> str:
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    if (today.month, today.day) == (2, 29):
        return date(today.year - years, 2, 28).isoformat()
    return today.replace(year=today.year - years).isoformat()


CASES = {
    "first name too short": ("first_name", "C", "Saisissez au moins 2 caractères."),
    "last name empty": ("last_name", "", REQUIRED["last_name"]),
    "invalid email": ("email", "camille.martin@", "Saisissez une adresse e-mail valide, comme nom@exemple.fr."),
    "password too short": ("password", "short", "Le mot de passe doit comporter au moins 8 caractères."),
    "common password": ("password", "password",
                        "Ce mot de passe fait partie des plus courants\u00a0: choisissez-en un autre."),
    "too young": ("birth_date", years_ago(14), "Il faut avoir au moins 15 ans pour adhérer."),
    "birth date missing": ("birth_date", "", REQUIRED["birth_date"]),
    "birth date not a date": ("birth_date", "1990-02-30",
                              "Saisissez une date de naissance valide, par exemple 14/07/1990"),
}


def submit(client, data: dict, trigger: str = "next"):
    client.get(URL)
    return client.post(URL, {**data, "trigger": trigger})


@pytest.mark.parametrize(("field", "value", "message"), CASES.values(), ids=CASES.keys())
def test_an_invalid_answer_is_explained_next_to_its_field_and_the_others_are_kept(client, read, field, value,
                                                                                  message):
    response = submit(client, {**IDENTITY, field: value})
    page = client.last_html
    assert response.status_code == 422, text(page)[:1000]
    assert state_of(page) == "identity"
    assert field_error(page, field) == message
    for other in IDENTITY:
        if other != field:
            assert field_error(page, other) is None, other
    for other in SHOWN_BACK:
        if other != field:
            assert input_value(page, other) == IDENTITY[other], other
    assert instances(read(), "signup")[0].state == "identity"


def test_an_empty_submit_marks_each_of_the_five_required_fields(client, read):
    response = submit(client, {})
    page = client.last_html
    assert response.status_code == 422
    assert {name: field_error(page, name) for name in IDENTITY} == REQUIRED
    assert instances(read(), "signup")[0].state == "identity"


def test_the_last_step_needs_the_terms_ticked(client, read):
    for data in (IDENTITY, HOME, TOPICS):
        assert submit(client, data).status_code == 303, text(client.last_html)[:1000]
    response = submit(client, {"newsletter": "y"})
    page = client.last_html
    assert response.status_code == 422
    assert state_of(page) == "agreement"
    assert field_error(page, "terms") == "Cochez la case pour accepter les conditions d’adhésion"
    assert field_error(page, "newsletter") is None
    assert instances(read(), "signup")[0].state == "agreement"
