"""Keyed fingerprints of addresses: what is kept of an address once the address itself is erased.

An unkeyed SHA-256 of an email address is reversed by hashing a list of likely addresses; an HMAC keyed by
the deployment's secret is not, without the secret. The key is derived from SECRET_KEY (engagement.signing),
so rotating SECRET_KEY forgets which erased addresses must not be written to again (docs/privacy.md).
"""

from __future__ import annotations

import hashlib
import hmac

from engagement import signing

PURPOSE = b"engagement.privacy.address.v1"


def _key() -> bytes:
    return hmac.new(signing.key().encode(), PURPOSE, hashlib.sha256).digest()


def keyed(email: str) -> str:
    """HMAC-SHA256 (hex, 64 characters) of the trimmed, lower-cased address."""
    return hmac.new(_key(), email.strip().lower().encode(), hashlib.sha256).hexdigest()
