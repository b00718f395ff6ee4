"""Audience lists: each committee's and department's members as gzip JSON, rebuilt in the background.

A membership change (a follow, a departure, an activation, a new address or name, a deactivation
or deletion) marks the lists it touches dirty and queues their build through the outbox, in the
transaction of the change (``track`` installs the session hook that does it). A build streams the
members by keyset pages, serializes them without e-mail addresses or birth dates, and stores the
gzip body, its count and an ETag; organizer pages and campaign previews read the stored list.

Debouncing: ``built_at`` is when a build began reading; a build whose list has ``built_at >=
dirty_at`` is skipped, so a burst of changes costs one build. Every dirty mark is stamped, under
the row's lock, strictly after the ``dirty_at`` and ``built_at`` already stored. A build stores
its list only if ``dirty_at`` did not move while it read (else the change that moved it has its
own build queued, which may even have stored a newer list already): a change committed after a
build's snapshot is never taken for built, whatever the clocks of the two transactions.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import Select, Table, event, inspect, select, update
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from engagement import outbox
from engagement.accounts.models import User
from engagement.campaigns.models import AudienceList
from engagement.committees.models import Committee, CommitteeMembership
from engagement.db import transaction, utcnow
from engagement.geo import departments

TOPIC = "audience.build"
PAGE = 5000  # members read per query
GZIP_LEVEL = 5
TICK = timedelta(microseconds=1)
TABLE = cast(Table, AudienceList.__table__)
USER_FIELDS = ("department", "is_active", "activated_at", "first_name", "last_name", "address")


class Stored(NamedTuple):
    etag: str
    body: bytes  # gzip of the JSON array
    size: int  # members in it
    built_at: datetime | None  # None while a build that saw a change under way is owed again


class Summary(NamedTuple):
    size: int
    built_at: datetime | None
    is_stale: bool  # a change is not in the stored list yet (its build is queued)


def committee_key(committee_id: int) -> str:
    return f"committee:{committee_id}"


def department_key(code: str) -> str:
    return f"department:{code.upper()}"


# -- the content ---------------------------------------------------------------------------------

def _eligible() -> tuple[Any, ...]:
    # The same members a campaign reaches (audiences._members): active, with a confirmed address.
    return User.is_active.is_(True), User.activated_at.is_not(None)


def _columns() -> tuple[Any, ...]:
    return (User.id, User.first_name, User.last_name, User.address["postal_code"].as_string(),
            User.address["city_name"].as_string())


def _page_query(key: str, after: int) -> Select[Any]:
    kind, _, value = key.partition(":")
    if kind == "department":
        return (select(*_columns(), User.activated_at).where(*_eligible(), User.department == value, User.id > after)
                .order_by(User.id).limit(PAGE))
    if kind == "committee" and value.isdigit():
        member = CommitteeMembership.user_id
        return (select(*_columns(), CommitteeMembership.created_at, CommitteeMembership.role)
                .join(CommitteeMembership, member == User.id)
                .where(*_eligible(), CommitteeMembership.committee_id == int(value), member > after)
                .order_by(member).limit(PAGE))
    raise ValueError(f"{key!r} is not an audience list: committee:ID or department:CODE")


def _iso(moment: datetime | None) -> str | None:
    # UTC to the second, "2026-11-28T09:30:00Z" (isoformat is twice as fast as strftime here)
    return moment.isoformat(timespec="seconds")[:19] + "Z" if moment is not None else None


def members(session: Session, key: str) -> Iterator[list[dict[str, Any]]]:
    """The list's members by pages of ``PAGE``, in id order, as they are serialized."""
    after = 0
    while True:
        rows = session.execute(_page_query(key, after)).all()
        if not rows:
            return
        if key.startswith("committee:"):
            yield [{"id": r[0], "first_name": r[1], "last_name": r[2], "postal_code": r[3], "city_name": r[4],
                    "joined_at": _iso(r[5]), "role": r[6]} for r in rows]
        else:
            yield [{"id": r[0], "first_name": r[1], "last_name": r[2], "postal_code": r[3], "city_name": r[4],
                    "joined_at": _iso(r[5])} for r in rows]
        after = rows[-1][0]


