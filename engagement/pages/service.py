"""Content pages: reading them, editing them, and the demonstration pages."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.pages import legal
from engagement.pages.models import ContentPage

log = logging.getLogger(__name__)
TITLE_MAX = 200  # the column's length
BODY_MAX = 60_000

DEMO = (
    ("qui-sommes-nous", "Qui sommes-nous ?",
     "Un mouvement citoyen ouvert à toutes et à tous.\n\nNos comités locaux se réunissent, agissent et "
     "organisent des événements partout en France."),
    ("nos-propositions", "Nos propositions pour l’école, la santé et le climat",
     "L’école de demain, l’hôpital public, la transition écologique : nos propositions, débattues dans "
     "chaque comité."),
)


def by_slug(session: Session, slug: str) -> ContentPage | None:
    return session.scalar(select(ContentPage).where(ContentPage.slug == slug))


@dataclass(frozen=True)
class Block:
    """A piece of a page's body: a paragraph (``p``), a heading (``h2``) or a list (``ul``, one item a line)."""

    kind: str
    lines: tuple[str, ...]


LOCAL_PATH = re.compile(r"(?<![\w/.])(/[a-z0-9][a-z0-9_/-]*[a-z0-9])")  # /account/data, /confidentialite


def linked(text: str) -> Markup:
    """``text`` escaped, with this site's paths (``/account/data``) made links: what a page's words name, a
    reader reaches in one tap. Only paths of this site: never an address typed as text."""
    parts = LOCAL_PATH.split(text)  # words, path, words, path...: the paths at odd places
    link = Markup('<a href="{0}">{0}</a>')
    return Markup("").join(link.format(part) if i % 2 else part for i, part in enumerate(parts))


def blocks(body: str) -> list[Block]:
    """The body's blocks: blank lines separate them; ``## `` starts a heading, lines all starting ``- `` a list."""
    found = []
    for chunk in body.replace("\r\n", "\n").split("\n\n"):
        lines = [line.strip() for line in chunk.strip().split("\n") if line.strip()]
        if not lines:
            continue
        if len(lines) == 1 and lines[0].startswith("## "):
            found.append(Block("h2", (lines[0][3:].strip(),)))
        elif all(line.startswith("- ") for line in lines):
            found.append(Block("ul", tuple(line[2:].strip() for line in lines)))
        else:
            found.append(Block("p", (" ".join(lines),)))
    return found


class PageError(ValueError):
    """A refused edit: ``field`` (title, body) and ``code`` (required, too_long) say what is wrong."""

    def __init__(self, field: str, code: str, limit: int = 0) -> None:
        super().__init__(f"{field}: {code}")
        self.field, self.code, self.limit = field, code, limit


def edit(session: Session, slug: str, *, title: str, body: str, now: datetime, actor_id: int) -> ContentPage:
    """Change a page's title and body (a built-in page without a row gets one); LookupError for an unknown slug."""
    title, body = " ".join(title.split()), body.replace("\r\n", "\n").strip()
    for field, value, limit in (("title", title, TITLE_MAX), ("body", body, BODY_MAX)):
        if not value:
            raise PageError(field, "required")
        if len(value) > limit:
            raise PageError(field, "too_long", limit)
    row = by_slug(session, slug)
    if row is None:
        if slug not in legal.SLUGS:
            raise LookupError(slug)
        row = ContentPage(slug=slug, created_at=now)
        session.add(row)
    row.title, row.body, row.updated_at = title, body, now
    session.flush()
    log.info("page %s edited by user %s", slug, actor_id)
    return row


def load_demo(session: Session, now: datetime) -> list[str]:
    """The demonstration pages and the site's own pages (privacy notice...) that are missing (by slug)."""
    lines = legal.seed(session, now)
    for slug, title, body in DEMO:
        if by_slug(session, slug) is None:
            session.add(ContentPage(slug=slug, title=title, body=body, created_at=now, updated_at=now))
            lines.append(f"page {slug}: created")
    return lines
