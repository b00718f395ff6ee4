"""The one rule for text people type: what it may contain, how long it may be, how it is normalised.

A name, a street, a subject, a message or a workflow file is stored, shown back, mailed and exported to
CSV; the characters below have no place in any of them and are refused, never silently dropped (the
person is told, and nothing is stored):

- NUL and the other C0 and C1 control characters (an escape sequence in a terminal reading a CSV, a NUL
  cutting a string in a C library); tab and line breaks only in multi-line text;
- the bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): they make a name or a
  subject display reversed or reordered ("Trojan Source"), and nobody types them;
- lone surrogates (a JSON ``"\\ud800"``): they cannot be encoded as UTF-8, so no database could store them.

The left-to-right and right-to-left marks (U+200E, U+200F, U+061C) stay: people writing Arabic or Hebrew
use them to place punctuation next to Latin words, and they cannot reverse a run of letters as an override
does. What is harmless is normalised instead of refused: Unicode NFC (an accent typed as a combining mark
compares and counts as the precomposed letter), line ends as LF, and a line's surrounding spaces trimmed
(multi-line text keeps its indentation and final line break: a message is sent as written).

Forms call this through their validators (``forms/text.py``, ``forms/fields.py``, ``forms/address.py``);
the campaign service checks what the command line passes it; the workflow loader refuses a file holding one
(a YAML file is multi-line text).
"""

from __future__ import annotations

import re
import unicodedata

LINE_MAX = 200  # characters: a default for one line of text (names, subjects, a city)
TEXT_MAX = 10_000  # characters: a default for multi-line text (a message, a description)

CONTROL = "control"  # what ``problem`` answers: a refused control character (or a lone surrogate)
BIDI = "bidi"  # a bidirectional embedding, override or isolate
TOO_LONG = "too_long"

_BIDI = "\u202a-\u202e\u2066-\u2069"
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff"  # C0 and C1 but tab, LF and CR; surrogates
_REFUSED_IN_TEXT = re.compile(f"[{_CONTROLS}{_BIDI}]")
_REFUSED_IN_LINE = re.compile(f"[\t\n\r{_CONTROLS}{_BIDI}]")
_LINE_ENDS = re.compile("\r\n?|[\u2028\u2029]")  # CRLF, CR and the Unicode line and paragraph separators
_LINE_BREAKS = re.compile("[\t\n]+")


def normalize(value: str, *, multiline: bool = False) -> str:
    """``value`` in NFC with LF line ends; one line: its tabs and line breaks made spaces (a pasted tab, a
    hand-made post), trimmed. What the rule refuses is left in, for ``problem`` to see."""
    value = _LINE_ENDS.sub("\n", unicodedata.normalize("NFC", value))
    return value if multiline else _LINE_BREAKS.sub(" ", value).strip()


def first_refused(value: str, *, multiline: bool = False) -> int | None:
    """The index of the first character the rule refuses in ``value``; None when there is none."""
    found = (_REFUSED_IN_TEXT if multiline else _REFUSED_IN_LINE).search(value)
    return found.start() if found else None


def problem(value: str, *, multiline: bool = False, limit: int | None = None) -> str | None:
    """Why ``value`` is refused (``CONTROL``, ``BIDI``, ``TOO_LONG`` over ``limit`` characters), or None.

    ``limit`` None is the default for the kind of text (``LINE_MAX``, ``TEXT_MAX``); 0 checks no length."""
    index = first_refused(value, multiline=multiline)
    if index is not None:
        return BIDI if re.match(f"[{_BIDI}]", value[index]) else CONTROL
    cap = (TEXT_MAX if multiline else LINE_MAX) if limit is None else limit
    return TOO_LONG if cap and len(value) > cap else None


class TextRefused(ValueError):
    """A text the rule refuses; ``reason`` is what ``problem`` answered."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def clean(value: str, *, multiline: bool = False, limit: int | None = None) -> str:
    """``value`` normalised, or ``TextRefused`` (for callers without a form: services, the command line)."""
    value = normalize(value, multiline=multiline)
    reason = problem(value, multiline=multiline, limit=limit)
    if reason:
        raise TextRefused(reason)
    return value


def described(value: str, index: int) -> str:
    """The refused character at ``index`` as a person can look it up: ``U+202E``."""
    return f"U+{ord(value[index]):04X}"
