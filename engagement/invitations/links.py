"""Signed links carried by an invitation: joining (attributed to the inviter) and opting out.

The opt-out link signs a hash of the friend's address, not the invitation, so that it keeps
working after the invitation is erased (say, with the inviter's account).
"""

from __future__ import annotations

from datetime import timedelta

from engagement import signing
from engagement.mail import service as mail
from engagement.mail.suppression import digest as email_hash  # the one fingerprint of an address

JOIN_VALIDITY = timedelta(days=90)


def join_link(invitation_id: int) -> str:
    return mail.absolute(f"/invitation/join/{signing.dumps('invitation-join', invitation_id, timed=True)}")


def read_join(token: str) -> int | None:
    """The invitation id a join link names, or None when tampered with or older than 90 days."""
    value = signing.loads("invitation-join", token, max_age=JOIN_VALIDITY)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def optout_link(email: str) -> str:
    return mail.absolute(f"/invitation/optout/{signing.sign_digest('invitation-optout', email_hash(email))}")


def read_optout(token: str) -> str | None:
    """The address hash an opt-out link names, or None when tampered with."""
    return signing.read_digest("invitation-optout", token)
