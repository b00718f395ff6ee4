"""A loopback fake of Algolia's Search REST API, for tests: the real ``algoliasearch`` v4 client talks to it.

``FakeAlgolia`` runs a stdlib ``ThreadingHTTPServer`` on ``127.0.0.1:<free port>``; point the client
at it with ``ALGOLIA_HOSTS=fake.host`` (``http://127.0.0.1:PORT``) and the fake's app id and key::

    with FakeAlgolia() as fake:
        env = {"ALGOLIA_APP_ID": fake.app_id, "ALGOLIA_API_KEY": fake.api_key, "ALGOLIA_HOSTS": fake.host}
        ...
        assert fake.objects("engagement")["event-1"]["title"] == "..."

Endpoints (what the sync client calls for the helpers the platform uses)
-----------------------------------------------------------------------
* ``POST /1/indexes/{index}/batch`` ``{"requests": [{"action", "body"}]}``: ``addObject`` and
  ``updateObject`` replace the record by ``objectID`` (one is made up when missing),
  ``partialUpdateObject`` merges, ``deleteObject`` removes, ``clear`` empties. Answers ``{"taskID",
  "objectIDs"}``. ``save_objects``, ``delete_objects`` and ``replace_all_objects`` use it.
* ``POST /1/indexes/{index}/query``: the JSON search parameters ``query``, ``filters``,
  ``hitsPerPage`` (default 20), ``page``. Every folded (accents and case ignored) word of the query must
  be a prefix of a word of a string attribute; ``filters`` takes ``attr:value``, ``attr:"value"`` and
  ``attr > N`` (also ``>=``, ``<``, ``<=``, ``=``) joined by ``AND`` (anything else: 400). Hits are
  sorted by title matches, then ``begins_at``, then objectID. Answers ``hits``, ``nbHits``, ``page``,
  ``nbPages``, ``hitsPerPage``, ``processingTimeMS``, ``query``, ``params``.
* ``PUT`` / ``GET /1/indexes/{index}/settings``, ``POST /1/indexes/{index}/clear``,
  ``DELETE /1/indexes/{index}/{objectID}``, ``DELETE /1/indexes/{index}``,
  ``POST /1/indexes/{index}/operation`` (``copy`` with or without ``scope``, ``move``),
  ``GET /1/indexes/{index}/task/{taskID}`` (always ``published``: writes apply at once).
* Any other path: 404 ``{"message", "status"}``. Wrong ``x-algolia-application-id`` or
  ``x-algolia-api-key``: 403, as Algolia answers.

Recording (thread-safe): ``fake.saved`` (every record written, in order), ``fake.deleted`` (every
objectID deleted), ``fake.calls`` (requests received), ``fake.objects(index)``, ``fake.settings(index)``.

Failures
--------
``fake.fail_next("503", times=2)`` answers the next requests with that status (``500``, ``502``,
``503``) or, for ``"timeout"``, sleeps ``fake.timeout_seconds`` then closes the connection.
``fake.down()`` stops listening (connections are refused: Algolia unreachable) and ``fake.up()``
listens again on the same port; ``fake.down("503")`` answers every request 503 instead, until ``up()``.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import socket
import threading
import time
import unicodedata
from collections import deque
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

FAULTS = frozenset({"500", "502", "503", "timeout"})
_INDEX_PATH = re.compile(r"^/1/indexes/(?P<index>[^/]+)(?:/(?P<rest>.*))?$")
_FILTER = re.compile(r'^(?P<attr>[\w.]+)\s*(?:(?P<op>>=|<=|!=|>|<|=)\s*(?P<number>-?\d+(?:\.\d+)?)'
                     r'|:\s*(?:"(?P<quoted>[^"]*)"|(?P<bare>[^\s"]+)))$')


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "oe"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", _fold(text))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class FilterError(ValueError):
    """A filter string the fake does not understand."""


def _matches_filters(record: dict[str, Any], filters: str) -> bool:
    for clause in filter(None, (c.strip() for c in re.split(r"\s+AND\s+", filters.strip()) if filters.strip())):
        found = _FILTER.match(clause)
        if found is None:
            raise FilterError(f"filters: cannot parse {clause!r}")
        value = record.get(found["attr"])
        if found["op"]:
            if not isinstance(value, int | float):
                return False
            number = float(found["number"])
            if not {">": value > number, ">=": value >= number, "<": value < number, "<=": value <= number,
                    "=": value == number, "!=": value != number}[found["op"]]:
                return False
        elif str(value if value is not None else "") != (found["quoted"] if found["quoted"] is not None
                                                        else found["bare"]):
            return False
    return True


def _search(records: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    terms = _words(str(params.get("query") or ""))
    per_page = int(params.get("hitsPerPage") or 20)
    page = int(params.get("page") or 0)
    matched = []
    for record in records:
        if not _matches_filters(record, str(params.get("filters") or "")):
            continue
        words = [w for key, v in record.items() if isinstance(v, str) and not key.startswith("_") for w in _words(v)]
        if all(any(w.startswith(t) for w in words) for t in terms):
            title = _words(str(record.get("title") or ""))
            in_title = sum(any(w.startswith(t) for w in title) for t in terms)
            matched.append((-in_title, record.get("begins_at") or 0, record["objectID"], record))
    matched.sort(key=lambda item: item[:3])
    hits = [item[3] for item in matched]
    return {"hits": hits[page * per_page:(page + 1) * per_page], "nbHits": len(hits), "page": page,
            "nbPages": -(-len(hits) // per_page), "hitsPerPage": per_page, "processingTimeMS": 1,
            "exhaustiveNbHits": True, "query": params.get("query") or "", "params": ""}


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

    def _reply(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        if self.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        return json.loads(raw) if raw else {}

    def _handle(self) -> None:
        fake = self.server.fake
        body = self._json()
        fake._count_call()
        if (self.headers.get("x-algolia-application-id"), self.headers.get("x-algolia-api-key")) != (
                fake.app_id, fake.api_key):
            self._reply(403, {"message": "Invalid Application-ID or API key", "status": 403})
            return
        fault = fake._next_fault()
        if fault == "timeout":
            fake._sleep(fake.timeout_seconds)
            self.close_connection = True
            return
        if fault is not None:
            self._reply(int(fault), {"message": f"Injected HTTP {fault}", "status": int(fault)})
            return
        found = _INDEX_PATH.match(urlsplit(self.path).path)
        if found is None:
            self._reply(404, {"message": "Not found", "status": 404})
            return
        try:
            status, payload = fake._route(self.command, unquote(found["index"]), found["rest"] or "", body)
        except (FilterError, KeyError, TypeError, ValueError) as exc:
            status, payload = 400, {"message": str(exc), "status": 400}
        self._reply(status, payload)

    do_GET = do_POST = do_PUT = do_DELETE = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    fake: FakeAlgolia

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that gave up, or a fake that stopped, leave dead sockets


class FakeAlgolia:
    """The fake Algolia on a loopback port; a context manager (or ``start``/``stop``)."""

    def __init__(self, app_id: str = "FAKEAPPID", api_key: str = "fake-admin-key") -> None:
        self.app_id, self.api_key = app_id, api_key
        self.timeout_seconds = 3.0
        self.saved: list[dict[str, Any]] = []
        self.deleted: list[str] = []
        self.calls = 0
        self.port = 0
        self._indexes: dict[str, dict[str, dict[str, Any]]] = {}
        self._settings: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()
        self._faults: deque[str] = deque()
        self._outage: str | None = None
        self._task = 0
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeAlgolia:
        self._stopping.clear()
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.fake = self
        self._server, self.port = server, server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-algolia", daemon=True)
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
        self._server = self._thread = None

    def __enter__(self) -> FakeAlgolia:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test-facing API ---------------------------------------------------------------------------

    def fail_next(self, kind: str, times: int = 1) -> None:
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; expected one of {sorted(FAULTS)}")
        with self._lock:
            self._faults.extend([kind] * times)

    def down(self, mode: str = "refuse") -> None:
        """Algolia unreachable: connections refused (``refuse``) or every answer a 503 (``503``)."""
        if mode == "refuse":
            self.stop()
        elif mode == "503":
            self._outage = "503"
        else:
            raise ValueError("mode is refuse or 503")

    def up(self) -> None:
        self._outage = None
        if self._server is None:
            self.start()

    def objects(self, index: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {key: dict(value) for key, value in self._indexes.get(index, {}).items()}

    def settings(self, index: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._settings.get(index, {}))

    # -- used by the handler -----------------------------------------------------------------------

    def _track(self, connection: socket.socket, *, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(connection)

    def _sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _count_call(self) -> None:
        with self._lock:
            self.calls += 1

    def _next_fault(self) -> str | None:
        with self._lock:
            if self._outage:
                return self._outage
            return self._faults.popleft() if self._faults else None

    def _next_task(self) -> int:
        self._task += 1
        return self._task

    def _route(self, verb: str, index: str, rest: str, body: Any) -> tuple[int, Any]:
        with self._lock:
            records = self._indexes.setdefault(index, {}) if verb != "GET" or index in self._indexes else None
            if verb == "POST" and rest == "batch":
                return 200, {"taskID": self._next_task(), "objectIDs": self._batch(index, body["requests"])}
            if verb == "POST" and rest == "query":
                return 200, _search(list((records or {}).values()), body)
            if rest == "settings" and verb == "PUT":
                self._settings.setdefault(index, {}).update(body)
                return 200, {"taskID": self._next_task(), "updatedAt": _now()}
            if rest == "settings" and verb == "GET":
                if records is None:
                    return 404, {"message": "Index does not exist", "status": 404}
                return 200, self._settings.get(index, {})
            if verb == "POST" and rest == "clear":
                self._indexes[index] = {}
                return 200, {"taskID": self._next_task(), "updatedAt": _now()}
            if verb == "POST" and rest == "operation":
                self._operation(index, body)
                return 200, {"taskID": self._next_task(), "updatedAt": _now()}
            if verb == "GET" and rest.startswith("task/"):
                return 200, {"status": "published"}
            if verb == "DELETE" and not rest:
                self._indexes.pop(index, None)
                self._settings.pop(index, None)
                return 200, {"taskID": self._next_task(), "deletedAt": _now()}
            if verb == "DELETE" and "/" not in rest:
                self._delete(index, unquote(rest))
                return 200, {"taskID": self._next_task(), "deletedAt": _now()}
        return 404, {"message": f"{verb} {rest or '/'} is not faked", "status": 404}

    def _batch(self, index: str, requests: list[dict[str, Any]]) -> list[str]:
        ids = []
        for request in requests:
            action, body = request["action"], dict(request.get("body") or {})
            if action in ("addObject", "updateObject"):
                body.setdefault("objectID", f"fake-{time.monotonic_ns()}")
                self._indexes[index][body["objectID"]] = body
                self.saved.append(body)
            elif action == "partialUpdateObject":
                merged = {**self._indexes[index].get(body["objectID"], {}), **body}
                self._indexes[index][body["objectID"]] = merged
                self.saved.append(merged)
            elif action == "deleteObject":
                self._delete(index, body["objectID"])
            elif action == "clear":
                self._indexes[index] = {}
            else:
                raise ValueError(f"batch action {action!r} is not faked")
            ids.append(body.get("objectID", ""))
        return ids

    def _delete(self, index: str, object_id: str) -> None:
        self._indexes.setdefault(index, {}).pop(object_id, None)
        self.deleted.append(object_id)

    def _operation(self, index: str, body: dict[str, Any]) -> None:
        destination, scope = body["destination"], body.get("scope")
        if body["operation"] == "copy":
            if scope is None or "records" in scope:
                self._indexes[destination] = dict(self._indexes.get(index, {}))
            if scope is None or "settings" in scope:
                self._settings[destination] = dict(self._settings.get(index, {}))
        elif body["operation"] == "move":
            self._indexes[destination] = self._indexes.pop(index, {})
            self._settings[destination] = self._settings.pop(index, {})
        else:
            raise ValueError(f"operation {body['operation']!r} is not faked")
