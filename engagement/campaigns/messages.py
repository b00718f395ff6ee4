"""A campaign's messages as each recipient receives them: the text merged with their names, the footer with
their own unsubscribe link, the subject on one line. The rows keep no text; this fills it in as they leave (and as
the dev mailbox shows them), registered with the mail (``mail.prepares``), which knows no campaign."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.campaigns import audiences
from engagement.campaigns.models import Campaign
from engagement.mail import headers
from engagement.mail import service as mail
from engagement.mail.limits import fit_subject
from engagement.mail.models import MailMessage

CAMPAIGN_FOOTER = ("\n\n-- \nVous recevez ce message parce que vous êtes inscrit(e) sur {platform}. Pour ne plus "
                   "recevoir ces messages\u00a0: {link}\nYou receive this message because you joined {platform}. To "
                   "stop receiving these messages: {link}\n")
MERGE_FIELDS = ("first_name", "last_name")  # what a campaign's text may name: {{ first_name }}
MERGE_FIELD = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def merge(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each merge field (``{{ first_name }}``, ``{{ last_name }}``) replaced by the
    recipient's value; anything else is left as written."""
    if "{{" not in text:
        return text  # nothing to merge (most campaigns' subjects): no pattern scan a recipient
    return MERGE_FIELD.sub(lambda m: values.get(m.group(1), "") if m.group(1) in MERGE_FIELDS else m.group(0), text)


def unknown_fields(text: str) -> list[str]:
    """The merge fields ``text`` names that no recipient has (a typo the organizer must fix)."""
    return sorted({name for name in MERGE_FIELD.findall(text) if name not in MERGE_FIELDS})


def campaign_text(body: str, values: Mapping[str, str], link: str) -> str:
    """A campaign's text as one recipient receives it: merged, then the footer with their own link."""
    return merge(body.rstrip(), values) + CAMPAIGN_FOOTER.format(platform=mail.sender_name(), link=link)


def campaign_subject(subject: str, values: Mapping[str, str]) -> str:
    """A campaign's subject as one recipient receives it: merged, on one line, within Mailjet's 255
    characters (a long name filled in twice could pass them)."""
    return fit_subject(headers.text(merge(subject, values)))


@mail.prepares
def materialize(session: Session, messages: Sequence[MailMessage]) -> None:
    """Give campaign messages (rows that keep no text) their campaign's body merged with the recipient's
    values, their own unsubscribe link, and List-Unsubscribe. The rows must be detached: nothing here
    is saved."""
    ids = {m.campaign_id for m in messages if m.campaign_id is not None}
    if not ids:
        return
    for campaign in session.scalars(select(Campaign).where(Campaign.id.in_(ids))):
        # A recipient erased since has no address left: nothing is sent to it any more.
        _materialize_campaign(session, campaign, [m for m in messages if m.campaign_id == campaign.id and m.to])


def _materialize_campaign(session: Session, campaign: Campaign, messages: list[MailMessage]) -> None:
    """``materialize`` for one campaign's messages: what is the same for all of them is computed once."""
    kind = audiences.kind(campaign.audience)
    keys = [m.audience_key for m in messages if m.audience_key is not None]
    subject_merges = MERGE_FIELD.search(campaign.subject) is not None
    merges = subject_merges or MERGE_FIELD.search(campaign.body) is not None
    merged = audiences.values(session, kind, keys) if merges else {}  # names are read only when shown
    members = audiences.accounts(session, kind, keys)
    subject = None if subject_merges else campaign_subject(campaign.subject, {})  # the same for every recipient
    for message in messages:
        values = merged.get(message.audience_key or 0, {})
        link = mail.unsubscribe_link(message.to[0], members.get(message.audience_key or 0))
        message.text_body = campaign_text(campaign.body, values, link)
        message.subject = subject if subject is not None else campaign_subject(campaign.subject, values)
        message.headers = mail.unsubscribe_headers(link)
