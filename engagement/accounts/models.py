"""The account table; sign-up, activation and profiles build on it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, validates

from engagement.db import Base, utcnow
from engagement.geo.communes import department_of
from engagement.signing import login_id
from engagement.workflow.registry import REGISTRY

ROLES = ("member", "organizer", "analyst", "treasurer", "admin")  # treasurer: the donations (web/treasurer)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, comment="stored lower-cased")
    password_hash: Mapped[str | None] = mapped_column(String(255), comment="argon2id")
    first_name: Mapped[str] = mapped_column(String(50), default="", server_default="")
    last_name: Mapped[str] = mapped_column(String(50), default="", server_default="")
    role: Mapped[str] = mapped_column(String(16), default="member", server_default="member", index=True)
    is_active: Mapped[bool] = mapped_column(default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(comment="email confirmed; None: cannot log in yet")
    birth_date: Mapped[date | None] = mapped_column(Date)
    address: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, comment="street, postal_code, city (INSEE), city_name, country (ISO alpha-2)")
    department: Mapped[str | None] = mapped_column(String(3), index=True,
                                                   comment="French department of the address (audiences)")
    interests: Mapped[list[str]] = mapped_column(JSON, default=list)
    has_newsletter: Mapped[bool] = mapped_column(default=False, server_default="0")
    can_see_personal_data: Mapped[bool] = mapped_column(
        default=False, server_default="0",
        comment="an analyst may see names, emails and answers (admins always may); granted by an admin")
    last_seen_at: Mapped[datetime | None] = mapped_column(
        comment="last login or activation: members inactive for years are warned, then erased")
    retention_warned_at: Mapped[datetime | None] = mapped_column(
        comment="told their inactive account will be erased (cleared when they come back)")

    @property
    def sees_personal_data(self) -> bool:
        """Whether the analysts' pages may show this user names, emails and answer values."""
        return self.role == "admin" or (self.role == "analyst" and self.can_see_personal_data)

    @validates("address")
    def _locate(self, _key: str, address: dict[str, Any] | None) -> dict[str, Any] | None:
        self.department = department_of(address)  # kept with the address it comes from
        return address

    # The user protocol session libraries expect (kept framework-free).
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    def get_id(self) -> str:
        """The id a session stores: stamped with the account's creation (engagement.signing.login_id)."""
        return login_id(self.id, self.created_at)


class RoleChange(Base):
    """Append-only log of role and personal-data grants: who changed whom, from what to what, when."""

    __tablename__ = "role_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True,
                                                comment="whose role changed (None once the account is deleted)")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                 comment="the admin who changed it; None: the command line")
    from_role: Mapped[str] = mapped_column(String(16))
    to_role: Mapped[str] = mapped_column(String(16))
    from_personal_data: Mapped[bool] = mapped_column(comment="can_see_personal_data before")
    to_personal_data: Mapped[bool] = mapped_column(comment="can_see_personal_data after")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class OrganizerScope(Base):
    """What an organizer may manage: ``national``, ``department:CODE`` (a referent) or ``committee:SLUG``."""

    __tablename__ = "organizer_scopes"
    __table_args__ = (UniqueConstraint("user_id", "scope", name="uq_organizer_scopes_user_scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(100), comment="national, department:CODE or committee:SLUG")
    kind: Mapped[str] = mapped_column(String(16), comment="national, department or committee")
    department: Mapped[str | None] = mapped_column(String(3), comment="a department scope's code")
    committee_id: Mapped[int | None] = mapped_column(ForeignKey("committees.id", ondelete="CASCADE"),
                                                     index=True, comment="a committee scope's committee")
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                      comment="None: the command line or a migration")
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScopeChange(Base):
    """Append-only log of organizer scopes granted and revoked: whose, which, by whom, when."""

    __tablename__ = "scope_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True,
                                                comment="whose scope changed (None once the account is deleted)")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                 comment="the admin who changed it; None: the command line")
    action: Mapped[str] = mapped_column(String(8), comment="grant or revoke")
    scope: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(default=utcnow)


ALERTED_ROLES = ("organizer", "admin")


def alert_recipients(session: Session) -> list[str]:
    """Who the workflow engine's alerts (instances stuck past their sla) go to: active organizers and admins."""
    return list(session.scalars(select(User.email).where(User.role.in_(ALERTED_ROLES), User.is_active.is_(True))
                                .order_by(User.id)))


REGISTRY.alert_recipients = alert_recipients  # registered with the table: the engine knows no account
