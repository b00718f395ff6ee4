"""Composing mail into the outbox and delivering it once through the configured backend."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from email.headerregistry import Address
from email.utils import parseaddr
from functools import cache
from pathlib import Path
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engagement import PROJECT_ROOT, outbox, signing
from engagement.mail.delivery import LEASE, Transport
from engagement.mail.delivery import deliver as through_ledger
from engagement.mail.mailjet import TIMEOUT_SECONDS, Outcome
from engagement.mail.models import Campaign, MailMessage
from engagement.mail.suppression import digest
from engagement.workflow.expressions import render

TEMPLATE_DIR = PROJECT_ROOT / "templates" / "email"
DELIVER_TOPIC = "mail.deliver"

BACKENDS = ("outbox", "mailjet")  # outbox: kept stored (viewable at /dev/mailbox); mailjet: sent for real
CAMPAIGN_FOOTER = ("\n\n-- \nVous recevez ce message parce que vous êtes inscrit(e) sur {platform}. Pour ne plus "
                   "recevoir ces messages : {link}\nYou receive this message because you joined {platform}. To "
                   "stop receiving these messages: {link}\n")
MERGE_FIELDS = ("first_name", "last_name")  # what a campaign's text may name: {{ first_name }}
MERGE_FIELD = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_config: dict[str, Any] = {"backend": "outbox", "sender": "Engagement <ne-pas-repondre@engagement.local>",
                          "site_url": "http://127.0.0.1:5000", "lease": LEASE}
_transport: dict[str, Transport] = {}


class StoredOnly:
    """The embedded backend: a message is "sent" by being kept in the database, where it already is."""

    def send(self, messages: Sequence[MailMessage]) -> list[Outcome]:
        return [Outcome(m.id, "sent") for m in messages]

    def accepted(self, mail_id: int) -> str | None:
        return None  # nothing left the building: a stale claim is simply stored again


def configure(backend: str, sender: str, site_url: str = "http://127.0.0.1:5000",
              mailjet: tuple[str, str, str | None] | None = None, lease: timedelta = LEASE) -> None:
    """``mailjet``: (API key, secret, API URL or None) when ``backend`` is ``mailjet``; ``lease``: how
    long a claim protects a message being sent (the provider call's timeout is a third of it)."""
    if backend not in BACKENDS:
        raise ValueError(f"mail backend {backend!r} is not available")
    _config.update(backend=backend, sender=sender, site_url=site_url.rstrip("/"))
    _config["lease"] = lease
    _transport.clear()
    if backend == "mailjet":
        if mailjet is None:
            raise ValueError("the mailjet backend needs its API key and secret")
        from engagement.mail.mailjet import MailjetTransport

        _transport["mailjet"] = MailjetTransport(*mailjet, timeout=min(TIMEOUT_SECONDS, lease.total_seconds() / 3))
    else:
        _transport[backend] = StoredOnly()


def absolute(path: str) -> str:
    """A link for a mail: the public site URL followed by ``path``."""
    return _config["site_url"] + path


@cache
def available_templates(root: Path = TEMPLATE_DIR) -> frozenset[str]:
    """Templates are folders holding at least ``fr/subject.txt`` and ``fr/body.txt``."""
    if not root.is_dir():
        return frozenset()
    return frozenset(p.parent.parent.name for p in root.glob("*/fr/body.txt") if (p.parent / "subject.txt").exists())


def _template_text(name: str, locale: str, part: str) -> str | None:
    for candidate in (locale, "fr"):
        path = TEMPLATE_DIR / name / candidate / part
        if path.exists():
            return path.read_text(encoding="utf-8")
    return None


class AddressError(ValueError):
    """A recipient address is invalid or missing (the message names no address)."""


def clean_addresses(values: Iterable[str]) -> list[str]:
    """Normalized, valid, distinct addresses; invalid ones raise AddressError naming none of them."""
    result: list[str] = []
    for value in values:
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            try:
                address = validate_email(part, check_deliverability=False).normalized
            except EmailNotValidError:
                raise AddressError("a recipient address is invalid") from None
            if address.lower() not in (a.lower() for a in result):
                result.append(address)
    return result


def sender(name: str | None = None) -> str:
    """The platform's sender; with ``name``, shown as "<name> (via <platform>)" from the same address."""
    display, address = parseaddr(_config["sender"])
    platform = Address(display_name=display, addr_spec=address)
    if not name:
        return str(platform)
    display = " ".join("".join(c if c.isprintable() else " " for c in name).split())[:80]
    if not display:
        return str(platform)
    via = f"{display} (via {platform.display_name})" if platform.display_name else display
    return str(Address(display_name=via, addr_spec=platform.addr_spec))


def compose(session: Session, *, to: Iterable[str], context: Mapping[str, Any], locale: str,
            template: str | None = None, subject: str | None = None, body: str | None = None,
            cc: Iterable[str] = (), reply_to: str | None = None, sender_name: str | None = None,
            unsubscribe: str | None = None, attachments: list[dict[str, str]] | None = None,
            literal: bool = False) -> MailMessage:
    """Render and queue one message in the caller's transaction.

    ``sender_name`` puts a person's name before the platform's address (never their address: the
    platform's domain signs the mail); ``unsubscribe`` is a URL for List-Unsubscribe (RFC 8058);
    ``attachments`` are ``{filename, content_type, content}`` with text content (an .ics, say);
    ``literal`` sends an inline subject and body as written (a person's text, never a template).
    """
    if template is not None:
        subject = _template_text(template, locale, "subject.txt")
        body = _template_text(template, locale, "body.txt")
        html = _template_text(template, locale, "body.html")
    else:
        html = None
    if subject is None or body is None:
        raise ValueError(f"mail template {template!r} is incomplete")
    recipients = clean_addresses(to)
    if not recipients:
        raise AddressError("a mail needs at least one recipient")
    message = MailMessage(
        sender=sender(sender_name), to=recipients, headers=_unsubscribe_headers(unsubscribe),
        attachments=attachments or None, cc=clean_addresses(cc),
        reply_to=next(iter(clean_addresses([reply_to])), None) if reply_to else None,
        subject=" ".join((subject if literal else render(subject, context)).split())[:998],
        text_body=body if literal else render(body, context),
        html_body=render(html, context, html=True) if html else None,
        template=template,
    )
    session.add(message)
    session.flush()
    outbox.enqueue(session, DELIVER_TOPIC, {"mail_id": message.id})
    return message


def _unsubscribe_headers(url: str | None) -> dict[str, str] | None:
    if not url or not url.startswith(("https://", "http://")) or any(c in url for c in "<>\r\n ,"):
        return None
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


@outbox.self_managed(DELIVER_TOPIC)
def deliver(factory: sessionmaker[Session], payload: dict[str, Any]) -> None:
    """Send a queued message once: a message already sent is never sent again (RetryLater: owed)."""
    deliver_many(factory, [payload["mail_id"]])


def deliver_many(factory: sessionmaker[Session], mail_ids: Sequence[int]) -> dict[str, int]:
    """Send the messages still owed among ``mail_ids`` through the ledger; counts by outcome."""
    backend = _config["backend"]
    return through_ledger(factory, _transport.setdefault(backend, StoredOnly()), mail_ids, backend,
                          lease=_config["lease"], prepare=materialize)


def unsubscribe_link(email: str, member_id: int | None = None) -> str:
    """The one-click link that takes ``email`` off every campaign (it names a hash, not the address).

    ``member_id``: the account the address is a member's, also named so that the link withdraws their
    newsletter consent; it only acts on an account whose address has the link's signed hash.
    """
    token = signing.sign_digest("unsubscribe", digest(email))
    return absolute(f"/unsubscribe/{token}/{member_id}" if member_id else f"/unsubscribe/{token}")


def read_unsubscribe(token: str) -> str | None:
    """The address hash an unsubscribe link names, or None when tampered with."""
    return signing.read_digest("unsubscribe", token)


def merge(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each merge field (``{{ first_name }}``, ``{{ last_name }}``) replaced by the
    recipient's value; anything else is left as written."""
    return MERGE_FIELD.sub(lambda m: values.get(m.group(1), "") if m.group(1) in MERGE_FIELDS else m.group(0), text)


def unknown_fields(text: str) -> list[str]:
    """The merge fields ``text`` names that no recipient has (a typo the organizer must fix)."""
    return sorted({name for name in MERGE_FIELD.findall(text) if name not in MERGE_FIELDS})


def campaign_text(body: str, values: Mapping[str, str], link: str) -> str:
    """A campaign's text as one recipient receives it: merged, then the footer with their own link."""
    platform = parseaddr(_config["sender"])[0] or "Engagement"
    return merge(body.rstrip(), values) + CAMPAIGN_FOOTER.format(platform=platform, link=link)


def materialize(session: Session, messages: Sequence[MailMessage]) -> None:
    """Give campaign messages (rows that keep no text) their campaign's body merged with the recipient's
    values, their own unsubscribe link, and List-Unsubscribe. The rows must be detached: nothing here
    is saved."""
    from engagement.campaigns import audiences  # the campaigns package builds on this module

    ids = {m.campaign_id for m in messages if m.campaign_id is not None}
    if not ids:
        return
    campaigns = {c.id: c for c in session.scalars(select(Campaign).where(Campaign.id.in_(ids)))}
    merged: dict[int, dict[int, dict[str, str]]] = {}
    members: dict[int, dict[int, int]] = {}
    for campaign_id, campaign in campaigns.items():
        target = audiences.parse_stored(session, campaign.audience)
        keys = [m.audience_key for m in messages if m.campaign_id == campaign_id and m.audience_key is not None]
        merged[campaign_id] = audiences.values(session, target, keys) if target is not None else {}
        members[campaign_id] = audiences.accounts(session, target, keys) if target is not None else {}
    for message in messages:
        if message.campaign_id is None or message.campaign_id not in campaigns or not message.to:
            continue  # not a campaign's, or its recipient was erased (nothing is sent to it any more)
        member = members[message.campaign_id].get(message.audience_key or 0)
        campaign, link = campaigns[message.campaign_id], unsubscribe_link(message.to[0], member)
        values = merged[message.campaign_id].get(message.audience_key or 0, {})
        message.text_body = campaign_text(campaign.body, values, link)
        message.subject = merge(campaign.subject, values)
        message.headers = _unsubscribe_headers(link)


def recent(session: Session, limit: int = 50) -> list[MailMessage]:
    """The latest messages, as they left (a campaign's with its text), detached from ``session``."""
    rows = list(session.scalars(select(MailMessage).order_by(MailMessage.id.desc()).limit(limit)))
    for row in rows:
        session.expunge(row)
    materialize(session, rows)
    return rows


def one(session: Session, mail_id: int) -> MailMessage | None:
    """One message as it left (see ``recent``)."""
    row = session.get(MailMessage, mail_id)
    if row is not None:
        session.expunge(row)
        materialize(session, [row])
    return row
