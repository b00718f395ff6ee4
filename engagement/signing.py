"""Signed values for links in mails (itsdangerous, keyed by the app's SECRET_KEY, one salt per use)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadData, Signer, URLSafeSerializer, URLSafeTimedSerializer

_secret = {"key": "unconfigured"}
LOGIN_STAMP = 16  # hex characters of the stamp in a session's account id


def login_id(user_id: int, created_at: datetime) -> str:
    """What a session stores to name its account: the id and a stamp of the account's creation, so that a
    session never names another account given the same id later (SQLite reuses the highest id once it is
    deleted: an erased member's other session must not open the next member's account)."""
    moment = created_at.astimezone(UTC).isoformat(timespec="seconds")
    stamp = hmac.new(key().encode(), f"login:{user_id}:{moment}".encode(), hashlib.sha256).hexdigest()
    return f"{user_id}.{stamp[:LOGIN_STAMP]}"


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


def sign_digest(salt: str, hexdigest: str) -> str:
    """A short token naming a SHA-256 (of an address, say): 43 characters of it, then the signature."""
    raw = base64.urlsafe_b64encode(bytes.fromhex(hexdigest)).rstrip(b"=")
    return Signer(key(), salt=salt).sign(raw).decode()


def read_digest(salt: str, token: str) -> str | None:
    """The SHA-256 (hex) a ``sign_digest`` token names, or None when tampered with."""
    try:
        raw = Signer(key(), salt=salt).unsign(token.encode())
        digest = base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
    except (BadData, binascii.Error, ValueError):
        return None
    return digest.hex() if len(digest) == 32 else None
