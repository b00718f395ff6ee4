"""A loopback fake of the Mailjet Send API v3.1 (plus the v3 ``message`` lookup), for tests.

``FakeMailjet`` runs a stdlib ``ThreadingHTTPServer`` on ``127.0.0.1:<free port>`` (HTTP/1.1 with
keep-alive, daemon threads) and is driven by the real ``mailjet_rest`` client::

    with FakeMailjet() as fake:
        client = Client(auth=(fake.api_key, fake.api_secret), version="v3.1", api_url=fake.url)
        client.send.create(data={"Messages": [...]}, timeout=5)
        assert fake.custom_ids() == [...]

Endpoints
---------
``POST /v3.1/send`` with ``{"Messages": [...]}`` (``"Globals"`` is merged into every message,
``"SandboxMode"`` is honoured, see below).

* Refused as a whole (HTTP 400 ``{"ErrorIdentifier", "ErrorCode", "StatusCode": 400, "ErrorMessage"}``,
  no per-message statuses, nothing recorded), as Mailjet documents its global errors: a body over
  ``fake.max_payload`` bytes (15,000,000 by default: "15 MB", ``mj-0011``), malformed JSON
  (``mj-0002``), ``Messages`` missing or not a list (``mj-0003``/``mj-0004``), empty (``mj-0007``)
  or holding more than 50 messages (``mj-0008``).
* Otherwise every message is validated on its own: ``From.Email`` and at least one ``To[].Email``
  present and shaped like an address (``Cc``/``Bcc`` entries too when given), ``Subject`` present
  and at most 255 characters (counted in UTF-16 code units, the stricter reading; ``mj-0006``),
  ``TextPart`` or ``HTMLPart`` present, ``CustomID`` a string when given, at most 50 recipients in
  ``To``, ``Cc`` and ``Bcc`` together (``send-0015``), at most 50 ``Attachments``,
  ``InlinedAttachments``, ``Headers`` or ``Variables`` (``mj-0008``), and no header in ``Headers``
  that a message property sets (``From``, ``Sender``, ``To``, ``Cc``, ``Bcc``, ``Subject``,
  ``Reply-To`` and Mailjet's own ``X-MJ-*``/``X-Mailjet-*``: ``send-0011``, our reading of
  "headers that have a property alternative"). A recipient listed in ``fake.refuse``
  (case-insensitive) is refused as a "blocked recipient"; a call carrying a recipient listed in
  ``fake.refuse_whole`` is refused as a whole (a global ``mj-0002``): an injected stand-in for a
  message that makes Mailjet refuse its whole call in a way the documented limits do not foresee.
* A valid message gets ``{"Status": "success", "CustomID": <id or "">, "To": [...], "Cc": [...],
  "Bcc": [...]}`` where each recipient is ``{"Email", "MessageUUID", "MessageID", "MessageHref"}``
  (one MessageID per recipient, as on Mailjet; ``Bcc`` is ``[]`` when the message had none).
  MessageIDs increase and start at 2**58 by default: real Mailjet IDs do not fit in 32 bits.
* An invalid message gets ``{"Status": "error", "CustomID": ..., "Errors": [{"ErrorIdentifier",
  "ErrorCode", "StatusCode": 400, "ErrorMessage", "ErrorRelatedTo": [...]}]}``. Error codes follow
  Mailjet's (``mj-0003`` missing property, ``mj-0004`` type mismatch, ``mj-0013`` invalid or
  blocked address, ``send-0003`` no content) but only the shape is meant to be faithful.
* HTTP status: 200 when every message succeeded, 400 when at least one is in error.
  **Choice:** in a 400 batch the valid messages are still accepted, recorded and answered with
  their MessageIDs (``Status: "success"`` entries next to the ``"error"`` ones), so code under
  test must read the per-message statuses of a 400 instead of treating the whole batch as refused.
  Note that ``mailjet_rest`` 1.9.1 raises on any non-2xx answer (``ValidationError`` for 400): the
  JSON body is then in ``exc.response_body`` (and ``exc.__cause__.response``).
* ``"SandboxMode": true``: validated and answered exactly the same way, but the accepted messages
  go to ``fake.sandboxed`` instead of ``fake.messages`` and are invisible to the lookup (Mailjet
  sends nothing in sandbox mode).

``GET /v3/REST/message?CustomID=<id>`` answers ``{"Count": n, "Total": n, "Data": [{"ID",
"CustomID", "Status": "sent", "ArrivedAt", "UUID", "ContactAlt"}]}`` with one entry per recipient
MessageID of every accepted message carrying that CustomID (``Data`` empty when none; every
message when no CustomID filter is given). ``GET /v3/REST/message/<ID>`` answers that one entry
(404 when unknown). Any other path answers 404.

Every request must carry the right Basic auth (``fake.api_key``/``fake.api_secret``), otherwise
HTTP 401 ``{"ErrorMessage": ...}``.

Recording (all thread-safe)
---------------------------
``fake.messages``: every accepted message dict as received (after ``Globals`` merge), plus
``"MessageID"`` (of its first recipient) and ``"MessageIDs"`` (every recipient, To then Cc then
Bcc). ``fake.refused``: ``{"CustomID", "Errors"}`` of every message refused one by one (a call
refused as a whole records none: its messages were never read); ``fake.refused_ids()`` their
CustomIDs. ``fake.calls``: number of ``POST /v3.1/send`` requests received (failed, faulted and
unauthorised ones included). ``fake.custom_ids()``: the CustomID of each accepted message in
arrival order (``""`` when it had none, duplicates kept). ``fake.recipients()``: every recipient
address (To, Cc, Bcc) of each accepted message in arrival order. ``fake.reset()`` forgets
recordings, ``calls``, pending faults, ``refuse`` and ``refuse_whole`` (MessageIDs keep increasing;
``max_payload`` stays).

Fault injection
---------------
``fake.fail_next(kind, times=1)`` queues faults; each authenticated ``POST /v3.1/send`` consumes
one, in order (lookups never consume faults):

* ``"429"``: HTTP 429 ``{"ErrorMessage": "Too many requests"}`` with ``Retry-After: 1``, nothing
  recorded; ``"500"``, ``"502"``, ``"503"``: that status, nothing recorded.
* ``"timeout_before"``: sleeps ``fake.timeout_seconds`` (default 3), then closes the connection
  without answering; nothing recorded (Mailjet never got the request).
* ``"timeout_after"``: the messages are accepted and recorded, then the server sleeps
  ``fake.timeout_seconds`` before answering: a client with a shorter timeout gives up although
  Mailjet accepted them, the case an idempotency ledger reconciles through the CustomID lookup.
* ``"partial"``: the first message of the batch is refused as a blocked recipient, the others are
  processed normally (HTTP 400 overall).
* ``"413"``: HTTP 413 with an HTML body ("413 Request Entity Too Large"), nothing recorded: what
  Mailjet's front answers to an oversized request in practice (mailjet-apiv3-java#171), where its
  documentation promises ``mj-0011``; ``mailjet_rest`` raises a bare ``ApiError`` for it.

``fake.latency`` (seconds, default 0) is added to every answer. Sleeps are cut short when the fake
stops, so leaving the ``with`` block is quick even with a request still sleeping.

Over ``http://`` ``mailjet_rest`` 1.9.1 does not retry (its retrying adapter is mounted for
``https://`` only), so one client call is one request here.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
import socket
import threading
import uuid
from collections import deque
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

MAX_MESSAGES = 50
MAX_PAYLOAD = 15_000_000  # "15 MB", read as the smaller of 15 * 10**6 and 15 * 2**20
MAX_SUBJECT = 255
MAX_RECIPIENTS = 50  # To, Cc and Bcc together
MAX_ITEMS = 50  # Attachments, InlinedAttachments, Headers, Variables
PROPERTY_HEADERS = frozenset({"from", "sender", "to", "cc", "bcc", "subject", "reply-to"})
FAULT_KINDS = frozenset({"413", "429", "500", "502", "503", "timeout_before", "timeout_after", "partial"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_JSON = "application/json; charset=UTF-8"


def _error(code: str, message: str, related: list[str]) -> dict[str, Any]:
    return {
        "ErrorIdentifier": str(uuid.uuid4()),
        "ErrorCode": code,
        "StatusCode": 400,
        "ErrorMessage": message,
        "ErrorRelatedTo": related,
    }


def _batch_error(code: str, message: str) -> dict[str, Any]:
    return {"ErrorIdentifier": str(uuid.uuid4()), "ErrorCode": code, "StatusCode": 400, "ErrorMessage": message}


def _recipients(message: dict[str, Any]) -> list[tuple[str, str]]:
    """``(field, email)`` for every recipient entry of a validated message, To then Cc then Bcc."""
    return [(field, entry["Email"]) for field in ("To", "Cc", "Bcc") for entry in message.get(field) or []]


def _carries(messages: list[Any], emails: set[str]) -> bool:
    """Whether any message names one of ``emails`` (lower case) as a recipient, however malformed it is."""
    entries = [entry for m in messages if isinstance(m, dict) for field in ("To", "Cc", "Bcc")
               for entry in (m.get(field) if isinstance(m.get(field), list) else [])]
    return any(isinstance(e, dict) and str(e.get("Email", "")).lower() in emails for e in entries)


def _validate(message: Any, refused: set[str]) -> list[dict[str, Any]]:
    """The errors of one message (empty when it is valid)."""
    if not isinstance(message, dict):
        return [_error("mj-0004", "Type mismatch: a message must be an object.", ["Messages"])]
    errors: list[dict[str, Any]] = []
    sender = message.get("From")
    if not isinstance(sender, dict) or not sender.get("Email"):
        errors.append(_error("mj-0003", "Missing mandatory property.", ["From.Email"]))
    elif not isinstance(sender["Email"], str) or not _EMAIL.match(sender["Email"]):
        errors.append(_error("mj-0013", f'"{sender["Email"]}" is an invalid email address.', ["From.Email"]))
    for field in ("To", "Cc", "Bcc"):
        entries = message.get(field)
        if entries is None and field != "To":
            continue
        if not isinstance(entries, list) or (field == "To" and not entries):
            errors.append(_error("mj-0003", "Missing mandatory property.", [field]))
            continue
        for index, entry in enumerate(entries):
            where = f"{field}[{index}].Email"
            email = entry.get("Email") if isinstance(entry, dict) else None
            if not email:
                errors.append(_error("mj-0003", "Missing mandatory property.", [where]))
            elif not isinstance(email, str) or not _EMAIL.match(email):
                errors.append(_error("mj-0013", f'"{email}" is an invalid email address.', [where]))
            elif refused and email.lower() in refused:
                errors.append(_error("mj-0013", f'"{email}" is a blocked recipient.', [where]))
    if not message.get("Subject"):
        errors.append(_error("mj-0003", "Missing mandatory property.", ["Subject"]))
    if not message.get("TextPart") and not message.get("HTMLPart"):
        errors.append(_error("send-0003", 'At least "TextPart" or "HTMLPart" must be provided.',
                             ["TextPart", "HTMLPart"]))
    if "CustomID" in message and not isinstance(message["CustomID"], str):
        errors.append(_error("mj-0004", "Type mismatch: CustomID must be a string.", ["CustomID"]))
    return errors + _over_limits(message)


def _over_limits(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The errors of a message beyond the documented per-message limits."""
    errors: list[dict[str, Any]] = []
    subject = message.get("Subject")
    if isinstance(subject, str) and len(subject.encode("utf-16-le")) // 2 > MAX_SUBJECT:
        errors.append(_error("mj-0006", f"Characters limit exceeded for the property. Max allowed - {MAX_SUBJECT}.",
                             ["Subject"]))
    if sum(len(message.get(field) or []) for field in ("To", "Cc", "Bcc")) > MAX_RECIPIENTS:
        errors.append(_error("send-0015", f"The total number of recipients is over the limit of {MAX_RECIPIENTS}.",
                             ["To", "Cc", "Bcc"]))
    for field in ("Attachments", "InlinedAttachments", "Headers", "Variables"):
        if len(message.get(field) or []) > MAX_ITEMS:
            errors.append(_error("mj-0008", f"Max allowed item limit is {MAX_ITEMS}.", [field]))
    headers = message.get("Headers")
    for name in headers if isinstance(headers, dict) else ():
        lowered = str(name).lower()
        if lowered in PROPERTY_HEADERS or lowered.startswith(("x-mj-", "x-mailjet-")):
            errors.append(_error("send-0011", "This header must be set with its message property.",
                                 [f'Headers["{name}"]']))
    return errors


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.server.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, add=False)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _reply(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._reply_raw(status, json.dumps(payload).encode(), _JSON, headers)

    def _reply_raw(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        fake = self.server.fake
        if fake.latency > 0:
            fake._sleep(fake.latency)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _authorised(self) -> bool:
        if self.server.fake._authorised(self.headers.get("Authorization")):
            return True
        self._reply(401, {"ErrorMessage": "API key authentication/authorization failure. You may be unauthorized "
                                          "to access the API or your API key may be expired."},
                    {"WWW-Authenticate": 'Basic realm="Provide an apiKey and secretKey"'})
        return False

    def do_POST(self) -> None:
        body = self._body()
        fake = self.server.fake
        if urlsplit(self.path).path.rstrip("/") != "/v3.1/send":
            if self._authorised():
                self._reply(404, {"ErrorMessage": "Object not found", "StatusCode": 404})
            return
        fake._count_call()
        if not self._authorised():
            return
        fault = fake._next_fault()
        if fault == "429":
            self._reply(429, {"ErrorMessage": "Too many requests", "StatusCode": 429}, {"Retry-After": "1"})
            return
        if fault in {"500", "502", "503"}:
            self._reply(int(fault), {"ErrorMessage": f"Injected HTTP {fault}", "StatusCode": int(fault)})
            return
        if fault == "413":
            self._reply_raw(413, b"<html><body><h1>413 Request Entity Too Large</h1></body></html>", "text/html")
            return
        if fault == "timeout_before":
            fake._sleep(fake.timeout_seconds)
            self.close_connection = True
            return
        status, payload = fake._send(body, partial=fault == "partial")
        if fault == "timeout_after":
            fake._sleep(fake.timeout_seconds)
        self._reply(status, payload)

    def do_GET(self) -> None:
        self._body()
        if not self._authorised():
            return
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/")
        fake = self.server.fake
        if path == "/v3/REST/message":
            custom_id = parse_qs(parts.query).get("CustomID", [None])[0]
            data = fake._lookup(custom_id)
            self._reply(200, {"Count": len(data), "Total": len(data), "Data": data})
            return
        if path.startswith("/v3/REST/message/"):
            found = fake._lookup_id(path.rsplit("/", 1)[1])
            if found is not None:
                self._reply(200, {"Count": 1, "Total": 1, "Data": [found]})
                return
        self._reply(404, {"ErrorMessage": "Object not found", "StatusCode": 404})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeMailjet

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeouts) or a fake that stopped leaves dead sockets: stay quiet.
        pass


class FakeMailjet:
    """The fake Mailjet API on a loopback port; use it as a context manager (or ``start``/``stop``)."""

    def __init__(self, api_key: str = "fake-key", api_secret: str = "fake-secret",
                 first_message_id: int = 2**58) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.latency = 0.0
        self.timeout_seconds = 3.0
        self.refuse: set[str] = set()
        self.refuse_whole: set[str] = set()
        self.max_payload = MAX_PAYLOAD
        self.messages: list[dict[str, Any]] = []
        self.refused: list[dict[str, Any]] = []
        self.sandboxed: list[dict[str, Any]] = []
        self.calls = 0
        self.url = ""
        self._lock = threading.Lock()
        self._faults: deque[str] = deque()
        self._next_id = first_message_id
        self._by_custom_id: dict[str, list[dict[str, Any]]] = {}
        self._by_id: dict[int, dict[str, Any]] = {}
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeMailjet:
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}/"
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-mailjet", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeMailjet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test-facing API -----------------------------------------------------------------------

    def fail_next(self, kind: str, times: int = 1) -> None:
        """Queue ``times`` faults of ``kind`` for the next ``POST /v3.1/send`` calls."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.extend([kind] * times)

    def custom_ids(self) -> list[str]:
        with self._lock:
            return [m.get("CustomID") or "" for m in self.messages]

    def recipients(self) -> list[str]:
        with self._lock:
            return [email for m in self.messages for _, email in _recipients(m)]

    def refused_ids(self) -> list[str]:
        """The CustomID of each message refused one by one, in arrival order."""
        with self._lock:
            return [m.get("CustomID") or "" for m in self.refused]

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self.refused.clear()
            self.sandboxed.clear()
            self.calls = 0
            self._faults.clear()
            self._by_custom_id.clear()
            self._by_id.clear()
            self.refuse.clear()
            self.refuse_whole.clear()

    # -- used by the handler -------------------------------------------------------------------

    def _track(self, connection: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def _sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _authorised(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            given = base64.b64decode(header[6:], validate=True).decode("latin1")
        except (binascii.Error, ValueError):
            return False
        return given == f"{self.api_key}:{self.api_secret}"

    def _count_call(self) -> None:
        with self._lock:
            self.calls += 1

    def _next_fault(self) -> str | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def _whole_refusal(self, body: bytes) -> tuple[list[Any], dict[str, Any]] | dict[str, Any]:
        """The request's messages and the request, or the global error that refuses the call as a whole."""
        if len(body) > self.max_payload:
            return _batch_error("mj-0011", f"Input payload must be less than {self.max_payload / 1e6:g}MB.")
        try:
            request = json.loads(body)
        except ValueError:
            return _batch_error("mj-0002", "Malformed JSON, please review the syntax and properties types.")
        messages = request.get("Messages") if isinstance(request, dict) else None
        if messages is None:
            return _batch_error("mj-0003", 'Missing mandatory property "Messages".')
        if not isinstance(messages, list):
            return _batch_error("mj-0004", 'Type mismatch: "Messages" must be an array.')
        if not messages:
            return _batch_error("mj-0007", '"Messages" cannot be empty.')
        if len(messages) > MAX_MESSAGES:
            return _batch_error("mj-0008", f'"Messages" holds {len(messages)} messages: a call may send up to '
                                           f"{MAX_MESSAGES} messages.")
        if _carries(messages, {address.lower() for address in self.refuse_whole}):
            return _batch_error("mj-0002", "Injected: this call is refused as a whole.")
        return messages, request

    def _send(self, body: bytes, *, partial: bool) -> tuple[int, dict[str, Any]]:
        parsed = self._whole_refusal(body)
        if isinstance(parsed, dict):
            return 400, parsed
        messages, request = parsed
        shared = request.get("Globals")
        if isinstance(shared, dict):
            messages = [{**shared, **m} if isinstance(m, dict) else m for m in messages]
        sandbox = bool(request.get("SandboxMode"))
        refused = {address.lower() for address in self.refuse}

        checked = [_validate(m, refused) for m in messages]
        if partial and not checked[0]:
            checked[0] = [_error("mj-0013", "Blocked recipient (injected partial failure).", ["To[0].Email"])]

        arrived = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        results: list[dict[str, Any]] = []
        with self._lock:
            for message, errors in zip(messages, checked, strict=True):
                custom_id = message.get("CustomID", "") if isinstance(message, dict) else ""
                if errors:
                    results.append({"Status": "error", "CustomID": custom_id, "Errors": errors})
                    self.refused.append({"CustomID": custom_id, "Errors": errors})
                    continue
                result: dict[str, Any] = {"Status": "success", "CustomID": custom_id, "To": [], "Cc": [], "Bcc": []}
                ids: list[int] = []
                for field, email in _recipients(message):
                    message_id = self._next_id
                    self._next_id += 1
                    message_uuid = str(uuid.uuid4())
                    ids.append(message_id)
                    result[field].append({
                        "Email": email,
                        "MessageUUID": message_uuid,
                        "MessageID": message_id,
                        "MessageHref": f"https://api.mailjet.com/v3/REST/message/{message_id}",
                    })
                    if not sandbox:
                        entry = {"ID": message_id, "CustomID": custom_id, "Status": "sent", "ArrivedAt": arrived,
                                 "UUID": message_uuid, "ContactAlt": email}
                        self._by_id[message_id] = entry
                        if custom_id:
                            self._by_custom_id.setdefault(custom_id, []).append(entry)
                record = dict(message)
                record["MessageID"] = ids[0]
                record["MessageIDs"] = ids
                (self.sandboxed if sandbox else self.messages).append(record)
                results.append(result)
        status = 400 if any(checked) else 200
        return status, {"Messages": results}

    def _lookup(self, custom_id: str | None) -> list[dict[str, Any]]:
        with self._lock:
            if custom_id is None:
                return list(self._by_id.values())
            return list(self._by_custom_id.get(custom_id, []))

    def _lookup_id(self, raw: str) -> dict[str, Any] | None:
        if not raw.isdigit():
            return None
        with self._lock:
            return self._by_id.get(int(raw))
