"""The movement's clock: a day, an hour or a date typed in a form is Paris's, wherever the server runs."""

from __future__ import annotations

from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
