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
    summary_links,
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
def env(env: dict[str, str], request: Any) -> dict[str, str]:
    """The test workflows (every_field.yml); the tests named ``*signup*`` walk the real workflows/signup.yml."""
    if "signup" not in request.node.name:
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
    assert response.status_code == 200  # the next part of the page, not a mistake
    assert field_error(page, "home") is None and summary_links(page) == []
    assert options(page, "home-city") == [("", "Choisissez votre commune"), *CORSICAN_20200]
    assert selected_option(page, "home-city") == ""
    assert input_value(page, "home-postal_code") == "20200"
    untouched_start(read(), "every_field", "profile")

    response = resend(client, {"home-postal_code": "20200", "home-city": "2B305", "home-listed": "20200"})
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
    assert field_error(page, "home") == "Aucune commune française n’a ce code postal."
    assert options(page, "home-city") == [("", "Choisissez votre commune")]
    untouched_start(read(), "every_field", "profile")


@pytest.mark.parametrize("postal_code", ["9432", "94 32", "９４３２０"])
def test_malformed_french_postal_code_is_refused_as_such(client, postal_code):
    response = send(client, {"home-postal_code": postal_code})
    assert response.status_code == 422
    assert field_error(client.last_html, "home") == "Saisissez un code postal valide."


def test_a_french_postal_code_typed_in_two_groups_is_read_as_one(client, read):
    assert send(client, {"home-postal_code": "94 320"}).status_code == 303
    assert instances(read(), "every_field")[0].data["home"]["postal_code"] == "94320"


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


# --- issue #20: what the person did not say is not recorded ------------------------------------------------

PARIS_11 = {"home-postal_code": "75011", "home-city": "75111", "home-city_name": ""}
COMMUNES_01400 = 10  # L'Abergement-Clémenciat, Châtillon-sur-Chalaronne... share it


def part_tags(page: str, field: str = "home") -> dict[str, str]:
    """The opening tag of each control of an address, by part (``street``, ``city``...)."""
    found = {}
    for tag in re.findall(r"<(?:input|select)\b[^>]*>", page):
        name = re.search(rf'\sname="{field}-([a-z_]+)"', tag)
        if name:
            found[name.group(1)] = tag
    return found


def back_to_profile(client: Any) -> str:
    """From the step after the address, press Back (no field of that step typed) and show the address again."""
    client.get(URL)
    assert state_of(client.last_html) == "small"
    assert client.post(f"{URL}/back", {"step": client.hidden("step")}).status_code == 303
    client.get(URL)
    assert state_of(client.last_html) == "profile"
    return client.last_html


def test_back_shows_each_part_of_a_french_address_in_its_own_input(client):
    assert send(client, PARIS_11).status_code == 303
    page = back_to_profile(client)
    assert input_value(page, "home-city_name") == ""  # the commune is the select's, not "Ville (hors de France)"
    assert selected_option(page, "home-city") == "75111"
    assert (input_value(page, "home-street"), input_value(page, "home-postal_code")) == (
        "12 avenue de Versailles", "75011")
    assert selected_option(page, "home-country") == "FR"


def test_belgium_chosen_after_back_keeps_no_french_commune(client, read):
    send(client, PARIS_11)
    page = back_to_profile(client)
    belgium = {"home-country": "BE", "home-postal_code": "1000", "home-city": selected_option(page, "home-city"),
               "home-city_name": input_value(page, "home-city_name")}  # as the browser posts the page shown
    response = resend(client, belgium)
    assert response.status_code == 422
    assert field_error(client.last_html, "home") == "Saisissez la ville."
    assert selected_option(client.last_html, "home-city") == ""  # no commune offered for Belgium

    response = resend(client, {**belgium, "home-city_name": "Bruxelles"})
    assert response.status_code == 303
    assert stored_address(read) == {"street": "12 avenue de Versailles", "postal_code": "1000", "city": "",
                                    "city_name": "Bruxelles", "country": "BE"}


def test_belgian_address_never_records_a_french_commune_code(client, read):
    response = send(client, {"home-country": "BE", "home-postal_code": "1000", "home-city": "75111",
                             "home-city_name": " Bruxelles "})
    assert response.status_code == 303
    assert stored_address(read) == {"street": "12 avenue de Versailles", "postal_code": "1000", "city": "",
                                    "city_name": "Bruxelles", "country": "BE"}


def test_foreign_postal_code_has_a_sane_length(client, read):
    response = send(client, {"home-country": "BE", "home-postal_code": "1" * 21, "home-city_name": "Bruxelles"})
    assert response.status_code == 422
    assert field_error(client.last_html, "home") == "Saisissez un code postal valide."
    untouched_start(read(), "every_field", "profile")


def test_unknown_postal_code_marks_the_postal_code_only(client):
    response = send(client, {"home-postal_code": "99999"})
    page = client.last_html
    assert response.status_code == 422
    tags = part_tags(page)
    assert set(tags) >= {"country", "street", "postal_code", "city", "city_name"}
    assert [part for part, tag in tags.items() if 'aria-invalid="true"' in tag] == ["postal_code"]
    assert "home-error" in tags["postal_code"]  # the message is read with the input
    assert summary_links(page) == ["home-postal_code"]


def test_missing_street_marks_the_street_only(client):
    send(client, {"home-street": ""})
    tags = part_tags(client.last_html)
    assert [part for part, tag in tags.items() if 'aria-invalid="true"' in tag] == ["street"]


