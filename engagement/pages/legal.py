"""The pages every deployment publishes: the privacy notice, the legal notice, the membership terms, the volunteer
charter and the contact page (contracts.md, Site-wide). Each is served at ``/<slug>``, is a content page that
national organizers edit, and is seeded from ``legal.yml`` where no row exists yet, so that a fresh install
never answers 404 for them. The built-in texts carry markers the configuration fills in (``configure``): the
retention periods, and the controller's name and the data protection officer's address once they are set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.pages.models import ContentPage

DEFAULTS_FILE = Path(__file__).with_name("legal.yml")
PRIVACY, LEGAL_NOTICE, MEMBERSHIP_TERMS, VOLUNTEER_CHARTER, CONTACT = SLUGS = (
    "confidentialite", "mentions-legales", "conditions-d-adhesion", "charte-des-benevoles", "contact")
_filled: dict[str, str] = {}  # marker: what the built-in texts say instead (engagement.privacy.notices.page_values)


@dataclass(frozen=True)
class Default:
    """A page's built-in text: the row seeded, and what is shown while no row exists."""

    slug: str
    title: str
    body: str


@cache
def defaults() -> dict[str, Default]:
    data = yaml.safe_load(DEFAULTS_FILE.read_text(encoding="utf-8"))
    return {slug: Default(slug, data[slug]["title"], data[slug]["body"].strip()) for slug in SLUGS}


def configure(values: Mapping[str, str]) -> None:
    """What the built-in texts say in place of each marker (``{inactive}``, ``[nom de l’association]``...)."""
    _filled.clear()
    _filled.update(values)


def filled(slug: str) -> Default:
    """A page's built-in text with its markers filled in."""
    text = defaults()[slug]
    body = text.body
    for marker, value in _filled.items():
        body = body.replace(marker, value)
    return Default(slug, text.title, body)


def path(slug: str) -> str:
    """Where a content page is read: ``/<slug>`` for these pages, ``/pages/<slug>`` for the others."""
    return f"/{slug}" if slug in SLUGS else f"/pages/{slug}"


def seed(session: Session, now: datetime) -> list[str]:
    """Insert the pages that have no row yet (by slug), published; an existing row is never touched."""
    present = set(session.scalars(select(ContentPage.slug).where(ContentPage.slug.in_(SLUGS))))
    lines = []
    for slug in SLUGS:
        if slug not in present:
            text = filled(slug)
            session.add(ContentPage(slug=slug, title=text.title, body=text.body, created_at=now, updated_at=now))
            lines.append(f"page {slug}: created")
    if lines:
        session.flush()
    return lines


def shown(session: Session, slug: str) -> ContentPage:
    """The page as stored, or its built-in text (not added to the session) while no row exists."""
    row = session.scalar(select(ContentPage).where(ContentPage.slug == slug))
    if row is not None:
        return row
    text = filled(slug)
    return ContentPage(slug=slug, title=text.title, body=text.body, is_published=True)
