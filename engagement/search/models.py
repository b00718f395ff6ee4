"""The local index: one row per searchable record, and the full-text index over its folded words.

The full-text index is not a mapped table (SQLAlchemy has no type for it): on SQLite an FTS5 table
``search_fts`` whose content is ``search_records`` (triggers keep it in step, in the same
transaction); on MySQL/MariaDB a FULLTEXT index on ``search_records.words``. ``create_all`` makes
them through the DDL listeners below, the migration ``0011_search`` through the same statements,
and autogenerate leaves them alone (``is_unmapped``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DDL, JSON, Index, String, Table, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from engagement.db import Base, utcnow

FTS_TABLE = "search_fts"
FULLTEXT_INDEX = "ix_search_records_words_fulltext"
INSERT_TRIGGER = "search_records_fts_insert"

SQLITE_CREATE = (
    # The folded title and words are searched (a title match ranks higher); kind and department are
    # columns of the index so that a filter is part of the MATCH (``kind : "event"``) instead of a scan
    # of every match. Prefix indexes make the short prefixes typed first ("ev", "eve") as cheap as words.
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(title, words, kind, department, "
    "content='search_records', content_rowid='id', tokenize='unicode61 remove_diacritics 2', prefix='2 3', "
    "detail='column')",
    # Its words, in order: a long prefix is searched as the few words it begins (local.py).
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts_vocab USING fts5vocab(search_fts, 'row')",
    "CREATE TRIGGER IF NOT EXISTS search_records_fts_insert AFTER INSERT ON search_records BEGIN "
    "INSERT INTO search_fts(rowid, title, words, kind, department) "
    "VALUES (new.id, new.title, new.words, new.kind, new.department); "
    "END",
    "CREATE TRIGGER IF NOT EXISTS search_records_fts_delete AFTER DELETE ON search_records BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, words, kind, department) "
    "VALUES ('delete', old.id, old.title, old.words, old.kind, old.department); END",
    "CREATE TRIGGER IF NOT EXISTS search_records_fts_update AFTER UPDATE ON search_records BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, words, kind, department) "
    "VALUES ('delete', old.id, old.title, old.words, old.kind, old.department); "
    "INSERT INTO search_fts(rowid, title, words, kind, department) "
    "VALUES (new.id, new.title, new.words, new.kind, new.department); "
    "END",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS search_records_fts_update",
    "DROP TRIGGER IF EXISTS search_records_fts_delete",
    "DROP TRIGGER IF EXISTS search_records_fts_insert",
    "DROP TABLE IF EXISTS search_fts_vocab",
    "DROP TABLE IF EXISTS search_fts",
)
MYSQL_CREATE = ("CREATE FULLTEXT INDEX ix_search_records_words_fulltext ON search_records (title, words)",)


class SearchRecord(Base):
    """One committee, event or page as the search finds it (the same record Algolia holds)."""

    __tablename__ = "search_records"
    __table_args__ = (Index("ix_search_records_kind", "kind", "department"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    object_id: Mapped[str] = mapped_column(String(64), unique=True, comment="committee-12, event-5, page-3")
    kind: Mapped[str] = mapped_column(String(16), comment="committee, event or page")
    department: Mapped[str | None] = mapped_column(String(3))
    title: Mapped[str] = mapped_column(Text, comment="the title's folded words (no accents, lower case)")
    words: Mapped[str] = mapped_column(Text, comment="folded words of the place and summary")
    record: Mapped[dict[str, Any]] = mapped_column(JSON, comment="what a result shows: the record as sent to Algolia")
    expires_at: Mapped[datetime | None] = mapped_column(
        comment="no longer found from then (an event's end); None: never")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


def is_unmapped(name: str | None) -> bool:
    """The full-text tables and index (FTS5 creates ``search_fts_data``, ``_idx``...): not in the models."""
    return bool(name) and (name in (FTS_TABLE, FULLTEXT_INDEX) or str(name).startswith(FTS_TABLE + "_"))


def _is_mysql(ddl: Any, target: Any, bind: Any, tables: Any = None, state: Any = None, *, dialect: Any,
              **kw: Any) -> bool:
    return dialect.name in ("mysql", "mariadb")


def _listen(table: Table) -> None:
    for statement in SQLITE_CREATE:
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="sqlite"))
    for statement in MYSQL_CREATE:
        event.listen(table, "after_create", DDL(statement).execute_if(callable_=_is_mysql))
    for statement in SQLITE_DROP:
        event.listen(table, "before_drop", DDL(statement).execute_if(dialect="sqlite"))


_listen(SearchRecord.__table__)  # type: ignore[arg-type]
