"""Joining: the member account is created at the sign-up workflow's last step, then activated by mail."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from engagement.accounts import tokens
from engagement.accounts.models import User
from engagement.accounts.service import find_by_email, normalize_email, seen
from engagement.mail import service as mail
from engagement.mail import suppression
from engagement.workflow import definitions
from engagement.workflow.registry import REGISTRY, ActionContext
from engagement.workflow.spec import Text

SIGNUP = "signup"  # the workflow whose `interests` field lists the topics members choose from


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
    email = normalize_email(data["email"])
    if (existing := find_by_email(context.session, email)) is not None:
        send_account_exists(context.session, existing, context.now, context.locale)
        return
    address = data.get("address") or None
    user = User(
        email=email, password_hash=data["password"], first_name=data["first_name"], last_name=data["last_name"],
        birth_date=date.fromisoformat(data["birth_date"]) if data.get("birth_date") else None,
        address=address, interests=list(data.get("interests") or []),
        has_newsletter=bool(data.get("newsletter")), created_at=context.now,
    )
    context.session.add(user)
    context.session.flush()
    context.instance.actor_id = user.id  # the answers belong to the account (found again, erased with it)
    send_activation(context.session, user, context.now, context.locale)


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


def resend_activation(session: Session, email: str, now: datetime, locale: str) -> None:
    """A new activation link when an account awaits activation at ``email`` (at most tokens.PER_ADDRESS_HOURLY
    an hour); silent otherwise."""
    user = find_by_email(session, email)
    if (user is not None and user.is_active and user.activated_at is None
            and tokens.may_issue(session, user, "activation", now)):
        send_activation(session, user, now, locale)
