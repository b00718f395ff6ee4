"""Queue a campaign at once; expand its audience and send it in the background, resumably.

``create`` (the command line) writes the campaign, counted, and one outbox row in the caller's
transaction; the organizer's confirmation (``drafts.confirm``) writes the same without counting, so that
it answers in milliseconds whatever the audience's size. On the ``campaigns`` queue, ``expand`` counts
the audience once (``recipients``, ``counted_at``: what the campaign's page shows), then streams it by
keyset pages; each page is one transaction writing the page's message rows, the outbox rows that send
them (500 a row) and the campaign's cursor, so a worker killed at any point resumes where the last
commit left it and writes no recipient twice (a unique key, campaign and recipient, guards it too);
once every page is written, ``recipients`` is the number of rows written. ``send`` hands a slice to the mail ledger,
which sends each message once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from engagement import outbox
from engagement import text as text_rule
from engagement.accounts import scopes
from engagement.accounts.models import User
from engagement.campaigns import audiences, messages
from engagement.campaigns.models import Campaign
from engagement.db import transaction, utcnow
from engagement.mail import service as mail
from engagement.mail import suppression
from engagement.mail.models import FINAL, MailMessage

EXPAND_TOPIC = "campaign.expand"
SEND_TOPIC = "campaign.send"
PAGE = 2000  # recipients written per transaction
SLICE = 500  # messages per sending task (ten calls of 50)
MAX_SUBJECT = 200
MAX_BODY = 20_000
UNFINISHED = ("queued", "sending")


class CampaignError(ValueError):
    """A campaign that cannot be queued; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def checked(session: Session, audience: str, subject: str, body: str) -> tuple[audiences.Audience, str, str]:
    """The audience, subject and body a campaign may have (normalized); CampaignError names the one at fault."""
    try:
        target = audiences.parse(session, audience)
    except audiences.AudienceError as exc:
        raise CampaignError("audience", str(exc)) from None
    _refuse_invisible("subject", text_rule.normalize(subject))
    _refuse_invisible("body", body, multiline=True)
    subject = " ".join(subject.split())
    if not subject or len(subject) > MAX_SUBJECT:
        raise CampaignError("subject", f"a subject of 1 to {MAX_SUBJECT} characters")
    body = body.replace("\r\n", "\n").strip()
    if not body or len(body) > MAX_BODY:
        raise CampaignError("body", f"a message of 1 to {MAX_BODY} characters")
    for field, text in (("subject_merge", subject), ("merge", body)):
        if unknown := messages.unknown_fields(text):
            raise CampaignError(field, f"unknown merge fields: {', '.join(unknown)}")
    return target, subject, body


def _refuse_invisible(field: str, value: str, *, multiline: bool = False) -> None:
    """The text rule (``engagement.text``) on what the command line passes too: ``<field>_characters``."""
    if text_rule.first_refused(value, multiline=multiline) is not None:
        raise CampaignError(f"{field}_characters", f"the {field} holds an invisible control character")


def create(session: Session, *, audience: str, subject: str, body: str, author: User | None,
           sender_name: str | None = None, now: datetime | None = None) -> Campaign:
    """Queue a campaign in the caller's transaction (it leaves only if that commits)."""
    target, subject, body = checked(session, audience, subject, body)
    _refuse_invisible("sender", text_rule.normalize(sender_name or ""))
    campaign = Campaign(audience=target.spec, audience_label=target.label[:200], subject=subject, body=body,
                        sender_name=(sender_name or "").strip()[:100] or None,
                        author_id=author.id if author is not None else None, status="queued",
                        recipients=audiences.count(session, target), created_at=now or utcnow())
    campaign.counted_at = campaign.created_at
    session.add(campaign)
    session.flush()
    outbox.enqueue(session, EXPAND_TOPIC, {"campaign": campaign.id})
    return campaign


@outbox.self_managed(EXPAND_TOPIC, queue=outbox.CAMPAIGNS)
def expand(factory: sessionmaker[Session], payload: dict[str, Any]) -> None:
    """Write every recipient's message row, a page per transaction, from the campaign's cursor on (a process
    stopping stops after a page: its row stays pending and the next delivery resumes at the cursor)."""
    while _expand_page(factory, payload["campaign"]):
        if outbox.stopping():
            raise outbox.Stopped(f"campaign {payload['campaign']}: expansion stopped after a page")
    finish_if_done(factory, payload["campaign"])


def _expand_page(factory: sessionmaker[Session], campaign_id: int) -> bool:
    """One page; False when there is nothing left to write (or the campaign is gone or stopped)."""
    with transaction(factory) as session:
        campaign = session.get(Campaign, campaign_id, with_for_update=True)  # one expander at a time
        if campaign is None or campaign.status not in ("queued", "sending") or campaign.expanded_at is not None:
            return False
        target = audiences.parse_stored(session, campaign.audience)
        now = utcnow()
        if campaign.counted_at is None:  # once, under the lock: a retried or second expander finds it counted
            campaign.recipients = audiences.count(session, target) if target is not None else 0
            campaign.counted_at = now
        recipients = audiences.page(session, target, campaign.cursor, PAGE) if target is not None else []
        if not recipients:
            campaign.expanded_at, campaign.status = now, "sending"
            campaign.recipients = campaign.expanded  # exactly who was written (members come and go meanwhile)
            return False
        stop = suppression.blocked(session, [r.email for r in recipients], "campaign")
        sender = mail.sender(campaign.sender_name)
        session.execute(insert(MailMessage), [
            {"sender": sender, "to": [r.email], "cc": [], "subject": campaign.subject, "text_body": "",
             "stream": "campaign", "campaign_id": campaign.id, "audience_key": r.key, "created_at": now,
             "status": "suppressed" if r.email in stop else "queued", "attempts": 0,
             "error": "the address is on the suppression list" if r.email in stop else None}
            for r in recipients])
        keys = [r.key for r in recipients]
        for start in range(0, len(keys), SLICE):
            after = campaign.cursor if start == 0 else keys[start - 1]
            outbox.enqueue(session, SEND_TOPIC, {"campaign": campaign.id, "after": after,
                                                 "upto": keys[min(start + SLICE, len(keys)) - 1]})
        campaign.cursor, campaign.expanded = keys[-1], campaign.expanded + len(keys)
        campaign.status = "sending"
        return True


