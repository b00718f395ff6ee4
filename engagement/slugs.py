"""Slugs: the readable, unique part of an event's or a committee's address (``/events/<slug>``)."""

from __future__ import annotations

import re
import secrets
import unicodedata
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session


def slugify(text: str) -> str:
    """``"Conférence : c’est maintenant"`` -> ``"conference-c-est-maintenant"``: accents dropped, and a
    typographic apostrophe or space separates words as a typewriter one does (names are typeset in French)."""
    decomposed = unicodedata.normalize("NFKD", text)
    spaced = "".join(c if c.isascii() or c.isalnum() or unicodedata.combining(c) else " " for c in decomposed)
    ascii_text = spaced.encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80] or "evenement"


def unique_slug(session: Session, model: Any, text: str) -> str:
    base, n = slugify(text), 1
    slug = base
    while session.scalar(select(model.id).where(model.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug


def insert_with_slug(session: Session, row: Any, text: str) -> None:
    """Add ``row`` under a free slug made from ``text``; a slug taken meanwhile by a concurrent insert
    is retried with a random suffix (a unique constraint decides, in a savepoint)."""
    for attempt in range(5):
        base = unique_slug(session, type(row), text)
        row.slug = base if attempt == 0 else f"{base[:73]}-{secrets.token_hex(3)}"
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
            return
        except IntegrityError:
            continue
    raise RuntimeError(f"no free slug for {text!r}")
