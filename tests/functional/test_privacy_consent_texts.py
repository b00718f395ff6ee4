"""A member's download gives, for each consent, the linked page as it read when they agreed (not as it reads
now), and erasing the member keeps the texts, which name nobody."""

from __future__ import annotations

from sqlalchemy import func, select

from engagement.db import transaction, utcnow
from engagement.pages import legal
from engagement.pages import service as pages
from engagement.privacy.models import ConsentRecord, ConsentText
from tests.functional.test_privacy_consents import TERMS_WORDS, member
from tests.functional.test_privacy_export import csv_rows, data_of, download


def counted(read, model) -> int:
    return read().scalar(select(func.count()).select_from(model))


def test_the_download_gives_the_terms_as_agreed_and_erasure_keeps_the_texts(app, client, new_client, read):
    agreed = legal.shown(read(), legal.MEMBERSHIP_TERMS)
    visitor = member(client, new_client, read)
    with transaction(app.extensions["engagement"].sessions) as session:
        pages.edit(session, legal.MEMBERSHIP_TERMS, title="Conditions 2027", body="Article 1 : tout change.",
                   now=utcnow(), actor_id=0)
    archive = download(visitor)
    [terms] = [c for c in data_of(archive)["consents"] if c["kind"] == "terms"]
    assert (terms["text"], terms["document_title"], terms["document_body"]) == (
        TERMS_WORDS, agreed.title, agreed.body)
    [row] = [r for r in csv_rows(archive, "consents.csv") if r["kind"] == "terms"]
    assert (row["document_title"], row["document_body"]) == (agreed.title, agreed.body)
    [newsletter] = [c for c in data_of(archive)["consents"] if c["kind"] == "newsletter"]
    assert newsletter["document_title"] is None and newsletter["document_body"] is None
    assert "Article 1 : tout change." not in archive.read("data.json").decode()
    texts = counted(read, ConsentText)
    assert texts == 2
    visitor.get("/account")
    assert visitor.post("/account/delete", {"confirm": "y"}).status_code == 303
    assert counted(read, ConsentRecord) == 0 and counted(read, ConsentText) == texts
