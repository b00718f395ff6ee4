"""The search port: what the platform asks of an index, whichever engine answers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from engagement.search.records import Record

PAGE_SIZE = 20


@dataclass(frozen=True)
class Query:
    """What a supporter typed, with the optional filters; ``now`` hides the events that are over."""

    text: str
    now: datetime
    kind: str | None = None
    department: str | None = None
    limit: int = PAGE_SIZE
    offset: int = 0

    @property
    def is_empty(self) -> bool:
        return not self.text.strip() and not self.kind and not self.department


@dataclass(frozen=True)
class Results:
    """One page of records, best first; ``engine`` says which index answered (``local`` or ``algolia``)."""

    hits: list[Record] = field(default_factory=list)
    has_more: bool = False
    engine: str = "local"
    degraded: bool = False  # Algolia did not answer: the local index did instead


class SearchIndex(Protocol):
    """An index of records: the local full-text index or Algolia."""

    name: str

    def save(self, records: list[Record]) -> None:
        """Add or replace records (by ``objectID``)."""

    def delete(self, object_ids: list[str]) -> None:
        """Remove records; an unknown id is no error."""

    def search(self, query: Query) -> Results:
        """One page of matches, best first."""

    def rebuild(self, pages: Iterable[list[Record]]) -> int:
        """Replace the whole content with ``pages`` (of records); returns how many records it now holds."""
