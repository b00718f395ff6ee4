"""Folding and query building: accents and case never matter, every term is a prefix."""

from __future__ import annotations

from datetime import UTC, datetime

from engagement.search.local import mysql_against, sqlite_match
from engagement.search.port import Query
from engagement.search.text import fold, indexed_text, query_terms, words

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_fold_removes_accents_ligatures_and_case() -> None:
    assert fold("Événement à Saint-Étienne") == "evenement a saint-etienne"
    assert fold("ŒUVRE Cœur Straße") == "oeuvre coeur strasse"
    assert fold("ÇA") == "ca"


def test_words_split_on_punctuation_and_apostrophes() -> None:
    assert words("L'école, la santé & le climat !") == ["l", "ecole", "la", "sante", "le", "climat"]
    assert indexed_text("Comité Lyon", None, "69001", "") == "comite lyon 69001"


def test_query_terms_are_bounded() -> None:
    assert query_terms("  Évé  ") == ["eve"]
    assert query_terms(" ".join(f"mot{n}" for n in range(20))) == [f"mot{n}" for n in range(8)]
    assert query_terms("porte-à-porte Nant") == ["porte", "nant"]  # repeated and one-letter words say nothing
    assert query_terms("a" * 100) == ["a" * 40]
    assert query_terms("!!! ???") == []
    assert query_terms("é") == []  # one letter alone would match nearly everything
    assert query_terms("é v") == []


def test_the_fts5_expression_quotes_every_term_as_a_prefix_and_adds_the_filters() -> None:
    query = Query('réunion "pub', NOW, kind="event", department="2A")
    assert sqlite_match(query) == ('{title words} : "reunion" * AND {title words} : "pub" * AND kind : "event" '
                                   'AND department : "2A"')
    assert sqlite_match(Query("", NOW)) is None
    assert sqlite_match(Query("", NOW, department="75")) == 'department : "75"'


def test_the_mysql_expression_drops_short_words_except_the_one_being_typed() -> None:
    assert mysql_against(Query("comité de Paris", NOW)) == "+comite* +paris*"
    assert mysql_against(Query("pa", NOW)) == "+pa*"
    assert mysql_against(Query("la", NOW)) == "+la*"


def test_long_prefixes_naming_few_words_are_searched_as_those_words() -> None:
    words = {"trans": ["transition", "transports"], "quart": None, "zzzz": []}
    query = Query("Tra Transi Quart", NOW)
    assert sqlite_match(query, lambda term: words.get(term[:5] if term != "zzzz" else term)) == (
        '{title words} : "tra" * AND {title words} : ("transition" OR "transports") AND {title words} : "quart" *')
    assert sqlite_match(Query("zzzz", NOW), lambda term: words[term]) == ""  # no such word: nothing matches
