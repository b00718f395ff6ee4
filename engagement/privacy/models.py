"""Consent records and the log of staff access to personal data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engagement.db import Base, utcnow


class ConsentRecord(Base):
    """Append-only: one consent given or withdrawn, with the words shown and how it was given.

    A person's current answer for a kind is their latest row; rows of a workflow instance belong to the
    instance's account once it has one (a sign-up's consents are given before the account exists).
    """

    __tablename__ = "consent_records"
    __table_args__ = (
        Index("ix_consent_records_user", "user_id", "kind", "id"),
        Index("ix_consent_records_instance", "instance_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                                comment="whose; None: given in an anonymous instance")
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("workflow_instances.id", ondelete="CASCADE"), comment="the form it was given in")
    kind: Mapped[str] = mapped_column(String(64), comment="terms, newsletter, charter...: the field's name")
    given: Mapped[bool] = mapped_column(comment="True: given; False: withdrawn or left unticked")
    text: Mapped[str] = mapped_column(Text, comment="the words shown, in the language shown")
    document: Mapped[str | None] = mapped_column(String(255), comment="the page the words linked, if any")
    version: Mapped[str] = mapped_column(String(64), comment="sha256 of the words and of the linked page's text")
    method: Mapped[str] = mapped_column(String(100), comment="form:WORKFLOW/STATE, account, profile, unsubscribe")
    locale: Mapped[str] = mapped_column(String(8), default="fr")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsentText(Base):
    """A version of a consent's text, kept once: the words and the page they linked as they were then, so that a
    record's ``version`` can be read back after the page has changed (no personal data: erasure keeps it)."""

    __tablename__ = "consent_texts"

    version: Mapped[str] = mapped_column(String(64), primary_key=True,
                                         comment="sha256 of the words and of the linked page's text")
    text: Mapped[str] = mapped_column(Text, comment="the words shown, in the language shown")
    document: Mapped[str | None] = mapped_column(String(255), comment="the page the words linked, if any")
    document_title: Mapped[str | None] = mapped_column(String(255), comment="that page's title then")
    document_body: Mapped[str | None] = mapped_column(Text, comment="that page's text then")
    first_shown_at: Mapped[datetime] = mapped_column(default=utcnow,
                                                     comment="when a consent was first recorded with it")


class DataAccess(Base):
    """Append-only: a member of staff viewed or exported personal data (who, when, what, how many people)."""

    __tablename__ = "data_access_log"
    __table_args__ = (Index("ix_data_access_log_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                 comment="who looked; None: the command line")
    actor_role: Mapped[str] = mapped_column(String(16), comment="their role then (or operator)")
    action: Mapped[str] = mapped_column(String(32), comment="participants, explorer, audience_csv, export...")
    target: Mapped[str] = mapped_column(String(200), comment="what: event:SLUG, instance:ID, audience:SPEC...")
    subjects: Mapped[int] = mapped_column(default=0, comment="how many people's data it showed")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class DataAccessSubject(Base):
    """A member whose data one access showed (so that their own download says who saw it)."""

    __tablename__ = "data_access_subjects"
    __table_args__ = (Index("ix_data_access_subjects_user", "user_id"),)

    access_id: Mapped[int] = mapped_column(ForeignKey("data_access_log.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
