"""Slugs read the same whichever apostrophe or space a name is typed with."""

from __future__ import annotations

import pytest

from engagement.slugs import slugify


@pytest.mark.parametrize(("name", "slug"), [
    ("Conférence : le climat, c'est maintenant", "conference-le-climat-c-est-maintenant"),
    ("Conférence\u00a0: le climat, c\u2019est maintenant", "conference-le-climat-c-est-maintenant"),
    ("Comité Lyon Presqu\u2019île", "comite-lyon-presqu-ile"),
    ("«\u00a0Porte-à-porte\u00a0» au marché\u202f!", "porte-a-porte-au-marche"),
    ("’’’", "evenement"),
])
def test_typographic_apostrophes_and_spaces_separate_words_as_typewriter_ones_do(name, slug):
    assert slugify(name) == slug
