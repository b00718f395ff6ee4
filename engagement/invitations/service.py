"""The actions the invitation workflow names, the abuse rules, opt-outs and the inviter's figures.

Abuse rules (the form sends text of the user's choosing to any address):
- one sender (an account, or an address when anonymous) sends at most SENDER_LIMIT an hour;
- the same sender may not invite the same friend twice within REPEAT_WINDOW;
- one address receives at most RECIPIENT_LIMIT invitations a day, whoever sends them;
- an address that used the opt-out link is never written to again (neither as friend nor in copy).
The workflow's ``rate_limit`` adds a limit per client (IP address) in the web layer.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from engagement.accounts.models import User
from engagement.accounts.service import normalize_email
from engagement.invitations import content, links
from engagement.invitations.compose import compose
from engagement.invitations.models import INVITED_BY, Invitation, InvitationOptOut
from engagement.mail import service as mail
from engagement.mail import suppression
from engagement.privacy import notices
from engagement.workflow.errors import WorkflowError
from engagement.workflow.registry import REGISTRY, ActionContext

SENDER_LIMIT = 10  # invitations an hour per sender
REPEAT_WINDOW = timedelta(days=7)
RECIPIENT_LIMIT = 3  # invitations a day to one address, all senders together
ANSWER_KEYS = ("friend_age", "friend_gender", "friend_position", "friend_project", "friend_interests",
               "self_reasons")


@REGISTRY.action("invitation.compose_message", provides=("message_subject", "message_body"))
def compose_message(context: ActionContext) -> None:
    """Fill the editable subject and body; a supporter's edits survive Back and forth unchanged answers."""
    data = context.data
    inputs = _fingerprint(data, context.locale)
    if data.get("message_inputs") == inputs and data.get("message_body"):
        return
    message = compose(content.catalog(context.session), data, context.locale)
    data.update(message_subject=message.subject, message_body=message.body, message_inputs=inputs)


