"""Parts of pages that are the same for every visitor, rendered once per process and kept as the page cache keeps
whole public pages (web/pagecache.py): with the generations their tags had just before they were built
(`engagement.generations`), used only while those are unchanged and for at most `PAGE_SECONDS`.

A signed-in member's home page is rendered for them alone (their session, their "near you"), but its lists of
workflows, events and committees are everyone's: they come from here, not from four queries and a dozen cards
rendered again at each request. A commit that changes an event or a committee bumps their tags, in any process,
and the next request builds them afresh; what the tags do not follow (an event that has begun, a workflow
published anew) is at most `PAGE_SECONDS` old, as on the anonymous page.

A part is built in a database session of its own, begun after the generations were read: a request's session
may have begun reading before a commit whose bump came since (its snapshot would be kept under the new stamp).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import current_app, g, has_request_context
from sqlalchemy.orm import Session, sessionmaker

from engagement.generations import Generations
from web.public import PAGE_SECONDS

T = TypeVar("T")
ENTRIES = 256


@dataclass(frozen=True)
class _Kept:
    stamp: tuple[int, ...]
    built_at: float
    value: Any


class Fragments:
    """This process's kept parts, by key (at most `ENTRIES`, the least recently used dropped first)."""

    def __init__(self, generations: Generations, sessions: sessionmaker[Session],
                 seconds: float = PAGE_SECONDS) -> None:
        self.generations, self.sessions, self.seconds = generations, sessions, seconds
        self.kept: OrderedDict[Hashable, _Kept] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Hashable, tags: tuple[str, ...], build: Callable[[Session], T]) -> T:
        """The part ``key`` showing what ``tags`` name: kept, or built by ``build`` (given a fresh session) and
        kept unless the generations cannot be read."""
        stamp = self._stamp(tags)
        now = time.monotonic()
        kept = self.kept.get(key)
        if kept is not None and stamp is not None and kept.stamp == stamp and now - kept.built_at < self.seconds:
            return kept.value  # type: ignore[no-any-return]
        with self.sessions() as session:
            value = build(session)
        if stamp is not None:
            with self.lock:
                self.kept[key] = _Kept(stamp, now, value)
                self.kept.move_to_end(key)
                while len(self.kept) > ENTRIES:
                    self.kept.popitem(last=False)
        return value

    def _stamp(self, tags: tuple[str, ...]) -> tuple[int, ...] | None:
        """The generations of ``tags``, read once a request (one Redis round trip for the parts of a page)."""
        if not has_request_context():
            return self.generations.read(tags)
        read: dict[tuple[str, ...], tuple[int, ...] | None] = g.setdefault("fragment_stamps", {})
        if tags not in read:
            read[tags] = self.generations.read(tags)
        return read[tags]


def fragments() -> Fragments:
    """The application's kept parts (made at first use)."""
    found = current_app.extensions.get("fragments")
    if found is None:
        core = current_app.extensions["engagement"]
        found = current_app.extensions.setdefault("fragments", Fragments(core.generations, core.sessions))
    return found  # type: ignore[no-any-return]
