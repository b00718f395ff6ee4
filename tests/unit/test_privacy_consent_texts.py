"""The text of each consent version is kept once, as it read when first recorded: the words and the linked page's
title and body, so that a record's version can still be read back after the page changes."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from engagement.db import make_engine, make_session_factory
from engagement.pages import legal
from engagement.pages import service as pages
from engagement.privacy import consents
from engagement.privacy.models import ConsentRecord, ConsentText

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
WORDS = "J’accepte les conditions d’adhésion"
TERMS = "/conditions-d-adhesion"


def agree(session, now, words=WORDS, document=TERMS) -> ConsentRecord:
    row = consents.record(session, kind="terms", given=True, text=words, document=document,
                          method="form:signup/agreement", locale="fr", now=now)
    session.flush()
    return row


def kept(session) -> list[ConsentText]:
    return list(session.scalars(select(ConsentText).order_by(ConsentText.first_shown_at)))


def test_a_version_keeps_its_words_and_the_page_as_it_read_then(session):
    built_in = legal.shown(session, legal.MEMBERSHIP_TERMS)
    first = agree(session, NOW)
    agree(session, NOW + timedelta(hours=1))  # the same text again: kept once
    [text] = kept(session)
    assert (text.version, text.text, text.document, text.document_title, text.document_body) == (
        first.version, WORDS, TERMS, built_in.title, built_in.body)
    assert text.first_shown_at.replace(tzinfo=UTC) == NOW
    pages.edit(session, legal.MEMBERSHIP_TERMS, title="Conditions", body="Article 1 : nouveau.",
               now=NOW + timedelta(days=1), actor_id=0)
    second = agree(session, NOW + timedelta(days=2))
    old, new = kept(session)
    assert second.version != first.version and old.version == first.version  # the old text is still readable
    assert old.document_body == built_in.body and (new.document_title, new.document_body) == (
        "Conditions", "Article 1 : nouveau.")
    body = f"{WORDS}\x00{new.document_title}\n\n{new.document_body}".encode()
    assert new.version == hashlib.sha256(body).hexdigest()  # the version is the kept text's
    assert consents.texts(session, [first.version, second.version, "unknown"]) == {
        first.version: old, second.version: new}


def test_words_without_a_page_keep_no_document(session):
    row = agree(session, NOW, words="Je souhaite recevoir la lettre d’information", document=None)
    [text] = kept(session)
    assert (text.version, text.document, text.document_title, text.document_body) == (row.version, None, None, None)


def test_a_version_another_request_kept_meanwhile_is_not_kept_twice(session, settings, monkeypatch):
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as other, other.begin():  # kept by another request...
            agree(other, NOW)
        real_get = session.get
        monkeypatch.setattr(session, "get", lambda model, key, **kw: None if model is ConsentText
                            else real_get(model, key, **kw))  # ...after this one looked
        row = agree(session, NOW + timedelta(minutes=1))
        session.commit()  # the duplicate was given up in its savepoint, the record itself stays
        assert session.scalar(select(func.count()).select_from(ConsentText)) == 1
        assert session.get(ConsentRecord, row.id) is not None
        assert session.scalar(select(func.count()).select_from(ConsentRecord)) == 2
    finally:
        engine.dispose()
