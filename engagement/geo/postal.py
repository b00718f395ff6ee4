"""The postal address rule, one owner for forms, the JSON API, the command line and imports alike: which
communes (INSEE codes) a French postal code has, whether an address's commune is one of them, what an address
must hold in France and abroad, what is recorded of it and the name shown for its city.

An address is a mapping of ``country`` (ISO alpha-2), ``street``, ``postal_code``, ``city`` (INSEE code, France
only) and ``city_name``. The commune lookup is passed in (``CityLookup``, the shipped directory by default);
``None`` stands for no directory at all, and then a French address takes a typed city name, as one abroad does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from engagement import text
from engagement.geo.communes import POSTAL_CODE, directory
from engagement.geo.countries import country_of_postal_code, un_member_codes

CityLookup = Callable[[str], Sequence[tuple[str, str]]]  # postal code -> [(INSEE code, name)]
FRANCE = "FR"
MAX_FOREIGN_POSTAL_CODE = 20
MAX_STREET = 200  # characters: the longest French street names are under 100
MAX_CITY_NAME = 100
PARTS = ("country", "street", "postal_code", "city", "city_name")
TYPED = ("street", "postal_code", "city_name")  # the parts typed as text; the country and commune are chosen
# The one part each rule is about (a form marks that control in error; "characters": see ``refused_part``).
PART_OF_RULE = {"country": "country", "street": "street", "postal_code": "postal_code",
                "unknown_postal_code": "postal_code", "city_choice": "city", "city_name": "city_name",
                "long_street": "street", "long_city_name": "city_name", "monaco_postal_code": "country"}


def city_options(postal_code: str) -> list[tuple[str, str]]:
    """(INSEE code, name) of the communes carrying a French postal code: the shipped directory's lookup."""
    return [(commune.code, commune.name) for commune in directory().cities(postal_code)]


def communes_of(postal_code: str, cities: CityLookup | None = city_options) -> list[tuple[str, str]]:
    """(INSEE code, name) of the communes of a French postal code of five digits (surrounding spaces ignored);
    none for a malformed or unknown code, or without a directory."""
    code = postal_code.strip()
    if cities is None or not POSTAL_CODE.match(code):
        return []
    return list(cities(code))


def refused_part(address: Mapping[str, Any]) -> str | None:
    """The first typed part holding a character the text rule refuses (``engagement.text``), if any."""
    for part in TYPED:
        value = address.get(part)
        if isinstance(value, str) and text.first_refused(value) is not None:
            return part
    return None


def check(address: Mapping[str, Any], cities: CityLookup | None = city_options) -> str | None:
    """The first rule an address breaks (a key of the forms' messages), None when it holds: ``characters``,
    then, its typed parts stripped, ``country`` (a UN member state), ``street``, ``long_street``,
    ``long_city_name``; abroad ``postal_code`` (too long) and ``city_name``; in France ``postal_code`` (five
    digits), ``monaco_postal_code`` (980xx is Monaco's), then with a directory ``unknown_postal_code`` and
    ``city_choice`` (no commune, or one its postal code does not carry), without one ``city_name``."""
    if refused_part(address) is not None:
        return "characters"
    street, postal_code, city_name = (str(address.get(part) or "").strip() for part in TYPED)
    country = address.get("country")
    if country not in un_member_codes():
        return "country"
    if not street:
        return "street"
    if len(street) > MAX_STREET:
        return "long_street"
    if len(city_name) > MAX_CITY_NAME:
        return "long_city_name"
    if country != FRANCE:
        if len(postal_code) > MAX_FOREIGN_POSTAL_CODE:
            return "postal_code"
        return None if city_name else "city_name"
    return _french_rule(postal_code, str(address.get("city") or "").strip(), city_name, cities)


def _french_rule(postal_code: str, city: str, city_name: str, cities: CityLookup | None) -> str | None:
    if not POSTAL_CODE.match(postal_code):
        return "postal_code"
    if country_of_postal_code(postal_code) == "MC":
        return "monaco_postal_code"
    if cities is None:
        return None if city_name else "city_name"
    communes = communes_of(postal_code, cities)
    if not communes:
        return "unknown_postal_code"
    return None if city in dict(communes) else "city_choice"


def recorded(address: Mapping[str, Any], cities: CityLookup | None = city_options) -> dict[str, str]:
    """The address as stored, the parts of its country only, stripped. In France (with a directory): street,
    postal_code, city (INSEE) and city_name, the directory's name of that commune, never typed text (both
    empty for a commune its postal code does not carry); elsewhere the city_name typed and no commune code."""
    country = str(address.get("country") or FRANCE)
    street, postal_code = (str(address.get(part) or "").strip() for part in ("street", "postal_code"))
    if country.strip() == FRANCE and cities is not None:
        code = str(address.get("city") or "").strip()
        # a country sent as " FR" is no country at all (``check``): it names no commune either
        communes = communes_of(postal_code, cities) if country == FRANCE else []
        name = dict(communes).get(code, "")
        return {"street": street, "postal_code": postal_code, "city": code if name else "", "city_name": name,
                "country": FRANCE}
    return {"street": street, "postal_code": postal_code, "city": "",
            "city_name": str(address.get("city_name") or "").strip(), "country": country.strip()}


def city_label(address: Mapping[str, Any]) -> str:
    """The name shown for an address's city: in France the directory's name of its commune (INSEE code), else
    the name recorded; elsewhere the city typed."""
    if str(address.get("country") or FRANCE) == FRANCE:
        return directory().name_of(str(address.get("city") or "")) or str(address.get("city_name") or "")
    return str(address.get("city_name") or "")
