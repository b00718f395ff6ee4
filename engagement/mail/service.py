"""Composing mail into the outbox and delivering it once through the configured backend."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from email.headerregistry import Address
from email.utils import parseaddr
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engagement import PROJECT_ROOT, outbox, signing
from engagement.expressions import render
from engagement.mail import addresses, headers
from engagement.mail.addresses import AddressError
from engagement.mail.delivery import LEASE, Prepare, Transport
from engagement.mail.delivery import deliver as through_ledger
from engagement.mail.limits import fit_subject
from engagement.mail.mailjet import TIMEOUT_SECONDS, Outcome
from engagement.mail.models import MailMessage
from engagement.mail.suppression import digest

log = logging.getLogger(__name__)
TEMPLATE_DIR = PROJECT_ROOT / "templates" / "email"
DELIVER_TOPIC = "mail.deliver"

BACKENDS = ("outbox", "mailjet")  # outbox: kept stored (viewable at /dev/mailbox); mailjet: sent for real
_config: dict[str, Any] = {"backend": "outbox", "sender": "Engagement <ne-pas-repondre@engagement.local>",
                          "site_url": "http://127.0.0.1:5000", "lease": LEASE}
_transport: dict[str, Transport] = {}
_preparers: list[Prepare] = []  # what completes stored rows before they leave or are shown (a campaign's text)


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


def clean_addresses(values: Iterable[str]) -> list[str]:
    """Normalized, distinct addresses by the one address rule (engagement.mail.addresses); one that mail
    cannot reach raises AddressError naming none of them."""
    result: list[str] = []
    for value in values:
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            address = addresses.checked(part)
            if address.lower() not in (a.lower() for a in result):
                result.append(address)
    return result


def sender(name: str | None = None) -> str:
    """The platform's sender; with ``name``, shown as "<name> (via <platform>)" from the same address, the
    name cleaned of what could pass it for an address or reorder it (engagement.mail.headers)."""
    display, address = parseaddr(_config["sender"])
    platform = Address(display_name=display, addr_spec=address)
    display = headers.name(name or "")
    if not display:
        return str(platform)
    via = f"{display} (via {platform.display_name})" if platform.display_name else display
    return str(Address(display_name=via, addr_spec=platform.addr_spec))


def compose(session: Session, *, to: Iterable[str], context: Mapping[str, Any], locale: str,
            template: str | None = None, subject: str | None = None, body: str | None = None,
            cc: Iterable[str] = (), reply_to: str | None = None, sender_name: str | None = None,
            unsubscribe: str | None = None, attachments: list[dict[str, str]] | None = None,
            literal: bool = False) -> MailMessage | None:
    """Render and queue one message in the caller's transaction; None when it cannot be composed.

    A message that cannot be composed (an address no mail reaches, a template missing or failing to render)
    fails alone: nothing is queued for it, the failure is logged without its addresses or text, and the
    caller's transaction goes on (the password reset it answers, the decision it reports still commit).
    ``sender_name`` puts a person's name before the platform's address (never their address: the
    platform's domain signs the mail); ``reply_to`` is left out when no mail reaches it; ``unsubscribe`` is
    a URL for List-Unsubscribe (RFC 8058); ``attachments`` are ``{filename, content_type, content}`` with
    text content (an .ics, say); ``literal`` sends an inline subject and body as written (a person's text,
    never a template).
    """
    try:
        message = _message(to=to, context=context, locale=locale, template=template, subject=subject, body=body,
                           cc=cc, reply_to=reply_to, sender_name=sender_name, unsubscribe=unsubscribe,
                           attachments=attachments, literal=literal)
    except Exception as exc:  # one message's fault must never undo the change it was to report
        log.warning("mail %s could not be composed (%s): not queued, the transaction goes on",
                    template or "(inline)", type(exc).__name__)
        return None
    session.add(message)
    session.flush()
    outbox.enqueue(session, DELIVER_TOPIC, {"mail_id": message.id})
    return message


def _message(*, to: Iterable[str], context: Mapping[str, Any], locale: str, template: str | None,
             subject: str | None, body: str | None, cc: Iterable[str], reply_to: str | None,
             sender_name: str | None, unsubscribe: str | None, attachments: list[dict[str, str]] | None,
             literal: bool) -> MailMessage:
    """The message ``compose`` queues, or the exception that keeps it from being composed."""
    html = _template_text(template, locale, "body.html") if template is not None else None
    if template is not None:
        subject, body = _template_text(template, locale, "subject.txt"), _template_text(template, locale, "body.txt")
    if subject is None or body is None:
        raise ValueError("the mail template is incomplete")
    recipients = clean_addresses(to)
    if not recipients:
        raise AddressError("a mail needs at least one recipient")
    return MailMessage(
        sender=sender(sender_name), to=recipients, headers=unsubscribe_headers(unsubscribe),
        attachments=attachments or None, cc=clean_addresses(cc), reply_to=_reply_to(reply_to),
        subject=fit_subject(headers.text(subject if literal else render(subject, context))),
        text_body=body if literal else render(body, context),
        html_body=render(html, context, html=True) if html else None,
        template=template,
    )


def _reply_to(value: str | None) -> str | None:
    """The address answers go to; None when there is none or mail cannot reach it (the message still goes)."""
    try:
        return next(iter(clean_addresses([value])), None) if value else None
    except AddressError:
        log.warning("mail: a Reply-To address that no mail reaches was left out")
        return None


def unsubscribe_headers(url: str | None) -> dict[str, str] | None:
    """List-Unsubscribe (RFC 8058's one click) for a message carrying ``url``; none for a URL it cannot carry."""
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


def prepares(func: Prepare) -> Prepare:
    """Register what completes detached rows before they leave or are shown: a domain whose messages keep no
    text of their own (the campaigns) fills it in; mail knows none of them."""
    if func not in _preparers:
        _preparers.append(func)
    return func


def materialize(session: Session, messages: Sequence[MailMessage]) -> None:
    """Complete detached rows as they will leave, by every registered preparer (nothing here is saved)."""
    for prepare in _preparers:
        prepare(session, messages)


def sender_name() -> str:
    """The platform's name as the configured sender shows it (parsed once a sender, not once a recipient)."""
    return _platform(_config["sender"])


@cache
def _platform(sender_value: str) -> str:
    return parseaddr(sender_value)[0] or "Engagement"


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
