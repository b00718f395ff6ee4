"""Text that people write and that ends up in a mail header: a subject, a name before the platform's address.

A header shows one line as written, so what could make it lie is taken out: control and format characters
(line breaks, NUL, ANSI escapes, the bidi embeddings, overrides and isolates U+202A-U+202E, U+2066-U+2069
that turn ``moc.lapyap`` round, zero-width characters), runs of whitespace. A name also loses what would
make it look like an address (``<``, ``>``, ``@``, ``"`` and any word holding an ``@``) and is capped, so
that the platform's own "(via ...)" always shows after it. Quoting and encoding are left to
``email.headerregistry``.
"""

from __future__ import annotations

import unicodedata

NAME_LENGTH = 40  # characters of a person's name before "(via <platform>)", the ellipsis included
ELLIPSIS = "…"
INVISIBLE = frozenset({"Cf", "Cs", "Co"})  # format (bidi, zero-width), surrogate, private use: dropped
ADDRESS_LIKE = str.maketrans("", "", '<>@"')


def text(value: str) -> str:
    """``value`` on one line: format characters dropped, control characters (line breaks, NUL...) and runs of
    whitespace one space."""
    return " ".join("".join(_visible(c) for c in value).split())


def _visible(char: str) -> str:
    category = unicodedata.category(char)
    return "" if category in INVISIBLE else " " if category == "Cc" else char


def name(value: str) -> str:
    """A person's name fit to show before the platform's address: one line, no word holding an ``@``, none
    of ``<>@"``, at most NAME_LENGTH characters (cut with an ellipsis); "" when nothing is left."""
    words = [word.translate(ADDRESS_LIKE) for word in text(value).split() if "@" not in word]
    kept = " ".join(word for word in words if word)
    if len(kept) <= NAME_LENGTH:
        return kept
    return kept[:NAME_LENGTH - len(ELLIPSIS)].rstrip() + ELLIPSIS
