"""Signed values for links in mails (itsdangerous, keyed by the app's SECRET_KEY, one salt per use)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from itsdangerous import BadData, URLSafeSerializer, URLSafeTimedSerializer

_secret = {"key": "unconfigured"}


def configure(secret_key: str) -> None:
    _secret["key"] = secret_key


def key() -> str:
    return _secret["key"]


def dumps(salt: str, value: Any, timed: bool = False) -> str:
    serializer = URLSafeTimedSerializer(key(), salt=salt) if timed else URLSafeSerializer(key(), salt=salt)
    return str(serializer.dumps(value))


def loads(salt: str, token: str, max_age: timedelta | None = None) -> Any:
    """The value signed in ``token``, or None when tampered with (or older than ``max_age``)."""
    try:
        if max_age is not None:
            return URLSafeTimedSerializer(key(), salt=salt).loads(token, max_age=int(max_age.total_seconds()))
        return URLSafeSerializer(key(), salt=salt).loads(token)
    except BadData:
        return None
