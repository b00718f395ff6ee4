"""Text that people write and that ends up in a mail header: a subject, a name before the platform's address.

A header shows one line as written, so what could make it lie is taken out: control and format characters
(line breaks, NUL, ANSI escapes, the bidi embeddings, overrides and isolates U+202A-U+202E, U+2066-U+2069
that turn ``moc.lapyap`` round, zero-width characters), runs of whitespace, and RFC 2047 encoded words
(``=?utf-8?q?=3Csecurity=40paypal.fr=3E?=``), which mail clients decode into text no filter here saw, even
inside a quoted name: they are dropped, never decoded (nobody types one; a client would show whatever it
holds). A name is first brought to its NFKC form, so that look-alikes become what they look like (``＠`` and
``﹫`` an ``@``, ``․`` and ``．`` a dot, ``＜`` a ``<``); it then loses what would make it look like an address:
any word holding an ``@``, any word shaped like a domain name (``paypal.com``, ``www.pаypal.fr``: labels
joined by dots, ending in two letters or more, so that initials such as ``J.-P.`` or ``J.R.R.`` stay), and
``<``, ``>``, ``@``, ``"``. It is capped, so that the platform's own "(via ...)" always shows after it.
Quoting and encoding are left to ``email.headerregistry``.
"""

from __future__ import annotations

import re
import unicodedata

NAME_LENGTH = 40  # characters of a person's name before "(via <platform>)", the ellipsis included
ELLIPSIS = "…"
INVISIBLE = frozenset({"Cf", "Cs", "Co"})  # format (bidi, zero-width), surrogate, private use: dropped
ADDRESS_LIKE = str.maketrans("", "", '<>@"')
# As lenient as the decoders (Python's own accepts spaces in the text): "=?" charset "?" B or Q "?" text "?=".
ENCODED_WORD = re.compile(r"=\?[^?]*\?[bq]\?.*?\?=", re.IGNORECASE)
DOMAIN_SHAPED = re.compile(r"(?:[^\W_](?:[\w-]*[^\W_])?[.\u3002])+(?:[^\W\d_]{2,}|xn--[a-z0-9-]+)", re.IGNORECASE)
EDGE_PUNCTUATION = re.compile(r"^[\W_]+|[\W_]+$")
BREAKABLE_SPACES = re.compile(r"[^\S\u00a0\u202f]+")  # whitespace but the no-break spaces French typesets with


def text(value: str) -> str:
    """``value`` on one line: format characters and encoded words dropped, control characters (line breaks,
    NUL...) and runs of whitespace one space."""
    return one_line(_without_encoded_words("".join(_visible(c) for c in value)))


def one_line(value: str) -> str:
    """Runs of whitespace one space, the ends trimmed; a no-break space stays (``Inscription confirmée\u00a0:``
    keeps its French typography: it breaks no line)."""
    return BREAKABLE_SPACES.sub(" ", value).strip(" ")


def _visible(char: str) -> str:
    category = unicodedata.category(char)
    return "" if category in INVISIBLE else " " if category == "Cc" else char


def _without_encoded_words(value: str) -> str:
    """``value`` with no encoded word left, even one that dropping another one joins up (``=?=?..?=...?=``)."""
    while "=?" in value and (shorter := ENCODED_WORD.sub(" ", value)) != value:
        value = shorter
    return value


def name(value: str) -> str:
    """A person's name fit to show before the platform's address: one line, in NFKC form, no encoded word,
    no word holding an ``@`` or shaped like a domain name, none of ``<>@"``, at most NAME_LENGTH characters
    (cut with an ellipsis); "" when nothing is left."""
    kept = " ".join(word for word in map(_name_word, text(unicodedata.normalize("NFKC", value)).split()) if word)
    if len(kept) <= NAME_LENGTH:
        return kept
    return kept[:NAME_LENGTH - len(ELLIPSIS)].rstrip() + ELLIPSIS


def _name_word(word: str) -> str:
    """``word`` without ``<>@"``; "" when it holds an ``@`` or is a domain name (its edge punctuation aside)."""
    if "@" in word or DOMAIN_SHAPED.fullmatch(EDGE_PUNCTUATION.sub("", word)):
        return ""
    return word.translate(ADDRESS_LIKE)


def plain(value: str) -> bool:
    """Whether ``value`` (the platform's own name, say) is shown as written: one line with single spaces, no
    encoded word, control or format character, and none of ``<>@"`` even as a look-alike."""
    return text(value) == value and not set(unicodedata.normalize("NFKC", value)) & set('<>@"')
