"""Committees: proposing, deciding, following, and the rule that a committee always keeps a host."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, bindparam, func, select
from sqlalchemy.orm import Session

from engagement.accounts.models import User
from engagement.committees.models import Committee, CommitteeMembership
from engagement.geo.communes import department_of
from engagement.mail import service as mail
from engagement.slugs import insert_with_slug, unique_slug

RESERVED_SLUGS = frozenset({"new"})  # /committees/new is the proposal form, not a committee


class CommitteeError(ValueError):
    """A refused change: ``code`` is name, decided, last_host, not_member, not_approved."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def propose(session: Session, *, name: str, description: str, address: dict[str, Any], creator_id: int,
            now: datetime) -> Committee:
    """A member proposes a committee: it waits for an organizer, and its creator is its first host."""
    if not name.strip() or len(name) > 100:
        raise CommitteeError("name")
    committee = Committee(name=name.strip(), description=description.strip(), address=address,
                          postal_code=address.get("postal_code", ""), department=department_of(address),
                          status="pending", created_by_id=creator_id, created_at=now)
    insert_with_slug(session, committee, _slug_text(session, name))
    session.add(CommitteeMembership(committee_id=committee.id, user_id=creator_id, role="host", created_at=now))
    return committee


def _slug_text(session: Session, name: str) -> str:
    """What the slug is made from: the name, unless that would give a reserved path (``new``)."""
    return f"comite {name}" if unique_slug(session, Committee, name) in RESERVED_SLUGS else name


def decide(session: Session, committee: Committee, approve: bool, now: datetime, locale: str = "fr") -> None:
    """Approve or refuse a pending committee, once: two organizers deciding at once get one ``decided``.

    Its hosts are told by mail, one message each (they do not see each other's address, and a host whose
    address no mail reaches misses only their own: the decision commits all the same).
    """
    locked = _lock(session, committee)
    if locked.status != "pending":
        raise CommitteeError("decided")
    locked.status, locked.decided_at = ("approved" if approve else "refused"), now
    hosts = list(session.scalars(select(User.email).join(CommitteeMembership, CommitteeMembership.user_id == User.id)
                                 .where(CommitteeMembership.committee_id == locked.id,
                                        CommitteeMembership.role == "host")))
    for host in hosts:
        mail.compose(session, template=f"committee_{locked.status}", to=[host], locale=locale,
                     context={"committee": locked, "link": mail.absolute(f"/committees/{locked.slug}")})


def membership(session: Session, committee: Committee, user_id: int) -> CommitteeMembership | None:
    return session.scalar(select(CommitteeMembership).where(
        CommitteeMembership.committee_id == committee.id, CommitteeMembership.user_id == user_id))


def follow(session: Session, committee: Committee, user_id: int, now: datetime) -> CommitteeMembership:
    """Follow an approved committee (following twice changes nothing)."""
    if committee.status != "approved":
        raise CommitteeError("not_approved")
    found = membership(session, committee, user_id)
    if found is None:
        found = CommitteeMembership(committee_id=committee.id, user_id=user_id, role="follower", created_at=now)
        session.add(found)
        session.flush()
    return found


def leave(session: Session, committee: Committee, user_id: int) -> None:
    """Unfollow (or step down as host); the last host cannot leave."""
    locked = _lock(session, committee)
    found = membership(session, locked, user_id)
    if found is None:
        raise CommitteeError("not_member")
    if found.role == "host" and hosts_count(session, locked) <= 1:
        raise CommitteeError("last_host")
    session.delete(found)


def _lock(session: Session, committee: Committee) -> Committee:
    """The committee's row, locked until commit and re-read (another transaction may have changed it)."""
    return session.execute(select(Committee).where(Committee.id == committee.id).with_for_update()
                           .execution_options(populate_existing=True)).scalar_one()


def hosts_count(session: Session, committee: Committee) -> int:
    return int(session.scalar(select(func.count()).select_from(CommitteeMembership).where(
        CommitteeMembership.committee_id == committee.id, CommitteeMembership.role == "host")) or 0)


def followers_count(session: Session, committee: Committee) -> int:
    """Everyone who follows it, hosts included."""
    return int(session.scalar(select(func.count()).select_from(CommitteeMembership).where(
        CommitteeMembership.committee_id == committee.id)) or 0)


def followers_counts(session: Session, committee_ids: list[int]) -> dict[int, int]:
    """``followers_count`` of many committees in one query (a list page); absent ids count 0."""
    if not committee_ids:
        return {}
    rows = session.execute(select(CommitteeMembership.committee_id, func.count()).where(
        CommitteeMembership.committee_id.in_(committee_ids)).group_by(CommitteeMembership.committee_id))
    counts = {committee_id: int(n) for committee_id, n in rows}
    return {committee_id: counts.get(committee_id, 0) for committee_id in committee_ids}


def by_slug(session: Session, slug: str) -> Committee | None:
    return session.scalar(select(Committee).where(Committee.slug == slug))


def approved(session: Session, department: str | None = None, limit: int = 100) -> list[Committee]:
    query = select(Committee).where(Committee.status == "approved")
    if department:
        query = query.where(Committee.department == department.upper())
    return list(session.scalars(query.order_by(Committee.name).limit(limit)))


def pending(session: Session, *where: ColumnElement[bool]) -> list[Committee]:
    """The proposals waiting for a decision (among those ``where`` selects: an organizer's scope)."""
    return list(session.scalars(select(Committee).where(Committee.status == "pending", *where)
                                .order_by(Committee.id)))


def recently_decided(session: Session, *where: ColumnElement[bool], limit: int = 20) -> list[Committee]:
    """The last approved or refused committees (among those ``where`` selects), the latest decision first."""
    query = select(Committee).where(Committee.status != "pending", Committee.decided_at.is_not(None), *where)
    return list(session.scalars(query.order_by(Committee.decided_at.desc(), Committee.id.desc()).limit(limit)))


class Followed(NamedTuple):
    """A committee on its member's page: its address, its name, and their role (host or follower)."""

    slug: str
    name: str
    role: str


_FOLLOWED = (select(Committee.slug, Committee.name, CommitteeMembership.role)
             .join(CommitteeMembership, CommitteeMembership.committee_id == Committee.id)
             .where(CommitteeMembership.user_id == bindparam("user_id"), Committee.status == "approved")
             .order_by(Committee.name, Committee.id))


def followed_by(session: Session, user_id: int) -> list[Followed]:
    """The approved committees a member follows or hosts, with their role, by name."""
    return [Followed(slug, name, str(role)) for slug, name, role in session.execute(_FOLLOWED, {"user_id": user_id})]


# And how many in all, counted once by a subquery (a window function would sort them all before the limit).
_FIRST_FOLLOWED = (_FOLLOWED.add_columns(select(func.count()).select_from(_FOLLOWED.order_by(None).subquery())
                                        .correlate(None).scalar_subquery())
                   .limit(bindparam("limit")))


def first_followed(session: Session, user_id: int, limit: int) -> tuple[list[Followed], int]:
    """The first ``limit`` of `followed_by`, and how many there are in all, in one query."""
    # On the connection: plain rows, without the ORM's setup of each statement (a read: nothing to flush first)
    rows = session.connection().execute(_FIRST_FOLLOWED, {"user_id": user_id, "limit": limit}).all()
    return [Followed(slug, name, str(role)) for slug, name, role, _count in rows], int(rows[0][3]) if rows else 0
