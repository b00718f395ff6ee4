"""Generations of what public pages show: a counter per tag, bumped after a commit that changes it.

A cache keeps, with each copy, the generations of its tags when the copy was rendered, and serves it only
while they are unchanged (the page cache, web/pagecache.py; docs/security.md). Tags: ``events`` (every list
of events), ``event:<slug>`` (one event's pages), ``committees`` (every list of committees),
``committee:<slug>`` (one committee's page), ``page:<slug>`` (a content page) and ``home`` (what the home
page shows besides events: the workflows an organizer put there, in their published versions). `track` bumps
them after the commit of any transaction that inserts, changes or deletes such a row (a registration changes
its event's ``seats_taken``), in every process that commits (web, workers, command line) -- after, never
before: a reader could otherwise render the old state between the bump and the commit and keep it under the
new generation.

Where the counters live decides who sees a bump at once: Redis (``REDIS_URL``) for every pod; else a small
memory-mapped file in the instance folder, shared by the processes of one machine (`make run`, gunicorn's
workers); else (no instance folder) this process's memory.
"""

from __future__ import annotations

import fcntl
import logging
import mmap
import os
import struct
import threading
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, sessionmaker

from engagement.config import Settings

log = logging.getLogger(__name__)

LISTS = "events"  # every page listing events: home, /events (every variant), a committee's page
COMMITTEES = "committees"  # every page listing committees
HOME = "home"  # the home page's workflows (site switches named home:<workflow>)
SLOTS = 4096  # counters of the shared file: a tag's slot is its CRC; two tags sharing one only cost misses
_COUNTER = struct.Struct("<Q")
_SEATS_ONLY = frozenset({"seats_taken"})


def event_tag(slug: str) -> str:
    return f"event:{slug}"


def committee_tag(slug: str) -> str:
    return f"committee:{slug}"


def page_tag(slug: str) -> str:
    return f"page:{slug}"


class Generations(Protocol):
    def read(self, tags: tuple[str, ...]) -> tuple[int, ...] | None:
        """The current generation of each tag; None when they cannot be known (serve nothing kept)."""

    def bump(self, tags: Iterable[str]) -> None:
        """Move each tag to a new generation."""


class MemoryGenerations:
    """One process's counters (an application without an instance folder or Redis)."""

    def __init__(self) -> None:
        self.counters: dict[str, int] = {}
        self.lock = threading.Lock()

    def read(self, tags: tuple[str, ...]) -> tuple[int, ...] | None:
        return tuple(self.counters.get(tag, 0) for tag in tags)

    def bump(self, tags: Iterable[str]) -> None:
        with self.lock:
            for tag in tags:
                self.counters[tag] = self.counters.get(tag, 0) + 1


