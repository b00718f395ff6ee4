"""The one rule for e-mail addresses: what the platform accepts wherever an address comes in (form fields,
the command line, accounts) is exactly what the mailer can send to.

The rule is email-validator's, without a DNS lookup (no request waits on the network): an address as
RFC 5321 allows it in practice (no quoted mailbox, no IP literal, a mailbox of 64 characters and an
address of 254 at most), whose domain has a dot and is no special-use or reserved name (``localhost``,
``.test``, ``.local``, ``.invalid``, ``.onion``, ``.arpa``: RFC 2606, 6761, 6762, 7686), since no mail
reaches those. ``example.org`` and its subdomains pass (RFC 6761 asks applications to accept them): the
demo's organizers and the tests use them.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


class AddressError(ValueError):
    """An address no mail can reach; its message says why and never names the address."""


def checked(value: str) -> str:
    """``value`` as mail reaches it: trimmed, its domain lower-cased and normalised (IDNA, NFC), its mailbox as
    written; AddressError when no mail can reach it."""
    try:
        return validate_email(value.strip(), check_deliverability=False, strict=True).normalized
    except EmailNotValidError as exc:
        raise AddressError(_reason(exc)) from None


def reaches(value: str) -> bool:
    """Whether mail can reach ``value`` (the rule of ``checked``)."""
    try:
        checked(value)
    except AddressError:
        return False
    return True


def _reason(exc: EmailNotValidError) -> str:
    """email-validator's explanation, which names parts of an address at most (a character, never the whole)."""
    return f"this address cannot receive mail: {exc}"
