"""Content pages: reading them, and the demonstration pages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.pages.models import ContentPage

DEMO = (
    ("qui-sommes-nous", "Qui sommes-nous ?",
     "Un mouvement citoyen ouvert à toutes et à tous.\n\nNos comités locaux se réunissent, agissent et "
     "organisent des événements partout en France."),
    ("nos-propositions", "Nos propositions pour l'école, la santé et le climat",
     "L'école de demain, l'hôpital public, la transition écologique : nos propositions, débattues dans "
     "chaque comité."),
)


def by_slug(session: Session, slug: str) -> ContentPage | None:
    return session.scalar(select(ContentPage).where(ContentPage.slug == slug))


def load_demo(session: Session, now: datetime) -> list[str]:
    """The demonstration pages that are missing (by slug)."""
    lines = []
    for slug, title, body in DEMO:
        if by_slug(session, slug) is None:
            session.add(ContentPage(slug=slug, title=title, body=body, created_at=now, updated_at=now))
            lines.append(f"page {slug}: created")
    return lines
