"""The countries an address may be in: the UN member states, named by CLDR in each locale."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from babel import Locale

UN_MEMBERS = Path(__file__).resolve().parent / "data" / "un-members.txt"
# Countries of their own numbered in La Poste's five-digit system: Monaco's 98000 and its CEDEX codes 980xx
# (La Poste's base files 98000 under Monaco, the country code 99138, never under a French commune).
FOREIGN_POSTAL_CODES = ((re.compile(r"^980[0-9]{2}$"), "MC"),)


@cache
def un_member_codes() -> frozenset[str]:
    return frozenset(line.strip() for line in UN_MEMBERS.read_text(encoding="utf-8").splitlines() if line.strip())


@cache
def country_choices(locale: str) -> tuple[tuple[str, str], ...]:
    """(alpha-2 code, name in ``locale``) of every UN member state, sorted by name in that locale."""
    names = Locale.parse(locale).territories
    return tuple(sorted(((code, names.get(code, code)) for code in un_member_codes()),
                        key=lambda choice: _sort_key(choice[1])))


def _sort_key(name: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFD", name.casefold()) if not unicodedata.combining(c))


def country_of_postal_code(postal_code: str) -> str | None:
    """The country other than France a postal code of La Poste's numbering belongs to (``MC``), else None."""
    return next((country for pattern, country in FOREIGN_POSTAL_CODES if pattern.match(postal_code.strip())), None)
