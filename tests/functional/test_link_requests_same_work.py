"""Asking for a link by address (password reset, activation mail) and joining with an address do the same work
in the request whether or not the address has an account: what the answer's time could tell is decided after
the answer, by a detached outbox handler (issue #23, finding 4; timings: bench/reset_timing.py)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select

from engagement.accounts import tokens
from engagement.accounts.service import create_user
from engagement.db import transaction, utcnow
from engagement.outbox import InProcessRelay, OutboxMessage
from tests.functional.helpers import mails
from tests.functional.test_no_account_enumeration import KNOWN, UNKNOWN, signup_answers
from tests.functional.test_signup import PASSWORD

FORMS = {"/password/reset": True, "/account/activate/resend": False}  # path: whether the known account is active
MAIL_WORK = re.compile(r"\b(account_tokens|mail_messages)\b")  # a link issued, a mail composed


@contextmanager
def request_sql(app: Any) -> Iterator[list[str]]:
    """The SQL sent by this thread (the request's), without parameters; detached work runs on another."""
    seen: list[str] = []
    engine, me = app.extensions["engagement"].engine, threading.get_ident()

    def record(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if threading.get_ident() == me and "site_switches" not in sql:
            seen.append(sql)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def with_account(app: Any, *, activated: bool, capped: bool = False) -> None:
    """KNOWN's account; ``capped``: as many reset links this hour as the cap allows (no more mail for it)."""
    with transaction(app.extensions["engagement"].sessions) as session:
        user = create_user(session, KNOWN, password=PASSWORD, activated=activated)
        session.flush()
        for _ in range(tokens.PER_ADDRESS_HOURLY if capped else 0):
            tokens.issue(session, user, "reset", utcnow())


@pytest.mark.parametrize("path", FORMS)
def test_asking_a_link_sends_the_same_sql_whether_or_not_the_address_has_an_account(app, new_client, read, path):
    with_account(app, activated=FORMS[path])
    work = {}
    for email in (KNOWN, UNKNOWN):
        visitor = new_client()
        visitor.get(path)
        with request_sql(app) as sql:
            assert visitor.post(path, {"email": email}).status_code == 200
        work[email] = sql
    assert work[KNOWN] == work[UNKNOWN]
    assert not any(MAIL_WORK.search(sql) for sql in work[KNOWN])
    InProcessRelay.drain()
    assert [m.to for m in mails(read())] == [[KNOWN]]  # the link still leaves, after the answer


@pytest.mark.parametrize("capped", [False, True], ids=["under the hourly cap", "at the hourly cap"])
def test_joining_issues_no_link_and_composes_no_mail_in_the_request(app, new_client, read, capped):
    """The member's notice and the newcomer's activation mail are both composed after the answer: the request
    writes one outbox row either way (the cap, reached or not, changes nothing the request does)."""
    with_account(app, activated=True, capped=capped)
    work = {}
    for email in (KNOWN, UNKNOWN):
        with request_sql(app) as sql:
            signup_answers(new_client(), email)
        work[email] = sql
    for email, sql in work.items():
        assert not any(MAIL_WORK.search(s) for s in sql), email
        assert sum(s.startswith("INSERT INTO outbox_messages") for s in sql) == 1, email
    InProcessRelay.drain()
    sent = sorted(m.to[0] for m in mails(read()))
    assert sent == ([UNKNOWN] if capped else sorted([KNOWN, UNKNOWN]))


def test_an_address_asked_about_is_not_kept_in_the_outbox(app, new_client, read):
    with_account(app, activated=True)
    for email in (KNOWN, UNKNOWN):
        visitor = new_client()
        visitor.get("/password/reset")
        visitor.post("/password/reset", {"email": email})
    InProcessRelay.drain()
    payloads = [str(p) for p in read().scalars(select(OutboxMessage.payload))]
    assert payloads and not any(KNOWN in p or UNKNOWN in p for p in payloads)