def _fingerprint(data: dict[str, Any], locale: str) -> str:
    parts = [locale, str(data.get("friend_first_name")), *(repr(data.get(k)) for k in ANSWER_KEYS)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


@REGISTRY.action("invitation.save", provides=("invitation_id", "join_link", "optout_link", "privacy_link",
                                              "friend_kept_days"))
def save(context: ActionContext) -> None:
    """Check the abuse rules, record the invitation and put in the answers what the mail needs: its links and
    how long the friend's address is kept (the mail tells them, GDPR art. 14)."""
    data, session = context.data, context.session
    friend, sender = normalize_email(data["friend_email"]), normalize_email(data["self_email"])
    inviter_id = getattr(context.actor, "id", None)
    check_allowed(session, friend=friend, sender=sender, inviter_id=inviter_id, now=context.now)
    data.update(friend_email=friend, self_email=sender,  # mailed as stored: lower-cased
                message_body=str(data["message_body"]).replace("\r\n", "\n"))  # browsers post CRLF
    invitation = Invitation(
        inviter_id=inviter_id, instance_id=context.instance.id,
        sender_first_name=data["self_first_name"], sender_last_name=data["self_last_name"], sender_email=sender,
        friend_first_name=data["friend_first_name"], friend_email=friend,
        answers={key: data.get(key) for key in ANSWER_KEYS},
        subject=data["message_subject"], body=data["message_body"], locale=context.locale, created_at=context.now,
    )
    session.add(invitation)
    session.flush()
    data.update(invitation_id=invitation.id, join_link=links.join_link(invitation.id),
                optout_link=links.optout_link(friend), privacy_link=mail.absolute(notices.PRIVACY_PAGE),
                friend_kept_days=notices.policy().invitation_friend_days)


def check_allowed(session: Session, *, friend: str, sender: str, inviter_id: int | None, now: datetime) -> None:
    """Refuse (WorkflowError naming the friend's address) what the abuse rules forbid."""
    if friend == sender:
        raise WorkflowError("invitation_self", "you cannot invite yourself", field="friend_email")
    for address, field in ((friend, "friend_email"), (sender, "self_email")):  # the copy goes to the sender
        if is_opted_out(session, address):
            raise WorkflowError("invitation_opted_out", "this address asked not to receive invitations", field=field)
    mine = or_(Invitation.sender_email == sender,
               *([Invitation.inviter_id == inviter_id] if inviter_id is not None else []))
    if _count(session, mine, Invitation.friend_email == friend, since=now - REPEAT_WINDOW):
        raise WorkflowError("invitation_repeated", "you already invited this person in the last 7 days",
                            field="friend_email")
    if _count(session, Invitation.friend_email == friend, since=now - timedelta(days=1)) >= RECIPIENT_LIMIT:
        raise WorkflowError("invitation_recipient_limit", "this person was invited often today", field="friend_email")
    if _count(session, mine, since=now - timedelta(hours=1)) >= SENDER_LIMIT:
        raise WorkflowError("invitation_sender_limit", "too many invitations sent in the last hour",
                            retry_after=3600)


def _count(session: Session, *where: Any, since: datetime) -> int:
    query = select(func.count()).select_from(Invitation).where(*where, Invitation.created_at > since)
    return int(session.scalar(query) or 0)


def is_opted_out(session: Session, email: str) -> bool:
    """Whether ``email`` used the opt-out link, or is a person's who had their data erased (GDPR art. 17)."""
    return session.get(InvitationOptOut, links.email_hash(email)) is not None or suppression.forgotten(session, email)


def opt_out(session: Session, token: str, now: datetime) -> bool:
    """Record the opt-out a link names (idempotent); False for a tampered link."""
    digest = links.read_optout(token)
    if digest is None:
        return False
    if session.get(InvitationOptOut, digest) is None:
        session.add(InvitationOptOut(email_hash=digest, created_at=now))
    return True


def followed(session: Session, token: str) -> Invitation | None:
    """The invitation a join link names, when the link is genuine and recent and the invitation kept."""
    invitation_id = links.read_join(token)
    return session.get(Invitation, invitation_id) if invitation_id is not None else None


@REGISTRY.action("invitation.attribute")
def attribute(context: ActionContext) -> None:
    """After sign-up: credit the invitation the friend followed (once; never the inviter themself)."""
    invitation_id, user_id = context.data.get(INVITED_BY), context.instance.actor_id
    if not isinstance(invitation_id, int) or user_id is None:
        return
    invitation = context.session.get(Invitation, invitation_id, with_for_update=True)
    user = context.session.get(User, user_id)
    if invitation is None or user is None or invitation.joined_user_id is not None:
        return
    if invitation.inviter_id == user_id or invitation.sender_email == user.email:
        return
    invitation.joined_user_id, invitation.joined_at = user_id, context.now


def inviter_figures(session: Session, user_id: int) -> tuple[int, int]:
    """(invited, joined) for a member's page (a friend who joined and was erased since still counts)."""
    row = session.execute(select(func.count(), func.count(Invitation.joined_at))
                          .where(Invitation.inviter_id == user_id)).one()
    return int(row[0]), int(row[1])


class Sent(NamedTuple):
    """One invitation as its sender's page lists it."""

    friend_first_name: str
    created_at: datetime
    joined_at: datetime | None
    friend_hashed_at: datetime | None  # the friend's address erased: their name is not shown


SENT_SHOWN = 50
# Each row also carries the sender's figures, counted once by subqueries (a window function would read and sort
# every invitation before the limit; with them the limit walks ix_invitations_inviter: 58 -> 20 µs at 50).
_THEIRS = Invitation.inviter_id == bindparam("user_id")
_SENT = (select(Invitation.friend_first_name, Invitation.created_at, Invitation.joined_at, Invitation.friend_hashed_at,
                select(func.count()).where(_THEIRS).correlate(None).scalar_subquery(),
                select(func.count(Invitation.joined_at)).where(_THEIRS).correlate(None).scalar_subquery())
         .where(_THEIRS).order_by(Invitation.created_at.desc(), Invitation.id.desc()).limit(bindparam("limit")))


def sent_by(session: Session, user_id: int, limit: int = SENT_SHOWN) -> tuple[list[Sent], int, int]:
    """A member's last ``limit`` invitations, the latest first (to whom, when, whether the friend joined), and
    their figures (`inviter_figures`, counted over all of them), in one query."""
    # On the connection: plain rows, without the ORM's setup of each statement (a read: nothing to flush first)
    rows = session.connection().execute(_SENT, {"user_id": user_id, "limit": limit}).all()
    invited, joined = (int(rows[0][4]), int(rows[0][5])) if rows else (0, 0)
    return [Sent(*row[:4]) for row in rows], invited, joined
