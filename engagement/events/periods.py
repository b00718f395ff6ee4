"""Periods a list of events is narrowed to: whole local days, given or named ("this weekend")."""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from engagement.clock import PARIS

PRESETS = ("weekend", "week", "month")  # this weekend, the next 7 days, the rest of this month


@dataclass(frozen=True)
class Period:
    """Events under way at some moment of it: ``ends_after`` and ``starts_before`` are aware (UTC), None open."""

    ends_after: datetime | None = None
    starts_before: datetime | None = None

    @classmethod
    def of_days(cls, first: date | None, last: date | None) -> Period:
        """From the start of ``first`` to the end of ``last`` (local days; either may be open)."""
        return cls(_midnight(first) if first else None, _midnight(last + timedelta(days=1)) if last else None)


def preset(name: str, today: date) -> tuple[date, date]:
    """The first and last days of a named period (``PRESETS``) seen from ``today``."""
    if name == "weekend":  # on a Sunday, the weekend under way
        saturday = today - timedelta(days=1) if today.weekday() == 6 else today + timedelta(days=5 - today.weekday())
        return max(today, saturday), saturday + timedelta(days=1)
    if name == "week":
        return today, today + timedelta(days=6)
    if name == "month":
        return today, today.replace(day=monthrange(today.year, today.month)[1])
    raise ValueError(name)


def today(now: datetime) -> date:
    return now.astimezone(PARIS).date()


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), PARIS).astimezone(UTC)
