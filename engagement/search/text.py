"""Folding text for the local index: accents and case never matter ("evenement" finds "Événement")."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

WORD = re.compile(r"[^\W_]+")
LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})  # NFKD keeps them whole
MAX_TERMS = 8
MIN_PREFIX = 2
MAX_TERM_LENGTH = 40


def fold(text: str) -> str:
    """Lower case without diacritics: ``"Événement à Saint-Étienne"`` -> ``"evenement a saint-etienne"``."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.translate(LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@lru_cache(maxsize=100_000)
def _fold_word(word: str) -> str:
    """A word folded (a reindex folds the same few thousand words over and over); a space may split it."""
    folded = fold(word)
    return folded if folded.isalnum() else " ".join(WORD.findall(folded))


def _folded(text: str) -> str:
    return " ".join(_fold_word(word) for word in WORD.findall(unicodedata.normalize("NFC", text)))


def words(text: str) -> list[str]:
    """The folded words of ``text``, in order (punctuation and apostrophes separate them)."""
    return _folded(text).split()


def indexed_text(*parts: str | None) -> str:
    """What the local index stores for a record: the folded words of its parts, space-separated."""
    return _folded(" ".join(part for part in parts if part))


def query_terms(query: str) -> list[str]:
    """The terms of what a supporter typed, folded, at most ``MAX_TERMS`` (each searched as a prefix)."""
    terms = list(dict.fromkeys(term[:MAX_TERM_LENGTH] for term in words(query)[:MAX_TERMS]))
    # One letter matches nearly everything and says nothing beside other words ("porte-à-porte").
    return [term for term in terms if len(term) >= MIN_PREFIX]
