"""Numbers, rates and durations as the dashboard's reader writes them ("11,1 %", "3 h 20 min", "2 jours").

Babel does the locale's work (separators, spaces, unit names); this module only picks the precision and
the units. Exports (CSV, JSON) keep raw numbers.
"""

from __future__ import annotations

from datetime import UTC, datetime

from babel.dates import format_datetime
from babel.units import format_unit
from flask_babel import format_decimal, format_percent, get_locale

from engagement.clock import PARIS

MISSING = "–"
# (unit, milliseconds), largest first; a duration shows its two largest units ("3 h 20 min").
UNITS = (("duration-day", 86_400_000), ("duration-hour", 3_600_000), ("duration-minute", 60_000),
         ("duration-second", 1000))


def number(value: int | float | None) -> str:
    """A count with the locale's grouping ("12 345")."""
    return MISSING if value is None else format_decimal(value)


def percent(rate: float | None) -> str:
    """A rate between 0 and 1 with one decimal, in the locale's percent pattern ("11,1 %")."""
    if rate is None:
        return MISSING
    pattern = get_locale().percent_formats[None].pattern.replace("0", "0.0", 1)
    return format_percent(rate, format=pattern)


def duration(ms: int | float | None) -> str:
    """A duration in words: "0,4 s", "45 s", "12 min 5 s", "3 h 20 min", "2 jours", "2 jours 4 h"."""
    if ms is None:
        return MISSING
    locale = get_locale()
    if ms < 60_000:  # seconds, with a decimal under ten
        return format_unit(round(ms / 1000, 1) if ms < 10_000 else round(ms / 1000), "duration-second",
                           length="short", locale=locale, format="#,##0.#")
    rest, parts = round(ms / 1000) * 1000, list[tuple[str, int]]()
    for unit, size in UNITS:
        count, rest = divmod(rest, size)
        if count and len(parts) < 2:
            parts.append((unit, int(count)))
        elif parts:  # the next unit down is zero, or two are shown: stop there
            break
    return " ".join(format_unit(count, unit, length="long" if unit == "duration-day" else "short", locale=locale)
                    for unit, count in parts)


def moment(iso: str | None) -> str:
    """An ISO time (naive means UTC) in Paris time: "6 déc. 2026, 22:36"."""
    if not iso:
        return MISSING
    value = datetime.fromisoformat(iso)
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return format_datetime(value, "d MMM y, HH:mm", tzinfo=PARIS, locale=get_locale())
