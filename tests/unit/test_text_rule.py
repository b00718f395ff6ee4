"""The one text rule (engagement.text): what is refused, what is normalised, what legitimate text keeps."""

from __future__ import annotations

import pytest

from engagement import text

LEGITIMATE = [
    "Ève-Marie d’Alembert-Ñúñez",  # accents, a typographic apostrophe
    "O'Connor",
    "محمد بن سلمان",  # Arabic
    "\u200fיוסי כהן\u200f",  # Hebrew with right-to-left marks (typed by Hebrew keyboards)
    "Léa \u200eJSON\u200e مرحبا \u061c",  # left-to-right and Arabic letter marks stay
    "Camille 🌻👩🏽‍🌾",  # emoji, a zero-width joiner sequence
    "12\u00a0rue\u202fde la Paix",  # no-break spaces
]


@pytest.mark.parametrize("value", LEGITIMATE)
def test_legitimate_text_passes_on_one_line_and_in_a_text_area(value: str) -> None:
    assert text.problem(value) is None
    assert text.problem(value, multiline=True) is None
    assert text.clean(value) == value


@pytest.mark.parametrize("character", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85",
                                       "\x9f", "\ud800", "\udfff"])
def test_control_characters_and_lone_surrogates_are_refused_everywhere(character: str) -> None:
    value = f"Dominique{character}Durand"
    assert text.problem(value) == text.CONTROL
    assert text.problem(value, multiline=True) == text.CONTROL
    with pytest.raises(text.TextRefused) as refused:
        text.clean(value, multiline=True)
    assert refused.value.reason == text.CONTROL


@pytest.mark.parametrize("character", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067",
                                       "\u2068", "\u2069"])
def test_bidi_embeddings_overrides_and_isolates_are_refused(character: str) -> None:
    value = f"PayPal {character}ytiruceS"
    assert text.problem(value) == text.BIDI
    assert text.problem(value, multiline=True) == text.BIDI
    assert text.first_refused(value) == len("PayPal ")
    assert text.described(value, len("PayPal ")) == f"U+{ord(character):04X}"


def test_tabs_and_line_breaks_stay_in_a_text_area_and_are_spaces_on_one_line() -> None:
    typed = "  Bonjour,\r\n\tà bientôt\rCamille\u2028  "
    assert text.clean(typed, multiline=True) == "  Bonjour,\n\tà bientôt\nCamille\n  "  # sent as written
    assert text.clean(typed) == "Bonjour, à bientôt Camille"
    assert text.problem("a\tb") == text.CONTROL  # one line not normalised first: a tab has no place in it
    assert text.problem("a\tb\nc", multiline=True) is None


def test_text_is_normalised_to_nfc() -> None:
    decomposed = "Ame\u0301lie"  # e + combining acute accent, as some keyboards and macOS file names send it
    assert text.clean(decomposed) == "Amélie" and len(text.clean(decomposed)) == 6


def test_lengths_are_capped_by_default_and_by_the_caller() -> None:
    assert text.problem("x" * text.LINE_MAX) is None
    assert text.problem("x" * (text.LINE_MAX + 1)) == text.TOO_LONG
    assert text.problem("x" * (text.LINE_MAX + 1), multiline=True) is None
    assert text.problem("x" * (text.TEXT_MAX + 1), multiline=True) == text.TOO_LONG
    assert text.problem("x" * 51, limit=50) == text.TOO_LONG
    assert text.problem("x" * 600_000, limit=0) is None  # 0: the caller checks the length itself
    assert text.problem("\x00" + "x" * 600_000) == text.CONTROL  # the character is said first
