"""Erasure (GDPR art. 17): a person removed everywhere, or pseudonymised where the figures count them.

``erase_user`` erases an account and every trace of its address; ``erase_email`` an address, with or
without an account (an event registration, an invitation received or a form left half-way hold one).
In order:

1. their places at upcoming events are given up: the waitlist moves up and is told;
2. their event registrations lose names, postal code and account; the address becomes
   ``<id>@erased.invalid`` (unique per event, never delivered): past events keep their attendance;
3. invitations they sent keep their row (the inviter and conversion figures) without the sender's names,
   address and message, the friend's address kept only as its keyed hash; invitations sent to them lose
   their address (its keyed hash kept), their first name and the message naming them;
4. their workflow instances, the instances of those invitations and the anonymous instances whose
   answers hold their address are scrubbed (engagement.privacy.scrub) and no longer linked to them:
   states, dates and the log stay, so the analysts' counts, funnels and durations do not change;
5. the mail ledger, the outbox, stored sessions, uploaded media, audience lists, logs (traces);
6. the account with its tokens, scopes, memberships and consent records; the logs of role and scope
   changes and of staff access keep their rows, without them (foreign keys SET NULL);
7. with ``forget_address``, the address is kept only as a keyed hash on the suppression list
   (engagement.mail.suppression.forget): no campaign and no invitation reaches it again.

Committees and events they created stay, without their creator. The search index holds none of this:
its records are the public committees, events and pages (engagement.search.records).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from engagement.accounts.models import OrganizerScope, User
from engagement.accounts.service import find_by_email, normalize_email
from engagement.accounts.tokens import AccountToken
from engagement.committees.models import CommitteeMembership
from engagement.events.models import ERASED_DOMAIN, EventRegistration
from engagement.events.registration import release_member
from engagement.invitations import links
from engagement.invitations.models import Invitation, InvitationOptOut
from engagement.mail import suppression
from engagement.privacy import traces
from engagement.privacy.hashing import keyed
from engagement.privacy.models import ConsentRecord, DataAccessSubject
from engagement.privacy.scrub import scrub_instance as scrub_instance  # retention scrubs the same way
from engagement.privacy.traces import Address
from engagement.workflow.models import WorkflowInstance


@dataclass
class Erased:
    """What one erasure did, counted (the confirmation page and ``engagement privacy erase`` show it)."""

    account: int = 0
    places_released: int = 0  # upcoming places given up (the waitlist moved up)
    registrations: int = 0  # event registrations pseudonymised
    invitations_sent: int = 0
    invitations_received: int = 0
    instances: int = 0  # their workflow instances, scrubbed and unlinked
    mentions: int = 0  # other people's instances that named them (an invitation to them), scrubbed
    consents: int = 0
    mails: int = 0  # mail ledger rows scrubbed
    mails_cancelled: int = 0
    outbox: int = 0
    sessions: int = 0
    media: int = 0
    audience_lists: int = 0  # lists marked for a rebuild without them
    address_forgotten: bool = False  # only a keyed hash of the address is left, on the suppression list

    @property
    def found(self) -> bool:
        """Whether anything was held about the person (nothing: an unknown or already erased address)."""
        return any(value for name, value in asdict(self).items() if name != "address_forgotten")

    def as_dict(self) -> dict[str, int | bool]:
        return asdict(self)


def erase_user(session: Session, user: User, now: datetime, *, forget_address: bool = True) -> Erased:
    """Erase ``user`` and every trace of their address (see the module's docstring).

    ``forget_address=False`` leaves no hash on the suppression list: for a sign-up never confirmed, whose
    address may not even be theirs (engagement.privacy.retention).
    """
    erased, address = Erased(account=1), Address(normalize_email(user.email))
    erased.audience_lists = traces.mark_lists(session, user, now)
    mine = _erase_traces(session, erased, address, now, user.id)
    erased.media = traces.delete_media(session, user.id)
    erased.consents = _delete_account_rows(session, user.id, mine)
    session.flush()  # registrations and invitations unlinked first: their foreign keys to it cascade
    session.delete(user)
    session.flush()
    if forget_address:
        _forget(session, address, now, erased)
    return erased


def erase_email(session: Session, email: str, now: datetime) -> Erased | None:
    """Erase the account at ``email`` or, without one, what the address left behind; None when nothing is held
    about it (an unknown address, or one already erased: only its keyed hash is left)."""
    address = Address(normalize_email(email))
    user = find_by_email(session, address.email)
    if user is not None:
        return erase_user(session, user, now)
    erased = Erased()
    mine = _erase_traces(session, erased, address, now, None)
    if not erased.found:
        return None
    erased.consents = _delete_consents(session, None, mine)
    _forget(session, address, now, erased)
    return erased


def _erase_traces(session: Session, erased: Erased, address: Address, now: datetime,
                  user_id: int | None) -> set[int]:
    """Steps 1 to 5 for an address (and its account, if any); the ids of the instances that were theirs."""
    registrations = list(session.scalars(select(EventRegistration).where(or_(
        EventRegistration.email == address.email,
        *([EventRegistration.user_id == user_id] if user_id is not None else [])))))
    erased.places_released = release_member(session, user_id, now, email=address.email)
    erased.registrations = _pseudonymise_registrations(registrations)
    sent, received = invitations(session, address, user_id)
    instances, mine = _instances(session, address, user_id, sent, received)
    erased.invitations_sent = _pseudonymise_sent(sent, now)
    erased.invitations_received = _pseudonymise_received(received, now)
    for instance in instances:
        scrub_instance(session, instance, now)
        if user_id is not None and instance.actor_id == user_id:
            instance.actor_id = None
    erased.instances = sum(1 for instance in instances if instance.id in mine)
    erased.mentions = len(instances) - erased.instances
    keys = [*([user_id] if user_id is not None else []), *(row.id for row in registrations)]
    erased.mails, erased.mails_cancelled = traces.scrub_mail(session, address, keys)
    erased.outbox = traces.delete_outbox(session, address)
    erased.sessions = traces.delete_sessions(session, address, user_id)
    traces.scrub_logs(session, address)
    return mine


def _pseudonymise_registrations(rows: list[EventRegistration]) -> int:
    for row in rows:
        pseudonymise_registration(row)
    return len(rows)


def pseudonymise_registration(row: EventRegistration) -> None:
    """A place that names nobody: the event's figures keep it (retention uses it for past events' guests)."""
    row.email = f"{row.id}@{ERASED_DOMAIN}"  # unique per event (its unique key), like the address was
    row.first_name = row.last_name = row.postal_code = ""
    row.user_id = None


def invitations(session: Session, address: Address,
                user_id: int | None) -> tuple[list[Invitation], list[Invitation]]:
    """(the invitations they sent, those sent to them): what erasure pseudonymises, what an export lists."""
    sender = or_(Invitation.sender_email == address.email,
                 *([Invitation.inviter_id == user_id] if user_id is not None else []))
    sent = list(session.scalars(select(Invitation).where(sender)))
    received = list(session.scalars(select(Invitation).where(Invitation.friend_email == address.email)))
    return sent, [row for row in received if row not in sent]


def forget_friend_address(row: Invitation, now: datetime) -> None:
    """Keep of the invited friend only a keyed hash of their address: their address, first name and the message
    naming them leave the invitation (erasure of either person, and retention)."""
    if row.friend_email:
        row.friend_email_hash = keyed(row.friend_email)
    row.friend_email = row.friend_first_name = row.subject = row.body = ""
    row.friend_hashed_at = now


def _pseudonymise_sent(rows: list[Invitation], now: datetime) -> int:
    """The row stays for the figures (sent, joined); who sent it and what it said go."""
    for row in rows:
        row.inviter_id = None
        row.sender_first_name = row.sender_last_name = row.sender_email = row.subject = row.body = ""
        if row.friend_hashed_at is None:  # the friend's address had no purpose left without its sender
            forget_friend_address(row, now)
    return len(rows)


def _pseudonymise_received(rows: list[Invitation], now: datetime) -> int:
    """The inviter keeps their figures (``joined_at`` stays); the friend's name, address and message go."""
    for row in rows:
        forget_friend_address(row, now)  # selected by their address: its hash is theirs
        row.joined_user_id = None
    return len(rows)


