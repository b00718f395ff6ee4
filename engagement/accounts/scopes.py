"""Organizer scopes, as En Marche! had them: what an organizer may manage and whom they may write to.

A scope is ``national`` (everything), ``department:CODE`` (a referent: the department's events and
committees, its members, its committees' followers, its events' registrants) or ``committee:SLUG``
(a host: that committee's events, its followers and its events' registrants). Admins are national.
Hosting an approved or pending committee (a "host" membership) gives an organizer that committee's
scope without a grant, as En Marche!'s hosts managed their committee; the organizer area itself
stays behind the organizer role, so a member who hosts gets nothing here. Granted scopes are
logged like roles (:class:`ScopeChange`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session

from engagement.accounts.models import OrganizerScope, ScopeChange, User
from engagement.committees.models import Committee, CommitteeMembership
from engagement.events.models import Event
from engagement.geo import departments
from engagement.media.models import Media
from engagement.pages.models import ContentPage

KINDS = ("national", "department", "committee")


class ScopeError(ValueError):
    """A refused scope change; ``code`` says why (``unknown_scope``, ``not_organizer``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Reach:
    """Everything one user's scopes cover: national, or some departments and committees."""

    national: bool
    departments: frozenset[str]
    committee_ids: frozenset[int]

    @property
    def empty(self) -> bool:
        return not (self.national or self.departments or self.committee_ids)


NOWHERE = Reach(False, frozenset(), frozenset())
EVERYWHERE = Reach(True, frozenset(), frozenset())


@dataclass(frozen=True)
class Target:
    """A parsed scope: its normalized spec and what it names."""

    spec: str
    kind: str
    department: str | None = None
    committee: Committee | None = None


def parse(session: Session, spec: str) -> Target:
    """The scope ``spec`` names; ScopeError when it names nothing."""
    kind, _, value = spec.strip().partition(":")
    kind, value = kind.strip().lower(), value.strip()
    if kind == "national" and not value:
        return Target("national", "national")
    if kind == "department" and (code := departments.parse(value)):
        return Target(f"department:{code}", "department", department=code)
    if kind == "committee" and value:
        committee = session.scalar(select(Committee).where(Committee.slug == value.lower()))
        if committee is not None:
            return Target(f"committee:{committee.slug}", "committee", committee=committee)
    raise ScopeError("unknown_scope", f"{spec!r} is not a scope: national, department:CODE or committee:SLUG")


def reach(session: Session, user: Any) -> Reach:
    """What ``user`` may manage: admins everything, organizers their scopes and hosted committees."""
    if not getattr(user, "is_authenticated", False) or user.role not in ("organizer", "admin"):
        return NOWHERE
    if user.role == "admin":
        return EVERYWHERE
    rows = session.execute(select(OrganizerScope.kind, OrganizerScope.department, OrganizerScope.committee_id)
                           .where(OrganizerScope.user_id == user.id)).all()
    if any(kind == "national" for kind, _, _ in rows):
        return EVERYWHERE
    hosted = session.scalars(select(CommitteeMembership.committee_id).where(
        CommitteeMembership.user_id == user.id, CommitteeMembership.role == "host"))
    return Reach(False, frozenset(code for kind, code, _ in rows if kind == "department" and code),
                 frozenset([*(cid for kind, _, cid in rows if kind == "committee" and cid), *hosted]))


def is_national(session: Session, user: Any) -> bool:
    return reach(session, user).national


def committee_clause(where: Reach) -> ColumnElement[bool]:
    """A filter on Committee for the committees ``where`` covers."""
    if where.national:
        return true()
    if where.empty:
        return false()
    return or_(Committee.id.in_(where.committee_ids), Committee.department.in_(where.departments))


def decidable_clause(where: Reach) -> ColumnElement[bool]:
    """A filter on Committee for the proposals ``where`` may approve or refuse."""
    if where.national:
        return true()
    return Committee.department.in_(where.departments) if where.departments else false()


def event_clause(where: Reach) -> ColumnElement[bool]:
    """A filter on Event for the events ``where`` covers."""
    if where.national:
        return true()
    if where.empty:
        return false()
    in_departments = select(Committee.id).where(Committee.department.in_(where.departments))
    return or_(Event.committee_id.in_(where.committee_ids), Event.department.in_(where.departments),
               Event.committee_id.in_(in_departments))


def covers_committee(session: Session, where: Reach, committee: Committee) -> bool:
    return where.national or committee.id in where.committee_ids or committee.department in where.departments


def covers_event(session: Session, where: Reach, event: Event) -> bool:
    return covers_place(session, where, event.committee_id, event.department)


def covers_place(session: Session, where: Reach, committee_id: int | None, department: str | None) -> bool:
    """Whether an event of the committee ``committee_id`` held in ``department`` is in scope (the rule
    for existing events, and for the one being created or moved)."""
    if where.national or committee_id in where.committee_ids or department in where.departments:
        return True
    committee = session.get(Committee, committee_id) if committee_id and where.departments else None
    return committee is not None and committee.department in where.departments


def committees_in(session: Session, where: Reach, *, limit: int = 1000) -> list[Committee]:
    """The approved committees ``where`` covers, by name."""
    return list(session.scalars(select(Committee).where(Committee.status == "approved", committee_clause(where))
                                .order_by(Committee.name).limit(limit)))


def may_manage_event(session: Session, user: Any, event: Event) -> bool:
    return covers_event(session, reach(session, user), event)


def may_manage_committee(session: Session, user: Any, committee: Committee) -> bool:
    return covers_committee(session, reach(session, user), committee)


def may_decide_committee(session: Session, user: Any, committee: Committee) -> bool:
    """Approving or refusing a committee is for referents of its department and national organizers."""
    return decides(reach(session, user), committee)


def decides(where: Reach, committee: Committee) -> bool:
    return where.national or committee.department in where.departments


def may_delete_media(session: Session, where: Reach, image: Media, user_id: int) -> bool:
    """National organizers delete any image; others only one they uploaded, and only while no page, and
    no event or committee out of their scope, has it as its cover."""
    if where.national:
        return True
    if image.uploaded_by_id != user_id or session.scalar(
            select(ContentPage.id).where(ContentPage.cover_media_id == image.id).limit(1)) is not None:
        return False
    events = session.scalars(select(Event).where(Event.cover_media_id == image.id))
    committees = session.scalars(select(Committee).where(Committee.cover_media_id == image.id))
    return all(covers_event(session, where, e) for e in events) and all(
        covers_committee(session, where, c) for c in committees)


def may_address(session: Session, user: Any, audience_spec: str) -> bool:
    """Whether ``user`` may write to the campaign audience ``audience_spec`` (all, committee:, ...)."""
    return reaches(session, reach(session, user), audience_spec)


def reaches(session: Session, where: Reach, audience_spec: str) -> bool:
    """Whether the audience ``audience_spec`` lies within ``where`` (False for one that names nothing)."""
    kind, _, value = audience_spec.strip().partition(":")
    kind, value = kind.strip().lower(), value.strip()
    if kind == "all":
        return where.national and not value
    if kind == "department":
        code = departments.parse(value)
        return code is not None and (where.national or code in where.departments)
    if kind == "committee" and value:
        committee = session.scalar(select(Committee).where(Committee.slug == value.lower()))
        return committee is not None and covers_committee(session, where, committee)
    if kind == "event" and value:
        event = session.scalar(select(Event).where(Event.slug == value.lower()))
        return event is not None and covers_event(session, where, event)
    return False


def audiences(session: Session, user: Any, *, events_since: datetime | None = None) -> list[str]:
    """The audience specs ``user`` may write to: "all" (national only), then departments, approved
    committees and events (those ending after ``events_since`` when given) in scope."""
    where = reach(session, user)
    if where.empty:
        return []
    codes = departments.codes() if where.national else sorted(where.departments)
    committees = select(Committee.slug).where(Committee.status == "approved", committee_clause(where)).order_by(
        Committee.name)
    events = select(Event.slug).where(event_clause(where)).order_by(Event.begins_at.desc())
    if events_since is not None:
        events = events.where(Event.ends_at > events_since)
    return [*(["all"] if where.national else []), *(f"department:{code}" for code in codes),
            *(f"committee:{slug}" for slug in session.scalars(committees)),
            *(f"event:{slug}" for slug in session.scalars(events))]


def scopes_of(session: Session, user: User) -> list[OrganizerScope]:
    """The scopes granted to ``user`` (hosted committees are not listed: they follow the membership)."""
    return list(session.scalars(select(OrganizerScope).where(OrganizerScope.user_id == user.id)
                                .order_by(OrganizerScope.scope)))


def grant(session: Session, user: User, spec: str, *, actor: User | None, now: datetime) -> ScopeChange | None:
    """Give ``user`` the scope ``spec``; the log row, or None when they already had it."""
    target = parse(session, spec)
    if user.role not in ("organizer", "admin"):
        raise ScopeError("not_organizer", "only an organizer is given a scope")
    session.refresh(user, with_for_update=True)  # two grants of one scope wait for each other
    if session.scalar(select(OrganizerScope.id).where(OrganizerScope.user_id == user.id,
                                                      OrganizerScope.scope == target.spec)) is not None:
        return None
    session.add(OrganizerScope(user_id=user.id, scope=target.spec, kind=target.kind, department=target.department,
                               committee_id=target.committee.id if target.committee else None,
                               granted_by_id=actor.id if actor else None, granted_at=now))
    return _log(session, user, "grant", target.spec, actor, now)


def revoke(session: Session, user: User, spec: str, *, actor: User | None, now: datetime) -> ScopeChange | None:
    """Take the scope ``spec`` from ``user``; the log row, or None when they did not have it."""
    target = parse(session, spec)
    session.refresh(user, with_for_update=True)
    row = session.scalar(select(OrganizerScope).where(OrganizerScope.user_id == user.id,
                                                      OrganizerScope.scope == target.spec))
    if row is None:
        return None
    session.delete(row)
    return _log(session, user, "revoke", target.spec, actor, now)


def _log(session: Session, user: User, action: str, spec: str, actor: User | None, now: datetime) -> ScopeChange:
    change = ScopeChange(user_id=user.id, actor_id=actor.id if actor else None, action=action, scope=spec, at=now)
    session.add(change)
    session.flush()
    return change


def recent_changes(session: Session, limit: int = 50) -> Sequence[ScopeChange]:
    """The latest scope changes, newest first."""
    return session.scalars(select(ScopeChange).order_by(ScopeChange.id.desc()).limit(limit)).all()
