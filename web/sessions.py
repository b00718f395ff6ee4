"""Server-side sessions on Flask-Session's interface: in the database (the embedded default) or in
Redis (``REDIS_URL``), where an outage degrades to an empty, unsaved session instead of an error.

Both tell the page cache (web/pagecache.py), before Flask runs, whether a session cookie names a session the
store holds (`KnownSessions.holds`): a made-up or stale cookie is then served the cached public page and
cleared, instead of costing every request a full render."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

from flask import Flask, Request, Response, request
from flask_session.base import ServerSideSession, ServerSideSessionInterface
from flask_session.redis import RedisSession, RedisSessionInterface
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.http import dump_cookie

from engagement.db import transaction, utcnow
from engagement.sessions import models
from web.pagecache import UNDER_ATTACK
from web.resilience import Breaker

log = logging.getLogger(__name__)
_ISSUED = re.compile(r"[A-Za-z0-9_-]+")  # the alphabet of secrets.token_urlsafe, how Flask-Session makes ids


class KnownSessions(ServerSideSessionInterface):
    """Answers the page cache's question about a session cookie cheaply: an id of another shape than the
    store issues is refused without asking it; any other costs one look-up of its key."""

    def holds(self, sid: str) -> bool | None:
        """Whether the store holds a live session ``sid``; None when the store cannot tell (it is down)."""
        issued_length = -(-self.sid_length * 4 // 3)  # token_urlsafe(n): n bytes in unpadded base64
        if len(sid) != issued_length or not _ISSUED.fullmatch(sid):
            return False
        return self._holds(self._get_store_id(sid))

    def _holds(self, store_id: str) -> bool | None:
        raise NotImplementedError

    def clearing_cookie(self, app: Flask) -> str:
        """The Set-Cookie header value that makes a browser drop its session cookie (same path and domain)."""
        return dump_cookie(self.get_cookie_name(app), "", max_age=0, expires=0, path=self.get_cookie_path(app),
                           domain=self.get_cookie_domain(app), secure=self.get_cookie_secure(app),
                           httponly=self.get_cookie_httponly(app), samesite=self.get_cookie_samesite(app))


class DatabaseSessionInterface(KnownSessions):
    """Only a random id reaches the browser; the payload lives in ``http_sessions``."""

    ttl = False

    def __init__(self, app: Flask, sessions: sessionmaker[Session], **kwargs: Any) -> None:
        self.sessions = sessions
        super().__init__(app, key_prefix="session:", cleanup_n_requests=1000, **kwargs)

    def _retrieve_session_data(self, store_id: str) -> dict[str, Any] | None:
        payload = models.load_outside_transaction(self.sessions.kw["bind"], store_id)
        return None if payload is None else self.serializer.decode(payload)

    def _holds(self, store_id: str) -> bool:
        with self.sessions.kw["bind"].connect() as connection:
            return models.holds(connection, store_id)

    def _delete_session(self, store_id: str) -> None:
        with transaction(self.sessions) as session:
            models.remove(session, store_id)

    def _upsert_session(self, session_lifetime: timedelta, session: ServerSideSession, store_id: str) -> None:
        with transaction(self.sessions) as db:
            models.save(db, store_id, self.serializer.encode(session), utcnow() + session_lifetime)

    def _cleanup_n_requests(self) -> None:
        if not request.environ.get(UNDER_ATTACK):  # under attack nothing writes to the database
            super()._cleanup_n_requests()

    def _delete_expired_sessions(self) -> None:
        with transaction(self.sessions) as session:
            models.purge_expired(session)


class StandInSession(RedisSession):
    """The empty session of a request the session store could not serve: never saved."""

    unavailable = True


class ResilientRedisSessionInterface(KnownSessions, RedisSessionInterface):
    """Redis sessions that survive Redis: an error gives an empty stand-in session, never a 500.

    The stand-in keeps the browser's session id and is never written back, so the session stored
    before the outage is found again once Redis answers. A breaker keeps requests off a dead Redis
    for a few seconds after each failure (no timeout paid by every request)."""

    def __init__(self, app: Flask, client: Redis, key_prefix: str, breaker: Breaker | None = None) -> None:
        super().__init__(app, client=client, key_prefix=key_prefix)
        self.breaker = breaker or Breaker("session store (Redis)")

    def open_session(self, app: Flask, request: Request) -> ServerSideSession:
        if not self.breaker.is_open:
            try:
                return super().open_session(app, request)
            except RedisError as error:
                self.breaker.trip(error)
        sid = request.cookies.get(self.get_cookie_name(app)) or self._generate_sid(self.sid_length)
        return StandInSession(sid=sid, permanent=self.permanent)

    def save_session(self, app: Flask, session: ServerSideSession, response: Response) -> None:
        if getattr(session, "unavailable", False):
            return  # an empty stand-in must not replace (or delete) what Redis holds
        if self.breaker.is_open:
            if session.modified:
                log.warning("session store down: this request's session changes are not saved")
            return
        try:
            super().save_session(app, session, response)
        except RedisError as error:
            self.breaker.trip(error)
            log.warning("session store down: this request's session changes are not saved")

    def _holds(self, store_id: str) -> bool | None:
        if self.breaker.is_open:
            return None
        try:
            found = bool(self.client.exists(store_id))
        except RedisError as error:
            self.breaker.trip(error)
            return None
        self.breaker.succeeded()
        return found

    def answers(self) -> bool:
        """Whether Redis answers a PING now (False at once while the breaker is open)."""
        if self.breaker.is_open:
            return False
        try:
            self.client.ping()
        except RedisError as error:
            self.breaker.trip(error)
            return False
        self.breaker.succeeded()
        return True

    # What touches Redis closes the breaker when it answers.
    def _retrieve_session_data(self, store_id: str) -> dict[str, Any] | None:
        data = super()._retrieve_session_data(store_id)
        self.breaker.succeeded()
        return data

    def _upsert_session(self, session_lifetime: timedelta, session: ServerSideSession, store_id: str) -> None:
        super()._upsert_session(session_lifetime, session, store_id)
        self.breaker.succeeded()

    def _delete_session(self, store_id: str) -> None:
        super()._delete_session(store_id)
        self.breaker.succeeded()

    def regenerate(self, session: ServerSideSession) -> None:
        try:
            super().regenerate(session)
        except RedisError as error:  # the old id could not be deleted: it expires on its own
            self.breaker.trip(error)
            session.sid = self._generate_sid(self.sid_length)
            session.modified = True