def _instances(session: Session, address: Address, user_id: int | None, sent: list[Invitation],
               received: list[Invitation]) -> tuple[list[WorkflowInstance], set[int]]:
    """The instances to scrub, and the ids of those that were theirs (their consent records go).

    Theirs: their account's, those of the invitations they sent, and the anonymous ones (not scrubbed yet)
    whose answers hold their address. Also scrubbed: the instances of invitations sent to them, which keep
    their inviter.
    """
    anonymous = select(WorkflowInstance).where(
        WorkflowInstance.actor_id.is_(None), WorkflowInstance.scrubbed_at.is_(None),
        or_(address.within(WorkflowInstance.data), address.within(WorkflowInstance.drafts)))
    to_them = {row.instance_id for row in received if row.instance_id is not None}
    mine = {i.id for i in session.scalars(anonymous) if address.named_in(i.data) or address.named_in(i.drafts)}
    mine = (mine - to_them) | {row.instance_id for row in sent if row.instance_id is not None}
    if user_id is not None:
        mine |= set(session.scalars(select(WorkflowInstance.id).where(WorkflowInstance.actor_id == user_id)))
    ids = sorted(mine | to_them)
    found = list(session.scalars(select(WorkflowInstance).where(WorkflowInstance.id.in_(ids)))) if ids else []
    return found, mine


def their_instances(session: Session, address: Address, user_id: int | None, sent: list[Invitation],
                    received: list[Invitation]) -> set[int]:
    """The ids of the instances that are theirs (``_instances``): what erasure scrubs, what an export lists."""
    return _instances(session, address, user_id, sent, received)[1]


def _delete_account_rows(session: Session, user_id: int, mine: set[int]) -> int:
    """What goes with the account (explicitly: the foreign keys would too); the consent records deleted."""
    for model in (AccountToken, OrganizerScope, CommitteeMembership, DataAccessSubject):
        session.execute(delete(model).where(model.user_id == user_id))
    return _delete_consents(session, user_id, mine)


def _delete_consents(session: Session, user_id: int | None, instance_ids: set[int]) -> int:
    theirs = [*([ConsentRecord.user_id == user_id] if user_id is not None else []),
              *([ConsentRecord.instance_id.in_(sorted(instance_ids))] if instance_ids else [])]
    if not theirs:
        return 0
    deleted = session.execute(delete(ConsentRecord).where(or_(*theirs)))
    return int(getattr(deleted, "rowcount", 0) or 0)


def _forget(session: Session, address: Address, now: datetime, erased: Erased) -> None:
    """Only a keyed hash of the address is left, on the suppression list; it also replaces an invitation
    opt-out (a plain hash), which invitations then no longer need."""
    suppression.forget(session, address.email, now)
    session.execute(delete(InvitationOptOut).where(InvitationOptOut.email_hash == links.email_hash(address.email)))
    erased.address_forgotten = True
