"""What the invitation flow stores: the organizers' content, each invitation sent, the opt-outs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engagement.db import Base, utcnow
from engagement.workflow.models import WorkflowInstance
from engagement.workflow.registry import REGISTRY, Referrals

KINDS = ("text", "gender", "position", "project", "interest", "reason")
TEXT_KEYS = ("subject", "introduction", "conclusion")

INVITED_BY = "invited_by"  # the sign-up instance's answer naming the invitation followed (its join link)


class InvitationContent(Base):
    """One editable piece of the message: a choice (label and argument) or a fixed text."""

    __tablename__ = "invitation_content"
    __table_args__ = (UniqueConstraint("kind", "key", name="uq_invitation_content_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), comment="text, gender, position, project, interest, reason")
    key: Mapped[str] = mapped_column(String(64), comment="the answer stored; never changes once used")
    position: Mapped[int] = mapped_column(default=0, comment="display and composition order")
    label: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, comment="{locale: label}; empty for texts")
    body: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, comment="{locale: argument or text}")
    is_active: Mapped[bool] = mapped_column(default=True, comment="hidden choices stay for past answers")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Invitation(Base):
    """One message sent to a friend, with the answers that composed it."""

    __tablename__ = "invitations"
    __table_args__ = (
        Index("ix_invitations_inviter", "inviter_id", "created_at"),
        Index("ix_invitations_sender", "sender_email", "created_at"),
        Index("ix_invitations_friend", "friend_email", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inviter_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), comment="the member who sent it; None when anonymous")
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("workflow_instances.id", ondelete="SET NULL"))
    sender_first_name: Mapped[str] = mapped_column(String(50))
    sender_last_name: Mapped[str] = mapped_column(String(50))
    sender_email: Mapped[str] = mapped_column(String(254), comment="lower-cased")
    friend_first_name: Mapped[str] = mapped_column(String(50))
    friend_email: Mapped[str] = mapped_column(String(254), comment="lower-cased")
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, comment="age, gender, position, project, interests, reasons")
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    joined_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), comment="the account the friend created through the link")
    joined_at: Mapped[datetime | None]
    friend_email_hash: Mapped[str | None] = mapped_column(
        String(64), index=True, comment="keyed hash of the friend's address, kept once the address is erased")
    friend_hashed_at: Mapped[datetime | None] = mapped_column(
        comment="the friend's address and name were erased (retention), only the hash is left")


class InvitationOptOut(Base):
    """An address that asked never to receive an invitation again (only its SHA-256 is kept)."""

    __tablename__ = "invitation_opt_outs"

    email_hash: Mapped[str] = mapped_column(String(64), primary_key=True, comment="sha256 of the lower-cased address")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def referral_counts(session: Session, where: Sequence[Any]) -> dict[str, int]:
    """Invitations sent by the instances ``where`` selects and the sign-ups credited to them; a friend who
    joined counts even once erased (``joined_at`` stays). What the workflow analytics show as referrals."""
    sent, joined = session.execute(
        select(func.count(Invitation.id), func.count(Invitation.joined_at))
        .join(WorkflowInstance, WorkflowInstance.id == Invitation.instance_id).where(*where)).one()
    return {"sent": int(sent), "joined": int(joined)}


# The engine knows no invitation: it learns here which answer marks a sign-up that followed a join link, and how
# to count what an instance's invitations became. Registered with the table, so wherever it is there, so is this.
REGISTRY.referrals = Referrals(INVITED_BY, referral_counts)
