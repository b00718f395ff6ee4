"""The Mailjet transport: the Send API v3.1 through the official client, at most 50 messages a call.

Every message carries ``CustomID = mail-<id>``, so that a call whose answer was lost (a timeout
after Mailjet may have accepted it) can be reconciled by asking Mailjet whether it holds that id,
instead of sending again.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

import requests
from mailjet_rest import Client
from mailjet_rest.errors import ApiError, MailjetApiError, MailjetNetworkError

from engagement.mail.models import MailMessage

BATCH = 50  # the Send API's cap on messages per call
TIMEOUT_SECONDS = 15


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
    name, email = parseaddr(value)
    return {"Email": email, "Name": name} if name else {"Email": email}


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
                                "Base64Content": base64.b64encode(a["content"].encode()).decode()}
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
        """One call for up to 50 messages."""
        if not 0 < len(messages) <= BATCH:
            raise ValueError(f"a call carries 1 to {BATCH} messages")
        try:
            response = self.send_client.send.create(data={"Messages": [payload(m) for m in messages]},
                                                    timeout=self.timeout)
        except MailjetApiError as exc:  # the client raises for every answer that is not 2xx
            return _refusal(messages, exc)
        except (MailjetNetworkError, requests.RequestException, ApiError) as exc:
            # A timeout or a dropped connection: Mailjet may have accepted them before the answer was
            # lost (and a 5xx may come after acceptance): reconcile before any resend.
            return [Outcome(m.id, "unknown", error=type(exc).__name__) for m in messages]
        return _outcomes(messages, response.status_code, _json(response.text))

    def accepted(self, mail_id: int) -> str | None:
        """Mailjet's id of this message if it holds it (None: it never arrived); errors raise."""
        response = self.rest_client.message.get(filters={"CustomID": custom_id(mail_id)}, timeout=self.timeout)
        if response.status_code != 200:
            raise RuntimeError(f"Mailjet lookup answered {response.status_code}")
        data = response.json().get("Data") or []
        return str(data[0].get("ID")) if data else None


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _refusal(messages: Sequence[MailMessage], exc: MailjetApiError) -> list[Outcome]:
    status = exc.status_code or _cause_status(exc)
    if status == 400:  # per message: some accepted, some refused, in one call
        return _outcomes(messages, 400, _json(exc.response_body))
    if status == 429:
        return [Outcome(m.id, "retry", error="HTTP 429") for m in messages]
    if status >= 500 or status == 0:
        return [Outcome(m.id, "unknown", error=f"HTTP {status}") for m in messages]
    # Credentials or the request itself refused as a whole: nothing was sent; retry once it is fixed.
    return [Outcome(m.id, "retry", error=f"HTTP {status}") for m in messages]


def _cause_status(exc: BaseException) -> int:
    response = getattr(exc.__cause__, "response", None)
    return int(getattr(response, "status_code", 0) or 0)


def _outcomes(messages: Sequence[MailMessage], status: int, body: Any) -> list[Outcome]:
    results = body.get("Messages") if isinstance(body, dict) else None
    if isinstance(results, list) and len(results) == len(messages):
        return [_one(m, r) for m, r in zip(messages, results, strict=True)]
    if status == 200:  # accepted, but the answer cannot be read: ask Mailjet before resending
        return [Outcome(m.id, "unknown", error="unreadable answer") for m in messages]
    return [Outcome(m.id, "retry", error=f"HTTP {status}") for m in messages]


def _one(message: MailMessage, result: dict[str, Any]) -> Outcome:
    if result.get("Status") == "success":
        recipients = result.get("To") or [{}]
        return Outcome(message.id, "sent", provider_id=str(recipients[0].get("MessageID") or ""))
    errors = result.get("Errors") or [{}]
    code = int(errors[0].get("StatusCode") or 400)
    text = f"{errors[0].get('ErrorCode', '')} {errors[0].get('ErrorMessage', '')}".strip()[:500]
    return Outcome(message.id, "retry" if code == 429 or code >= 500 else "refused", error=text)
