"""Password rules and hashing: argon2id, 8 to 128 characters, none of the 10,000 most common.

The one owner of both: forms show `problem` to the person typing, and every password kept anywhere (an
account's column, a sign-up workflow's answers) is kept as `for_storage` made it, never as typed.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH, MAX_LENGTH = 8, 128
COMMON_COUNT = 10_000
HASH_PREFIX = "$argon2"  # how every hash `for_storage` makes begins (argon2's PHC string)

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters


@cache
def common_passwords() -> frozenset[str]:
    """The 10,000 most frequent passwords of zxcvbn's ranked list, lower-cased."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.casefold() for p in FREQUENCY_LISTS["passwords"][:COMMON_COUNT])


def problem(password: str) -> str | None:
    """The rule a candidate password breaks (``too_short``, ``too_long``, ``too_common``), else None.

    The length is checked before anything else, so an oversized input is never hashed.
    """
    if len(password) < MIN_LENGTH:
        return "too_short"
    if len(password) > MAX_LENGTH:
        return "too_long"
    if password.casefold() in common_passwords():
        return "too_common"
    return None


def for_storage(password: str) -> str:
    """The only form in which a password is kept: checked against the rules, then hashed (argon2id).

    A password breaking a rule raises ValueError naming the rule (never the password)."""
    rule = problem(password)
    if rule is not None:
        raise ValueError(f"password refused: {rule}")
    return _hasher.hash(password)


def is_hash(value: object) -> bool:
    """Whether ``value`` is an argon2 hash (as `for_storage` makes), not a password as typed."""
    if not isinstance(value, str) or not value.startswith(HASH_PREFIX):
        return False
    try:
        extract_parameters(value)
    except InvalidHashError:
        return False
    return True


def stored(value: object) -> str:
    """``value`` when it is a hash to store; else ValueError, without echoing it (it may be a password)."""
    if not is_hash(value):
        raise ValueError("a password must be hashed by passwords.for_storage before it is stored")
    return str(value)


def verify(password_hash: str | None, password: str) -> bool:
    """Constant-work check: an unknown account verifies against a dummy hash and fails."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def _dummy_hash() -> str:
    return _hasher.hash("not the password of anyone")
