"""The shipped geographic data: French communes by postal code (INSEE codes), where they lie, and the UN
member states."""

from __future__ import annotations

import re
import unicodedata

import pytest

from engagement.geo.communes import PRECISIONS, CommuneDirectory, Location, directory, location_of
from engagement.geo.countries import country_choices, un_member_codes

ARRONDISSEMENTS = {"75": range(75101, 75121), "69": range(69381, 69390), "13": range(13201, 13217)}
METROPOLITAN = (41.0, 51.2, -5.3, 9.7)  # mainland France and Corsica: lat from, to; lng from, to
OVERSEAS = {"971": (15.8, 16.6, -61.9, -61.0), "972": (14.3, 15.0, -61.3, -60.7), "973": (2.0, 6.0, -54.7, -51.5),
            "974": (-21.5, -20.8, 55.2, 55.9), "975": (46.7, 47.2, -56.5, -56.1), "976": (-13.1, -12.6, 44.9, 45.4),
            "977": (17.8, 18.0, -62.95, -62.75), "978": (18.0, 18.15, -63.2, -62.95),
            "986": (-14.4, -13.1, -178.3, -176.1), "987": (-28.0, -7.0, -155.0, -134.0),
            "988": (-23.0, -19.5, 163.5, 168.5)}
UNINHABITED = {"984", "989"}  # Southern and Antarctic Lands (no postal code), Clipperton: no GeoNames place


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


def mean_of(points: list[tuple[float | None, float | None]]) -> tuple[float, float]:
    return sum(lat or 0.0 for lat, _ in points) / len(points), sum(lng or 0.0 for _, lng in points) / len(points)


def test_every_inhabited_commune_has_a_point_within_its_territory():
    for commune in directory().by_code.values():
        if commune.department in UNINHABITED:
            assert commune.location is None, commune
            continue
        assert isinstance(commune.lat, float) and isinstance(commune.lng, float), commune
        south, north, west, east = OVERSEAS.get(commune.department, METROPOLITAN)
        assert south <= commune.lat <= north and west <= commune.lng <= east, commune
        assert commune.precision in PRECISIONS, commune


def test_about_8600_communes_have_a_geonames_place_and_every_department_some():
    placed = [c for c in directory().by_code.values() if c.precision == "commune"]
    assert 8_000 < len(placed) < 9_500  # GeoNames' places of 1,000 inhabitants and more, and seats
    assert {c.department for c in placed} >= {f"{n:02}" for n in range(1, 96) if n != 20} | {"2A", "2B"}


@pytest.mark.parametrize(("code", "lat", "lng"), [
    ("75115", 48.84, 2.30),  # Paris 15e, as GeoNames' "Paris 15 Vaugirard"
    ("69383", 45.76, 4.85),  # Lyon 3e, as "Lyon 03"
    ("13201", 43.30, 5.38),  # Marseille 1er, as "Marseille 01"
    ("2A004", 41.92, 8.74),  # Ajaccio
    ("97411", -20.88, 55.45),  # Saint-Denis, La Réunion (GeoNames country RE)
    ("98731", -8.91, -140.10),  # Nuku-Hiva, French Polynesia: by the INSEE code its places carry
    ("01033", 46.11, 5.83),  # Valserhône, a new commune GeoNames knows by its seat, Bellegarde-sur-Valserine
])
def test_a_commune_with_its_own_geonames_place_lies_there(code, lat, lng):
    commune = directory().by_code[code]
    assert commune.precision == "commune"
    assert commune.lat == pytest.approx(lat, abs=0.02) and commune.lng == pytest.approx(lng, abs=0.02)


def test_a_commune_without_a_place_lies_amid_the_placed_communes_of_its_postal_code():
    commune = directory().by_code["01001"]  # L'Abergement-Clémenciat, 01400: about 5 km from the mean
    placed = [(c.lat, c.lng) for c in directory().cities("01400") if c.precision == "commune"]
    assert commune.precision == "postal_code" and len(placed) == 2  # Châtillon-sur-Chalaronne, Neuville-les-Dames
    assert (commune.lat, commune.lng) == pytest.approx(mean_of(placed), abs=2e-4)
    assert (commune.lat, commune.lng) == pytest.approx((46.157, 4.921), abs=0.07)  # where the village is


def test_a_commune_with_no_placed_neighbour_lies_at_the_mean_of_its_department():
    commune = directory().by_code["01081"]  # Champfromier: no commune of 01410 has a GeoNames place
    placed = [(c.lat, c.lng) for c in directory().by_code.values() if c.department == "01" and c.precision == "commune"]
    assert commune.precision == "department"
    assert (commune.lat, commune.lng) == pytest.approx(mean_of(placed), abs=2e-4)


def test_an_address_lies_at_its_commune_first():
    paris = location_of({"street": "31 rue Péclet", "postal_code": "75015", "city": "75115",
                         "city_name": "Paris 15e Arrondissement", "country": "FR"})
    assert isinstance(paris, Location) and paris == directory().by_code["75115"].location
    assert paris.precision == "commune" and (paris.lat, paris.lng) == pytest.approx((48.84, 2.30), abs=0.01)
    assert location_of({"postal_code": "20200", "city": "2a004"}) == directory().by_code["2A004"].location


def test_an_address_without_a_known_commune_lies_amid_its_postal_code():
    placed = [(c.lat, c.lng) for c in directory().cities("01400") if c.precision == "commune"]
    found = location_of({"postal_code": "01400", "city": "", "city_name": "", "country": "FR"})
    assert found is not None and found.precision == "postal_code"
    assert (found.lat, found.lng) == pytest.approx(mean_of(placed), abs=1e-4)
    assert location_of({"postal_code": " 94320 ", "city": "99999"}) == directory().by_code["94073"].location  # Thiais
    rural = location_of({"postal_code": "01410"})  # none of its communes has a place of its own
    assert rural is not None and rural.precision == "department"


@pytest.mark.parametrize("address", [
    {"street": "Grand-Place 1", "postal_code": "1000", "city": "", "city_name": "Bruxelles", "country": "BE"},
    {"street": "Rue de Lausanne 1", "postal_code": "75015", "city": "75115", "city_name": "Genève", "country": "CH"},
    {"postal_code": "99999", "city": "", "country": "FR"},
    {"postal_code": "98799", "city": "98901", "country": "FR"},  # Clipperton: no coordinates
    {}, None,
])
def test_foreign_unknown_and_empty_addresses_lie_nowhere(address):
    assert location_of(address) is None


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
