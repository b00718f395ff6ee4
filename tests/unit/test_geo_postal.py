"""The postal address rule, called in the core directly (``engagement.geo.postal``): the one the address field,
the JSON API and the demo loader all use."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engagement import demo, demo_events
from engagement.geo import postal


def french(postal_code: str, city: str, **parts: str) -> dict[str, str]:
    return {"country": "FR", "street": "1 rue de la Paix", "postal_code": postal_code, "city": city, **parts}


def abroad(country: str, **parts: str) -> dict[str, str]:
    return {"country": country, "street": "Hauptstraße 1", "postal_code": "10115", "city_name": "Berlin", **parts}


def test_a_commune_of_its_postal_code_is_valid():
    assert postal.communes_of("94320") == [("94073", "Thiais")]
    assert postal.check(french("94320", "94073")) is None


def test_an_unknown_postal_code_has_no_commune():
    assert postal.communes_of("99999") == []
    assert postal.check(french("99999", "")) == "unknown_postal_code"


def test_a_commune_of_another_postal_code_is_refused():
    assert postal.check(french("94320", "75104")) == "city_choice"  # Paris 4e is 75004's
    assert postal.check(french("75004", "")) == "city_choice"  # no commune at all, alike


@pytest.mark.parametrize(("postal_code", "code", "name"), [
    ("20000", "2A004", "Ajaccio"),  # Corse-du-Sud
    ("20200", "2B033", "Bastia"),  # Haute-Corse
])
def test_corsica_communes_carry_their_2a_2b_codes(postal_code, code, name):
    assert (code, name) in postal.communes_of(postal_code)
    assert postal.check(french(postal_code, code)) is None


def test_a_corsican_commune_of_the_other_department_is_refused():
    assert postal.check(french("20000", "2B033")) == "city_choice"  # Bastia (2B) is not Ajaccio's (2A)


@pytest.mark.parametrize(("postal_code", "code", "name"), [
    ("97400", "97411", "Saint-Denis"),  # La Réunion
    ("97200", "97209", "Fort-de-France"),  # Martinique
    ("97133", "97701", "Saint-Barthélemy"),  # a collectivity, 977
])
def test_overseas_communes_are_french_communes(postal_code, code, name):
    assert postal.communes_of(postal_code) == [(code, name)]
    assert postal.check(french(postal_code, code)) is None
    assert postal.recorded(french(postal_code, code))["city_name"] == name


def test_a_postal_code_of_several_communes_names_them_all_and_wants_one():
    communes = postal.communes_of("01400")
    assert len(communes) == 10 and ("01093", "Châtillon-sur-Chalaronne") in communes
    assert [name for _code, name in communes][:2] == ["Chanoz-Châtenay", "Châtillon-sur-Chalaronne"]  # French order
    assert postal.check(french("01400", "")) == "city_choice"
    assert postal.check(french("01400", "01093")) is None


@pytest.mark.parametrize(("postal_code", "rule"), [
    ("9432", "postal_code"), ("943200", "postal_code"), ("９４３２０", "postal_code"),  # fullwidth digits
    ("98000", "monaco_postal_code"),  # Monaco's, never a French commune's
])
def test_a_french_postal_code_is_five_ascii_digits_of_france(postal_code, rule):
    assert postal.communes_of(postal_code) == []
    assert postal.check(french(postal_code, "")) == rule


@pytest.mark.parametrize(("address", "rule", "part"), [
    (french("94320", "94073", country="XX"), "country", "country"),
    (french("94320", "94073", street="  "), "street", "street"),
    (french("94320", "94073", street="a" * 201), "long_street", "street"),
    (abroad("DE", city_name=""), "city_name", "city_name"),
    (abroad("DE", postal_code="1" * 21), "postal_code", "postal_code"),
    (french("94320", "94073", street="1 rue\x00"), "characters", "street"),
])
def test_each_broken_rule_names_its_part(address: dict[str, Any], rule, part):
    assert postal.check(address) == rule
    assert (postal.refused_part(address) if rule == "characters" else postal.PART_OF_RULE[rule]) == part


def test_abroad_and_without_a_directory_a_typed_city_name_is_the_city():
    assert postal.check(abroad("DE")) is None
    assert postal.recorded(abroad("DE", city="94073")) == {
        "street": "Hauptstraße 1", "postal_code": "10115", "city": "", "city_name": "Berlin", "country": "DE"}
    assert postal.check(french("94320", "", city_name="Thiais"), cities=None) is None
    assert postal.check(french("94320", ""), cities=None) == "city_name"


def test_what_is_recorded_in_france_is_the_directory_name_never_typed_text():
    assert postal.recorded(french(" 94320 ", "94073", city_name="Thiais-les-Bains")) == {
        "street": "1 rue de la Paix", "postal_code": "94320", "city": "94073", "city_name": "Thiais", "country": "FR"}
    assert postal.recorded(french("94320", "75104"))["city"] == ""  # not a commune of that postal code


def test_the_city_shown_is_the_directory_name_in_france_the_typed_one_abroad():
    assert postal.city_label({"country": "FR", "city": "2A004", "city_name": "Ajacciu"}) == "Ajaccio"
    assert postal.city_label({"city": "", "city_name": "Thiais"}) == "Thiais"  # no commune recorded
    assert postal.city_label(abroad("DE", city="94073")) == "Berlin"


def test_a_custom_lookup_is_the_one_asked():
    asked: list[str] = []

    def lookup(postal_code: str) -> list[tuple[str, str]]:
        asked.append(postal_code)
        return [("00001", "Testville")]

    assert postal.check(french("12345", "00001"), lookup) is None
    assert postal.communes_of(" 12345 ", lookup) == [("00001", "Testville")] and asked == ["12345", "12345"]


def test_the_demo_addresses_keep_the_rule():
    members = [demo._member(number, datetime.now(UTC)) for number in range(len(demo.COMMUNES))]
    for address in [member["address"] for member in members] + [
            demo_events.PARIS, demo_events.LYON, demo_events.MARSEILLE, demo_events.BORDEAUX]:
        assert postal.check(address) is None and postal.recorded(address) == address
