"""A campaign from draft to queue: written and edited as a draft, previewed as one real recipient
receives it, tested on its author, then queued (or scheduled) by one deliberate confirmation.

Nothing of a draft can leave: the expansion only takes campaigns ``queued`` or ``sending``. The
confirmation moves a draft on with a conditional UPDATE (``WHERE status = 'draft'``), so a second
post of it (a double click, the back button) finds nothing to move and queues nothing more. A
scheduled campaign is started the same way by ``start_due`` (the beat, or ``engagement campaign
start-due`` from cron), and stays cancellable until then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from engagement import outbox
from engagement.accounts.models import User
from engagement.campaigns import audiences, service
from engagement.campaigns.service import CampaignError
from engagement.db import transaction
from engagement.mail import service as mail
from engagement.mail import suppression
from engagement.mail.models import Campaign, MailMessage

SAMPLES = 50  # recipients looked at for the preview's one (the first not on the suppression list)
LATEST = timedelta(days=366)  # how far ahead a campaign may be scheduled
TEST_PREFIX = "[Test] "


@dataclass(frozen=True)
class Preview:
    """A draft as one real recipient of its audience receives it, and how many people that audience holds."""

    audience: audiences.Audience
    count: int
    sender: str  # as a mail program shows it: "Name (via Platform) <address>"
    subject: str
    text: str
    recipient: str | None  # whose mail it is (None: the audience is empty)


def save(session: Session, campaign: Campaign | None, *, audience: str, subject: str, body: str,
         sender_name: str | None, author: User | None, now: datetime) -> Campaign:
    """Write a new draft (``campaign`` None) or rewrite one still a draft; CampaignError when refused."""
    target, subject, body = service.checked(session, audience, subject, body)
    if campaign is None:
        campaign = Campaign(status="draft", author_id=author.id if author is not None else None, created_at=now)
        session.add(campaign)
    elif campaign.status != "draft":
        raise CampaignError("audience", "this campaign is no longer a draft")
    campaign.audience, campaign.audience_label = target.spec, target.label[:200]
    campaign.subject, campaign.body = subject, body
    campaign.sender_name = (sender_name or "").strip()[:100] or None
    session.flush()
    return campaign


def preview(session: Session, campaign: Campaign) -> Preview:
    """The draft merged for the first recipient of its audience (AudienceError when the audience is gone)."""
    target = audiences.parse(session, campaign.audience)
    sample = _sample(session, target)
    values = audiences.values(session, target, [sample.key]).get(sample.key, {}) if sample else {}
    member = audiences.accounts(session, target, [sample.key]).get(sample.key) if sample else None
    link = mail.unsubscribe_link(sample.email, member) if sample else mail.absolute("/unsubscribe/…")
    name, address = parseaddr(mail.sender(campaign.sender_name))
    return Preview(audience=target, count=audiences.count(session, target),
                   sender=f"{name} <{address}>" if name else address,
                   subject=mail.campaign_subject(campaign.subject, values),
                   text=mail.campaign_text(campaign.body, values, link),
                   recipient=sample.email if sample else None)


def _sample(session: Session, target: audiences.Audience) -> audiences.Recipient | None:
    """The audience's first recipient who will really receive it (else its first one, else None)."""
    first = audiences.page(session, target, 0, SAMPLES)
    blocked = suppression.blocked(session, [r.email for r in first], "campaign")
    return next((r for r in first if r.email not in blocked), first[0] if first else None)


def send_test(session: Session, campaign: Campaign, author: User, now: datetime) -> MailMessage | None:
    """Mail the draft to its author only, merged with the author's own values and unsubscribe link; None when
    it cannot be composed (an address no mail reaches): nothing is sent or counted."""
    link = mail.unsubscribe_link(author.email, author.id)
    values = {"first_name": author.first_name, "last_name": author.last_name}
    text = mail.campaign_text(campaign.body, values, link)
    message = mail.compose(session, to=[author.email], context={}, locale="fr",
                           subject=TEST_PREFIX + mail.campaign_subject(campaign.subject, values),
                           body=text, sender_name=campaign.sender_name, unsubscribe=link, literal=True)
    if message is not None:
        campaign.tests, campaign.tested_at = campaign.tests + 1, now
    return message


def schedule_error(send_at: datetime | None, now: datetime) -> str | None:
    """Why ``send_at`` cannot be a send time ("past", "far"), or None when it can (or is not given)."""
    if send_at is None:
        return None
    if send_at <= now:
        return "past"
    return "far" if send_at > now + LATEST else None


@dataclass(frozen=True)
class Confirmation:
    """What a confirmation did: ``queued``, ``scheduled``, ``changed`` (the audience no longer holds the
    number confirmed: nothing done), or ``already`` (not a draft any more: nothing done)."""

    outcome: str
    count: int


def confirm(session: Session, campaign: Campaign, *, count: int, now: datetime,
            send_at: datetime | None = None) -> Confirmation:
    """Queue the draft (or schedule it for ``send_at``) if its audience holds exactly ``count`` people."""
    target = audiences.parse(session, campaign.audience)
    current = audiences.count(session, target)
    if campaign.status != "draft":
        return Confirmation("already", campaign.recipients)
    if current != count:
        return Confirmation("changed", current)
    status = "scheduled" if send_at is not None else "queued"
    moved = session.execute(update(Campaign).where(Campaign.id == campaign.id, Campaign.status == "draft").values(
        status=status, recipients=current, scheduled_at=send_at))
    if not getattr(moved, "rowcount", 0):  # another post confirmed it first
        return Confirmation("already", current)
    if status == "queued":
        outbox.enqueue(session, service.EXPAND_TOPIC, {"campaign": campaign.id})
    return Confirmation(status, current)


def start(session: Session, campaign_id: int) -> bool:
    """Queue a scheduled campaign (once: only while it is still scheduled); its audience counted now."""
    campaign = session.get(Campaign, campaign_id)
    target = audiences.parse_stored(session, campaign.audience) if campaign is not None else None
    count = audiences.count(session, target) if target is not None else 0
    moved = session.execute(update(Campaign).where(Campaign.id == campaign_id, Campaign.status == "scheduled")
                            .values(status="queued", recipients=count))
    if not getattr(moved, "rowcount", 0):
        return False
    outbox.enqueue(session, service.EXPAND_TOPIC, {"campaign": campaign_id})
    return True


def start_due(factory: sessionmaker[Session], now: datetime) -> int:
    """Queue every scheduled campaign whose time has come, each in its own transaction; how many."""
    with factory() as session:
        due = list(session.scalars(select(Campaign.id).where(
            Campaign.status == "scheduled", Campaign.scheduled_at <= now).order_by(Campaign.scheduled_at)))
    started = 0
    for campaign_id in due:
        with transaction(factory) as session:
            started += start(session, campaign_id)
    return started