class FileGenerations:
    """Counters in a memory-mapped file: a read is a memory access; a bump holds the file's lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.pid = 0
        self.fd = -1
        self.map: mmap.mmap | None = None

    def _mapped(self) -> mmap.mmap:
        if self.map is None or self.pid != os.getpid():  # after a fork, a descriptor of our own (flock)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            if os.fstat(self.fd).st_size < SLOTS * _COUNTER.size:
                os.ftruncate(self.fd, SLOTS * _COUNTER.size)
            self.map, self.pid = mmap.mmap(self.fd, SLOTS * _COUNTER.size), os.getpid()
        return self.map

    @staticmethod
    def _offset(tag: str) -> int:
        return (zlib.crc32(tag.encode()) % SLOTS) * _COUNTER.size

    def read(self, tags: tuple[str, ...]) -> tuple[int, ...] | None:
        try:
            shared = self._mapped()
        except OSError:  # a read-only instance folder: nothing is kept, pages render
            return None
        return tuple(_COUNTER.unpack_from(shared, self._offset(tag))[0] for tag in tags)

    def bump(self, tags: Iterable[str]) -> None:
        with self.lock:
            try:
                shared = self._mapped()
            except OSError as error:
                log.warning("page generations not bumped (%s)", type(error).__name__)
                return
            fcntl.flock(self.fd, fcntl.LOCK_EX)  # other processes: no increment lost
            try:
                for offset in {self._offset(tag) for tag in tags}:
                    _COUNTER.pack_into(shared, offset, _COUNTER.unpack_from(shared, offset)[0] + 1)
            finally:
                fcntl.flock(self.fd, fcntl.LOCK_UN)


class RedisGenerations:
    """Counters in one Redis hash: a read is one HMGET; a failure reads as unknown (pages render)."""

    def __init__(self, client: Any, key: str) -> None:
        self.client, self.key = client, key

    def read(self, tags: tuple[str, ...]) -> tuple[int, ...] | None:
        try:
            values = self.client.hmget(self.key, tags)
        except Exception:  # Redis down: nothing kept is served, as when the page cache's own reads fail
            return None
        return tuple(int(value or 0) for value in values)

    def bump(self, tags: Iterable[str]) -> None:
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for tag in tags:
                    pipe.hincrby(self.key, tag, 1)
                pipe.execute()
        except Exception as error:  # copies then expire on their own (s-maxage)
            log.warning("page generations not bumped (%s): cached pages may lag a minute", type(error).__name__)


def for_settings(settings: Settings) -> Generations:
    """Redis when configured; else a file in the instance folder; else this process's memory."""
    if settings.redis_url:
        import redis

        client = redis.Redis.from_url(settings.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return RedisGenerations(client, f"{settings.redis_prefix}page-generations")
    if settings.instance_dir is not None:
        return FileGenerations(settings.instance_dir / "cache" / "page-generations")
    return MemoryGenerations()


def track(factory: sessionmaker[Session], generations: Generations) -> None:
    """Bump the tags of the events each committed transaction of ``factory``'s sessions changed."""

    def collect(session: Session, _context: Any) -> None:
        session.info.setdefault("page_tags", set()).update(changed_tags(session))

    def bump(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a SAVEPOINT released: the change is not committed yet
        tags = session.info.pop("page_tags", None)
        if tags:
            generations.bump(sorted(tags))

    event.listen(factory, "after_flush", collect)
    event.listen(factory, "after_commit", bump)
    event.listen(factory, "after_soft_rollback", lambda session, _previous: session.info.pop("page_tags", None)
                 if not session.in_transaction() else None)


def changed_tags(session: Session) -> set[str]:
    """The tags of the rows this flush writes: an event's own, and the lists' unless only its seat count
    moved without making it full or no longer full (the lists show that, not the count); a committee's
    own and the committee lists; a content page's; the home page's for its switches."""
    tags: set[str] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if obj in session.dirty and not session.is_modified(obj):
            continue
        tags.update(_tags_of(obj, new_or_deleted=obj in session.new or obj in session.deleted))
    return tags


def _tags_of(obj: Any, *, new_or_deleted: bool) -> set[str]:
    from engagement.committees.models import Committee
    from engagement.events.models import Event
    from engagement.pages.models import ContentPage
    from engagement.switches import HOME_PREFIX, SiteSwitch
    from engagement.workflow.models import WorkflowDefinition

    if isinstance(obj, Event):
        return {event_tag(obj.slug)} | ({LISTS} if new_or_deleted or not _seats_only(obj) else set())
    if isinstance(obj, Committee):
        return {committee_tag(obj.slug), COMMITTEES, LISTS}  # the home page and lists name committees
    if isinstance(obj, ContentPage):
        return {page_tag(obj.slug)}
    if isinstance(obj, SiteSwitch) and obj.name.startswith(HOME_PREFIX):
        return {HOME}
    if isinstance(obj, WorkflowDefinition):
        return {HOME}  # a version published or withdrawn: the home page's cards name workflows
    return set()


def _seats_only(obj: Any) -> bool:
    """Whether only the seat count changed, and the event stayed as full (or not) as it was."""
    state = inspect(obj)
    changed = {attr.key for attr in state.attrs if attr.history.has_changes()}
    if not changed <= _SEATS_ONLY:
        return False
    before = state.attrs.seats_taken.history.deleted
    if not before or obj.capacity is None:
        return True
    return (before[0] >= obj.capacity) == obj.is_full
