"""Who looked: every staff view or export of personal data leaves one row, and a row per member it showed.

A member's own download (engagement.privacy.export) lists the rows that name them: who (the staff
member's role then, and their name), when, and what (the page or export and its target).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from itertools import islice
from typing import Any, cast

from sqlalchemy import Table, insert, literal, select
from sqlalchemy.orm import Session

from engagement.accounts.models import User
from engagement.privacy.models import DataAccess, DataAccessSubject

OPERATOR = "operator"  # the command line: someone with the servers' keys
CHUNK = 1000  # subjects written per statement: an audience list holds tens of thousands
SUBJECTS = cast(Table, DataAccessSubject.__table__)


def log(session: Session, actor: Any, action: str, target: str, subject_ids: Iterable[int | None],
        now: datetime, *, people: int | None = None) -> DataAccess:
    """Record that ``actor`` (a User; None: the command line) was shown the data of ``subject_ids``
    (member ids; None and repeats are ignored) by ``action`` on ``target``; ``people`` counts everyone
    shown when some of them have no account (an event's visitors), else the members are counted."""
    ids = sorted({int(i) for i in subject_ids if i is not None})
    row = DataAccess(actor_id=actor.id if actor is not None else None,
                     actor_role=actor.role if actor is not None else OPERATOR, action=action[:32],
                     target=target[:200], subjects=len(ids) if people is None else people, at=now)
    session.add(row)
    session.flush()
    members = iter(ids)
    while chunk := list(islice(members, CHUNK)):
        # From the users table, not the list as given: a stored audience list may name an account
        # deleted since it was built, and the row it would add could not point at anyone.
        session.execute(insert(SUBJECTS).from_select(
            ["access_id", "user_id"], select(literal(row.id), User.id).where(User.id.in_(chunk))))
    return row


def members_by_email(session: Session, emails: Iterable[str]) -> list[int]:
    """The accounts of these addresses (a visitor's registration under a member's address is theirs too)."""
    wanted = sorted({e.strip().lower() for e in emails if e})
    found: list[int] = []
    for start in range(0, len(wanted), CHUNK):
        found += session.scalars(select(User.id).where(User.email.in_(wanted[start:start + CHUNK]))).all()
    return found


def naming(session: Session, user_id: int) -> list[tuple[DataAccess, User | None]]:
    """The accesses that showed this member's data, oldest first, with who looked (None: the command
    line, or an account deleted since)."""
    rows = session.execute(
        select(DataAccess, User).join(DataAccessSubject, DataAccessSubject.access_id == DataAccess.id)
        .outerjoin(User, User.id == DataAccess.actor_id)
        .where(DataAccessSubject.user_id == user_id).order_by(DataAccess.at, DataAccess.id))
    return [(access, actor) for access, actor in rows]
