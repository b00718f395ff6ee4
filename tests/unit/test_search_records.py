"""Where a search record lies: Algolia's ``_geoloc`` from the address's own coordinates, else from its commune
or postal code, with ``geo_precision`` saying how near it is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engagement.events.models import Event
from engagement.geo.communes import directory
from engagement.search.records import committee_record, event_record, page_record
from tests.search_data import LYON, PARIS, committee, event, page

NOW = datetime(2026, 12, 1, tzinfo=UTC)
FRANCE = (41.0, 51.2, -5.3, 9.7)  # mainland France and Corsica: lat from, to; lng from, to
BRUSSELS = {"street": "Grand-Place 1", "postal_code": "1000", "city": "", "city_name": "Bruxelles", "country": "BE"}


def in_france(geoloc: dict[str, float]) -> bool:
    south, north, west, east = FRANCE
    return (isinstance(geoloc["lat"], float) and isinstance(geoloc["lng"], float)
            and south <= geoloc["lat"] <= north and west <= geoloc["lng"] <= east)


def upcoming(name: str, **kwargs: Any) -> Event:
    row = event(name, **kwargs)
    row.id, row.begins_at, row.ends_at = 1, NOW + timedelta(days=7), NOW + timedelta(days=7, hours=2)
    return row


def test_a_committee_record_lies_at_its_commune() -> None:
    row = committee("Comité Presqu'île", address=LYON)  # Lyon 1er Arrondissement, 69381
    row.id = 1
    record = committee_record(row, NOW)
    assert in_france(record["_geoloc"]) and record["geo_precision"] == "commune"
    assert record["_geoloc"] == pytest.approx({"lat": 45.77, "lng": 4.83}, abs=0.01)
    assert record["_geoloc"] == {"lat": directory().by_code["69381"].lat, "lng": directory().by_code["69381"].lng}


def test_an_event_record_lies_at_its_commune() -> None:
    record = event_record(upcoming("Réunion publique", address=PARIS), NOW)  # Paris 4e Arrondissement, 75104
    assert in_france(record["_geoloc"]) and record["geo_precision"] == "commune"
    assert record["_geoloc"] == pytest.approx({"lat": 48.86, "lng": 2.35}, abs=0.01)


def test_an_address_with_coordinates_of_its_own_keeps_them() -> None:
    row = committee("Comité Terreaux", address={**LYON, "lat": 45.7672, "lng": 4.8334})
    row.id = 1
    record = committee_record(row, NOW)
    assert record["_geoloc"] == {"lat": 45.7672, "lng": 4.8334} and record["geo_precision"] == "address"
    abroad = event_record(upcoming("Rencontre", address={**BRUSSELS, "lat": 50.8467, "lng": 4.3525}), NOW)
    assert abroad["_geoloc"] == {"lat": 50.8467, "lng": 4.3525} and abroad["geo_precision"] == "address"


@pytest.mark.parametrize(("address", "precision"), [
    ({"street": "1 place de la Mairie", "postal_code": "01400", "city": "01001",
      "city_name": "L'Abergement-Clémenciat", "country": "FR"}, "postal_code"),
    ({"street": "1 place de la Mairie", "postal_code": "01410", "city": "01081", "city_name": "Champfromier",
      "country": "FR"}, "department"),
    ({"street": "1 place de la Mairie", "postal_code": "01400", "city": "", "city_name": "", "country": "FR"},
     "postal_code"),  # no commune chosen: amid those of the postal code
])
def test_an_approximate_point_says_how_approximate_it_is(address: dict[str, str], precision: str) -> None:
    record = event_record(upcoming("Porte-à-porte", address=address), NOW)
    assert in_france(record["_geoloc"]) and record["geo_precision"] == precision
    assert record["_geoloc"]["lat"] == pytest.approx(46.1, abs=0.1)  # Ain, near Bourg-en-Bresse
    assert record["_geoloc"]["lng"] == pytest.approx(5.1, abs=0.25)


def test_a_foreign_address_without_coordinates_lies_nowhere() -> None:
    row = committee("Comité des Français de Belgique", address=BRUSSELS)
    row.id = 1
    record = committee_record(row, NOW)
    assert record["city"] == "Bruxelles" and record["postal_code"] == "1000"
    assert "_geoloc" not in record and "geo_precision" not in record


def test_online_events_and_pages_lie_nowhere() -> None:
    online = event_record(upcoming("Formation en ligne", online=True), NOW)
    assert online["is_online"] and "_geoloc" not in online and "geo_precision" not in online
    row = page("Nos propositions", "nos-propositions")
    row.id = 1
    assert "_geoloc" not in page_record(row, NOW)
