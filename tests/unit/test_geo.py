"""The shipped geographic data: French communes by postal code (INSEE codes) and the UN member states."""

from __future__ import annotations

import re
import unicodedata

import pytest

from engagement.geo.communes import CommuneDirectory, directory
from engagement.geo.countries import country_choices, un_member_codes

ARRONDISSEMENTS = {"75": range(75101, 75121), "69": range(69381, 69390), "13": range(13201, 13217)}


def cities(postal_code: str) -> list[tuple[str, str]]:
    return [(commune.code, commune.name) for commune in directory().cities(postal_code)]


def french_order(name: str) -> str:
    """How a French reader orders names: case and accents ignored (É files under E)."""
    return "".join(c for c in unicodedata.normalize("NFD", name.casefold()) if not unicodedata.combining(c))


def test_thiais_is_the_only_commune_of_94320():
    assert cities("94320") == [("94073", "Thiais")]


def test_postal_code_shared_by_several_communes_returns_all_of_them():
    assert cities("01400") == [
        ("01084", "Chanoz-Châtenay"), ("01093", "Châtillon-sur-Chalaronne"), ("01113", "Condeissiat"),
        ("01146", "Dompierre-sur-Chalaronne"), ("01001", "L'Abergement-Clémenciat"), ("01272", "Neuville-les-Dames"),
        ("01328", "Romans"), ("01356", "Saint-Georges-sur-Renon"), ("01393", "Sandrans"), ("01412", "Sulignat"),
    ]


def test_communes_of_a_postal_code_are_in_french_alphabetical_order():
    names = [name for _code, name in cities("01230")]
    assert "Évosges" in names and names.index("Évosges") == names.index("Conand") + 1  # É files under E, not after Z
    for communes in directory().by_postal_code.values():
        ordered = [commune.name for commune in communes]
        assert ordered == sorted(ordered, key=french_order), ordered


@pytest.mark.parametrize(("postal_code", "code", "name"), [
    ("75116", "75116", "Paris 16e Arrondissement"),
    ("75001", "75101", "Paris 1er Arrondissement"),
    ("13001", "13201", "Marseille 1er Arrondissement"),
    ("69001", "69381", "Lyon 1er Arrondissement"),
])
def test_paris_lyon_and_marseille_resolve_to_their_arrondissements(postal_code, code, name):
    assert (code, name) in cities(postal_code)


@pytest.mark.parametrize("code", ["75056", "69123", "13055"])
def test_the_whole_cities_of_paris_lyon_and_marseille_are_not_communes_of_the_directory(code):
    assert directory().name_of(code) is None
    assert all(commune.code != code for communes in directory().by_postal_code.values() for commune in communes)


def test_every_municipal_arrondissement_is_listed():
    for department, numbers in ARRONDISSEMENTS.items():
        for number in numbers:
            commune = directory().by_code.get(str(number))
            assert commune is not None and commune.department == department, number


def test_corsica_keeps_its_2a_and_2b_codes():
    assert cities("20000") == [("2A004", "Ajaccio")]
    assert ("2B033", "Bastia") in cities("20200")
    assert directory().by_code["2A004"].department == "2A" and directory().by_code["2B033"].department == "2B"


@pytest.mark.parametrize(("postal_code", "expected", "department"), [
    ("97400", [("97411", "Saint-Denis")], "974"),  # La Réunion
    ("97110", [("97120", "Pointe-à-Pitre")], "971"),  # Guadeloupe
    ("97600", [("97610", "Koungou"), ("97611", "Mamoudzou")], "976"),  # Mayotte
])
def test_overseas_departments_are_included(postal_code, expected, department):
    assert cities(postal_code) == expected
    assert {commune.department for commune in directory().cities(postal_code)} == {department}


@pytest.mark.parametrize("postal_code",
                         ["99999", "00000", "", "abc", "9432", "943200", "94 320", "2A004", "９４３２０"])
def test_unknown_or_malformed_postal_code_has_no_commune(postal_code):
    assert directory().cities(postal_code) == ()


def test_surrounding_spaces_of_a_postal_code_are_ignored():
    assert cities(" 94320 ") == [("94073", "Thiais")]


def test_carries_tells_whether_a_commune_has_the_postal_code():
    assert directory().carries("20200", "2B033")
    assert not directory().carries("20000", "2B033")
    assert not directory().carries("99999", "94073")
    assert directory().name_of("94073") == "Thiais" and directory().name_of("00000") is None


def test_every_row_of_the_data_is_well_formed():
    every = directory().by_code.values()
    assert 34_000 < len(every) < 36_000  # about 34,900 communes plus 45 arrondissements
    for commune in every:
        assert re.fullmatch(r"\d{5}|2[AB]\d{3}", commune.code, re.ASCII), commune
        assert commune.code.startswith(commune.department) and commune.name.strip() == commune.name != ""
    assert all(re.fullmatch(r"[0-9]{5}", postal_code) for postal_code in directory().by_postal_code)


def test_directory_is_read_once_per_process():
    assert directory() is directory()
    assert isinstance(directory(), CommuneDirectory)


def test_there_are_exactly_193_un_member_states():
    codes = un_member_codes()
    assert len(codes) == 193
    assert all(re.fullmatch(r"[A-Z]{2}", code) for code in codes)


def test_member_states_are_in_and_observers_and_non_members_are_not():
    codes = un_member_codes()
    assert {"FR", "CH", "DE", "SS", "KP"} <= codes
    assert not {"VA", "PS", "TW", "XK", "EH"} & codes  # observers, non-members, disputed territories


@pytest.mark.parametrize(("locale", "germany", "switzerland"), [
    ("fr", "Allemagne", "Suisse"),
    ("en", "Germany", "Switzerland"),
])
def test_country_names_are_given_in_french_and_english(locale, germany, switzerland):
    names = dict(country_choices(locale))
    assert (names["DE"], names["CH"]) == (germany, switzerland)
    assert len(names) == 193 and set(names) == un_member_codes()
    assert all(name != code for code, name in names.items())  # every code has a real name


def test_french_country_list_is_sorted_ignoring_accents():
    names = [name for _code, name in country_choices("fr")]
    assert names == sorted(names, key=french_order)
    e_names = [name for name in names if french_order(name).startswith("e")]
    assert e_names == ["Égypte", "Émirats arabes unis", "Équateur", "Érythrée", "Espagne", "Estonie", "Eswatini",
                       "États-Unis", "Éthiopie"]
    assert names.index("Éthiopie") < names.index("Fidji")  # not after Z as plain code points would put it
