"""The French commune directory: which communes carry a postal code, by official INSEE code, and where they lie."""

from __future__ import annotations

import gzip
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "communes-fr.tsv.gz"
POSTAL_CODE = re.compile(r"^[0-9]{5}$")  # ASCII only: \d also matches fullwidth and Arabic-Indic digits
INSEE_CODE = re.compile(r"^(?:[0-9]{2}|2[AB])[0-9]{3}$")  # a commune's official code: 75056, 2A004, 98818
# How a commune's point was found, finest first (tools/build_geo_data.py): its own GeoNames place, or the
# mean of the matched communes of its postal codes, or of its department.
PRECISIONS = ("commune", "postal_code", "department")
_SHARED = {precision: precision for precision in PRECISIONS}  # one string object for 35,000 communes


@dataclass(frozen=True, slots=True)
class Commune:
    code: str  # INSEE code (2A004, 75101 ...)
    name: str
    department: str
    lat: float | None = None  # WGS 84; None only for the uninhabited ones (984 Southern Lands, 989 Clipperton)
    lng: float | None = None
    precision: str | None = None  # one of PRECISIONS

    @property
    def location(self) -> Location | None:
        if self.lat is None or self.lng is None or self.precision is None:
            return None
        return Location(self.lat, self.lng, self.precision)


@dataclass(frozen=True, slots=True)
class Location:
    """A point and how near it is to the place it stands for (``PRECISIONS``)."""

    lat: float
    lng: float
    precision: str


class CommuneDirectory:
    """Postal code -> communes, and INSEE code -> commune, read once from the shipped file."""

    def __init__(self, path: Path = DATA) -> None:
        self.by_postal_code: dict[str, tuple[Commune, ...]] = {}
        self.by_code: dict[str, Commune] = {}
        grouped: dict[str, list[Commune]] = {}
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                code, name, department, postal_codes, lat, lng, precision = line.rstrip("\n").split("\t")
                commune = (Commune(code, name, department, float(lat), float(lng), _SHARED[precision]) if lat
                           else Commune(code, name, department))
                self.by_code[code] = commune
                for postal_code in postal_codes.split(",") if postal_codes else ():
                    grouped.setdefault(postal_code, []).append(commune)
        self.by_postal_code = {k: tuple(sorted(v, key=_french_order)) for k, v in grouped.items()}
        # Every department or overseas collectivity code a commune names: the codes there are (geo.departments).
        self.departments = frozenset(commune.department for commune in self.by_code.values())

    def cities(self, postal_code: str) -> tuple[Commune, ...]:
        """The communes carrying ``postal_code`` (empty for an unknown or malformed code)."""
        return self.by_postal_code.get(postal_code.strip(), ())

    def carries(self, postal_code: str, code: str) -> bool:
        return any(c.code == code for c in self.cities(postal_code))

    def name_of(self, code: str) -> str | None:
        found = self.by_code.get(code)
        return found.name if found else None

    def locate(self, code: str, postal_code: str) -> Location | None:
        """Where a French address lies: at its commune (INSEE code), else amid the communes of its postal code."""
        found = self.by_code.get(code.strip().upper())
        if found is not None and found.location is not None:
            return found.location
        return _amid(self.cities(postal_code))


def _amid(communes: tuple[Commune, ...]) -> Location | None:
    """The mean point of communes sharing a postal code: of those with their own place when some have one
    (precision ``postal_code``), else of all (as approximate as the coarsest); one commune: its own point."""
    placed = [location for commune in communes if (location := commune.location) is not None]
    if len(placed) <= 1:
        return placed[0] if placed else None
    chosen = [location for location in placed if location.precision == "commune"] or placed
    precision = max(["postal_code", *(location.precision for location in chosen)], key=PRECISIONS.index)
    return Location(round(sum(location.lat for location in chosen) / len(chosen), 4),  # as stored: about 11 m
                    round(sum(location.lng for location in chosen) / len(chosen), 4), precision)


def _french_order(commune: Commune) -> tuple[str, str]:
    """Case and accents ignored, as a French reader files names (Évosges under E, not after Z)."""
    folded = commune.name.casefold()
    if not folded.isascii():
        folded = "".join(c for c in unicodedata.normalize("NFD", folded) if not unicodedata.combining(c))
    return folded, commune.name


@cache
def directory() -> CommuneDirectory:
    """The process-wide directory, loaded on first use."""
    return CommuneDirectory()


def department_of(address: dict[str, str] | None) -> str | None:
    """The French department (or overseas collectivity) of an address, as users, committees and events store
    it: its commune's (``department_of_commune``), else the one all the communes of its postal code share;
    None abroad, or when neither names one (a postal code across two departments, an unknown one)."""
    if not address or address.get("country", "FR") != "FR":
        return None
    department = department_of_commune(str(address.get("city") or ""))
    if department is not None:
        return department
    found = {commune.department for commune in directory().cities(str(address.get("postal_code") or ""))}
    return found.pop() if len(found) == 1 else None


def department_of_commune(code: str) -> str | None:
    """The department or collectivity of the commune with INSEE code ``code``: 2A/2B in Corsica, the first three
    digits overseas (971 Guadeloupe ... 976 Mayotte, 975, 977, 978, 984, 986 Wallis-et-Futuna, 987 French
    Polynesia, 988 New Caledonia, 989), else the first two; None for a code naming none of the shipped data's."""
    code = code.strip().upper()
    if not INSEE_CODE.match(code):
        return None
    department = code[:3] if code.startswith(("97", "98")) else code[:2]
    return department if department in directory().departments else None


def location_of(address: dict[str, Any] | None) -> Location | None:
    """Where a French address lies, from the shipped data: None abroad, or when neither its commune (INSEE
    code) nor its postal code is known."""
    if not address or address.get("country", "FR") != "FR":
        return None
    return directory().locate(str(address.get("city") or ""), str(address.get("postal_code") or ""))
