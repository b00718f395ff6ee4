"""Every field type through the wizard (fixture workflow every_field.yml): HTML contract, rules, storage."""

from __future__ import annotations

import re
from typing import Any

import pytest

from engagement import PROJECT_ROOT
from engagement.workflow.models import WorkflowTransition
from tests.functional.helpers import (
    advance,
    checked,
    field_error,
    in_wizard,
    input_value,
    instances,
    named_controls,
    selected_option,
    state_of,
    summary_links,
    text,
    untouched_start,
)

URL = "/w/every_field"
VALID = {
    "nickname": "camille", "guests": "2", "budget": "12.50", "arrival": "2025-06-01", "size": "s",
    "company": "", "topics": ["climate", "school"], "mobile": "06 12 34 56 78", "postcode": "94320",
    "nationality": "BE", "home-street": "1 rue de la Paix", "home-postal_code": "75002", "home-city": "75102",
    "home-city_name": "Paris", "home-country": "FR", "source": "flyer", "channel": "web-v1", "newsletter": "y",
    "rules": "y",
}
NO_WAY_FORWARD = "Aucune suite ne correspond à vos réponses. Veuillez les vérifier."


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    env["ENGAGEMENT_WORKFLOWS_DIR"] = str(PROJECT_ROOT / "tests" / "fixtures" / "workflows" / "functional")
    return env


def send(client: Any, changes: dict[str, Any], **kwargs: Any) -> Any:
    client.get(URL, **kwargs)
    answers = {k: v for k, v in {**VALID, **changes}.items() if v is not None}
    return client.post(URL, {**answers, "trigger": "next"}, **kwargs)


def test_step_form_follows_the_html_contract(client):
    client.get(URL)
    page = client.last_html
    assert re.search(r'<form method="post"[^>]*\sdata-state="profile"', page)
    controls = named_controls(page)
    names = {name for _tag, _kind, name in controls}
    for field in ("nickname", "guests", "budget", "arrival", "size", "company", "topics", "mobile", "postcode",
                  "nationality", "source", "newsletter", "rules"):
        assert field in names, field
    assert {"home-street", "home-postal_code", "home-city", "home-city_name", "home-country"} <= names
    assert ("select", "", "nationality") in controls and ("select", "", "home-country") in controls
    assert [kind for _tag, kind, name in controls if name == "topics"] == ["checkbox"] * 4
    assert [kind for _tag, kind, name in controls if name == "size"] == ["radio"] * 2
    assert ("input", "hidden", "source") in controls and input_value(page, "source") == "flyer"
    assert ("input", "hidden", "channel") in controls and input_value(page, "channel") == "web-v1"  # templated
    assert ("input", "hidden", "csrf_token") in controls and ("input", "hidden", "step") in controls
    for box in ("newsletter", "rules"):
        assert re.search(rf'<input id="{box}" name="{box}"[^>]*type="checkbox" value="y">', page)
    assert re.findall(r'<button type="submit" name="trigger" value="([^"]+)"', page) == ["next"]
    assert selected_option(page, "home-country") == "FR"
    assert '="None"' not in page


def test_every_field_is_stored_normalized(client, read):
    response = send(client, {})
    assert response.status_code == 303 and in_wizard(response.headers["Location"], URL)
    [instance] = instances(read(), "every_field")
    data = instance.data
    assert data["mobile"] == "+33612345678"
    assert (data["guests"], data["budget"], data["arrival"]) == (2, "12.50", "2025-06-01")
    assert (data["size"], data["topics"], data["nationality"]) == ("s", ["climate", "school"], "BE")
    assert (data["postcode"], data["source"], data["channel"]) == ("94320", "flyer", "web-v1")
    assert data["home"] == {"street": "1 rue de la Paix", "postal_code": "75002", "city": "75102",
                            "city_name": "Paris 2e Arrondissement", "country": "FR"}
    assert data["newsletter"] is True and data["rules"] is True


def test_automatic_state_routes_small_party_and_sets_values(client, read):
    send(client, {"guests": "2"})
    client.get(URL)
    page = client.last_html
    assert state_of(page) == "small"
    assert re.findall(r'<button type="submit" name="trigger" value="([^"]+)"', page) == ["save", "skip"]
    [instance] = instances(read(), "every_field")
    assert (instance.data["party"], instance.data["group"]) == (3, "small")
    hops = [(t.source, t.dest) for t in read().query(WorkflowTransition).order_by(WorkflowTransition.id)]
    assert hops == [("profile", "sorting"), ("sorting", "small")]


