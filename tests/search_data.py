"""Rows the search tests index: committees, events and pages, written through a tracked session factory."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from engagement.committees.models import Committee
from engagement.db import transaction, utcnow
from engagement.events.models import Event
from engagement.outbox import InProcessRelay
from engagement.pages.models import ContentPage
from engagement.search import service
from engagement.search.port import Query

LYON = {"street": "3 place des Terreaux", "postal_code": "69001", "city": "69381",
        "city_name": "Lyon 1er Arrondissement", "country": "FR"}
_NUMBERS = itertools.count(1)
PARIS = {"street": "12 rue de Rivoli", "postal_code": "75004", "city": "75104",
         "city_name": "Paris 4e Arrondissement", "country": "FR"}


def committee(name: str, *, status: str = "approved", address: dict[str, str] | None = None,
              description: str = "") -> Committee:
    address = address or LYON
    slug = f"comite-{next(_NUMBERS)}"
    return Committee(slug=slug, name=name, description=description, address=address,
                     postal_code=address["postal_code"], department=address["postal_code"][:2], status=status)


def event(name: str, *, days: float = 7, status: str = "scheduled", address: dict[str, str] | None = None,
          online: bool = False) -> Event:
    begins = utcnow() + timedelta(days=days)
    address = None if online else (address or PARIS)
    return Event(slug=f"evenement-{next(_NUMBERS)}", name=name, description="", begins_at=begins,
                 ends_at=begins + timedelta(hours=2), address=address,
                 postal_code=address["postal_code"] if address else None,
                 department=address["postal_code"][:2] if address else None,
                 online_url="https://visio.example.org/x" if online else None, category="meeting", status=status)


def page(title: str, slug: str, *, body: str = "", published: bool = True) -> ContentPage:
    return ContentPage(slug=slug, title=title, body=body, is_published=published)


def commit(sessions: sessionmaker[Session], change: Callable[[Session], Any]) -> Any:
    """Run ``change`` in one transaction, then wait for the indexing it queued (in process, after commit)."""
    with transaction(sessions) as session:
        result = change(session)
        session.flush()
        ids = getattr(result, "id", None)
    InProcessRelay.drain()
    return ids


def found(sessions: sessionmaker[Session], text: str, **filters: Any) -> list[str]:
    """The titles the search answers for ``text`` (and ``kind``/``department`` filters), best first."""
    return [hit["title"] for hit in service.search(sessions, Query(text, utcnow(), **filters)).hits]
