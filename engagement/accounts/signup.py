"""Joining: the member account is created at the sign-up workflow's last step, then activated by mail.

Whether the address already had an account must not show, not even in how long the answer takes: the request
queues one outbox row either way (`owe`, `ask_activation`), and detached handlers compose the mail, or decide
there is none to send, after the answer has left (docs/security.md "Password reset timing").
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from engagement import outbox
from engagement.accounts import passwords, tokens
from engagement.accounts.models import User
from engagement.accounts.service import AccountError, account_address, find_by_email, seen
from engagement.db import utcnow
from engagement.mail import service as mail
from engagement.mail import suppression
from engagement.workflow import definitions
from engagement.workflow.errors import WorkflowError
from engagement.workflow.registry import REGISTRY, ActionContext
from engagement.workflow.spec import Text

SIGNUP = "signup"  # the workflow whose `interests` field lists the topics members choose from
OWED = "accounts.signup_mail"  # the mail a sign-up owes an account: its activation, or "you already have one"
ACTIVATION_ASKED = "accounts.activation_asked"  # another activation link asked for an address


def topics(session: Session) -> list[tuple[str, Text]]:
    """The topics of the active sign-up workflow: organizers change them by publishing a new version."""
    flow = definitions.active(session, SIGNUP)
    field = flow.spec.fields.get("interests") if flow else None
    return list(field.choices or ()) if field else []


@REGISTRY.action("accounts.create_member")
def create_member(context: ActionContext) -> None:
    """Create the (not yet activated) account from the answers and mail its activation link.

    An address that already has an account gets a notice instead (how to log in or reset the password),
    and the visitor sees the same page either way: nobody learns from sign-up who is a member."""
    data = context.data
    try:
        email = account_address(data["email"])  # the form's email field holds it to the same rule already
    except AccountError as exc:
        raise WorkflowError("invalid_recipient", str(exc), field="email") from None
    if (existing := find_by_email(context.session, email)) is not None:
        owe(context.session, "account_exists", existing, context.locale)
        return
    address = data.get("address") or None
    password_hash = passwords.stored(data["password"])  # the answers only ever hold its hash (forms.step)
    user = User(
        email=email, password_hash=password_hash, first_name=data["first_name"], last_name=data["last_name"],
        birth_date=date.fromisoformat(data["birth_date"]) if data.get("birth_date") else None,
        address=address, interests=list(data.get("interests") or []),
        has_newsletter=bool(data.get("newsletter")), created_at=context.now,
    )
    context.session.add(user)
    context.session.flush()
    context.instance.actor_id = user.id  # the answers belong to the account (found again, erased with it)
    owe(context.session, "activation", user, context.locale)


def owe(session: Session, mail_kind: str, user: User, locale: str) -> None:
    """Queue the sign-up's mail to ``user`` (``activation`` or ``account_exists``): one row either way."""
    outbox.enqueue(session, OWED, {"kind": mail_kind, "user_id": user.id, "locale": locale})


@outbox.handler(OWED, detached=True)
def send_owed(session: Session, payload: dict[str, Any]) -> None:
    user = session.get(User, payload["user_id"])
    if user is None:
        return  # erased meanwhile
    if payload["kind"] == "account_exists":
        send_account_exists(session, user, utcnow(), payload["locale"])
    elif user.activated_at is None:
        send_activation(session, user, utcnow(), payload["locale"])


def send_activation(session: Session, user: User, now: datetime, locale: str) -> None:
    token = tokens.issue(session, user, "activation", now)
    mail.compose(session, template="account_activation", to=[user.email], locale=locale,
                 context={"user": user, "link": mail.absolute(f"/account/activate/{token}"),
                          "valid_hours": int(tokens.PURPOSES["activation"].total_seconds() // 3600)})


def send_account_exists(session: Session, user: User, now: datetime, locale: str) -> None:
    """The notice to an address that already has an account, with a password reset link of its own (so that
    notices count against the same hourly cap per address as reset links: sign-up cannot flood a member)."""
    if not tokens.may_issue(session, user, "reset", now):
        return
    token = tokens.issue(session, user, "reset", now)
    mail.compose(session, template="account_exists", to=[user.email], locale=locale,
                 context={"user": user, "login_link": mail.absolute("/login"),
                          "reset_link": mail.absolute(f"/password/reset/{token}"),
                          "valid_hours": int(tokens.PURPOSES["reset"].total_seconds() // 3600)})


def activate(session: Session, token: str, now: datetime) -> User | None:
    """The account whose activation link this is, activated; None for a used, expired or unknown link."""
    user = tokens.consume(session, token, "activation", now)
    if user is not None and user.activated_at is None:
        user.activated_at = now
        suppression.welcome_back(session, user.email)  # erased once, back by their own choice
        if user.has_newsletter:  # ticked at sign-up, the address now proven theirs: it lifts an old unsubscribe
            suppression.resubscribe(session, user.email)
    if user is not None:
        seen(user, now)
    return user


def ask_activation(session: Session, email: str, locale: str) -> None:
    """Record that an activation link was asked for ``email``, looking nothing up (`send_asked` does, later)."""
    outbox.enqueue(session, ACTIVATION_ASKED, {"email": email, "locale": locale})


@outbox.handler(ACTIVATION_ASKED, detached=True, forget=True)
def send_asked(session: Session, payload: dict[str, Any]) -> None:
    resend_activation(session, payload["email"], utcnow(), payload["locale"])


def resend_activation(session: Session, email: str, now: datetime, locale: str) -> None:
    """A new activation link when an account awaits activation at ``email`` (at most tokens.PER_ADDRESS_HOURLY
    an hour); silent otherwise."""
    user = find_by_email(session, email)
    if (user is not None and user.is_active and user.activated_at is None
            and tokens.may_issue(session, user, "activation", now)):
        send_activation(session, user, now, locale)
