"""The Mailjet transport: the Send API v3.1 through the official client, at most 50 messages a call.

Every message carries ``CustomID = mail-<id>``, so that a call whose answer was lost (a timeout
after Mailjet may have accepted it) can be reconciled by asking Mailjet whether it holds that id,
instead of sending again.

One bad message never holds the others back: a message beyond Mailjet's documented limits
(``limits``) fails alone before any call; Mailjet's per-message answers give each message its own
outcome; and a call Mailjet refuses as a whole (a 400 without per-message statuses, or a 413:
nothing was accepted) is split in halves, each sent again, until the messages at fault stand
alone and fail, each logged by id and error code only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from functools import lru_cache
from typing import Any

import requests
from mailjet_rest import Client
from mailjet_rest.errors import ApiError, MailjetApiError, MailjetNetworkError

from engagement.mail import limits
from engagement.mail.models import MailMessage, attachment_content

BATCH = limits.MAX_MESSAGES  # the Send API's cap on messages per call
TIMEOUT_SECONDS = 15
TOO_LARGE = "refused as a whole: HTTP 413 (request too large)"
log = logging.getLogger(__name__)
# An ASCII address with no name, comment or quoting (what a campaign's rows hold): parseaddr returns it unchanged.
ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
BARE_ADDRESS = re.compile(rf"{ATEXT}(?:\.{ATEXT})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


@dataclass(frozen=True)
class Outcome:
    """What became of one message: ``sent``, ``refused`` (never retried), ``retry`` or ``unknown``."""

    mail_id: int
    status: str
    provider_id: str | None = None
    error: str | None = None


def custom_id(mail_id: int) -> str:
    return f"mail-{mail_id}"


def _address(value: str) -> dict[str, str]:
    if BARE_ADDRESS.fullmatch(value):
        return {"Email": value}  # what parseaddr gives, without its parser's cost (once a recipient)
    name, email = _parsed(value)
    return {"Email": email, "Name": name} if name else {"Email": email}


@lru_cache(maxsize=256)
def _parsed(value: str) -> tuple[str, str]:
    """``parseaddr`` of a sender (one string for a whole campaign: parsed once)."""
    return parseaddr(value)


def payload(message: MailMessage) -> dict[str, Any]:
    """One message of a v3.1 call."""
    body: dict[str, Any] = {
        "From": _address(message.sender), "To": [_address(a) for a in message.to],
        "Subject": message.subject, "TextPart": message.text_body, "CustomID": custom_id(message.id),
    }
    if message.cc:
        body["Cc"] = [_address(a) for a in message.cc]
    if message.reply_to:
        body["ReplyTo"] = _address(message.reply_to)
    if message.html_body:
        body["HTMLPart"] = message.html_body
    if message.headers:
        body["Headers"] = dict(message.headers)
    if message.attachments:
        body["Attachments"] = [{"ContentType": a["content_type"], "Filename": a["filename"],
                                "Base64Content": base64.b64encode(attachment_content(a)).decode()}
                               for a in message.attachments]
    return body


class MailjetTransport:
    """Sends batches and tells, message by message, what happened; it never retries by itself."""

    def __init__(self, api_key: str, api_secret: str, api_url: str | None = None,
                 timeout: float = TIMEOUT_SECONDS) -> None:
        options: dict[str, Any] = {"api_url": api_url} if api_url else {}
        self.timeout = timeout
        self.send_client = Client(auth=(api_key, api_secret), version="v3.1", **options)
        self.rest_client = Client(auth=(api_key, api_secret), version="v3", **options)

    def send(self, messages: Sequence[MailMessage]) -> list[Outcome]:
        """Up to 50 messages: those beyond Mailjet's limits fail alone, the others go in calls within them."""
        if not 0 < len(messages) <= BATCH:
            raise ValueError(f"a call carries 1 to {BATCH} messages")
        outcomes: dict[int, Outcome] = {}
        sendable: list[tuple[MailMessage, str]] = []
        sizes: list[int] = []
        for message in messages:
            body = payload(message)
            encoded = limits.encoded(body)  # serialized once: its size, then the call's body
            if reason := limits.problem(body, len(encoded)):
                outcomes[message.id] = _failed_alone(message.id, f"not sent: {reason}", reason)
                continue
            sendable.append((message, encoded))
            sizes.append(len(encoded))
        for call in limits.pack(sendable, sizes):
            outcomes.update((o.mail_id, o) for o in self._send_or_split(call))
        return [outcomes[m.id] for m in messages]

    def _send_or_split(self, call: Sequence[tuple[MailMessage, str]]) -> list[Outcome]:
        """One call; refused as a whole, its halves are sent again until the message at fault stands alone
        (one bad message among 50 costs 13 calls)."""
        try:
            return self._call([message for message, _ in call], [encoded for _, encoded in call])
        except WholeRefusal as refusal:
            if len(call) == 1:
                return [_failed_alone(call[0][0].id, refusal.reason, refusal.code)]
            half = (len(call) + 1) // 2
            return self._send_or_split(call[:half]) + self._send_or_split(call[half:])

    def _call(self, messages: Sequence[MailMessage], encoded: list[str]) -> list[Outcome]:
        """One call to the Send API; WholeRefusal when Mailjet accepted none of it for what it carries.

        The body is the messages' JSON joined as ``json.dumps({"Messages": [...]})`` writes it (ASCII), so that
        neither the client nor requests serializes it again; the client's Idempotency-Key (a hash of the
        payload it would compute with one more serialization) is the SHA-256 of these bytes, CustomIDs included."""
        data = f'{{"Messages": [{", ".join(encoded)}]}}'.encode("ascii")
        try:
            response = self.send_client.send.create(data=data, timeout=self.timeout,
                                                    headers={"Idempotency-Key": hashlib.sha256(data).hexdigest()})
        except MailjetApiError as exc:  # the client raises for every answer that is not 2xx
            return _refusal(messages, exc)
        except (MailjetNetworkError, requests.RequestException, ApiError) as exc:
            if _cause_status(exc) == 413:  # Mailjet's front refuses an oversized request, HTML body
                raise WholeRefusal(TOO_LARGE, "HTTP 413") from None
            # A timeout or a dropped connection: Mailjet may have accepted them before the answer was
            # lost (and a 5xx may come after acceptance): reconcile before any resend.
            return [Outcome(m.id, "unknown", error=type(exc).__name__) for m in messages]
        return _outcomes(messages, _json(response.text))

    def accepted(self, mail_id: int) -> str | None:
        """Mailjet's id of this message if it holds it (None: it never arrived); errors raise."""
        response = self.rest_client.message.get(filters={"CustomID": custom_id(mail_id)}, timeout=self.timeout)
        if response.status_code != 200:
            raise RuntimeError(f"Mailjet lookup answered {response.status_code}")
        data = response.json().get("Data") or []
        return str(data[0].get("ID")) if data else None


