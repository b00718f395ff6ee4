"""CSV cells a spreadsheet opens safely: what the exports (participants, audiences, a member's data) share."""

from __future__ import annotations

BOM = "\ufeff"  # Excel reads UTF-8 only when the file says so
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets may run as a formula (OWASP CSV injection)


def neutralised(value: str) -> str:
    """The cell as text: a leading formula character is escaped with a quote, so it is never evaluated."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value
