"""What Mailjet's Send API v3.1 accepts, checked before anything leaves (its documented limits).

A call carries at most 50 messages and 15 MB of JSON; a message has a subject of 1 to 255
characters, a text or an HTML part, at least one and at most 50 recipients (To, Cc and Bcc
together), at most 50 attachments and 50 headers, and no header that one of its properties sets
(Mailjet refuses those: ``send-0011``). A message beyond them would be refused anyway, or would
make Mailjet refuse its whole call: it is failed alone before any call, and calls are packed so
that none exceeds them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TypeVar

from engagement.mail.headers import one_line

MAX_MESSAGES = 50
MAX_PAYLOAD = 15_000_000  # bytes of JSON a call may carry: "15 MB", read as the smaller of 10**6 and 2**20
MAX_SUBJECT = 255  # counted in UTF-16 code units, the stricter reading of "characters"
MAX_RECIPIENTS = 50  # To, Cc and Bcc together
MAX_ITEMS = 50  # attachments, headers
PROPERTY_HEADERS = frozenset({"from", "sender", "to", "cc", "bcc", "subject", "reply-to"})
ENVELOPE = len(json.dumps({"Messages": []}))  # each further message adds its size and ", "

T = TypeVar("T")


def units(text: str) -> int:
    """Length as Mailjet may count it: UTF-16 code units (an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def fit_subject(subject: str) -> str:
    """``subject`` on one line, shortened between two words to fit 255 characters, an ellipsis
    showing the cut: a subject is never refused for its length once composed."""
    text = one_line(subject)
    if units(text) <= MAX_SUBJECT:
        return text
    kept: list[str] = []
    used = 0
    for char in text:
        used += units(char)
        if used > MAX_SUBJECT - 1:  # room for the ellipsis
            break
        kept.append(char)
    cut = "".join(kept)
    if (space := cut.rfind(" ")) > len(cut) // 2:
        cut = cut[:space]
    return cut.rstrip(" \u00a0\u202f,;:.-–—") + "…"


def encoded(body: Any) -> str:
    """``body`` as it is sent (requests' JSON: ASCII with escapes); its length is its size in bytes."""
    return json.dumps(body, allow_nan=False)


def problem(body: dict[str, Any], size: int) -> str | None:
    """Why Mailjet would refuse this message (one ``Messages`` entry of ``size`` bytes), or None.

    The reasons name a rule, never an address or a text: they are stored and logged."""
    subject = body.get("Subject") or ""
    recipients = sum(len(body.get(field) or []) for field in ("To", "Cc", "Bcc"))
    headers = body.get("Headers") or {}
    checks = (
        (not subject.strip(), "no subject"),
        (units(subject) > MAX_SUBJECT, f"a subject longer than {MAX_SUBJECT} characters"),
        (not body.get("TextPart") and not body.get("HTMLPart"), "neither a text nor an HTML part"),
        (not body.get("To"), "no recipient"),
        (recipients > MAX_RECIPIENTS, f"more than {MAX_RECIPIENTS} recipients"),
        (len(body.get("Attachments") or []) > MAX_ITEMS, f"more than {MAX_ITEMS} attachments"),
        (len(headers) > MAX_ITEMS, f"more than {MAX_ITEMS} headers"),
        (any(_property_header(name) for name in headers), "a header that a message property sets"),
        (ENVELOPE + size > MAX_PAYLOAD, f"larger than the {MAX_PAYLOAD // 1_000_000} MB a call may carry"),
    )
    return next((f"{reason} (Mailjet's limit)" for failed, reason in checks if failed), None)


def _property_header(name: str) -> bool:
    lowered = name.strip().lower()
    return lowered in PROPERTY_HEADERS or lowered.startswith(("x-mj-", "x-mailjet-"))


def pack(items: Sequence[T], sizes: Sequence[int]) -> list[list[T]]:
    """``items`` in order, in calls of at most 50 whose JSON (``sizes`` each) stays within 15 MB."""
    calls: list[list[T]] = []
    current: list[T] = []
    total = ENVELOPE
    for item, size in zip(items, sizes, strict=True):
        if current and (len(current) == MAX_MESSAGES or total + 2 + size > MAX_PAYLOAD):
            calls.append(current)
            current, total = [], ENVELOPE
        total += size + (2 if current else 0)
        current.append(item)
    if current:
        calls.append(current)
    return calls
