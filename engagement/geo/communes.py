"""The French commune directory: which communes carry a postal code, by official INSEE code."""

from __future__ import annotations

import gzip
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "communes-fr.tsv.gz"
POSTAL_CODE = re.compile(r"^[0-9]{5}$")  # ASCII only: \d also matches fullwidth and Arabic-Indic digits


@dataclass(frozen=True, slots=True)
class Commune:
    code: str  # INSEE code (2A004, 75101 ...)
    name: str
    department: str


class CommuneDirectory:
    """Postal code -> communes, and INSEE code -> commune, read once from the shipped file."""

    def __init__(self, path: Path = DATA) -> None:
        self.by_postal_code: dict[str, tuple[Commune, ...]] = {}
        self.by_code: dict[str, Commune] = {}
        grouped: dict[str, list[Commune]] = {}
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                code, name, department, postal_codes = line.rstrip("\n").split("\t")
                commune = Commune(code, name, department)
                self.by_code[code] = commune
                for postal_code in postal_codes.split(",") if postal_codes else ():
                    grouped.setdefault(postal_code, []).append(commune)
        self.by_postal_code = {k: tuple(sorted(v, key=_french_order)) for k, v in grouped.items()}

    def cities(self, postal_code: str) -> tuple[Commune, ...]:
        """The communes carrying ``postal_code`` (empty for an unknown or malformed code)."""
        return self.by_postal_code.get(postal_code.strip(), ())

    def carries(self, postal_code: str, code: str) -> bool:
        return any(c.code == code for c in self.cities(postal_code))

    def name_of(self, code: str) -> str | None:
        found = self.by_code.get(code)
        return found.name if found else None


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
    """The French department of an address: from its commune's INSEE code (2A/2B, 971...), else None."""
    if not address or address.get("country", "FR") != "FR":
        return None
    code = (address.get("city") or "").upper()
    if len(code) == 5:
        return code[:3] if code.startswith("97") else code[:2]
    postal = address.get("postal_code") or ""
    if len(postal) == 5 and postal.isdigit() and not postal.startswith("20"):
        return postal[:3] if postal.startswith("97") else postal[:2]
    return None