def serialize(session: Session, key: str) -> tuple[bytes, str, int]:
    """(gzip of the JSON array, SHA-256 of the JSON, count), streamed page by page."""
    digest, packer, parts, count = hashlib.sha256(), zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31), [], 0

    def feed(chunk: bytes) -> None:
        digest.update(chunk)
        parts.append(packer.compress(chunk))

    feed(b"[")
    for page in members(session, key):
        text = json.dumps(page, ensure_ascii=False, separators=(",", ":"))[1:-1]
        feed(b"," + text.encode() if count else text.encode())
        count += len(page)
    feed(b"]")
    parts.append(packer.flush())
    return b"".join(parts), digest.hexdigest(), count


# -- building ------------------------------------------------------------------------------------

def _is_fresh(dirty_at: datetime | None, built_at: datetime | None) -> bool:
    return built_at is not None and (dirty_at is None or built_at >= dirty_at)


def build(factory: sessionmaker[Session], key: str, now: datetime | None = None) -> bool:
    """Rebuild one list unless no change came since its last build; True when it wrote the list."""
    with factory() as session:  # one read transaction: the members and the dirty mark they reflect
        seen = session.execute(select(TABLE.c.dirty_at, TABLE.c.built_at).where(TABLE.c.key == key)).first()
        if seen is not None and _is_fresh(seen.dirty_at, seen.built_at):
            return False
        started = now or utcnow()
        body, etag, count = serialize(session, key)
    seen_dirty = seen.dirty_at if seen is not None else None
    with transaction(factory) as session:
        _ensure_row(session, key)
        row = session.execute(select(AudienceList).where(AudienceList.key == key).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one()
        if row.dirty_at == seen_dirty:  # no change since our snapshot: ours is the current list
            row.body, row.etag, row.count = body, etag, count
            row.built_at = max(started, seen_dirty) if seen_dirty else started  # it holds that change
            return True
        if row.etag is None:  # a change came while we read: its own build follows; ours beats nothing
            row.body, row.etag, row.count = body, etag, count
            return True
        return False  # ... and the stored list may already be newer than ours (a later build wrote it)


@outbox.self_managed(TOPIC, queue=outbox.LISTS)
def _build_queued(factory: sessionmaker[Session], payload: dict[str, Any]) -> None:
    build(factory, payload["key"])


def _ensure_row(session: Session, key: str) -> None:
    """Insert the list's row unless it exists (an upsert, so concurrent inserts do not collide)."""
    dialect = session.get_bind().dialect.name
    if dialect in ("mysql", "mariadb"):
        statement: Any = mysql.insert(TABLE).values(key=key, count=0)
        statement = statement.on_duplicate_key_update(key=statement.inserted.key)  # also locks the row
    else:
        statement = sqlite.insert(TABLE).values(key=key, count=0).on_conflict_do_nothing()
    session.execute(statement)


def mark_dirty(session: Session, keys: Iterable[str], now: datetime) -> None:
    """Mark lists dirty and queue their builds, in the caller's transaction (for bulk inserts too)."""
    for key in sorted(set(keys)):  # one lock order for every transaction: no deadlock between two lists
        _ensure_row(session, key)
        row = session.execute(select(TABLE.c.dirty_at, TABLE.c.built_at).where(TABLE.c.key == key)
                              .with_for_update()).one()
        stamp = max([now, *(moment + TICK for moment in row if moment is not None)])
        session.execute(update(TABLE).where(TABLE.c.key == key).values(dirty_at=stamp))
        outbox.enqueue(session, TOPIC, {"key": key})


# -- reading -------------------------------------------------------------------------------------

def read(session: Session, key: str) -> Stored | None:
    """The stored list, or None when it was never built."""
    row = session.execute(select(TABLE.c.etag, TABLE.c.body, TABLE.c.count, TABLE.c.built_at)
                          .where(TABLE.c.key == key, TABLE.c.etag.is_not(None))).first()
    return Stored(*row) if row is not None else None


def summaries(session: Session) -> dict[str, Summary]:
    """Every built list's count and date (without the bodies)."""
    rows = session.execute(select(TABLE.c.key, TABLE.c.count, TABLE.c.built_at, TABLE.c.dirty_at)
                           .where(TABLE.c.etag.is_not(None)))
    return {key: Summary(count, built, not _is_fresh(dirty, built)) for key, count, built, dirty in rows}


def key_of(session: Session, spec: str) -> str | None:
    """The list of a ``committee:SLUG`` or ``department:CODE`` audience (None for any other)."""
    kind, _, value = spec.strip().partition(":")
    kind, value = kind.lower(), value.strip()
    if kind == "department" and (code := departments.parse(value)):
        return department_key(code)
    if kind == "committee" and value:
        committee_id = session.scalar(select(Committee.id).where(Committee.slug == value.lower()))
        return committee_key(committee_id) if committee_id is not None else None
    return None


def estimate(session: Session, audience_spec: str) -> int | None:
    """The audience's size from its stored list; None when unknown (never built, all, event)."""
    key = key_of(session, audience_spec)
    if key is None:
        return None
    return session.scalar(select(TABLE.c.count).where(TABLE.c.key == key, TABLE.c.etag.is_not(None)))


# -- change tracking -----------------------------------------------------------------------------

def track(factory: sessionmaker[Session]) -> None:
    """Have every flush of ``factory``'s sessions mark the lists its membership changes touch (once per
    factory: ``bootstrap`` does it; no ``event.contains`` guard, which a recycled ``id()`` fools)."""
    event.listen(factory, "before_flush", _before_flush)


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    # before_flush, so that the outbox rows it adds are written by this very flush.
    keys = changed_keys(session)
    if keys:
        mark_dirty(session, keys, utcnow())


def changed_keys(session: Session) -> set[str]:
    """The lists that the session's pending inserts, updates and deletes change."""
    keys: set[str] = set()
    users: dict[int, User] = {}
    for obj in session.new:
        if isinstance(obj, CommitteeMembership) and obj.committee_id is not None:
            keys.add(committee_key(obj.committee_id))
        elif isinstance(obj, User) and obj.department and obj.is_active is not False and obj.activated_at:
            keys.add(department_key(obj.department))
    for obj in session.dirty:
        if isinstance(obj, CommitteeMembership) and _changed(obj, ("committee_id", "user_id", "role")):
            keys.update(committee_key(v) for v in _values(obj, "committee_id") if v is not None)
        elif isinstance(obj, User) and obj.id is not None and _changed(obj, USER_FIELDS):
            users[obj.id] = obj
    for obj in session.deleted:
        if isinstance(obj, CommitteeMembership):
            keys.add(committee_key(obj.committee_id))
        elif isinstance(obj, User):
            users[obj.id] = obj
    if users:
        keys |= _keys_of_users(session, users)
    return keys


def _changed(obj: Any, names: Iterable[str]) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in names)


def _values(obj: Any, name: str) -> set[Any]:
    history = inspect(obj).attrs[name].history
    return {*history.added, *history.deleted, *history.unchanged}


def _keys_of_users(session: Session, users: dict[int, User]) -> set[str]:
    """Departments before and after, and committees, of members updated or deleted (the rows still
    hold the values before this flush)."""
    keys: set[str] = set()
    in_lists: list[int] = []
    before = session.execute(select(User.id, User.department, User.is_active, User.activated_at)
                             .where(User.id.in_(list(users))))
    for user_id, department, was_active, was_activated in before:
        user = users[user_id]
        was = bool(was_active) and was_activated is not None
        now = user not in session.deleted and bool(user.is_active) and user.activated_at is not None
        if was and department:
            keys.add(department_key(department))
        if now and user.department:
            keys.add(department_key(user.department))
        if was or now:
            in_lists.append(user_id)
    if in_lists:
        committees = session.scalars(select(CommitteeMembership.committee_id).distinct()
                                     .where(CommitteeMembership.user_id.in_(in_lists)))
        keys.update(committee_key(committee_id) for committee_id in committees)
    return keys
