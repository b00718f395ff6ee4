"""One bad message never holds a batch back (issue #23, finding 8): it fails alone, once, with its
reason; the others leave once, and nothing is owed a retry. Driven through the real client
against the loopback fake, which enforces Mailjet's documented limits."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engagement.db import transaction
from engagement.mail import service as mail
from engagement.mail.delivery import RetryLater, deliver
from engagement.mail.limits import fit_subject
from engagement.mail.mailjet import MailjetTransport, custom_id
from engagement.mail.models import MailMessage
from tests.fakes.mailjet import FakeMailjet


@pytest.fixture
def fake() -> Iterator[FakeMailjet]:
    with FakeMailjet() as server:
        server.timeout_seconds = 1.5
        yield server


@pytest.fixture
def transport(fake: FakeMailjet) -> MailjetTransport:
    return MailjetTransport(fake.api_key, fake.api_secret, fake.url, timeout=30)


def queue(factory: sessionmaker[Session], count: int, bad: int | None = None,
          spoil: Callable[[MailMessage], None] | None = None) -> list[int]:
    """``count`` stored messages; the one at index ``bad`` spoiled after composition, as a row written
    by older code or another path could be."""
    with transaction(factory) as session:
        rows = [mail.compose(session, to=[f"person{n}@example.org"], subject=f"Bonjour {n}", body="Un message.",
                             context={}, locale="fr", literal=True) for n in range(count)]
        if bad is not None and spoil is not None:
            spoil(rows[bad])
        return [row.id for row in rows]


def rows(factory: sessionmaker[Session], ids: list[int]) -> dict[int, MailMessage]:
    with factory() as session:
        found = {r.id: r for r in session.scalars(select(MailMessage).where(MailMessage.id.in_(ids)))}
        session.expunge_all()
        return found


def long_subject(row: MailMessage) -> None:
    row.subject = "Une très longue histoire " * 12  # 300 characters


def invalid_address(row: MailMessage) -> None:
    row.to = ["personne-sans-arobase"]


def property_header(row: MailMessage) -> None:
    row.headers = {"List-Unsubscribe": "<https://example.org/u>", "Reply-To": "autre@example.org"}


def too_large_for_mailjet(row: MailMessage) -> None:
    row.text_body = "x" * 60_000  # the fake is told below that a call carries at most 50,000 bytes


BAD = {  # how the message is spoiled, and the calls it takes to send the 49 others
    "subject of 300 characters": (long_subject, 1),  # refused before the call: it never leaves
    "invalid address": (invalid_address, 1),  # Mailjet answers per message
    "header set by a property": (property_header, 1),  # refused before the call
    "payload too large (refused as a whole)": (too_large_for_mailjet, 13),  # split: 1 + 2 x 6 levels
}


@pytest.mark.parametrize("case", list(BAD))
def test_one_bad_message_in_fifty_fails_alone_and_the_others_leave_once(factory, fake, transport, case, caplog):
    spoil, calls = BAD[case]
    fake.max_payload = 50_000
    ids = queue(factory, 50, bad=17, spoil=spoil)
    bad, good = ids[17], ids[:17] + ids[18:]
    with caplog.at_level(logging.WARNING, logger="engagement.mail"):
        counts = deliver(factory, transport, ids, "mailjet")  # RetryLater here would mean retries scheduled

    assert counts == {"sent": 49, "refused": 1}
    assert sorted(fake.custom_ids()) == sorted(custom_id(i) for i in good)  # each exactly once
    assert fake.calls == calls
    found = rows(factory, ids)
    assert {(found[i].status, found[i].attempts) for i in good} == {("sent", 1)}
    assert found[bad].status == "failed" and found[bad].error and found[bad].attempts == 1
    failing = [r.getMessage() for r in caplog.records if str(bad) in r.getMessage()]
    assert failing and not any(pii in line for line in failing for pii in ("@", "personne", "Une très"))  # no PII
    assert deliver(factory, transport, ids, "mailjet") == {"sent": 0, "refused": 0}  # nothing owed
    assert fake.calls == calls


def test_a_subject_over_255_characters_never_leaves(factory, fake, transport):
    ids = queue(factory, 3, bad=1, spoil=long_subject)
    deliver(factory, transport, ids, "mailjet")
    assert custom_id(ids[1]) not in fake.custom_ids() + fake.refused_ids()  # not even refused by Mailjet
    assert "255" in rows(factory, ids)[ids[1]].error


def test_a_server_error_still_retries_the_whole_batch_without_splitting(factory, fake, transport):
    ids = queue(factory, 50)
    fake.fail_next("500")
    with pytest.raises(RetryLater) as owed:
        deliver(factory, transport, ids, "mailjet")
    assert owed.value.pending == sorted(ids) and fake.calls == 1
    assert deliver(factory, transport, ids, "mailjet") == {"sent": 50, "refused": 0}  # reconciled, then sent
    assert sorted(fake.custom_ids()) == sorted(custom_id(i) for i in ids)


def test_a_413_from_mailjets_front_is_split_and_everything_leaves(factory, fake, transport):
    ids = queue(factory, 50)
    fake.fail_next("413")
    assert deliver(factory, transport, ids, "mailjet") == {"sent": 50, "refused": 0}
    assert fake.calls == 3 and sorted(fake.custom_ids()) == sorted(custom_id(i) for i in ids)


def unstored(count: int, text: str = "Un message.") -> list[MailMessage]:
    """Messages built in memory (MariaDB's TEXT could not store the large ones), as the ledger hands them."""
    return [MailMessage(id=n + 1, sender="Engagement <ne-pas-repondre@engagement.local>",
                        to=[f"person{n}@example.org"], cc=[], subject=f"Bonjour {n}", text_body=text)
            for n in range(count)]


def test_calls_stay_under_the_15_mb_a_call_may_carry(fake, transport):
    outcomes = transport.send(unstored(5, "t" * 4_000_000))
    assert [o.status for o in outcomes] == ["sent"] * 5
    assert fake.calls == 2 and len(fake.messages) == 5  # 3 + 2 messages: 20 MB would be refused as a whole


def test_a_message_larger_than_any_call_fails_alone_before_the_call(fake, transport):
    messages = unstored(3)
    messages[0].text_body = "t" * 15_000_000
    outcomes = transport.send(messages)
    assert [o.status for o in outcomes] == ["refused", "sent", "sent"] and "15 MB" in (outcomes[0].error or "")
    assert fake.calls == 1 and fake.custom_ids() == [custom_id(2), custom_id(3)]


def test_composed_subjects_are_shortened_cleanly_to_255_characters(factory):
    typed = "Réunion publique sur les transports du quartier " * 8  # 392 characters
    with transaction(factory) as session:
        row = mail.compose(session, to=["a@example.org"], subject=typed, body="B", context={}, locale="fr",
                           literal=True)
        subject = row.subject
    assert len(subject) <= 255 and subject.endswith("…")
    assert typed.startswith(subject[:-1]) and typed[len(subject) - 1] == " "  # cut between two words
    assert fit_subject("😀" * 200) == "😀" * 127 + "…"  # 255 UTF-16 units, no half emoji
    assert fit_subject("  Court \n  ") == "Court"
