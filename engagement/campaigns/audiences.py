"""Who a campaign goes to: ``all``, ``committee:SLUG``, ``department:CODE`` or ``event:SLUG``.

``all`` is the national newsletter: only the members who asked for it (``has_newsletter``, a consent they
withdraw from their account or an unsubscribe link). A department's or a committee's campaign is the
movement's mail to its own members (GDPR art. 9(2)(d)): each message carries the link to object to it.

Every audience is read in pages ordered by a key (a member's id, or a registration's for an
event), so that it is streamed, never loaded whole, and an interrupted expansion resumes after
the last key it wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from engagement.accounts.models import User
from engagement.committees.models import Committee, CommitteeMembership
from engagement.events.models import Event, EventRegistration, names_someone
from engagement.geo import departments

KINDS = ("all", "committee", "department", "event")


class AudienceError(ValueError):
    """The audience names nothing that can be written to (unknown committee, department, event)."""


class Recipient(NamedTuple):
    key: int
    email: str


@dataclass(frozen=True)
class Audience:
    kind: str
    target_id: int | None  # the committee's or event's id
    code: str | None  # the department's code
    spec: str  # as given, normalized: all, committee:SLUG, department:CODE, event:SLUG
    label: str  # a name for people: the committee's, the event's, "Département 75"


def parse(session: Session, spec: str) -> Audience:
    """The audience ``spec`` names; AudienceError when it names nothing that may be written to."""
    kind, _, value = spec.strip().partition(":")
    kind, value = kind.lower(), value.strip()
    if kind == "all" and not value:
        return Audience("all", None, None, "all", "all")
    if kind == "committee" and value:
        committee = session.scalar(select(Committee).where(Committee.slug == value.lower()))
        if committee is None or committee.status != "approved":
            raise AudienceError(f"no approved committee {value!r}")
        return Audience("committee", committee.id, None, f"committee:{committee.slug}", committee.name)
    if kind == "department" and (code := departments.parse(value)):
        return Audience("department", None, code, f"department:{code}", departments.label(code))
    if kind == "event" and value:
        event = session.scalar(select(Event).where(Event.slug == value.lower()))
        if event is None:
            raise AudienceError(f"no event {value!r}")
        return Audience("event", event.id, None, f"event:{event.slug}", event.name)
    raise AudienceError(f"{spec!r} is not an audience: all, committee:SLUG, department:CODE or event:SLUG")


def kind(spec: str) -> str:
    """The kind of audience a stored ``spec`` names (``event``, ``committee``...), read without a query: what
    sending needs to find a recipient's name and account by key."""
    return spec.strip().partition(":")[0].lower()


def parse_stored(session: Session, spec: str) -> Audience | None:
    """A queued campaign's audience, or None when it no longer names anything (a committee closed since)."""
    try:
        return parse(session, spec)
    except AudienceError:
        return None


def _members(*where: Any) -> Select[int, str]:
    # Only accounts that can be written to: active and with a confirmed address.
    return select(User.id, User.email).where(User.is_active.is_(True), User.activated_at.is_not(None), *where)


def _query(audience: Audience) -> tuple[Select[int, str], Any]:
    """The audience as (select of key and email, key column)."""
    if audience.kind == "all":
        return _members(User.has_newsletter.is_(True)), User.id
    if audience.kind == "department":
        return _members(User.department == audience.code), User.id
    if audience.kind == "committee":
        query = _members(CommitteeMembership.committee_id == audience.target_id).join(
            CommitteeMembership, CommitteeMembership.user_id == User.id)
        return query, User.id
    query = select(EventRegistration.id, EventRegistration.email).where(
        EventRegistration.event_id == audience.target_id, EventRegistration.status == "registered",
        names_someone())  # an erased person's place is kept for the figures
    return query, EventRegistration.id


def count(session: Session, audience: Audience) -> int:
    query, _key = _query(audience)
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def count_upto(session: Session, audience: Audience, limit: int) -> int:
    """How many people the audience holds, counting no further than ``limit`` (a cost bounded by ``limit``,
    whatever the audience's size)."""
    query, key = _query(audience)
    bounded = query.with_only_columns(key).limit(limit).subquery()
    return int(session.scalar(select(func.count()).select_from(bounded)) or 0)


def page(session: Session, audience: Audience, after: int, limit: int) -> list[Recipient]:
    """Up to ``limit`` recipients whose key follows ``after``, in key order (a keyset page)."""
    query, key = _query(audience)
    rows = session.execute(query.where(key > after).order_by(key).limit(limit))
    return [Recipient(int(k), str(email)) for k, email in rows]


def values(session: Session, kind: str, keys: list[int]) -> dict[int, dict[str, str]]:
    """Each recipient's merge fields (first and last name), by key (of an audience of ``kind``): what their
    message says to them."""
    if not keys:
        return {}
    if kind == "event":
        rows = session.execute(select(EventRegistration.id, EventRegistration.first_name,
                                      EventRegistration.last_name).where(EventRegistration.id.in_(keys)))
    else:
        rows = session.execute(select(User.id, User.first_name, User.last_name).where(User.id.in_(keys)))
    return {int(key): {"first_name": first or "", "last_name": last or ""} for key, first, last in rows}


def accounts(session: Session, kind: str, keys: list[int]) -> dict[int, int]:
    """The member account of each recipient key (of an audience of ``kind``) that has one (a guest registered
    for an event has none)."""
    if kind != "event":
        return {key: key for key in keys}
    if not keys:
        return {}
    rows = session.execute(select(EventRegistration.id, EventRegistration.user_id).where(
        EventRegistration.id.in_(keys), EventRegistration.user_id.is_not(None)))
    return {int(key): int(user_id) for key, user_id in rows if user_id is not None}


class Offered(NamedTuple):
    """The audiences an organizer may choose, by kind, with what names them: the departments' codes, the
    committees' (slug, name) by name, the events newest first (at most ``MAX_EVENTS_OFFERED``)."""

    everyone: bool
    departments: list[str]
    committees: list[tuple[str, str]]
    events: list[Event]


MAX_EVENTS_OFFERED = 500


def offered(session: Session, specs: list[str]) -> Offered:
    """``specs`` (``all``, ``department:75``, ``committee:SLUG``, ``event:SLUG``) with their names, in two queries."""
    by_kind: dict[str, list[str]] = {"department": [], "committee": [], "event": []}
    for spec in specs:
        found, _, value = spec.partition(":")
        by_kind.get(found, []).append(value)
    committees = [(slug, name) for slug, name in session.execute(
        select(Committee.slug, Committee.name).where(Committee.slug.in_(by_kind["committee"]))
        .order_by(Committee.name))] if by_kind["committee"] else []
    events = list(session.scalars(
        select(Event).where(Event.slug.in_(by_kind["event"])).order_by(Event.begins_at.desc())
        .limit(MAX_EVENTS_OFFERED))) if by_kind["event"] else []
    return Offered("all" in specs, by_kind["department"], committees, events)