@outbox.self_managed(SEND_TOPIC, queue=outbox.CAMPAIGNS)
def send(factory: sessionmaker[Session], payload: dict[str, Any]) -> None:
    """Send a slice of a campaign (recipients whose key is in ``(after, upto]``) through the ledger."""
    campaign_id = payload["campaign"]
    with factory() as session:
        ids = list(session.scalars(select(MailMessage.id).where(
            MailMessage.campaign_id == campaign_id, MailMessage.audience_key > payload["after"],
            MailMessage.audience_key <= payload["upto"], MailMessage.status.in_(UNFINISHED),
        ).order_by(MailMessage.id)))
    if ids:
        mail.deliver_many(factory, ids)  # raises RetryLater while some are owed: the task retries
    finish_if_done(factory, campaign_id)


def finish_if_done(factory: sessionmaker[Session], campaign_id: int) -> bool:
    """Mark the campaign done once every recipient is written and every message final."""
    with transaction(factory) as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None or campaign.finished_at is not None or campaign.expanded_at is None:
            return campaign is not None and campaign.finished_at is not None
        owed = session.scalar(select(MailMessage.id).where(
            MailMessage.campaign_id == campaign_id, MailMessage.status.in_(UNFINISHED)).limit(1))
        if owed is not None:
            return False
        campaign.finished_at = utcnow()
        if campaign.status != "cancelled":
            campaign.status = "done"
        return True


def cancel(session: Session, campaign: Campaign, now: datetime) -> int:
    """Stop a campaign: no more recipients written, messages not yet claimed never leave.

    Returns how many messages were stopped (those already with the provider still arrive).
    """
    if campaign.finished_at is not None:
        return 0
    campaign.status = "cancelled"
    if campaign.expanded_at is None:
        campaign.expanded_at = now
    stopped = session.execute(update(MailMessage).where(
        MailMessage.campaign_id == campaign.id, MailMessage.status == "queued",
    ).values(status="cancelled", error="the campaign was cancelled"))
    if not session.scalar(select(MailMessage.id).where(
            MailMessage.campaign_id == campaign.id, MailMessage.status.in_(UNFINISHED)).limit(1)):
        campaign.finished_at = now
    return int(getattr(stopped, "rowcount", 0) or 0)


def listed(session: Session, user: Any, *, before: int | None, limit: int) -> list[Campaign]:
    """A page of the campaigns ``user`` may see, newest first, below the id ``before``: a national organizer's
    all of them, another's those to the audiences within their scopes."""
    query = select(Campaign).order_by(Campaign.id.desc()).limit(limit)
    if not scopes.is_national(session, user):
        query = query.where(Campaign.audience.in_(scopes.audiences(session, user)))
    if before:
        query = query.where(Campaign.id < before)
    return list(session.scalars(query))


def shares(session: Session, campaigns: Sequence[Campaign]) -> dict[int, int]:
    """Each campaign's share of final messages (a percentage), in one query for those still running."""
    running = [c.id for c in campaigns if c.finished_at is None]
    final = dict(session.execute(select(MailMessage.campaign_id, func.count()).where(
        MailMessage.campaign_id.in_(running), MailMessage.status.in_(FINAL),
    ).group_by(MailMessage.campaign_id)).all()) if running else {}
    result: dict[int, int] = {}
    for c in campaigns:
        total = c.expanded if c.expanded_at is not None else max(c.recipients, c.expanded)
        result[c.id] = 100 if c.finished_at is not None else (final.get(c.id, 0) * 100 // total if total else 0)
    return result


def progress(session: Session, campaign: Campaign) -> dict[str, Any]:
    """Counts by status (and by the provider's last event), and the share of messages final."""
    by_status = dict(session.execute(select(MailMessage.status, func.count()).where(
        MailMessage.campaign_id == campaign.id).group_by(MailMessage.status)).all())
    events = dict(session.execute(select(MailMessage.provider_event, func.count()).where(
        MailMessage.campaign_id == campaign.id, MailMessage.provider_event.is_not(None),
    ).group_by(MailMessage.provider_event)).all())
    final = sum(by_status.get(status, 0) for status in FINAL)
    total = max(campaign.recipients, campaign.expanded) if campaign.expanded_at is None else campaign.expanded
    counted = campaign.counted_at is not None or campaign.expanded_at is not None
    return {"campaign": campaign.id, "status": campaign.status, "recipients": total, "counted": counted,
            "written": campaign.expanded, "final": final,
            "percent": 100 if campaign.finished_at is not None else (final * 100 // total if total else 0),
            "statuses": {status: by_status.get(status, 0) for status in ("queued", "sending", *FINAL)},
            "events": events, "finished": campaign.finished_at is not None}


def recipients(session: Session, campaign: Campaign, status: str | None, after: int,
               limit: int = 50) -> Sequence[MailMessage]:
    """A page of the campaign's messages (per-recipient status), by key, optionally of one status."""
    query = select(MailMessage).where(MailMessage.campaign_id == campaign.id, MailMessage.audience_key > after)
    if status:
        query = query.where(MailMessage.status == status)
    return list(session.scalars(query.order_by(MailMessage.audience_key).limit(limit)))
