"""The request's core and database session (read side); writes use `engagement.db.transaction`."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session, sessionmaker

from engagement.core import Core


def current_core() -> Core:
    """The application's core (settings, engine, sessions, relay), built once by the factory."""
    return current_app.extensions["engagement"]


def sessions() -> sessionmaker[Session]:
    return current_app.extensions["engagement"].sessions


def db() -> Session:
    if "db" not in g:
        g.db = sessions()()
    return g.db


def release() -> None:
    """Close the request's reading session now (the next ``db()`` opens another)."""
    found = g.pop("db", None)
    if found is not None:
        found.close()
