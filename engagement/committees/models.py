"""Committees and who belongs to them (hosts run a committee; followers hear from it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engagement.db import Base, utcnow
from engagement.media.models import Media

STATUSES = ("pending", "approved", "refused")
ROLES = ("host", "follower")


class Committee(Base):
    __tablename__ = "committees"
    __table_args__ = (Index("ix_committees_status_department", "status", "department"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[dict[str, Any]] = mapped_column(JSON, comment="street, postal_code, city, city_name, country")
    postal_code: Mapped[str] = mapped_column(String(16), index=True, comment="copied from address for filters")
    department: Mapped[str | None] = mapped_column(String(3), comment="French department, from the commune")
    status: Mapped[str] = mapped_column(String(16), default="pending", comment="pending, approved, refused")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(comment="when an organizer approved or refused it")
    cover_media_id: Mapped[int | None] = mapped_column(ForeignKey("media.id", ondelete="SET NULL"))
    cover: Mapped[Media | None] = relationship(lazy="joined")


class CommitteeMembership(Base):
    __tablename__ = "committee_memberships"
    __table_args__ = (
        UniqueConstraint("committee_id", "user_id", name="uq_committee_memberships_member"),
        Index("ix_committee_memberships_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16), default="follower", comment="host or follower")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
