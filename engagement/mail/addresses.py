"""The one rule for e-mail addresses: what the platform accepts wherever an address comes in (form fields,
the command line, accounts) is exactly what the mailer can send to.

The rule is email-validator's, without a DNS lookup (no request waits on the network): an address as
RFC 5321 allows it in practice (no quoted mailbox, no IP literal, a mailbox of 64 characters and an
address of 254 at most), whose domain has a dot and is no special-use or reserved name, since no mail
reaches those. email-validator refuses ``localhost``, ``.test``, ``.local``, ``.invalid``, ``.onion`` and
``.arpa`` (RFC 2606, 6761, 6762, 7686); this rule adds what it lets through (``RESERVED``) and a top-level
domain of one character (none exists). ``example.org``, ``example.com``, ``example.net`` and their
subdomains pass (RFC 6761 asks applications to accept them): the demo's organizers and the tests use them.

A refusal says which part is wrong (``AddressError.kind``), so that a form can tell the visitor what to fix.
"""

from __future__ import annotations

import re
import unicodedata
from email.utils import parseaddr

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from email_validator.rfc_constants import EMAIL_MAX_LENGTH, LOCAL_PART_MAX_LENGTH

from engagement.mail import headers

# Names no mail reaches that email-validator accepts, each with its subdomains. "example" is the top-level
# domain (``x@foo.example``), not example.org under .org.
RESERVED = (
    "example",  # documentation (RFC 2606, 6761)
    "alt",  # non-DNS resolution (RFC 9476)
    "internal",  # private use (ICANN, 2024)
    "corp", "home", "mail",  # never delegated: name collisions (ICANN, 2018)
    "lan", "intranet", "private", "localdomain",  # private networks' habits (RFC 6762 appendix G)
)
UNREACHABLE_DOMAINS = (*SPECIAL_USE_DOMAIN_NAMES, *RESERVED)  # email-validator's list is read, never changed
DOTS = str.maketrans({"\u3002": "."})  # the ideographic full stop IDNA reads as a dot (NFKC maps the others)
HOST_LABEL = re.compile(r"[^\W_](?:[\w-]*[^\W_])?")

# AddressError.kind: what a visitor is told to fix.
SYNTAX, DOMAIN, MAILBOX_LENGTH, LENGTH = "syntax", "domain", "mailbox_length", "length"


class AddressError(ValueError):
    """An address no mail can reach; its message says why and never names the address; ``kind`` says which
    part is wrong: SYNTAX, DOMAIN (well formed, but no mail reaches it), MAILBOX_LENGTH or LENGTH."""

    def __init__(self, message: str, kind: str = SYNTAX) -> None:
        super().__init__(message)
        self.kind = kind


def checked(value: str) -> str:
    """``value`` as mail reaches it: trimmed, its domain lower-cased and normalised (IDNA, NFC), its mailbox as
    written; AddressError when no mail can reach it."""
    value = value.strip()
    try:
        result = validate_email(value, check_deliverability=False, strict=True)
    except EmailNotValidError as exc:
        raise AddressError(f"this address cannot receive mail: {exc}", _kind(value)) from None
    if unreachable_domain(result.ascii_domain):
        raise AddressError("this address cannot receive mail: the part after the @-sign is a reserved name or "
                           "a top-level domain that does not exist", DOMAIN)
    return result.normalized


def reaches(value: str) -> bool:
    """Whether mail can reach ``value`` (the rule of ``checked``)."""
    try:
        checked(value)
    except AddressError:
        return False
    return True


def unreachable_domain(domain: str) -> bool:
    """Whether ``domain`` (lower case, IDNA ASCII or Unicode) is one no mail reaches: without a dot, under a
    top-level domain of one character or of digits only, or special-use or reserved (UNREACHABLE_DOMAINS)."""
    if "." not in domain:
        return True
    top = domain.rsplit(".", 1)[1]
    if len(top) < 2 or top.isdigit():
        return True
    return any(domain == name or domain.endswith("." + name) for name in UNREACHABLE_DOMAINS)


def _kind(value: str) -> str:
    """Which part of a refused address is wrong: the mailbox's length, a well-formed domain no mail reaches,
    the whole length, else the syntax (what email-validator's messages say in English only)."""
    mailbox, at, domain = value.rpartition("@")
    if at and len(mailbox) > LOCAL_PART_MAX_LENGTH:
        return MAILBOX_LENGTH
    domain = unicodedata.normalize("NFKC", domain).casefold().translate(DOTS)  # as IDNA would read it
    if at and mailbox and all(HOST_LABEL.fullmatch(label) for label in domain.split(".")) \
            and unreachable_domain(domain):
        return DOMAIN
    if len(value.encode()) > EMAIL_MAX_LENGTH:
        return LENGTH
    return SYNTAX


MAILBOX = re.compile(r'(?:"(?P<quoted>[^"\\]*)"|(?P<name>[^"<>]*?))\s*<(?P<address>[^<>]*)>|(?P<bare>[^\s<>"]+)')


def mailbox(value: str) -> tuple[str, str]:
    """``value`` as one mailbox, ``Name <address>`` (the name may be quoted) or a bare address: (name, address
    by ``checked``); AddressError when it is anything else (two addresses, a group, a name holding address
    syntax, an encoded word, a control or bidi character), read as ``email.utils.parseaddr`` reads it."""
    value = value.strip()
    found = MAILBOX.fullmatch(value)
    if found is None:
        raise AddressError("this is not one address, nor one name followed by one <address>")
    name = (found["quoted"] or found["name"] or "").strip()
    address = found["bare"] if found["bare"] is not None else found["address"]
    if parseaddr(value) != (name, address.strip()):
        raise AddressError("this is not one address: an unquoted name holds a comma, a colon or a semicolon")
    if not headers.plain(name):
        raise AddressError("the name holds address syntax (<>@\"), an encoded word, or a control or bidi character")
    return name, checked(address)