def test_shared_postal_code_without_javascript_asks_for_the_commune_without_an_error(client, read):
    response = send(client, {"home-postal_code": "01400", "home-city": ""})
    page = client.last_html
    assert response.status_code == 200
    assert state_of(page) == "profile"
    assert summary_links(page) == [] and "error-summary" not in page and "has-error" not in page
    assert field_error(page, "home") is None and 'aria-invalid="true"' not in page
    listed = options(page, "home-city")
    assert listed[0] == ("", "Choisissez votre commune") and len(listed) == 1 + COMMUNES_01400
    assert selected_option(page, "home-city") == ""
    assert input_value(page, "home-postal_code") == "01400"
    assert re.search(r"\sautofocus\b", part_tags(page)["city"])  # the page opens on the list, no script needed
    untouched_start(read(), "every_field", "profile")

    code, name = listed[3]
    response = resend(client, {"home-postal_code": "01400", "home-city": code,
                               "home-listed": client.hidden("home-listed")})
    assert response.status_code == 303
    assert stored_address(read) == {"street": "12 avenue de Versailles", "postal_code": "01400", "city": code,
                                    "city_name": name, "country": "FR"}


def test_shared_postal_code_asked_along_with_a_mistake_elsewhere_leaves_the_focus_to_the_summary(client):
    response = send(client, {"home-postal_code": "01400", "home-city": "", "nickname": "Camille"})
    page = client.last_html
    assert response.status_code == 422
    assert summary_links(page) == ["nickname"]  # the commune to choose is no mistake
    assert len(options(page, "home-city")) == 1 + COMMUNES_01400 and field_error(page, "home") is None
    assert "autofocus" not in part_tags(page)["city"]


def test_shared_postal_code_list_sent_back_without_a_choice_is_an_error(client, read):
    send(client, {"home-postal_code": "01400", "home-city": ""})
    assert client.hidden("home-listed") == "01400"
    response = resend(client, {"home-postal_code": "01400", "home-city": "", "home-listed": "01400"})
    assert response.status_code == 422
    assert field_error(client.last_html, "home") == CHOOSE
    assert summary_links(client.last_html) == ["home-city"]
    untouched_start(read(), "every_field", "profile")


@pytest.mark.parametrize("city", ["2B033", "75111", "99999", "<b>"])
def test_a_commune_the_listed_postal_code_does_not_carry_is_refused(client, read, city):
    response = send(client, {"home-postal_code": "01400", "home-city": city, "home-listed": "01400"})
    assert response.status_code == 422
    assert field_error(client.last_html, "home") == CHOOSE
    untouched_start(read(), "every_field", "profile")


def test_a_commune_chosen_for_another_postal_code_asks_again(client, read):
    # Without JavaScript: Bastia was chosen among the communes of 20200, then the postal code changed.
    response = send(client, {"home-postal_code": "01400", "home-city": "2B033", "home-listed": "20200"})
    assert response.status_code == 200 and "error-summary" not in client.last_html
    assert selected_option(client.last_html, "home-city") == ""
    untouched_start(read(), "every_field", "profile")


# --- the review page reads what was recorded (workflows/signup.yml) ------------------------------------------

SIGNUP = "/w/signup"
SIGNUP_IDENTITY = {"first_name": "Camille", "last_name": "Martin", "email": "camille@example.org",
                   "password": "une phrase de passe solide", "birth_date": "1990-05-17"}


def signup_step(client: Any, data: dict[str, Any]) -> Any:
    client.get(SIGNUP)
    return client.post(SIGNUP, {**data, "trigger": "next"})


def reviewed_address(client: Any, *steps: dict[str, Any]) -> str:
    """Post ``steps`` and then the last two pages of the signup; the address as its review reads it."""
    for data in (*steps, {"interests": ["ecology"]}, {"newsletter": "y", "terms": "y"}):
        response = signup_step(client, data)
        assert response.status_code == 303, html.unescape(client.last_html)[:1500]
    client.get(SIGNUP)
    assert state_of(client.last_html) == "check"
    found = re.search(r"<dt>Adresse</dt>\s*<dd>(.*?)</dd>", client.last_html, re.S)
    assert found, "no address on the review page"
    return html.unescape(found.group(1))


def test_signup_review_reads_a_belgian_address_without_a_french_commune(client):
    home = {"address-country": "BE", "address-street": "Grand-Place 1", "address-postal_code": "1000",
            "address-city": "75111", "address-city_name": "Bruxelles"}
    assert reviewed_address(client, SIGNUP_IDENTITY, home) == "Grand-Place 1\n1000 Bruxelles\nBelgique"


def test_signup_review_names_the_french_commune_chosen_without_javascript(client):
    home = {"address-country": "FR", "address-street": "1 place de la Mairie", "address-postal_code": "01400",
            "address-city_name": "Paris"}  # typed in "Ville (hors de France)": not a French commune's name
    assert signup_step(client, SIGNUP_IDENTITY).status_code == 303
    response = signup_step(client, home)
    assert response.status_code == 200 and "error-summary" not in client.last_html
    assert "Plusieurs communes ont le code postal 01400\u00a0: choisissez la vôtre." in html.unescape(client.last_html)
    [(code, name)] = [option for option in options(client.last_html, "address-city") if "Châtillon" in option[1]]
    home = {**home, "address-city": code, "address-listed": client.hidden("address-listed")}
    assert reviewed_address(client, home) == f"1 place de la Mairie\n01400 {name}"
