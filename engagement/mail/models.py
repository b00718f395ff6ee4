"""One row per outbound message: the stored outbox mailbox and the delivery ledger."""

from __future__ import annotations

import base64
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engagement.db import Base, utcnow

# sending: claimed, perhaps at the provider; cancelled: its campaign was stopped before it left
STATUSES = ("queued", "sending", "sent", "failed", "suppressed", "cancelled")
FINAL = ("sent", "failed", "suppressed", "cancelled")
STREAMS = ("transactional", "campaign")
REASONS = ("unsubscribed", "bounced", "complained", "erased")  # erased: the person had their data erased


class MailMessage(Base):
    __tablename__ = "mail_messages"
    __table_args__ = (
        UniqueConstraint("campaign_id", "audience_key", name="uq_mail_messages_campaign_recipient"),
        Index("ix_mail_messages_campaign_status", "campaign_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sender: Mapped[str] = mapped_column(String(320))
    to: Mapped[list[str]] = mapped_column(JSON)
    cc: Mapped[list[str]] = mapped_column(JSON, default=list)
    reply_to: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(998))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[dict[str, str]] | None] = mapped_column(
        JSON, comment="[{filename, content_type, content}] (text content, e.g. an .ics)")
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON, comment="extra headers: List-Unsubscribe")
    template: Mapped[str | None] = mapped_column(String(64), comment="template name, or None for inline mails")
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    backend: Mapped[str | None] = mapped_column(String(16), comment="what delivered it: outbox, mailjet")
    provider_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    stream: Mapped[str] = mapped_column(String(16), default="transactional", server_default="transactional",
                                        comment="transactional or campaign (what a suppression blocks)")
    provider_event: Mapped[str | None] = mapped_column(String(16), comment="last event the provider reported")
    provider_event_at: Mapped[datetime | None]
    sending_at: Mapped[datetime | None] = mapped_column(comment="when a worker claimed it for the provider")
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    audience_key: Mapped[int | None] = mapped_column(
        comment="the recipient's key in the campaign's audience (member or registration id): one message each")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0", comment="calls to the provider")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class MailSuppression(Base):
    """An address never written to again: unsubscribed (campaigns only), bounced or complained (all mail),
    erased (campaigns and invitations: what the person did not ask for).

    Only a hash of the lower-cased address is kept: SHA-256, or for an erased person a keyed HMAC
    (engagement.privacy.hashing), so that the list cannot be read back with a list of likely addresses.
    """

    __tablename__ = "mail_suppressions"

    email_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(16), comment="unsubscribed, bounced or complained")
    source: Mapped[str] = mapped_column(String(32), comment="mailjet, link, operator")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def attachment_content(item: dict[str, str]) -> bytes:
    """An attachment's bytes: ``content`` is text (an .ics), ``content_base64`` binary (a PDF receipt)."""
    if "content_base64" in item:
        return base64.b64decode(item["content_base64"])
    return item["content"].encode()