class WholeRefusal(Exception):
    """Mailjet refused a call as a whole (nothing accepted) without saying which message is at fault."""

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(reason)
        self.reason, self.code = reason[:500], code


def _failed_alone(mail_id: int, reason: str, code: str) -> Outcome:
    """A message refused for good; ``code`` names the rule or Mailjet's error code, never an address."""
    log.warning("Mailjet: message %s failed alone, not retried: %s", mail_id, code)
    return Outcome(mail_id, "refused", error=reason)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _refusal(messages: Sequence[MailMessage], exc: MailjetApiError) -> list[Outcome]:
    status = exc.status_code or _cause_status(exc)
    if status == 413:
        raise WholeRefusal(TOO_LARGE, "HTTP 413")
    if status == 400:
        body = _json(exc.response_body)
        if isinstance(body, dict) and isinstance(body.get("Messages"), list):
            return _outcomes(messages, body)  # per message: some accepted, some refused, in one call
        code = str(body.get("ErrorCode") or "") if isinstance(body, dict) else ""
        text = str(body.get("ErrorMessage") or "") if isinstance(body, dict) else ""
        raise WholeRefusal(f"refused as a whole: HTTP 400 {code} {text}".strip(), f"HTTP 400 {code}".strip())
    if status == 429:
        return [Outcome(m.id, "retry", error="HTTP 429") for m in messages]
    if status >= 500 or status == 0:
        return [Outcome(m.id, "unknown", error=f"HTTP {status}") for m in messages]
    # Credentials or the request itself refused as a whole: nothing was sent; retry once it is fixed.
    return [Outcome(m.id, "retry", error=f"HTTP {status}") for m in messages]


def _cause_status(exc: BaseException) -> int:
    response = getattr(exc.__cause__, "response", None)
    return int(getattr(response, "status_code", 0) or 0)


def _outcomes(messages: Sequence[MailMessage], body: Any) -> list[Outcome]:
    results = body.get("Messages") if isinstance(body, dict) else None
    if isinstance(results, list) and len(results) == len(messages):
        return [_one(m, r) for m, r in zip(messages, results, strict=True)]
    # Accepted (or answered per message) in a shape that cannot be read: ask Mailjet before resending.
    return [Outcome(m.id, "unknown", error="unreadable answer") for m in messages]


def _one(message: MailMessage, result: dict[str, Any]) -> Outcome:
    if result.get("Status") == "success":
        recipients = result.get("To") or [{}]
        return Outcome(message.id, "sent", provider_id=str(recipients[0].get("MessageID") or ""))
    errors = result.get("Errors") or [{}]
    code = int(errors[0].get("StatusCode") or 400)
    text = f"{errors[0].get('ErrorCode', '')} {errors[0].get('ErrorMessage', '')}".strip()[:500]
    if code == 429 or code >= 500:
        return Outcome(message.id, "retry", error=text)
    # The error message may quote the address: the log names the code and the property only.
    related = ",".join(str(r) for r in errors[0].get("ErrorRelatedTo") or [])
    return _failed_alone(message.id, text, f"{errors[0].get('ErrorCode', '')} {related}".strip())
