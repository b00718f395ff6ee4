"""Overseas postal codes and Monaco in ``GET /api/cities`` and in the wizard's address step (field ``home`` of
every_field.yml): every New Caledonian code La Poste lists finds its commune, and Monaco (98000) is a country of
its own, never a French commune to choose."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from engagement import PROJECT_ROOT
from tests.functional.helpers import field_error, input_value, instances, selected_option, untouched_start
from tests.functional.test_address import options
from tests.unit.test_geo_overseas import PAIRS

URL = "/w/every_field"
ANSWERS = {
    "nickname": "camille", "guests": "2", "budget": "12.50", "arrival": "2025-06-01", "size": "s",
    "topics": ["climate", "school"], "mobile": "06 12 34 56 78", "postcode": "94320", "nationality": "BE",
    "home-country": "FR", "home-street": "12 avenue de Versailles", "home-postal_code": "94320",
    "home-city": "", "home-city_name": "", "source": "flyer", "channel": "web-v1", "rules": "y",
}
MONACO = {"home-street": "2 boulevard des Moulins", "home-postal_code": "98000"}
OFFER = ("Les codes postaux commençant par 980 sont ceux de Monaco, pas de la France\u00a0: Monaco est maintenant "
         "choisi comme pays. Vérifiez l’adresse et envoyez-la de nouveau.")
NEW_CALEDONIA = sorted({postal_code for code, postal_code in PAIRS if code.startswith("988")})


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    env["ENGAGEMENT_WORKFLOWS_DIR"] = str(PROJECT_ROOT / "tests" / "fixtures" / "workflows" / "functional")
    return env


def send(client: Any, changes: dict[str, Any]) -> Any:
    client.get(URL)
    return resend(client, changes)


def resend(client: Any, changes: dict[str, Any]) -> Any:
    answers = {k: v for k, v in {**ANSWERS, **changes}.items() if v is not None}
    return client.post(URL, {**answers, "trigger": "next"})


def stored_address(read: Any) -> dict[str, str]:
    [instance] = instances(read(), "every_field")
    return instance.data["home"]


# --- GET /api/cities ------------------------------------------------------------------------------------------


def test_cities_of_every_collectivity_postal_code_lists_its_commune(new_client):
    expected: dict[str, set[str]] = defaultdict(set)
    for code, postal_code in PAIRS:
        expected[postal_code].add(code)
    found = {}
    for number, postal_code in enumerate(sorted(expected)):  # La Poste's whole table, a request each
        if number % 100 == 0:
            browser = new_client()  # a new visitor each 100 requests: the API allows one 120 a minute
        response = browser.client.get(f"/api/cities?postal_code={postal_code}")
        assert response.status_code == 200, postal_code
        found[postal_code] = {city["code"] for city in response.get_json()["cities"]}
    assert found == expected


def test_cities_of_a_new_caledonian_code_of_the_issue_is_its_commune(client):
    response = client.client.get("/api/cities?postal_code=98874")
    assert response.get_json() == {"postal_code": "98874", "cities": [{"code": "98817", "name": "Le Mont-Dore"}]}


@pytest.mark.parametrize("postal_code", ["98000", "98015"])
def test_cities_of_a_monaco_postal_code_names_monaco_and_no_commune(client, postal_code):
    response = client.client.get(f"/api/cities?postal_code={postal_code}")
    assert response.status_code == 200
    assert response.get_json() == {"postal_code": postal_code, "cities": [], "country": "MC"}


# --- the wizard's address step --------------------------------------------------------------------------------


def test_every_new_caledonian_postal_code_is_accepted_in_the_wizard(new_client, read):
    expected = {(postal_code, code) for code, postal_code in PAIRS if code.startswith("988")}
    for postal_code in NEW_CALEDONIA:  # each in a browser of its own: one instance each
        browser, answers = new_client(), {"home-postal_code": postal_code, "home-street": "1 rue de l'Alma"}
        if send(browser, answers).status_code == 200:  # several communes: the list is shown, one is chosen
            code = min(code for carried, code in expected if carried == postal_code)
            resend(browser, {**answers, "home-city": code, "home-listed": postal_code})
    stored = [instance.data.get("home") or {} for instance in instances(read(), "every_field")]
    assert {address.get("postal_code") for address in stored} == set(NEW_CALEDONIA)
    assert all((address["postal_code"], address["city"]) in expected for address in stored)


def test_monaco_chosen_as_the_country_asks_for_no_french_commune(client, read):
    response = send(client, {**MONACO, "home-country": "MC", "home-city_name": "Monaco"})
    assert response.status_code == 303
    assert stored_address(read) == {"street": "2 boulevard des Moulins", "postal_code": "98000", "city": "",
                                    "city_name": "Monaco", "country": "MC"}


def test_monaco_without_a_city_asks_for_the_city_not_for_a_commune(client, read):
    response = send(client, {**MONACO, "home-country": "MC"})
    assert response.status_code == 422
    assert field_error(client.last_html, "home") == "Saisissez la ville."
    untouched_start(read(), "every_field", "profile")


def test_monaco_postal_code_with_france_offers_monaco_then_is_accepted(client, read):
    response = send(client, MONACO)  # France, as the list starts
    page = client.last_html
    assert response.status_code == 422
    assert field_error(page, "home") == OFFER
    assert selected_option(page, "home-country") == "MC"  # offered: one more send accepts it
    assert input_value(page, "home-city_name") == "Monaco"
    assert options(page, "home-city") == [("", "Choisissez votre commune")]
    untouched_start(read(), "every_field", "profile")

    response = resend(client, {**MONACO, "home-country": "MC", "home-city_name": "Monaco"})
    assert response.status_code == 303
    assert stored_address(read)["country"] == "MC" and stored_address(read)["city"] == ""


def test_monaco_offer_keeps_a_city_already_typed(client):
    send(client, {**MONACO, "home-postal_code": "98015", "home-city_name": "Monte-Carlo"})
    assert field_error(client.last_html, "home") == OFFER
    assert input_value(client.last_html, "home-city_name") == "Monte-Carlo"
