"""Events and registrations. Seats are counted on the event row, which registering locks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engagement.db import Base, utcnow
from engagement.media.models import Media

CATEGORIES = ("meeting", "canvassing", "debate", "training", "conference", "convivial", "online")
STATUSES = ("scheduled", "cancelled")
REGISTRATION_STATUSES = ("registered", "waitlisted", "cancelled")
MAX_DURATION_DAYS = 3
# An erased person's registration keeps its place in the figures under the address <its id>@erased.invalid
# (engagement.privacy.erasure): unique per event as addresses are, and never delivered (RFC 2606).
ERASED_DOMAIN = "erased.invalid"


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_upcoming", "status", "ends_at"),
        Index("ix_events_department", "department", "begins_at"),
        Index("ix_events_committee", "committee_id", "begins_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    begins_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris", comment="IANA zone it is shown in")
    address: Mapped[dict[str, Any] | None] = mapped_column(JSON, comment="None for an online event")
    postal_code: Mapped[str | None] = mapped_column(String(16), index=True)
    department: Mapped[str | None] = mapped_column(String(3))
    online_url: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int | None] = mapped_column(comment="None: unlimited")
    seats_taken: Mapped[int] = mapped_column(default=0, server_default="0",
                                             comment="registered count, changed only while the row is locked")
    category: Mapped[str] = mapped_column(String(32))
    organizer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    committee_id: Mapped[int | None] = mapped_column(ForeignKey("committees.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="scheduled", comment="scheduled or cancelled")
    sequence: Mapped[int] = mapped_column(default=0, server_default="0", comment="iCalendar SEQUENCE: +1 a change")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]
    cover_media_id: Mapped[int | None] = mapped_column(ForeignKey("media.id", ondelete="SET NULL"))
    cover: Mapped[Media | None] = relationship(lazy="joined")

    @property
    def is_full(self) -> bool:
        return self.capacity is not None and self.seats_taken >= self.capacity

    @property
    def seats_left(self) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - self.seats_taken)


class EventRegistration(Base):
    """One person's place at an event: registered, waitlisted (in order) or cancelled."""

    __tablename__ = "event_registrations"
    __table_args__ = (
        UniqueConstraint("event_id", "email", name="uq_event_registrations_email"),
        Index("ix_event_registrations_waitlist", "event_id", "status", "waitlisted_at", "id"),
        Index("ix_event_registrations_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254), comment="lower-cased")
    first_name: Mapped[str] = mapped_column(String(50))
    last_name: Mapped[str] = mapped_column(String(50))
    postal_code: Mapped[str] = mapped_column(String(16), default="")
    status: Mapped[str] = mapped_column(String(16), comment="registered, waitlisted or cancelled")
    locale: Mapped[str] = mapped_column(String(8), default="fr")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    waitlisted_at: Mapped[datetime | None] = mapped_column(comment="order of the waitlist")
    promoted_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None] = mapped_column(comment="the 24-hour reminder went out")


def names_someone() -> ColumnElement[bool]:
    """The places that still name a person: not pseudonymised (``<id>@erased.invalid``) by an erasure or by
    retention, which keep the place for the event's figures."""
    return EventRegistration.email.not_like(f"%@{ERASED_DOMAIN}")


def is_open(event: Event, now: datetime) -> bool:
    """Registration is open while the event is scheduled and not over."""
    return event.status == "scheduled" and event.ends_at > now
