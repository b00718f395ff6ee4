"""Signed invitation links: joining (90 days) and opting out (for ever), and what tampering gives."""

from __future__ import annotations

import base64
import time
from datetime import timedelta

import pytest
from itsdangerous import Signer, TimestampSigner, URLSafeTimedSerializer

from engagement import signing
from engagement.invitations import links

SECRET = "invitation-links-test-secret"
DAY = int(timedelta(days=1).total_seconds())
VALIDITY = int(links.JOIN_VALIDITY.total_seconds())


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(signing._secret, "key", SECRET)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """The time itsdangerous stamps and checks tokens with; move ``clock["now"]`` to travel."""
    now = {"now": int(time.time())}
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now["now"])
    return now


def token_of(link: str) -> str:
    return link.rsplit("/", 1)[1]


def join_token(invitation_id: int) -> str:
    link = links.join_link(invitation_id)
    assert "/invitation/join/" in link
    return token_of(link)


def optout_token(email: str) -> str:
    link = links.optout_link(email)
    assert "/invitation/optout/" in link
    return token_of(link)


def tampered(token: str) -> str:
    """The token with one character of its signature changed (not the last: it may carry unused bits)."""
    position = token.rindex(".") + 2
    replacement = "A" if token[position] != "A" else "B"
    return token[:position] + replacement + token[position + 1:]


# -- joining ---------------------------------------------------------------------------------


@pytest.mark.parametrize("invitation_id", [1, 42, 2**40])
def test_join_link_names_its_invitation(invitation_id: int):
    assert links.read_join(join_token(invitation_id)) == invitation_id


def test_join_link_is_an_absolute_url():
    assert links.join_link(7).startswith(("http://", "https://"))


def test_tampered_join_token_is_refused():
    assert links.read_join(tampered(join_token(7))) is None


def test_join_token_with_another_invitations_payload_is_refused():
    mine, other = join_token(7), join_token(8)
    forged = other.split(".", 1)[0] + "." + mine.split(".", 1)[1]

    assert links.read_join(forged) is None


def test_join_token_is_valid_ninety_days(clock: dict[str, int]):
    token = join_token(7)

    clock["now"] += VALIDITY - 1
    assert links.read_join(token) == 7
    clock["now"] += 2
    assert links.read_join(token) is None


def test_join_token_from_the_future_is_refused(clock: dict[str, int]):
    clock["now"] += DAY
    token = join_token(7)
    clock["now"] -= DAY

    assert links.read_join(token) is None


def test_join_token_signed_with_another_secret_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(signing._secret, "key", "another-secret")
    foreign = join_token(7)
    monkeypatch.setitem(signing._secret, "key", SECRET)

    assert links.read_join(foreign) is None
    assert links.read_join(join_token(7)) == 7


def test_join_token_of_another_salt_is_refused():
    """A value signed with the same secret for another purpose does not open an invitation."""
    other_purpose = URLSafeTimedSerializer(SECRET, salt="something-else").dumps(7)

    assert links.read_join(other_purpose) is None


@pytest.mark.parametrize("value", ["7", 7.0, None, [7], {"id": 7}])
def test_genuine_join_token_holding_no_integer_is_refused(value: object):
    token = URLSafeTimedSerializer(SECRET, salt="invitation-join").dumps(value)

    assert links.read_join(token) is None


# -- opting out ------------------------------------------------------------------------------


def test_optout_link_names_the_hash_of_the_lower_cased_address():
    digest = links.read_optout(optout_token("Camille.Dupont@Example.ORG"))

    assert digest == links.email_hash("camille.dupont@example.org")
    assert digest is not None and len(digest) == 64 and digest == digest.lower()


def test_email_hash_ignores_case_and_surrounding_spaces():
    assert links.email_hash(" Camille@Example.org\n") == links.email_hash("camille@example.org")
    assert links.email_hash("camille@example.org") != links.email_hash("camille@example.com")


def test_optout_tokens_of_one_address_in_any_case_are_equal():
    assert optout_token("Camille@Example.org") == optout_token("camille@example.org") == optout_token(
        "CAMILLE@EXAMPLE.ORG")
    assert optout_token("camille@example.org") != optout_token("camille2@example.org")


def test_optout_token_does_not_show_the_address():
    token = optout_token("camille@example.org")

    assert "camille" not in token.lower()
    assert "example" not in token.lower()


def test_optout_token_never_expires(clock: dict[str, int]):
    token = optout_token("camille@example.org")

    clock["now"] += 10 * 365 * DAY

    assert links.read_optout(token) == links.email_hash("camille@example.org")


def test_tampered_optout_token_is_refused():
    assert links.read_optout(tampered(optout_token("camille@example.org"))) is None


def test_optout_token_with_another_address_hash_is_refused():
    mine, other = optout_token("camille@example.org"), optout_token("lou@example.org")
    forged = other.split(".", 1)[0] + "." + mine.split(".", 1)[1]

    assert links.read_optout(forged) is None


def test_optout_token_signed_with_another_secret_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(signing._secret, "key", "another-secret")
    foreign = optout_token("camille@example.org")
    monkeypatch.setitem(signing._secret, "key", SECRET)

    assert links.read_optout(foreign) is None


def test_join_and_optout_tokens_are_not_interchangeable():
    assert links.read_optout(join_token(7)) is None
    assert links.read_join(optout_token("camille@example.org")) is None


@pytest.mark.parametrize("signed", [b"not base64 at all!", b"c2hvcnQ", base64.urlsafe_b64encode(b"x" * 33)])
def test_genuine_optout_token_holding_no_sha256_is_refused(signed: bytes):
    token = Signer(SECRET, salt="invitation-optout").sign(signed).decode()

    assert links.read_optout(token) is None


# -- garbage ---------------------------------------------------------------------------------


GARBAGE = ["", ".", "a.b", "a.b.c", "x" * 100_000, "!!!.@@@", "%2E%2E%2F", "é.à", "\x00", "....", "a" * 40 + "=="]


@pytest.mark.parametrize("token", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_is_no_join_token(token: str):
    assert links.read_join(token) is None


@pytest.mark.parametrize("token", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_is_no_optout_token(token: str):
    assert links.read_optout(token) is None
