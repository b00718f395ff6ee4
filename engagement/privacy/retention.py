"""Retention: personal data is kept no longer than the policy says (engagement.config.Retention, docs/privacy.md).

``purge`` runs every day (the beat, or ``engagement privacy purge`` from cron) and works through:
- sign-ups never activated: erased (engagement.privacy.erasure), their address not put on the suppression
  list (never confirmed, it may not even be theirs);
- instances without an account, unchanged for a while: their answers removed (engagement.privacy.scrub), their
  states and log kept, so that the analysts' figures do not change;
- invited friends: their address, first name and the message naming them removed from the invitation (a keyed
  hash of the address is kept, which their own erasure request still finds), from the instance that sent it and
  from the mail ledger;
- guests who registered for an event without an account: their name, address and postal code removed once
  the event is long over (its attendance figures keep the place);
- the mail ledger: a message's recipients, subject and words removed once it is old (status and dates stay);
- members not seen (log-in, activation) for years: warned by mail, then erased once the warning is old enough
  and they did not come back. Staff accounts are never erased automatically: they are counted
  (``inactive_staff``) for an admin to review.

Each category goes by increasing id, ``BATCH`` rows a transaction, so that no lock is held long;
each selection leaves out what is done (the account is gone; ``scrubbed_at``, ``friend_hashed_at``,
``retention_warned_at`` set; a message emptied), so that a run stopped halfway and run again ends where one
run would have.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_date
from sqlalchemy import ColumnElement, String, cast, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from engagement.accounts.models import User
from engagement.config import Retention
from engagement.db import settle_deletions, transaction
from engagement.events.models import Event, EventRegistration, names_someone
from engagement.invitations.models import Invitation
from engagement.mail import service as mail
from engagement.mail.models import FINAL, MailMessage
from engagement.privacy import erasure, traces
from engagement.workflow.models import WorkflowInstance

log = logging.getLogger(__name__)

BATCH = 500  # rows a transaction
ERASURE_BATCH = 20  # accounts a transaction: each erasure searches the mail ledger and the instances for the address
STAFF = ("organizer", "analyst", "admin")
WARNING = "retention_warning"  # the mail template
INVITATION_MAIL = "invitation_friend"  # the template of the invitations' mail (workflows/invitation.yml)
# In this order: what erasures would also do comes first, so that a dry run counts each row where a real run does.
CATEGORIES = ("anonymous_instances", "invitation_friends", "invitation_mails", "event_guests", "mail_ledger",
              "unactivated", "inactive_erased", "inactive_warned", "inactive_staff")

Apply = Callable[[Session, Any], object]


@dataclass(frozen=True)
class Step:
    """One category: the rows it selects and what is done to each (None: they are only counted)."""

    name: str
    model: Any  # a mapped class with an integer ``id``
    where: tuple[ColumnElement[bool], ...]
    apply: Apply | None
    erases: bool = False  # accounts: ERASURE_BATCH a transaction


def purge(sessions: sessionmaker[Session], policy: Retention, now: datetime, *, dry_run: bool = False,
          locale: str = "fr") -> dict[str, int]:
    """Apply ``policy`` as of ``now``; how many rows of each category (CATEGORIES) were purged, or with
    ``dry_run`` would be (nothing is changed, nothing sent). ``locale``: the language of the warning mails."""
    counts = {step.name: _count(sessions, step) if dry_run or step.apply is None else _in_transactions(sessions, step)
              for step in steps(policy, now, locale)}
    if not dry_run and any(counts[name] for name in CATEGORIES if name != "inactive_staff"):
        settle_deletions(sessions.kw["bind"])
    return counts


def steps(policy: Retention, now: datetime, locale: str = "fr") -> list[Step]:
    """The categories, in the order they are applied."""
    def before(days: int) -> datetime:
        return now - timedelta(days=days)

    last, member = last_seen(), (User.role == "member", User.activated_at.is_not(None))
    return [
        Step("anonymous_instances", WorkflowInstance,
             (WorkflowInstance.actor_id.is_(None), WorkflowInstance.scrubbed_at.is_(None),
              WorkflowInstance.updated_at < before(policy.anonymous_days)),
             lambda session, instance: erasure.scrub_instance(session, instance, now)),
        Step("invitation_friends", Invitation, (Invitation.friend_hashed_at.is_(None),
                                                Invitation.created_at < before(policy.invitation_friend_days)),
             lambda session, invitation: forget_friend(session, invitation, now)),
        Step("invitation_mails", MailMessage,
             (MailMessage.template == INVITATION_MAIL, MailMessage.campaign_id.is_(None), MailMessage.text_body != "",
              MailMessage.status.in_(FINAL), MailMessage.created_at < before(policy.invitation_friend_days)),
             forget_mail),
        Step("event_guests", EventRegistration,
             (EventRegistration.user_id.is_(None), names_someone(),
              EventRegistration.event_id.in_(select(Event.id).where(Event.ends_at < before(policy.event_guest_days)))),
             lambda _session, registration: erasure.pseudonymise_registration(registration)),
        Step("mail_ledger", MailMessage,
             (MailMessage.status.in_(FINAL), MailMessage.created_at < before(policy.mail_days),
              or_(cast(MailMessage.to, String) != "[]", MailMessage.subject != "", MailMessage.text_body != "")),
             forget_mail),
        Step("unactivated", User, (User.activated_at.is_(None), User.created_at < before(policy.unactivated_days)),
             lambda session, user: erasure.erase_user(session, user, now, forget_address=False), erases=True),
        Step("inactive_erased", User,
             (*member, User.retention_warned_at.is_not(None), User.retention_warned_at <= before(policy.warning_days),
              last < before(policy.inactive_member_days)),
             lambda session, user: erasure.erase_user(session, user, now, forget_address=True), erases=True),
        Step("inactive_warned", User,
             (*member, User.retention_warned_at.is_(None),
              last < before(policy.inactive_member_days - policy.warning_days)),
             lambda session, user: warn(session, user, now, policy, locale)),
        Step("inactive_staff", User, (User.role.in_(STAFF), last < before(policy.inactive_member_days)), None),
    ]


def last_seen() -> ColumnElement[datetime]:
    """When an account was last seen: its last log-in or activation (else its sign-up)."""
    return func.coalesce(User.last_seen_at, User.activated_at, User.created_at)


def _count(sessions: sessionmaker[Session], step: Step) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(step.model).where(*step.where)) or 0)


def _in_transactions(sessions: sessionmaker[Session], step: Step) -> int:
    """Apply ``step`` to its rows, ``BATCH`` (or ``ERASURE_BATCH``) rows a transaction; how many rows."""
    assert step.apply is not None
    done, after, size = 0, 0, ERASURE_BATCH if step.erases else BATCH
    while True:
        with transaction(sessions) as session:
            rows = list(session.scalars(
                select(step.model).where(*step.where, step.model.id > after).order_by(step.model.id)
                .limit(size).with_for_update(skip_locked=True)))  # rows another run holds are its own
            after = rows[-1].id if rows else after
            for row in rows:
                step.apply(session, row)
        done += len(rows)
        if len(rows) < size:
            log.info("retention: %s: %d", step.name, done)
            return done


def forget_friend(session: Session, invitation: Invitation, now: datetime) -> None:
    """Keep of an invited friend only a keyed hash of their address: their address, first name and the message
    naming them leave the invitation and the instance that sent it (the inviter still sees when they invited
    and whether the friend joined)."""
    erasure.forget_friend_address(invitation, now)
    if invitation.inviter_id is None:  # an anonymous sender: their name and address had no other purpose
        invitation.sender_first_name = invitation.sender_last_name = invitation.sender_email = ""
    sender = session.get(WorkflowInstance, invitation.instance_id) if invitation.instance_id else None
    if sender is not None and sender.scrubbed_at is None:
        erasure.scrub_instance(session, sender, now)


def forget_mail(session: Session, message: MailMessage) -> None:
    """A message keeps its status and dates (the delivery ledger: a campaign's figures); its recipients (the
    friend, the inviter's copy in cc), the words and the sender's name go."""
    message.to, message.cc, message.reply_to = [], [], None
    traces.forget_words(message)


def warn(session: Session, member: User, now: datetime, policy: Retention, locale: str) -> None:
    """Mail ``member`` that their account is erased on a date unless they log in before; record it."""
    seen = member.last_seen_at or member.activated_at or member.created_at
    erase_on = max(now + timedelta(days=policy.warning_days), seen + timedelta(days=policy.inactive_member_days))
    context = {"user": member, "erase_on": format_date(erase_on, "long", locale=locale),
               "last_seen": format_date(seen, "long", locale=locale),
               "login_link": mail.absolute("/login"), "reset_link": mail.absolute("/password/reset")}
    warning = mail.compose(session, template=WARNING, to=[member.email], context=context, locale=locale)
    if warning is None:
        log.warning("retention: account %d has no address a warning can go to", member.id)
    else:
        warning.created_at = now  # the purge's time (the mail ledger's own retention counts from it)
    member.retention_warned_at = now
