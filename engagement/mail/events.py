"""What Mailjet reports after sending (its event callback): per-message status and the suppression list."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from engagement.mail import suppression
from engagement.mail.models import MailMessage

EVENTS = ("sent", "open", "click", "bounce", "blocked", "spam", "unsub")
CUSTOM_ID = re.compile(r"^mail-(\d{1,18})$")


def record(session: Session, event: dict[str, Any], now: datetime) -> bool:
    """Apply one event; False when it is not one we know (it is then ignored)."""
    kind, email = event.get("event"), event.get("email")
    if kind not in EVENTS or not isinstance(email, str) or "@" not in email:
        return False
    when = _time(event.get("time")) or now
    found = CUSTOM_ID.match(str(event.get("CustomID") or ""))
    message = session.get(MailMessage, int(found.group(1)), with_for_update=True) if found else None
    if message is not None and (message.provider_event_at is None or when >= message.provider_event_at):
        message.provider_event, message.provider_event_at = kind, when
    reason = _reason(kind, event)
    if reason is not None:
        suppression.suppress(session, email, reason, "mailjet", now)
    return True


def _reason(kind: str, event: dict[str, Any]) -> str | None:
    if kind == "spam":
        return "complained"
    if kind == "unsub":
        return "unsubscribed"
    if kind == "blocked" or (kind == "bounce" and event.get("hard_bounce")):
        return "bounced"
    return None  # a soft bounce may pass next time


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
