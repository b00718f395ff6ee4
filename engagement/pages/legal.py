"""The pages every deployment publishes: the privacy notice, the legal notice, the membership terms, the volunteer
charter and the contact page (contracts.md, Site-wide). Each is served at ``/<slug>``, is a content page that
national organizers edit, and is seeded from ``legal.yml`` where no row exists yet, so that a fresh install
never answers 404 for them.
"""

from __future__ import annotations

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


def path(slug: str) -> str:
    """Where a content page is read: ``/<slug>`` for these pages, ``/pages/<slug>`` for the others."""
    return f"/{slug}" if slug in SLUGS else f"/pages/{slug}"


def seed(session: Session, now: datetime) -> list[str]:
    """Insert the pages that have no row yet (by slug), published; an existing row is never touched."""
    present = set(session.scalars(select(ContentPage.slug).where(ContentPage.slug.in_(SLUGS))))
    lines = []
    for slug, text in defaults().items():
        if slug not in present:
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
    text = defaults()[slug]
    return ContentPage(slug=slug, title=text.title, body=text.body, is_published=True)
