"""Database-backed server-side sessions on Flask-Session's interface (the embedded default)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask_session.base import ServerSideSession, ServerSideSessionInterface
from sqlalchemy.orm import Session, sessionmaker

from engagement.db import transaction, utcnow
from engagement.sessions import models


class DatabaseSessionInterface(ServerSideSessionInterface):
    """Only a random id reaches the browser; the payload lives in ``http_sessions``."""

    ttl = False

    def __init__(self, app: Flask, sessions: sessionmaker[Session], **kwargs: Any) -> None:
        self.sessions = sessions
        super().__init__(app, key_prefix="session:", cleanup_n_requests=1000, **kwargs)

    def _retrieve_session_data(self, store_id: str) -> dict[str, Any] | None:
        with self.sessions.kw["bind"].connect() as connection:
            payload = models.load(connection, store_id)
        return None if payload is None else self.serializer.decode(payload)

    def _delete_session(self, store_id: str) -> None:
        with transaction(self.sessions) as session:
            models.remove(session, store_id)

    def _upsert_session(self, session_lifetime: timedelta, session: ServerSideSession, store_id: str) -> None:
        with transaction(self.sessions) as db:
            models.save(db, store_id, self.serializer.encode(session), utcnow() + session_lifetime)

    def _delete_expired_sessions(self) -> None:
        with transaction(self.sessions) as session:
            models.purge_expired(session)
