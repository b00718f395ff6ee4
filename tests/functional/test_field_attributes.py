"""Every key the checker accepts works on every type that takes it (issue #20): ``max_length`` and ``placeholder``
on email, phone, postal code and password inputs once answered 500; the controls carry the attributes of
engagement/workflow/fieldtypes.py, the rules hold on the server, and a select starts on "Choisir…".
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest

from tests.functional.helpers import field_error, serve_workflows, text

URL = "/w/contact_keys"
WORKFLOW = """\
id: contact_keys
version: 1
title: {fr: Coordonnées, en: Contact details}
initial: contact
states:
  contact:
    title: {fr: Vos coordonnées, en: Your details}
    fields:
      - {name: email, type: email, label: E-mail, required: true, min_length: 6, max_length: 40,
         placeholder: {fr: nom@exemple.fr, en: name@example.org}}
      - {name: phone, type: phone, label: Téléphone, max_length: 20, placeholder: 06 12 34 56 78,
         autocomplete: mobile tel}
      - {name: postcode, type: postal_code, label: Code postal, max_length: 5, placeholder: "94320"}
      - {name: secret, type: password, label: Mot de passe, required: true, min_length: 12, max_length: 64,
         placeholder: "12 caractères au moins", autocomplete: current-password}
      - {name: birth, type: date, label: Naissance, min: 1900-01-01, max: "2020-12-31", autocomplete: bday}
      - {name: guests, type: integer, label: Invités, min: 0, max: 9, placeholder: "2"}
      - name: region
        type: choice
        label: Région
        required: true
        choices: {ara: Auvergne-Rhône-Alpes, bre: Bretagne, cor: Corse, idf: Île-de-France, naq: Nouvelle-Aquitaine,
                  occ: Occitanie, pdl: Pays de la Loire}
      - {name: size, type: choice, label: Taille, choices: {s: Petite, l: Grande}}
      - {name: nationality, type: country, label: Nationalité, default: BE}
  done: {final: true, title: {fr: Merci, en: Thank you}}
transitions:
  - {trigger: next, source: contact, dest: done}
"""
VALID = {"email": "lea@exemple.fr", "phone": "06 12 34 56 78", "postcode": "94320", "secret": "Vache-Orange-4217",
         "birth": "1990-07-14", "guests": "2", "region": "bre", "size": "l", "nationality": "FR"}


@pytest.fixture
def env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return serve_workflows(env, tmp_path / "workflows", contact_keys=WORKFLOW)


def control(page: str, name: str) -> str:
    """The opening tag of the (first) control called ``name``."""
    found = re.search(rf'<(input|select|textarea)\b[^>]*\bname="{name}"[^>]*>', page)
    assert found, f"no control {name!r}"
    return html.unescape(found.group(0))


def send(client: Any, changes: dict[str, Any]) -> Any:
    client.get(URL)
    return client.post(URL, {**VALID, **changes, "trigger": "next"})


@pytest.mark.parametrize(("name", "attributes"), [
    ("email", ['type="email"', 'maxlength="40"', 'placeholder="nom@exemple.fr"', 'autocomplete="email"']),
    ("phone", ['type="tel"', 'maxlength="20"', 'placeholder="06 12 34 56 78"', 'autocomplete="mobile tel"']),
    ("postcode", ['maxlength="5"', 'placeholder="94320"', 'autocomplete="postal-code"', 'inputmode="numeric"']),
    ("secret", ['type="password"', 'maxlength="64"', 'placeholder="12 caractères au moins"',
                'autocomplete="current-password"']),
    ("birth", ['type="date"', 'min="1900-01-01"', 'max="2020-12-31"', 'autocomplete="bday"']),
    ("guests", ['type="number"', 'min="0"', 'max="9"', 'placeholder="2"']),
    ("nationality", ['autocomplete="country"']),
])
def test_each_control_carries_the_attributes_of_its_keys(client, name, attributes):
    assert client.get(URL).status_code == 200
    tag = control(client.last_html, name)
    for attribute in attributes:
        assert attribute in tag, (attribute, tag)


def test_a_select_starts_on_choose_and_radios_start_unchecked(client):
    client.get(URL)
    region = re.search(r'<select[^>]*name="region"[^>]*>(.*?)</select>', client.last_html, re.S).group(1)
    first = re.search(r"<option\b([^>]*)>([^<]*)</option>", region)
    assert 'value=""' in first.group(1) and "selected" in first.group(1) and first.group(2) == "Choisir…"
    assert not re.search(r'<option[^>]*value="[a-z]+"[^>]*selected', region)
    radios = [tag for tag in re.findall(r"<input\b[^>]*>", client.last_html) if 'name="size"' in tag]
    assert len(radios) == 2 and not any("checked" in tag for tag in radios)
    nationality = re.search(r'<select[^>]*name="nationality"[^>]*>(.*?)</select>', client.last_html, re.S).group(1)
    assert re.search(r'<option[^>]*selected[^>]*value="BE"|<option[^>]*value="BE"[^>]*selected', nationality)


def test_the_valid_answers_pass(client):
    response = send(client, {})
    assert response.status_code == 303, text(client.last_html)[:2000]


@pytest.mark.parametrize(("changes", "field"), [
    ({"email": "l" * 40 + "@exemple.fr"}, "email"),
    ({"email": "a@bc"}, "email"),
    ({"phone": "+33 6 12 34 56 78 00 00 00"}, "phone"),
    ({"postcode": "943200"}, "postcode"),
    ({"secret": "Vache-Or-42"}, "secret"),
    ({"secret": "V" * 65}, "secret"),
    ({"birth": "1899-12-31"}, "birth"),
    ({"guests": "10"}, "guests"),
    ({"region": ""}, "region"),
    ({"region": "zzz"}, "region"),
])
def test_each_key_is_enforced_on_the_server(client, changes, field):
    response = send(client, changes)
    assert response.status_code in (200, 422)
    assert field_error(client.last_html, field), text(client.last_html)[:2000]
