"""Campaigns, and the audience lists (each committee's and department's members, serialized in the background)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from engagement.db import Base, utcnow


class Campaign(Base):
    """One organizer's message to an audience; its recipients are MailMessage rows (``campaign_id``).

    Those rows keep no copy of the text: it is read from here when a message leaves (with the
    recipient's own unsubscribe link), so 45,000 recipients cost 45,000 small rows. Organizers write
    a ``draft`` first; only its confirmation makes it ``queued`` (or ``scheduled`` for ``scheduled_at``).
    """

    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_status_scheduled", "status", "scheduled_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    audience: Mapped[str] = mapped_column(String(100), comment="all, committee:SLUG, department:CODE, event:SLUG")
    audience_label: Mapped[str] = mapped_column(String(200), default="", comment="its name when it was sent")
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, comment="plain text, sent as written")
    sender_name: Mapped[str | None] = mapped_column(String(100), comment="shown before the platform's address")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="queued",
                                        comment="draft, scheduled, queued, sending, done or cancelled")
    recipients: Mapped[int] = mapped_column(
        default=0, comment="audience size: counted by the expansion (counted_at), the rows written once expanded")
    counted_at: Mapped[datetime | None] = mapped_column(
        comment="when the expansion counted the audience; None: not counted yet (the request never counts)")
    expanded: Mapped[int] = mapped_column(default=0, server_default="0", comment="recipient rows written so far")
    cursor: Mapped[int] = mapped_column(default=0, server_default="0",
                                        comment="audience key of the last recipient written (resume point)")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expanded_at: Mapped[datetime | None] = mapped_column(comment="every recipient row written")
    finished_at: Mapped[datetime | None] = mapped_column(comment="every message final")
    scheduled_at: Mapped[datetime | None] = mapped_column(comment="start sending at this time (a scheduled campaign)")
    tested_at: Mapped[datetime | None] = mapped_column(comment="its author's last test send")
    tests: Mapped[int] = mapped_column(default=0, server_default="0", comment="test sends to its author")


class AudienceList(Base):
    """The JSON list of one audience's members (gzip), rebuilt when ``dirty_at`` passes ``built_at``."""

    __tablename__ = "audience_lists"

    key: Mapped[str] = mapped_column(String(120), primary_key=True, comment="committee:ID or department:CODE")
    count: Mapped[int] = mapped_column(default=0)
    etag: Mapped[str | None] = mapped_column(String(64), comment="SHA-256 of the JSON")
    body: Mapped[bytes | None] = mapped_column(
        LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb"), comment="gzip of the JSON list")
    dirty_at: Mapped[datetime | None] = mapped_column(comment="a membership changed at this time")
    built_at: Mapped[datetime | None] = mapped_column(comment="the build started at this time")
