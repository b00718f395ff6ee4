"""How the explorer shows people and answers: in full to those allowed, pseudonymised to the others.

Pseudonymised, a page or an export names no one: an actor is ``member-`` and a keyed hash of their
id (stable, so that one person's steps can be followed), and an answer is only its field's name.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.accounts.models import User
from engagement.pseudonyms import pseudonym

ZONE = ZoneInfo("Europe/Paris")


def local(moment: datetime | None) -> str:
    return moment.astimezone(ZONE).strftime("%d/%m/%Y %H:%M:%S") if moment else ""


def utc(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else ""


@dataclass
class Lens:
    """What one viewer may see: ``personal`` or not; the key pseudonyms are made with."""

    personal: bool
    key: str
    emails: dict[int, str] = field(default_factory=dict)

    def know(self, session: Session, actor_ids: Iterable[int | None]) -> Lens:
        """Load the emails of these actors (only for a viewer who may see them)."""
        wanted = {i for i in actor_ids if i is not None} - set(self.emails)
        if self.personal and wanted:
            self.emails.update(dict(session.execute(select(User.id, User.email).where(User.id.in_(wanted))).all()))
        return self

    def actor(self, actor_id: int | None) -> str:
        if actor_id is None:
            return _("anonymous visitor")
        if self.personal and actor_id in self.emails:
            return self.emails[actor_id]
        return pseudonym(actor_id, self.key)

    def answers(self, values: dict[str, Any] | None) -> list[tuple[str, str | None]]:
        """(field name, value shown) pairs; the value is None when it may not be shown."""
        shown = sorted(_unsecret(values).items())
        return [(name, formatted(value) if self.personal else None) for name, value in shown]

    def answers_cell(self, values: dict[str, Any] | None) -> str:
        """The answers in one spreadsheet cell: JSON in full, else the names of the fields answered."""
        if self.personal:
            return json.dumps(_unsecret(values), ensure_ascii=False, sort_keys=True)
        return ", ".join(sorted(values or {}))


def _unsecret(values: dict[str, Any] | None) -> dict[str, Any]:
    """The answers with a password's hash (argon2, stored as answered) masked: nobody is shown one."""
    return {name: "********" if isinstance(value, str) and value.startswith("$argon2") else value
            for name, value in (values or {}).items()}


def formatted(value: Any) -> str:
    """An answer as text: lists joined, an address's parts in order, booleans as yes/no."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(formatted(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(formatted(v) for v in value.values() if v not in (None, ""))
    return "" if value is None else str(value)
