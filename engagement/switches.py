"""Site-wide switches, stored in the database so that every pod reads the same value within seconds.

``under_attack`` (docs/security.md): while on, forms answer a static 503 and public pages come from
the page cache only; ``home:<workflow>``: the workflow is shown on the home page (engagement.homepage).
A switch changed by the CLI or the admin area records who and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, Connection, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engagement.db import Base

UNDER_ATTACK = "under_attack"
KNOWN = (UNDER_ATTACK,)
HOME_PREFIX = "home:"  # one switch per workflow shown on the home page (engagement.homepage)


class SiteSwitch(Base):
    __tablename__ = "site_switches"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    is_on: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime]
    changed_by: Mapped[str] = mapped_column(String(254), comment="the admin's email, or 'cli'")


@dataclass(frozen=True)
class State:
    """A switch as the admin area and the CLI show it (never changed: off, no one, no date)."""

    name: str
    is_on: bool
    changed_at: datetime | None
    changed_by: str | None


def is_on(connection: Connection, name: str) -> bool:
    """The switch's value in one primary-key read (what every pod polls)."""
    return bool(connection.scalar(select(SiteSwitch.is_on).where(SiteSwitch.name == name)))


def state(session: Session, name: str) -> State:
    row = session.get(SiteSwitch, name)
    if row is None:
        return State(name, False, None, None)
    return State(name, row.is_on, row.changed_at, row.changed_by)


def turn(session: Session, name: str, *, on: bool, by: str, now: datetime) -> bool:
    """Set the switch; returns whether its value changed (turning on what is on changes nothing)."""
    if name not in KNOWN and not name.startswith(HOME_PREFIX):
        raise ValueError(f"unknown switch: {name}")
    row = session.get(SiteSwitch, name, with_for_update=True)
    if row is None:
        row = SiteSwitch(name=name, is_on=False, changed_at=now, changed_by=by)
        session.add(row)
    if row.is_on == on:
        return False
    row.is_on, row.changed_at, row.changed_by = on, now, by
    return True
