"""Keyed fingerprints of addresses: what is kept of an address once the address itself is erased.

An unkeyed SHA-256 of an email address is reversed by hashing a list of likely addresses; an HMAC keyed by
the deployment's secret is not, without the secret. The key is derived from SECRET_KEY (engagement.signing),
so rotating SECRET_KEY forgets which erased addresses must not be written to again (docs/privacy.md).
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from engagement import signing

PURPOSE = b"engagement.privacy.address.v1"


@lru_cache(maxsize=4)
def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), PURPOSE, hashlib.sha256).digest()


def keyed(email: str) -> str:
    """HMAC-SHA256 (hex, 64 characters) of the trimmed, lower-cased address (``blocked`` hashes every
    recipient of a campaign: the key is derived once per secret, not once per address)."""
    return hmac.digest(_key(signing.key()), email.strip().lower().encode(), "sha256").hex()  # one-shot, in C
