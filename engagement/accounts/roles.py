"""Granting roles and the analysts' permission to see personal data; every change is logged."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.accounts.models import ROLES, RoleChange, User

MAX_PAGE = 200


class RoleError(ValueError):
    """A refused change; ``code`` says which rule (``unknown_role``, ``own_admin``, ``last_admin``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def grant(session: Session, user: User, *, role: str | None = None, personal_data: bool | None = None,
          actor: User | None, now: datetime) -> RoleChange | None:
    """Set ``user``'s role and/or personal-data permission (None keeps it); the log row, or None if
    nothing changed. An admin never removes their own admin role, and the last admin stays one."""
    _lock(session, user)
    new_role = user.role if role is None else role
    new_flag = user.can_see_personal_data if personal_data is None else personal_data
    if new_role not in ROLES:
        raise RoleError("unknown_role", f"role must be one of {', '.join(ROLES)}")
    if (new_role, new_flag) == (user.role, user.can_see_personal_data):
        return None
    if user.role == "admin" and new_role != "admin":
        _check_demotion(session, user, actor)
    change = RoleChange(user_id=user.id, actor_id=actor.id if actor is not None else None,
                        from_role=user.role, to_role=new_role,
                        from_personal_data=user.can_see_personal_data, to_personal_data=new_flag, at=now)
    user.role, user.can_see_personal_data = new_role, new_flag
    session.add(change)
    session.flush()
    return change


def _lock_admins(session: Session) -> int:
    """Lock the admins' rows (in id order, through the role index) and count them."""
    return len(session.scalars(select(User.id).where(User.role == "admin").order_by(User.id)
                               .with_for_update()).all())


def _lock(session: Session, user: User) -> None:
    """Lock the account and read it afresh; an admin's after every admin's, in the order every change
    takes them, so that two admins demoting each other at the same moment wait instead of deadlocking."""
    if user.role == "admin":
        _lock_admins(session)
    session.refresh(user, with_for_update=True)


def _check_demotion(session: Session, user: User, actor: User | None) -> None:
    if actor is not None and actor.id == user.id:
        raise RoleError("own_admin", "an admin cannot remove their own admin role")
    if _lock_admins(session) <= 1:
        raise RoleError("last_admin", "the last admin keeps the admin role")


def search(session: Session, text: str = "", *, after: int = 0, limit: int = 50) -> list[User]:
    """Accounts whose email contains ``text``, by id, from the one after ``after`` (keyset pages)."""
    query = select(User).where(User.id > after).order_by(User.id).limit(min(limit, MAX_PAGE))
    needle = text.strip().lower()
    if needle:
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(User.email.like(f"%{escaped}%", escape="\\"))
    return list(session.scalars(query))


def recent_changes(session: Session, limit: int = 50) -> Sequence[RoleChange]:
    """The latest role changes, newest first."""
    return session.scalars(select(RoleChange).order_by(RoleChange.id.desc()).limit(limit)).all()
