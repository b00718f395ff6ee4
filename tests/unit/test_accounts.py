"""Passwords (argon2id, length, common list) and single-use expiring tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engagement.accounts import passwords, tokens
from engagement.accounts.service import AccountError, authenticate, create_user, hash_password
from engagement.accounts.tokens import AccountToken
from engagement.core import Core
from engagement.db import transaction

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


@pytest.mark.parametrize(("password", "rule"), [
    ("short", "too_short"),
    ("x" * 129, "too_long"),
    ("password", "too_common"),
    ("QWERTYUIOP", "too_common"),  # compared case-insensitively
    ("Ju5t-an0ther-long-phrase", None),
    ("x" * 128, None),
])
def test_password_rules(password, rule):
    assert passwords.problem(password) == rule


def test_common_list_is_the_ten_thousand_most_frequent_and_case_insensitive():
    common = passwords.common_passwords()
    assert len(common) == 10_000
    assert {"123456", "qwerty", "azerty", "dragon"} <= common
    assert "ju5t-an0ther-long-phrase" not in common


def test_hash_is_argon2id_and_verifies_only_the_right_password():
    digest = hash_password("une phrase assez longue")
    assert digest.startswith("$argon2id$")
    assert passwords.verify(digest, "une phrase assez longue")
    assert not passwords.verify(digest, "une phrase assez longuE")
    assert not passwords.verify(None, "une phrase assez longue")  # unknown account: dummy hash, False
    assert not passwords.verify(digest, "x" * 10_000)  # refused before hashing


def test_service_refuses_bad_passwords_with_a_clear_message():
    with pytest.raises(AccountError, match="at least 8"):
        hash_password("short")
    with pytest.raises(AccountError, match="most common"):
        hash_password("password")


def test_authenticate_is_case_insensitive_on_email(core: Core):
    with transaction(core.sessions) as session:
        create_user(session, "Camille@Example.org", password="une phrase assez longue")
    with transaction(core.sessions) as session:
        assert authenticate(session, "camille@example.ORG", "une phrase assez longue") is not None
        assert authenticate(session, "camille@example.org", "wrong password here") is None
        assert authenticate(session, "nobody@example.org", "une phrase assez longue") is None


def _user(core: Core) -> int:
    with transaction(core.sessions) as session:
        return create_user(session, "lou@example.org").id


def _issue(core: Core, user_id: int, purpose: str, now: datetime = NOW) -> str:
    with transaction(core.sessions) as session:
        user = session.get(tokens.User, user_id)
        return tokens.issue(session, user, purpose, now)


def _consume(core: Core, token: str, purpose: str, now: datetime) -> int | None:
    with transaction(core.sessions) as session:
        user = tokens.consume(session, token, purpose, now)
        return user.id if user else None


def test_token_is_random_stored_hashed_and_single_use(core: Core):
    user_id = _user(core)
    token = _issue(core, user_id, "activation")
    other = _issue(core, user_id, "activation")
    assert token != other and len(token) >= 40
    with core.sessions() as session:
        stored = [row.token_hash for row in session.query(AccountToken)]
    assert token not in stored and all(len(h) == 64 for h in stored)
    assert _consume(core, token, "activation", NOW + timedelta(minutes=1)) == user_id
    assert _consume(core, token, "activation", NOW + timedelta(minutes=2)) is None  # used


@pytest.mark.parametrize(("purpose", "valid_for"), [("activation", timedelta(hours=48)), ("reset", timedelta(hours=2))])
def test_token_expires(core: Core, purpose, valid_for):
    user_id = _user(core)
    late = _issue(core, user_id, purpose)
    in_time = _issue(core, user_id, purpose)
    assert _consume(core, late, purpose, NOW + valid_for) is None
    assert _consume(core, in_time, purpose, NOW + valid_for - timedelta(seconds=1)) == user_id


def test_token_of_another_purpose_or_unknown_is_refused(core: Core):
    user_id = _user(core)
    token = _issue(core, user_id, "reset")
    assert _consume(core, token, "activation", NOW) is None
    assert _consume(core, "not-a-token", "reset", NOW) is None
    assert _consume(core, "x" * 500, "reset", NOW) is None
    assert _consume(core, token, "reset", NOW) == user_id  # still usable for its own purpose
