"""Overseas collectivities (Saint-Pierre-et-Miquelon, Saint-Barthélemy, Saint-Martin, Wallis-et-Futuna, French
Polynesia, New Caledonia) and Monaco: every postal code La Poste lists for a commune finds that commune.

The table is La Poste's own (tools/data/laposte-hexasmal-com.csv, the rows of its postal code base for those
collectivities); the test runs over every row of it, not over a few examples."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator

import pytest

from engagement import PROJECT_ROOT
from engagement.geo.communes import directory
from engagement.geo.countries import country_of_postal_code

TABLE = PROJECT_ROOT / "tools" / "data" / "laposte-hexasmal-com.csv"
COLLECTIVITIES = {"975": "Saint-Pierre-et-Miquelon", "977": "Saint-Barthélemy", "978": "Saint-Martin",
                  "986": "Wallis-et-Futuna", "987": "Polynésie française", "988": "Nouvelle-Calédonie"}


def la_poste_rows() -> Iterator[tuple[str, str]]:
    """(INSEE code, postal code) of every row of La Poste's table, once each."""
    with TABLE.open(encoding="utf-8", newline="") as lines:
        rows = csv.reader((line for line in lines if not line.startswith("#")), delimiter=";")
        yield from sorted({(row[0], row[2]) for row in rows})


PAIRS = list(la_poste_rows())


def test_the_table_covers_every_commune_of_the_collectivities():
    shipped = {code for code, commune in directory().by_code.items() if commune.department in COLLECTIVITIES}
    assert {code for code, _postal_code in PAIRS} == shipped
    assert len([code for code in shipped if code.startswith("988")]) == 33  # New Caledonia's 33 communes


@pytest.mark.parametrize(("code", "postal_code"), PAIRS, ids=[f"{p}-{c}" for c, p in PAIRS])
def test_every_la_poste_postal_code_of_a_collectivity_finds_its_commune(code, postal_code):
    assert code in {commune.code for commune in directory().cities(postal_code)}


def test_no_collectivity_postal_code_names_a_commune_la_poste_does_not():
    la_poste: dict[str, set[str]] = defaultdict(set)
    for code, postal_code in PAIRS:
        la_poste[postal_code].add(code)
    for postal_code, codes in la_poste.items():
        assert {commune.code for commune in directory().cities(postal_code)} == codes, postal_code


@pytest.mark.parametrize(("postal_code", "names"), [
    ("98830", ["Dumbéa"]), ("98836", ["Dumbéa"]), ("98837", ["Dumbéa"]), ("98839", ["Dumbéa"]),
    ("98838", ["Houaïlou"]),  # Poro, in Houaïlou (La Poste), not Dumbéa
    ("98810", ["Le Mont-Dore"]), ("98874", ["Le Mont-Dore"]), ("98875", ["Le Mont-Dore"]),
    ("98876", ["Le Mont-Dore"]), ("98840", ["Païta"]), ("98890", ["Païta"]), ("98860", ["Koné"]),
    ("98877", ["Poya"]), ("98883", ["Voh"]), ("98884", ["Lifou"]), ("98885", ["Lifou"]), ("98878", ["Maré"]),
])
def test_the_new_caledonian_codes_of_the_issue_name_their_commune(postal_code, names):
    assert [commune.name for commune in directory().cities(postal_code)] == names


@pytest.mark.parametrize("postal_code", ["98000", "98012", "98099"])
def test_a_monaco_postal_code_is_monaco_s_and_no_french_commune(postal_code):
    assert country_of_postal_code(postal_code) == "MC"
    assert directory().cities(postal_code) == ()


@pytest.mark.parametrize("postal_code", ["98800", "98830", "98714", "97500", "75011", "20200", "99999", "9800",
                                         "980000", "", "９８０００"])
def test_french_and_malformed_postal_codes_belong_to_no_other_country(postal_code):
    assert country_of_postal_code(postal_code) is None
