"""Stable pseudonyms, and what staff reading people's workflow records may see of them (the explorer's pages
and CSV exports): in full to those allowed, pseudonymised to the others.

Pseudonymised, a page or an export names no one: an actor is ``member-`` and a keyed hash of their id
(stable, so that one person's steps can be followed, and nobody without the key can go back from a
pseudonym to the account), and an answer is only its field's name. Nobody is shown a password's hash.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Self

from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.accounts.models import User
from engagement.accounts.passwords import HASH_PREFIX

LENGTH = 10  # 40 bits: tells the actors of a log apart; not meant as a unique key over all members
MASK = "********"  # a password's hash, as anyone reads it


def pseudonym(user_id: int, key: str, prefix: str = "member") -> str:
    """``member-`` and the first hex characters of HMAC-SHA256(key, user id)."""
    digest = hmac.new(key.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()
    return f"{prefix}-{digest[:LENGTH]}"


class NotAllowed(PermissionError):
    """Personal data asked for by a viewer who may not see it."""


@dataclass
class Lens:
    """What one viewer may see: ``personal`` or not; the key pseudonyms are made with."""

    personal: bool
    key: str
    emails: dict[int, str] = field(default_factory=dict)

    @classmethod
    def of(cls, viewer: User, key: str, *, personal: bool | None = None) -> Self:
        """``viewer``'s lens: in full when they may see personal data (`User.sees_personal_data`), unless
        ``personal=False`` asks for the pseudonymised view; ``personal=True`` without the right: NotAllowed."""
        if personal and not viewer.sees_personal_data:
            raise NotAllowed("this viewer may not see personal data")
        return cls(personal=viewer.sees_personal_data if personal is None else personal, key=key)

    def know(self, session: Session, actor_ids: Iterable[int | None]) -> Self:
        """Load the emails of these actors (only for a viewer who may see them)."""
        wanted = {i for i in actor_ids if i is not None} - set(self.emails)
        if self.personal and wanted:
            self.emails.update(dict(session.execute(select(User.id, User.email).where(User.id.in_(wanted))).all()))
        return self

    def person(self, actor_id: int) -> str:
        """The actor's email when the viewer may see it (and `know` loaded it), else their pseudonym."""
        if self.personal and actor_id in self.emails:
            return self.emails[actor_id]
        return pseudonym(actor_id, self.key)

    def shown_answers(self, values: dict[str, Any] | None) -> dict[str, Any] | None:
        """The answers the viewer may read (a password's hash masked); None when only their names may show."""
        return unsecret(values) if self.personal else None

    def answers_cell(self, values: dict[str, Any] | None) -> str:
        """The answers in one spreadsheet cell: JSON in full, else the names of the fields answered."""
        if self.personal:
            return json.dumps(unsecret(values), ensure_ascii=False, sort_keys=True)
        return ", ".join(sorted(values or {}))


def unsecret(values: dict[str, Any] | None) -> dict[str, Any]:
    """The answers with a password's hash (argon2, stored as answered) masked: nobody is shown one."""
    return {name: MASK if isinstance(value, str) and value.startswith(HASH_PREFIX) else value
            for name, value in (values or {}).items()}
