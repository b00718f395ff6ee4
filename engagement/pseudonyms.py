"""Stable pseudonyms: the same user reads the same everywhere, and nobody without the key can
go back from a pseudonym to the account."""

from __future__ import annotations

import hashlib
import hmac

LENGTH = 10  # 40 bits: tells the actors of a log apart; not meant as a unique key over all members


def pseudonym(user_id: int, key: str, prefix: str = "member") -> str:
    """``member-`` and the first hex characters of HMAC-SHA256(key, user id)."""
    digest = hmac.new(key.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()
    return f"{prefix}-{digest[:LENGTH]}"
