"""The organizers' content of the invitation: choices with their labels and arguments, and texts.

It is data, not code: seeded from ``content.yml`` into an empty table, then edited by organizers
(``/organizer/invitation``). Choices are hidden rather than deleted, because sent invitations and
live instances keep their keys. Each process rereads the table at most every few seconds.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engagement.expressions import ExpressionError, parse_template, referenced
from engagement.invitations.models import KINDS, InvitationContent
from engagement.workflow.registry import REGISTRY
from engagement.workflow.spec import Text

SEED = Path(__file__).with_name("content.yml")
SEED_SECTIONS = {"texts": "text", "genders": "gender", "positions": "position", "projects": "project",
                 "interests": "interest", "reasons": "reason"}
CHOICE_SETS = {"invitation.genders": "gender", "invitation.positions": "position",
               "invitation.projects": "project", "invitation.interests": "interest",
               "invitation.reasons": "reason"}
PLACEHOLDERS = frozenset({"first_name"})  # what texts and arguments may name: the friend's first name
LOCALES = ("fr", "en")
KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_LABEL, MAX_BODY, MAX_SUBJECT = 80, 1000, 100
MIN_VISIBLE = {"interest": 2, "reason": 2}  # the form asks for exactly two of these
CACHE_TTL_SECONDS = 5.0  # how soon every process sees an organizer's edit


class ContentError(ValueError):
    """An edit that cannot be saved: ``field`` names the input at fault, ``code`` the rule broken.

    Codes: gone, too_long (``limit``), placeholder, label_required, text_required, greeting,
    kind, key_format, key_taken, too_few_visible.
    """

    def __init__(self, field: str, code: str, limit: int | None = None) -> None:
        super().__init__(f"{field}: {code}")
        self.field, self.code, self.limit = field, code, limit


@dataclass(frozen=True)
class Piece:
    id: int
    kind: str
    key: str
    position: int
    label: Text
    body: Text
    is_active: bool


@dataclass(frozen=True)
class Catalog:
    """A snapshot of the whole content, ordered by kind and position."""

    pieces: tuple[Piece, ...] = ()
    _index: dict[tuple[str, str], Piece] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self._index.update({(p.kind, p.key): p for p in self.pieces})

    def of_kind(self, kind: str, active_only: bool = True) -> list[Piece]:
        return [p for p in self.pieces if p.kind == kind and (p.is_active or not active_only)]

    def choices(self, kind: str) -> list[tuple[str, Text]]:
        return [(p.key, p.label) for p in self.of_kind(kind)]

    def get(self, kind: str, key: str) -> Piece | None:
        return self._index.get((kind, key))

    def text(self, key: str) -> Text:
        piece = self.get("text", key)
        return piece.body if piece else {}


_CACHE: dict[str, tuple[float, Catalog]] = {}


def catalog(session: Session) -> Catalog:
    """The content as stored (reread at most every CACHE_TTL_SECONDS per database)."""
    where = str(session.get_bind().engine.url)
    now = time.monotonic()
    cached = _CACHE.get(where)
    if cached is None or now - cached[0] > CACHE_TTL_SECONDS:
        rows = session.scalars(select(InvitationContent).order_by(
            InvitationContent.kind, InvitationContent.position, InvitationContent.id))
        pieces = tuple(Piece(r.id, r.kind, r.key, r.position, dict(r.label or {}), dict(r.body or {}), r.is_active)
                       for r in rows)
        cached = _CACHE[where] = (now, Catalog(pieces))
    return cached[1]


def invalidate() -> None:
    _CACHE.clear()


def _provider(kind: str) -> Any:
    def provide(session: Session | None, locale: str) -> list[tuple[str, Text]]:
        return catalog(session).choices(kind) if session is not None else []

    return provide


for _name, _kind in CHOICE_SETS.items():
    REGISTRY.choice_set(_name)(_provider(_kind))


def seed(session: Session, path: Path = SEED) -> int:
    """Insert the seed content of every kind that has no row yet; returns how many pieces were added."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    present = set(session.scalars(select(InvitationContent.kind).group_by(InvitationContent.kind)))
    added = 0
    for section, kind in SEED_SECTIONS.items():
        if kind in present:
            continue
        for position, (key, value) in enumerate((data.get(section) or {}).items()):
            label, body = ({}, value) if kind == "text" else (value.get("label", {}), value.get("argument", {}))
            session.add(InvitationContent(kind=kind, key=key, position=position * 10,
                                          label=dict(label), body=dict(body)))
            added += 1
    if added:
        session.flush()
        invalidate()
    return added


