"""A campaign from draft to queue: written and edited as a draft, previewed as one real recipient
receives it, tested on its author, then queued (or scheduled) by one deliberate confirmation.

No page or post of that path counts the whole audience (it grows with it): the organizer is told its
exact size up to ``EXACT_UP_TO`` people (a count that stops there), beyond that the size its stored
list gives (or the last campaign to it), and the confirmation queues without counting; the expansion
counts the recipients and the campaign's page shows them.

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
from engagement.campaigns import audiences, lists, messages, service
from engagement.campaigns.models import Campaign
from engagement.campaigns.service import CampaignError
from engagement.db import transaction
from engagement.mail import service as mail
from engagement.mail import suppression
from engagement.mail.models import MailMessage

EXACT_UP_TO = 1000  # audiences counted exactly before sending; larger ones are estimated (never counted whole)
SAMPLES = 50  # recipients looked at for the preview's one (the first not on the suppression list)
LATEST = timedelta(days=366)  # how far ahead a campaign may be scheduled
TEST_PREFIX = "[Test] "


@dataclass(frozen=True)
class Size:
    """How many people an audience holds, as the organizer is told before confirming: ``exact`` (counted, at
    most EXACT_UP_TO), ``about`` (its stored list's count, or the last campaign's to it) or ``over`` (more than
    ``count``: a large audience with no estimate yet)."""

    count: int
    kind: str


def size(session: Session, target: audiences.Audience) -> Size:
    """The audience's size at a cost bounded by EXACT_UP_TO, whatever the audience (see Size)."""
    counted = audiences.count_upto(session, target, EXACT_UP_TO + 1)
    if counted <= EXACT_UP_TO:
        return Size(counted, "exact")
    known = lists.estimate(session, target.spec) or session.scalar(
        select(Campaign.recipients).where(Campaign.audience == target.spec, Campaign.expanded_at.is_not(None),
                                          Campaign.status != "cancelled").order_by(Campaign.id.desc()).limit(1))
    return Size(known, "about") if known and known > EXACT_UP_TO else Size(EXACT_UP_TO, "over")


@dataclass(frozen=True)
class Preview:
    """A draft as one real recipient of its audience receives it, and how many people that audience holds."""

    audience: audiences.Audience
    size: Size
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
    values = audiences.values(session, target.kind, [sample.key]).get(sample.key, {}) if sample else {}
    member = audiences.accounts(session, target.kind, [sample.key]).get(sample.key) if sample else None
    link = mail.unsubscribe_link(sample.email, member) if sample else mail.absolute("/unsubscribe/…")
    name, address = parseaddr(mail.sender(campaign.sender_name))
    return Preview(audience=target, size=size(session, target),
                   sender=f"{name} <{address}>" if name else address,
                   subject=messages.campaign_subject(campaign.subject, values),
                   text=messages.campaign_text(campaign.body, values, link),
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
    text = messages.campaign_text(campaign.body, values, link)
    message = mail.compose(session, to=[author.email], context={}, locale="fr",
                           subject=TEST_PREFIX + messages.campaign_subject(campaign.subject, values),
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
    """What a confirmation did: ``queued``, ``scheduled``, ``changed`` (the draft's audience is no longer the
    one confirmed), ``empty`` (nobody in it) or ``already`` (not a draft any more): nothing done but the first two."""

    outcome: str


def confirm(session: Session, campaign: Campaign, *, audience: str, now: datetime,
            send_at: datetime | None = None) -> Confirmation:
    """Queue the draft (or schedule it for ``send_at``) if its audience is still ``audience``, the one its
    organizer confirmed; nothing here counts it (the expansion does). AudienceError when it names nothing now."""
    target = audiences.parse(session, campaign.audience)
    if campaign.status != "draft":
        return Confirmation("already")
    if campaign.audience != audience:
        return Confirmation("changed")
    if not audiences.page(session, target, 0, 1):  # one row at most: is there anyone at all?
        return Confirmation("empty")
    status = "scheduled" if send_at is not None else "queued"
    moved = session.execute(update(Campaign).where(Campaign.id == campaign.id, Campaign.status == "draft").values(
        status=status, recipients=0, counted_at=None, scheduled_at=send_at))
    if not getattr(moved, "rowcount", 0):  # another post confirmed it first
        return Confirmation("already")
    if status == "queued":
        outbox.enqueue(session, service.EXPAND_TOPIC, {"campaign": campaign.id})
    return Confirmation(status)


def start(session: Session, campaign_id: int) -> bool:
    """Queue a scheduled campaign (once: only while it is still scheduled); its expansion counts the audience."""
    moved = session.execute(update(Campaign).where(Campaign.id == campaign_id, Campaign.status == "scheduled")
                            .values(status="queued", recipients=0, counted_at=None))
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