def test_automatic_state_routes_large_party_elsewhere(client, read):
    send(client, {"guests": "4"})
    client.get(URL)
    assert state_of(client.last_html) == "large"
    [instance] = instances(read(), "every_field")
    assert (instance.data["party"], instance.data["group"]) == (5, "large")
    final = advance(client, {"notes": "Vingt couverts"}, trigger="save", url=URL)
    assert 'data-state="done"' in final
    assert instances(read(), "every_field")[0].is_completed


def test_transition_whose_conditions_fail_refuses_with_nothing_saved(client, read):
    response = send(client, {"guests": "9"})
    page = client.last_html
    assert response.status_code == 422
    assert NO_WAY_FORWARD in text(page)
    assert state_of(page) == "profile" and input_value(page, "guests") == "9"
    assert input_value(page, "nickname") == "camille"
    untouched_start(read(), "every_field", "profile")


# (answers replacing valid ones, id next to which the message shows, French message)
CASES = [
    ({"nickname": "Camille"}, "nickname", "De 3 à 8 lettres minuscules."),
    ({"guests": "2.5"}, "guests", "Saisissez un nombre entier."),
    ({"guests": "-1"}, "guests", "La valeur doit être au moins 0."),
    ({"budget": "douze"}, "budget", "Saisissez un nombre."),
    ({"budget": "1000.01"}, "budget", "La valeur doit être au plus 1000."),
    ({"arrival": "2025-13-01"}, "arrival", "Saisissez une date valide, par exemple 14/07/1990"),
    ({"size": "xl"}, "size", "Choisissez l’une des options proposées."),
    ({"size": "l", "company": ""}, "company", "Saisissez «\u00a0Société\u00a0»"),
    ({"topics": ["climate"]}, "topics", "Choisissez exactement 2 réponses"),
    ({"topics": ["climate", "housing", "health"]}, "topics", "Choisissez exactement 2 réponses"),
    ({"topics": None}, "topics", "Choisissez exactement 2 réponses"),
    ({"mobile": "06 12"}, "mobile", "Saisissez un numéro de téléphone valide, comme 06 12 34 56 78."),
    ({"postcode": "9432"}, "postcode", "Saisissez un code postal valide."),
    ({"nationality": "XX"}, "nationality", "Choisissez un pays dans la liste."),
    ({"home-postal_code": "ABC"}, "home", "Saisissez un code postal valide."),
    ({"home-country": "BE", "home-postal_code": "1000", "home-city_name": ""}, "home", "Saisissez la ville."),
    ({"home-postal_code": "99999"}, "home", "Aucune commune française n’a ce code postal."),
    ({"home-postal_code": "20200", "home-city": "94073"}, "home", "Choisissez votre commune dans la liste."),
    ({"home-street": ""}, "home", "Saisissez le numéro et la voie."),
    ({"home-country": "ZZ"}, "home", "Choisissez un pays dans la liste."),
    ({"home-street": "", "home-postal_code": "", "home-city": "", "home-city_name": ""}, "home",
     "Saisissez «\u00a0Adresse\u00a0»"),
    ({"rules": None}, "rules", "Cochez la case pour continuer"),
    # a missing answer, by type: the verb says what to do, the quoted label names the field
    ({"nickname": None}, "nickname", "Saisissez «\u00a0Pseudonyme\u00a0»"),
    ({"guests": ""}, "guests", "Saisissez «\u00a0Invités\u00a0»"),
    ({"arrival": ""}, "arrival", "Saisissez «\u00a0Arrivée\u00a0»"),
    ({"size": None}, "size", "Choisissez une réponse pour «\u00a0Taille\u00a0»"),
    ({"nationality": ""}, "nationality", "Choisissez un pays pour «\u00a0Nationalité\u00a0»"),
    ({"mobile": "  "}, "mobile", "Saisissez «\u00a0Portable\u00a0»"),
]


@pytest.mark.parametrize(("changes", "field", "message"), CASES)
def test_each_rule_is_enforced_on_the_server(client, read, changes, field, message):
    response = send(client, changes)
    page = client.last_html
    assert response.status_code == 422
    assert field_error(page, field) == message
    assert len(summary_links(page)) == 1
    untouched_start(read(), "every_field", "profile")


