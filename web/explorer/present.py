"""How the explorer shows people and answers, in the page's language and time zone.

What a viewer may see (in full, or pseudonymised) is the core's rule: ``engagement.pseudonyms.Lens``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from engagement import pseudonyms
from engagement.clock import PARIS


def local(moment: datetime | None) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y %H:%M:%S") if moment else ""


def utc(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else ""


class Lens(pseudonyms.Lens):
    """The core's lens, read on a page: an anonymous visitor named, answers formatted."""

    def actor(self, actor_id: int | None) -> str:
        return _("anonymous visitor") if actor_id is None else self.person(actor_id)

    def answers(self, values: dict[str, Any] | None) -> list[tuple[str, str | None]]:
        """(field name, value shown) pairs; the value is None when it may not be shown."""
        shown = self.shown_answers(values)
        return [(name, None if shown is None else formatted(shown[name])) for name in sorted(values or {})]


def formatted(value: Any) -> str:
    """An answer as text: lists joined, an address's parts in order, booleans as yes/no."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(formatted(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(formatted(v) for v in value.values() if v not in (None, ""))
    return "" if value is None else str(value)