def check_text(value: str, field: str, limit: int) -> tuple[str, set[str]]:
    """A label, argument or text as it may be stored (trimmed, bounded) and the placeholders it uses."""
    value = value.strip().replace("\r\n", "\n")
    if len(value) > limit:
        raise ContentError(field, "too_long", limit)
    try:
        names, _data, problems = referenced(parse_template(value))
    except ExpressionError:
        raise ContentError(field, "placeholder") from None
    if problems or names - PLACEHOLDERS:
        raise ContentError(field, "placeholder")
    return value, names


def update(session: Session, piece_id: int, *, label: dict[str, str], body: dict[str, str], position: int,
           is_active: bool, now: datetime) -> InvitationContent:
    """Save an organizer's edit of one piece (French is required, English falls back to it)."""
    row = session.get(InvitationContent, piece_id)
    if row is None:
        raise ContentError("id", "gone")
    texts = _texts(row.kind, row.key, label, body)
    if row.kind != "text" and not is_active and _others_active(session, row) < MIN_VISIBLE.get(row.kind, 1):
        raise ContentError("is_active", "too_few_visible")
    row.label, row.body = texts
    row.position, row.updated_at = position, now
    row.is_active = is_active or row.kind == "text"
    session.flush()
    invalidate()
    return row


def add(session: Session, kind: str, key: str, *, label: dict[str, str], body: dict[str, str],
        now: datetime) -> InvitationContent:
    """A new choice at the end of its list."""
    if kind not in KINDS or kind == "text":
        raise ContentError("kind", "kind")
    if not KEY.match(key):
        raise ContentError("key", "key_format")
    if session.scalar(select(InvitationContent.id).where(InvitationContent.kind == kind,
                                                         InvitationContent.key == key)) is not None:
        raise ContentError("key", "key_taken")
    last = session.scalar(select(func.max(InvitationContent.position)).where(InvitationContent.kind == kind))
    label, body = _texts(kind, key, label, body)
    row = InvitationContent(kind=kind, key=key, position=(last or 0) + 10, label=label, body=body, updated_at=now)
    session.add(row)
    session.flush()
    invalidate()
    return row


def _texts(kind: str, key: str, label: dict[str, str], body: dict[str, str]) -> tuple[Text, Text]:
    limit = MAX_SUBJECT if (kind, key) == ("text", "subject") else MAX_BODY
    bodies = {loc: check_text(body.get(loc) or "", f"body_{loc}", limit) for loc in LOCALES}
    clean_body = {loc: text for loc, (text, _names) in bodies.items()}
    clean_label = {} if kind == "text" else {
        loc: check_text(label.get(loc) or "", f"label_{loc}", MAX_LABEL)[0] for loc in LOCALES}
    if kind != "text" and not clean_label["fr"]:
        raise ContentError("label_fr", "label_required")
    if not clean_body["fr"]:
        raise ContentError("body_fr", "text_required")
    for locale, (text, names) in bodies.items():
        if (kind, key) == ("text", "introduction") and text and "first_name" not in names:
            raise ContentError(f"body_{locale}", "greeting")
    return ({k: v for k, v in clean_label.items() if v}, {k: v for k, v in clean_body.items() if v})


def _others_active(session: Session, row: InvitationContent) -> int:
    return int(session.scalar(select(func.count()).select_from(InvitationContent).where(
        InvitationContent.kind == row.kind, InvitationContent.id != row.id,
        InvitationContent.is_active.is_(True))) or 0)

