"""What the platform's plumbing keeps about a person, for their erasure: the mail ledger, the outbox, stored
sessions, uploaded media, audience lists and the logs that may name an address (engagement.privacy.erasure).

Finding an address in text and JSON columns portably: a ``LIKE`` on the lower-cased column cast to text (as
JSON stores it, non-ASCII escaped) selects the candidate rows; ``Address.named_in`` then keeps those that hold
the address as a whole (``lou@example.org`` is not in ``malou@example.org``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, delete, func, or_, select
from sqlalchemy.orm import Session

from engagement.accounts.models import User
from engagement.accounts.service import normalize_email
from engagement.campaigns import lists
from engagement.campaigns.models import Campaign
from engagement.committees.models import CommitteeMembership
from engagement.mail import service as mail
from engagement.mail.models import MailMessage
from engagement.media import service as media
from engagement.media.models import Media
from engagement.outbox import OutboxMessage
from engagement.privacy.models import DataAccess
from engagement.sessions import models as http_sessions
from engagement.switches import SiteSwitch

ERASED = "[erased]"  # what replaces an erased address in a log line
# What a request about an address must name: one @ between a local part and a domain. Lenient on purpose
# (an address stored long ago may fail today's stricter rules), but never an empty or plain word: an erasure
# looks for the address in free text, where "" or "rentrée" would match other people's answers.
ADDRESS = re.compile(r"[^@\s]+@[^@\s]*[^@\s.][^@\s]*")


def valid_address(email: str) -> str | None:
    """``email`` trimmed and lower-cased when it is an address, else None."""
    address = normalize_email(email)
    return address if ADDRESS.fullmatch(address) else None


@dataclass(frozen=True)
class Address:
    """One address being erased (lower-cased), and how to find it."""

    email: str
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if valid_address(self.email) != self.email:
            raise ValueError("not a lower-cased e-mail address")  # never search text for "" or a plain word
        whole = rf"(?<![\w.+-]){re.escape(self.email)}(?![\w-]|\.\w)"
        object.__setattr__(self, "pattern", re.compile(whole, re.IGNORECASE))

    def within(self, column: Any) -> ColumnElement[bool]:
        """The rows whose text or JSON ``column`` may hold the address (candidates for ``named_in``)."""
        needle = json.dumps(self.email)[1:-1]  # as JSON stores it
        return func.lower(cast(column, Text)).contains(needle, autoescape=True)

    def named_in(self, value: Any) -> bool:
        """Whether ``value`` (text, or JSON: lists and objects of them) holds the address as a whole."""
        if isinstance(value, str):
            return self.pattern.search(value) is not None
        if isinstance(value, dict):
            return any(self.named_in(v) for v in value.values())
        if isinstance(value, list):
            return any(self.named_in(v) for v in value)
        return False

    def is_(self, value: str | None) -> bool:
        return value is not None and value.strip().lower() == self.email


def scrub_mail(session: Session, address: Address, keys: list[int]) -> tuple[int, int]:
    """Messages to, copied to or answered to ``address`` lose it, with their subject, bodies and sender's name
    (their status, dates and campaign stay: the campaign figures); those still queued are cancelled.
    ``keys``: the audience keys a campaign knew the person by (account and registration ids).
    (messages scrubbed, cancelled)."""
    found = messages(session, address, keys)
    cancelled = 0
    for message in found:
        if message.status == "queued":
            message.status, message.error = "cancelled", "the recipient's data were erased"
            cancelled += 1
        message.to = [a for a in message.to if not address.is_(a)]
        message.cc = [a for a in message.cc if not address.is_(a)]
        message.reply_to = None if address.is_(message.reply_to) else message.reply_to
        forget_words(message)
        if message.error and address.named_in(message.error):
            message.error = address.pattern.sub(ERASED, message.error)
    return len(found), cancelled


def forget_words(message: MailMessage) -> None:
    """A message of the ledger keeps its status, dates and campaign (the figures); the sender's name, the subject,
    the bodies, the attachments and the headers (a List-Unsubscribe link names its recipient) go."""
    message.sender, message.subject, message.text_body, message.html_body = mail.sender(), "", "", None
    message.attachments = message.headers = None


def messages(session: Session, address: Address, keys: list[int]) -> list[MailMessage]:
    """The ledger's messages to, copied to or answered to ``address`` (``keys``: as for ``scrub_mail``)."""
    # Two queries, each served by the (campaign_id, audience_key) index: a campaign's rows are many.
    single = select(MailMessage).where(MailMessage.campaign_id.is_(None), or_(
        address.within(MailMessage.to), address.within(MailMessage.cc),
        func.lower(MailMessage.reply_to) == address.email))
    rows = list(session.scalars(single))
    if keys:
        rows += session.scalars(select(MailMessage).where(
            MailMessage.campaign_id.in_(select(Campaign.id)), MailMessage.audience_key.in_(keys)))
    return [m for m in rows if any(address.is_(a) for a in (*m.to, *m.cc, m.reply_to))]


def delete_outbox(session: Session, address: Address) -> int:
    """Delete the side effects whose payload names ``address`` (payloads hold ids: none should)."""
    rows = session.execute(select(OutboxMessage.id, OutboxMessage.payload).where(
        address.within(OutboxMessage.payload)))
    ids = [row_id for row_id, payload in rows if address.named_in(payload)]
    if ids:
        session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
    return len(ids)


def delete_sessions(session: Session, address: Address, user_id: int | None) -> int:
    """Delete the stored sessions logged in as ``user_id`` or holding ``address`` (a message shown once)."""
    markers = http_sessions.logged_in_as(user_id) if user_id is not None else ()
    return http_sessions.remove_holding(session, [address.email.encode(), *markers])


def delete_media(session: Session, user_id: int) -> int:
    """Delete the images ``user_id`` uploaded (their files go once the transaction commits)."""
    found = list(session.scalars(select(Media).where(Media.uploaded_by_id == user_id)))
    for row in found:
        media.delete(session, row)
    return len(found)


def mark_lists(session: Session, user: User, now: datetime) -> int:
    """Mark the audience lists that hold ``user`` dirty (rebuilt without them); how many."""
    if not (user.is_active and user.activated_at):
        return 0  # the lists hold active, confirmed members only
    keys = {lists.committee_key(committee_id) for committee_id in session.scalars(
        select(CommitteeMembership.committee_id).where(CommitteeMembership.user_id == user.id))}
    if user.department:
        keys.add(lists.department_key(user.department))
    lists.mark_dirty(session, keys, now)
    return len(keys)


def scrub_logs(session: Session, address: Address) -> None:
    """Remove ``address`` from the logs that may hold one as text: switches changed, staff access."""
    for switch in session.scalars(select(SiteSwitch).where(func.lower(SiteSwitch.changed_by) == address.email)):
        switch.changed_by = ERASED
    for access in session.scalars(select(DataAccess).where(address.within(DataAccess.target))):
        access.target = address.pattern.sub(ERASED, access.target)
