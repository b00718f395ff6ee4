"""French addresses: ``GET /api/cities`` and the wizard's address field (field ``home`` of every_field.yml)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from engagement import PROJECT_ROOT
from tests.functional.helpers import (
    field_error,
    in_wizard,
    input_value,
    instances,
    selected_option,
    state_of,
    untouched_start,
)

URL = "/w/every_field"
ANSWERS = {
    "nickname": "camille", "guests": "2", "budget": "12.50", "arrival": "2025-06-01", "size": "s",
    "topics": ["climate", "school"], "mobile": "06 12 34 56 78", "postcode": "94320", "nationality": "BE",
    "home-country": "FR", "home-street": "12 avenue de Versailles", "home-postal_code": "94320",
    "home-city": "", "home-city_name": "", "source": "flyer", "channel": "web-v1", "rules": "y",
}
CORSICAN_20200 = [("2B033", "Bastia"), ("2B305", "San-Martino-di-Lota"), ("2B309", "Santa-Maria-di-Lota"),
                  ("2B353", "Ville-di-Pietrabugno")]
CHOOSE = "Choisissez votre commune dans la liste."


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    env["ENGAGEMENT_WORKFLOWS_DIR"] = str(PROJECT_ROOT / "tests" / "fixtures" / "workflows" / "functional")
    return env


def send(client: Any, changes: dict[str, Any], **kwargs: Any) -> Any:
    """Open the step and submit it with the valid answers changed by ``changes`` (None removes one)."""
    client.get(URL, **kwargs)
    return resend(client, changes, **kwargs)


def resend(client: Any, changes: dict[str, Any], **kwargs: Any) -> Any:
    """Submit the page last shown (its CSRF and step tokens), as a browser does after a refusal."""
    answers = {k: v for k, v in {**ANSWERS, **changes}.items() if v is not None}
    return client.post(URL, {**answers, "trigger": "next"}, **kwargs)


def options(page: str, name: str) -> list[tuple[str, str]]:
    """(value, text) of every option of the select called ``name``."""
    found = re.search(rf'<select\b[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)
    assert found, f"no select {name!r} on the page"
    return [(value, html.unescape(label)) for value, label in
            re.findall(r'<option\b[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', found.group(1))]


def stored_address(read: Any) -> dict[str, str]:
    [instance] = instances(read(), "every_field")
    return instance.data["home"]


# --- GET /api/cities ------------------------------------------------------------------------------------------


def test_cities_of_94320_is_thiais_exactly_as_the_contract_says(client):
    response = client.client.get("/api/cities?postal_code=94320")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == {"postal_code": "94320", "cities": [{"code": "94073", "name": "Thiais"}]}


def test_cities_of_a_shared_postal_code_lists_every_commune_in_order(client):
    response = client.client.get("/api/cities?postal_code=20200")
    assert response.status_code == 200
    assert response.get_json() == {"postal_code": "20200",
                                   "cities": [{"code": code, "name": name} for code, name in CORSICAN_20200]}


def test_cities_of_a_paris_postal_code_is_its_arrondissement(client):
    response = client.client.get("/api/cities?postal_code=75116")
    assert response.get_json()["cities"] == [{"code": "75116", "name": "Paris 16e Arrondissement"}]


def test_cities_of_an_unknown_postal_code_is_an_empty_list(client):
    response = client.client.get("/api/cities?postal_code=99999")
    assert response.status_code == 200
    assert response.get_json() == {"postal_code": "99999", "cities": []}


@pytest.mark.parametrize("query", ["?postal_code=abc", "?postal_code=9432", "?postal_code=943200", "?postal_code=",
                                   "", "?code=94320", "?postal_code=%EF%BC%99%EF%BC%94%EF%BC%93%EF%BC%92%EF%BC%90"])
def test_malformed_or_missing_postal_code_is_a_json_400(client, query):
    response = client.client.get(f"/api/cities{query}")
    assert response.status_code == 400 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["cities"] == [] and "five digits" in body["error"]
    assert "public" not in (response.headers.get("Cache-Control") or "")  # a mistake is not cached for everyone


def test_cities_answer_may_be_cached_by_anyone(client):
    response = client.client.get("/api/cities?postal_code=94320")
    assert response.cache_control.public and response.cache_control.max_age >= 3600
    assert "Set-Cookie" not in response.headers  # a shared cache must never store someone's session


# --- the wizard's address field ----------------------------------------------------------------------------


def test_postal_code_of_a_single_commune_completes_in_one_post(client, read):
    response = send(client, {"home-city": None, "home-city_name": None})
    assert response.status_code == 303 and in_wizard(response.headers["Location"], URL)
    assert stored_address(read) == {"street": "12 avenue de Versailles", "postal_code": "94320", "city": "94073",
                                    "city_name": "Thiais", "country": "FR"}
    client.get(URL)
    assert state_of(client.last_html) == "small"


def test_shared_postal_code_asks_for_the_commune_then_accepts_it(client, read):
    response = send(client, {"home-postal_code": "20200"})
    page = client.last_html
    assert response.status_code == 422
    assert field_error(page, "home") == CHOOSE
    assert options(page, "home-city") == [("", "Choisissez votre commune"), *CORSICAN_20200]
    assert selected_option(page, "home-city") == ""
    assert input_value(page, "home-postal_code") == "20200"
    untouched_start(read(), "every_field", "profile")

    response = resend(client, {"home-postal_code": "20200", "home-city": "2B305"})
    assert response.status_code == 303
    assert stored_address(read)["city"] == "2B305" and stored_address(read)["city_name"] == "San-Martino-di-Lota"


def test_postal_code_of_a_single_commune_renders_it_selected_without_a_placeholder(client):
    send(client, {"home-street": ""})  # refused for the street: the commune is already resolved on the page
    page = client.last_html
    assert options(page, "home-city") == [("94073", "Thiais")]
    assert selected_option(page, "home-city") == "94073"


@pytest.mark.parametrize(("postal_code", "city"), [
    ("20200", "2A004"),  # Ajaccio exists, but under 20000
    ("20200", "75056"),  # Paris as a whole is no commune of the directory
    ("20200", "<script>"),
])
def test_commune_a_shared_postal_code_does_not_carry_is_refused(client, read, postal_code, city):
    response = send(client, {"home-postal_code": postal_code, "home-city": city})
    assert response.status_code == 422
    assert field_error(client.last_html, "home") == CHOOSE
    untouched_start(read(), "every_field", "profile")


@pytest.mark.parametrize("city", ["75056", "2A004", "<script>", ""])
def test_a_postal_code_of_one_commune_takes_that_commune_whatever_was_posted(client, read, city):
    # Changing the postal code without JavaScript posts the commune chosen for the old one.
    response = send(client, {"home-postal_code": "94320", "home-city": city})
    assert response.status_code == 303
    assert (stored_address(read)["city"], stored_address(read)["city_name"]) == ("94073", "Thiais")


def test_french_city_name_comes_from_the_directory_not_from_the_form(client, read):
    response = send(client, {"home-city": "94073", "home-city_name": "Paris"})
    assert response.status_code == 303
    assert stored_address(read)["city_name"] == "Thiais"


def test_unknown_french_postal_code_is_refused(client, read):
    response = send(client, {"home-postal_code": "99999"})
    page = client.last_html
    assert response.status_code == 422
    assert field_error(page, "home") == "Aucune commune française n'a ce code postal."
    assert options(page, "home-city") == [("", "Choisissez votre commune")]
    untouched_start(read(), "every_field", "profile")


@pytest.mark.parametrize("postal_code", ["9432", "94 320", "９４３２０"])
def test_malformed_french_postal_code_is_refused_as_such(client, postal_code):
    response = send(client, {"home-postal_code": postal_code})
    assert response.status_code == 422
    assert field_error(client.last_html, "home") == "Saisissez un code postal valide."


def test_swiss_address_requires_a_city_name(client, read):
    swiss = {"home-country": "CH", "home-street": "Bahnhofstrasse 1", "home-postal_code": "8001",
             "home-city": "94073"}  # a commune left over from France is dropped
    response = send(client, swiss)
    page = client.last_html
    assert response.status_code == 422
    assert field_error(page, "home") == "Saisissez la ville."
    assert selected_option(page, "home-country") == "CH"
    untouched_start(read(), "every_field", "profile")

    response = resend(client, {**swiss, "home-city_name": " Zürich "})
    assert response.status_code == 303
    assert stored_address(read) == {"street": "Bahnhofstrasse 1", "postal_code": "8001", "city": "",
                                    "city_name": "Zürich", "country": "CH"}


def test_country_list_is_the_193_un_member_states(client):
    client.get(URL)
    countries = dict(options(client.last_html, "home-country"))
    assert len(countries) == 193
    assert not {"VA", "PS", "TW", "XK"} & set(countries)
    assert (countries["CH"], countries["DE"], countries["FR"]) == ("Suisse", "Allemagne", "France")
    assert selected_option(client.last_html, "home-country") == "FR"
    assert len(options(client.last_html, "nationality")) == 193  # the `country` field type: the same list


def test_country_names_follow_the_visitor_language(client):
    client.get(URL, headers={"Accept-Language": "en"})
    countries = dict(options(client.last_html, "home-country"))
    assert (countries["CH"], countries["DE"]) == ("Switzerland", "Germany")


def test_holy_see_is_refused_as_a_country(client, read):
    response = send(client, {"home-country": "VA", "home-city_name": "Vatican"})
    assert response.status_code == 422
    assert field_error(client.last_html, "home") == "Choisissez un pays dans la liste."
    untouched_start(read(), "every_field", "profile")


def test_postal_code_field_also_refuses_non_ascii_digits(client):
    response = send(client, {"postcode": "９４３２０"})
    assert response.status_code == 422
    assert field_error(client.last_html, "postcode") == "Saisissez un code postal valide."