def test_exactly_two_message_in_english(client):
    response = send(client, {"topics": ["climate"]}, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert field_error(client.last_html, "topics") == "Choose exactly 2 answers"


def test_address_error_summary_links_to_the_street(client):
    send(client, {"home-street": ""})
    assert summary_links(client.last_html) == ["home-street"]
    assert 'id="home-street"' in client.last_html


def test_refused_page_keeps_every_kind_of_answer(client):
    send(client, {"rules": None, "size": "l", "company": "ACME", "nationality": "DE", "home-country": "BE"})
    page = client.last_html
    assert input_value(page, "arrival") == "2025-06-01" and input_value(page, "budget") == "12.50"
    assert input_value(page, "mobile") == "+33612345678"  # kept, already normalized
    assert input_value(page, "company") == "ACME"
    assert checked(page, "size") == {"l"} and checked(page, "topics") == {"climate", "school"}
    assert checked(page, "newsletter") == {"y"} and checked(page, "rules") == set()
    assert selected_option(page, "nationality") == "DE" and selected_option(page, "home-country") == "BE"
    assert (input_value(page, "home-street"), input_value(page, "home-city_name")) == ("1 rue de la Paix", "Paris")
    assert selected_option(page, "home-city") == ""  # an address in Belgium has no French commune


def test_address_abroad_needs_no_french_postal_code(client, read):
    response = send(client, {"home-country": "BE", "home-postal_code": "1000", "home-city": "",
                             "home-city_name": "Bruxelles"})
    assert response.status_code == 303
    [instance] = instances(read(), "every_field")
    assert instance.data["home"]["country"] == "BE" and instance.data["home"]["postal_code"] == "1000"


def test_back_to_the_first_step_keeps_the_address_and_the_date(client):
    send(client, {})
    client.get(URL)
    assert client.post(f"{URL}/back", {"step": client.hidden("step")}).status_code == 303
    client.get(URL)
    page = client.last_html
    assert state_of(page) == "profile"
    assert (input_value(page, "home-street"), input_value(page, "home-postal_code")) == ("1 rue de la Paix", "75002")
    assert selected_option(page, "home-country") == "FR" and input_value(page, "arrival") == "2025-06-01"
    assert checked(page, "topics") == {"climate", "school"} and input_value(page, "mobile") == "+33612345678"


def test_required_if_is_live_on_the_visibility_endpoint(client):
    client.get(URL)
    response = client.post(f"{URL}/visibility", {"size": "l"})
    assert response.get_json() == {"visible": ["company"], "hidden": [], "required": ["company"]}
    client.get(URL)  # the client takes its CSRF token from the last page
    response = client.post(f"{URL}/visibility", {"size": "s"})
    assert response.get_json() == {"visible": ["company"], "hidden": [], "required": []}


# (answers replacing valid ones, field, English message): the defaults name the field in English too
ENGLISH_DEFAULTS = [
    ({"nickname": None}, "nickname", "Enter “Nickname”"),
    ({"size": None}, "size", "Choose an answer for “Size”"),
    ({"nationality": ""}, "nationality", "Choose a country for “Nationality”"),
    ({"arrival": "2025-13-01"}, "arrival", "Enter a valid date, like 14/07/1990"),
    ({"rules": None}, "rules", "Tick the box to continue"),
]


@pytest.mark.parametrize(("changes", "field", "message"), ENGLISH_DEFAULTS)
def test_default_messages_in_english(client, changes, field, message):
    response = send(client, changes, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert field_error(client.last_html, field) == message


def test_an_exact_selection_is_announced_before_any_mistake(client):
    client.get(URL)
    page = client.last_html
    assert '<p class="help" id="topics-hint">Choisissez 2 réponses</p>' in page
    assert re.search(r'<fieldset[^>]*aria-describedby="topics-hint"', page)
    send(client, {"topics": ["climate"]})
    assert re.search(r'<fieldset[^>]*aria-describedby="topics-hint topics-error"', client.last_html)


def test_an_exact_selection_hint_in_english(client):
    client.get(URL, headers={"Accept-Language": "en"})
    assert '<p class="help" id="topics-hint">Choose 2 answers</p>' in client.last_html
