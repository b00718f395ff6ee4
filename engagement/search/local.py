"""The local engine: SQLite FTS5 on the embedded database, a FULLTEXT index on MySQL/MariaDB.

Records are stored with their words folded (``text.indexed_text``) and queries folded the same
way, so accents and case never matter on either database; every term is searched as a prefix.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from engagement.db import transaction, utcnow
from engagement.search.models import INSERT_TRIGGER, SQLITE_CREATE, SearchRecord
from engagement.search.port import Query, Results
from engagement.search.records import NEVER, Record
from engagement.search.text import indexed_text, query_terms

MYSQL_MIN_TOKEN = 3  # innodb_ft_min_token_size: shorter words are not in a FULLTEXT index
DELETE_CHUNK = 500
TITLE_WINDOW = 60  # among the newest this many matches, those matching in their title come first
INDEXED_PREFIX = 3  # the FTS5 table keeps prefixes of 2 and 3 letters as words of their own (prefix='2 3')
EXPAND_AT_MOST = 16  # a longer prefix naming at most this many indexed words is searched as those words
SQLITE_MATCHES = text("SELECT search_fts.rowid, r.title, r.record FROM search_fts "
                  "JOIN search_records AS r ON r.id = search_fts.rowid "
                  "WHERE search_fts MATCH :match AND (r.expires_at IS NULL OR r.expires_at > :now) "
                  "ORDER BY search_fts.rowid DESC LIMIT :limit")
VOCAB_LOOKUP = text("SELECT term FROM search_fts_vocab WHERE term >= :first AND term < :after "
                    "ORDER BY term LIMIT :most")


def _row(record: Record, now: datetime) -> dict[str, Any]:
    expires = record.get("expires_at")
    return {"object_id": record["objectID"], "kind": record["kind"], "department": record.get("department"),
            "title": indexed_text(record.get("title")),
            "words": indexed_text(record.get("city"), record.get("postal_code"), record.get("summary")),
            "record": record, "updated_at": now,
            "expires_at": datetime.fromtimestamp(expires, UTC) if isinstance(expires, int) and expires < NEVER
            else None}


def sqlite_match(query: Query, expand: Callable[[str], list[str] | None] = lambda term: None) -> str | None:
    """The FTS5 expression: each folded term as a prefix of a word, and the filters as column matches.

    ``expand(term)``: the indexed words a term longer than INDEXED_PREFIX begins, when they are few
    (None: too many, searched as a prefix). FTS5 reads a prefix's matches whole before it can join
    them, but walks words lazily: ``"transition"`` stops at the 21st result, ``"transi" *`` does not.
    An empty expansion (no such word) matches nothing: "" is returned.
    """
    parts = []
    for term in query_terms(query.text):  # letters and digits only
        named = expand(term) if len(term) > INDEXED_PREFIX else None
        if named is None:
            parts.append(f'{{title words}} : "{term}" *')
        elif not named:
            return ""
        else:
            parts.append("{title words} : (" + " OR ".join(f'"{word}"' for word in named) + ")")
    if query.kind:
        parts.append(f'kind : "{query.kind}"')
    if query.department:
        parts.append(f'department : "{query.department}"')
    return " AND ".join(parts) or None


def mysql_against(query: Query) -> str:
    """BOOLEAN MODE: every term required, as a prefix; short words before the last are left out (too
    short to be indexed, "de", "la"), the last is kept (the word being typed: ``pa*`` finds Paris)."""
    terms = query_terms(query.text)
    kept = [t for i, t in enumerate(terms) if len(t) >= MYSQL_MIN_TOKEN or i == len(terms) - 1]
    return " ".join(f"+{term}*" for term in kept)


class LocalIndex:
    """Records in ``search_records`` of the platform's own database."""

    name = "local"

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def save(self, records: list[Record]) -> None:
        if records:
            with transaction(self.factory) as session:
                self._upsert(session, records, utcnow())

    def delete(self, object_ids: list[str]) -> None:
        if object_ids:
            with transaction(self.factory) as session:
                session.execute(delete(SearchRecord).where(SearchRecord.object_id.in_(object_ids)))

    def rebuild(self, pages: Iterable[list[Record]]) -> int:
        """Upsert page by page (each its own short transaction), then drop what no page held; into an
        empty SQLite index, one bulk load instead (``_load_empty``)."""
        with self.factory() as session:
            empty = session.scalar(select(SearchRecord.id).limit(1)) is None
            sqlite = session.get_bind().dialect.name == "sqlite"
        if empty and sqlite:
            return self._load_empty(pages)
        seen: set[str] = set()
        for page in pages:
            self.save(page)
            seen.update(record["objectID"] for record in page)
        with self.factory() as session:
            stale = [row_id for row_id, object_id in session.execute(select(SearchRecord.id, SearchRecord.object_id))
                     if object_id not in seen]
        for start in range(0, len(stale), DELETE_CHUNK):
            with transaction(self.factory) as session:
                session.execute(delete(SearchRecord).where(SearchRecord.id.in_(stale[start:start + DELETE_CHUNK])))
        return len(seen)

    def _load_empty(self, pages: Iterable[list[Record]]) -> int:
        """Fill an empty index in one transaction: the rows without the FTS trigger (FTS5 indexing row
        by row is most of a reindex's time), then one FTS5 'rebuild' from them, the trigger restored
        in the same transaction (no other writer can come between: SQLite has one)."""
        count, now = 0, utcnow()
        with transaction(self.factory) as session:
            session.execute(text(f"DROP TRIGGER IF EXISTS {INSERT_TRIGGER}"))
            for page in pages:
                session.execute(insert(SearchRecord), [_row(record, now) for record in page])
                count += len(page)
            session.execute(text(next(sql for sql in SQLITE_CREATE if INSERT_TRIGGER in sql)))
            session.execute(text("INSERT INTO search_fts(search_fts) VALUES ('rebuild')"))
        return count

    def _upsert(self, session: Session, records: list[Record], now: datetime) -> None:
        """Insert the new records and update the changed ones (an unchanged record is not rewritten, so a
        reindex over an index in step writes almost nothing)."""
        rows = {record["objectID"]: _row(record, now) for record in records}
        existing = session.execute(select(SearchRecord.id, SearchRecord.object_id, SearchRecord.record,
                                          SearchRecord.expires_at).where(SearchRecord.object_id.in_(list(rows))))
        changed = []
        for row_id, object_id, record, expires_at in existing:  # the words follow from the record
            row = rows.pop(object_id)
            if (record, expires_at) != (row["record"], row["expires_at"]):
                changed.append({"id": row_id, **row})
        if rows:
            session.execute(insert(SearchRecord), list(rows.values()))
        if changed:
            session.execute(update(SearchRecord), changed)

    def search(self, query: Query) -> Results:
        with self.factory() as session:
            dialect = session.get_bind().dialect.name
            found = self._sqlite(session, query) if dialect == "sqlite" else self._mysql(session, query)
        return Results(hits=found[:query.limit], has_more=len(found) > query.limit, engine=self.name)

    def _sqlite(self, session: Session, query: Query) -> list[Record]:
        """The newest TITLE_WINDOW matches, those whose title holds every term first, then the next
        ones newest first. FTS5 reads its matches in rowid order and stops at the LIMIT: a few
        milliseconds whatever the number of matches, which ranking every match (bm25) was not."""
        match = sqlite_match(query, lambda term: self._expand(session, term))
        if not match:
            return []
        wanted = query.offset + query.limit + 1
        found = self._matches(session, match, query, max(wanted, TITLE_WINDOW))  # newest first
        terms = query_terms(query.text)

        def in_title(title: str) -> bool:
            return all(any(word.startswith(term) for word in title.split()) for term in terms)

        ordered = sorted(found[:TITLE_WINDOW], key=lambda row: not in_title(row[0])) + found[TITLE_WINDOW:]
        return [_json(record) for _, record in ordered[query.offset:wanted]]

    @staticmethod
    def _expand(session: Session, term: str) -> list[str] | None:
        after = term[:-1] + chr(ord(term[-1]) + 1)
        named = list(session.scalars(VOCAB_LOOKUP, {"first": term, "after": after, "most": EXPAND_AT_MOST + 1}))
        return None if len(named) > EXPAND_AT_MOST else named

    @staticmethod
    def _matches(session: Session, match: str, query: Query, limit: int) -> list[tuple[str, Any]]:
        """(folded title, stored record) of the newest ``limit`` matches, newest first."""
        return [(title, record) for _, title, record in session.execute(
            SQLITE_MATCHES, {"match": match, "now": _naive(query.now), "limit": limit})]

    def _mysql(self, session: Session, query: Query) -> list[Record]:
        against = mysql_against(query)
        if not against and query.text.strip():
            return []  # nothing searchable was typed (punctuation only)
        where = ["(expires_at IS NULL OR expires_at > :now)"]
        params: dict[str, Any] = {"now": _naive(query.now), "limit": query.limit + 1, "offset": query.offset}
        if query.kind:
            where.append("kind = :kind")
            params["kind"] = query.kind
        if query.department:
            where.append("department = :department")
            params["department"] = query.department
        order = "id"
        if against:
            where.append("MATCH (title, words) AGAINST (:against IN BOOLEAN MODE)")
            order = "MATCH (title, words) AGAINST (:against IN BOOLEAN MODE) DESC, id"
            params["against"] = against
        # Only the fixed fragments above are joined in; every value is a bound parameter.
        sql = "SELECT record FROM search_records WHERE " + " AND ".join(where)  # noqa: S608  # nosec B608
        statement = text(f"{sql} ORDER BY {order} LIMIT :limit OFFSET :offset")
        return [_json(record) for (record,) in session.execute(statement, params)]


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)  # as UTCDateTime stores it


def _json(value: Any) -> Record:
    return json.loads(value) if isinstance(value, str | bytes) else value
