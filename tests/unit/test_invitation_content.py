"""The organizers' invitation content: the seed, the rules an edit must follow, the cache, the choice sets."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engagement.invitations import content
from engagement.invitations.content import ContentError
from engagement.invitations.models import InvitationContent
from engagement.workflow.registry import REGISTRY

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
SEED = yaml.safe_load(content.SEED.read_text(encoding="utf-8"))
SEED_KEYS = {kind: list(SEED[section]) for section, kind in content.SEED_SECTIONS.items()}


@pytest.fixture
def seeded(session: Session) -> Session:
    content.seed(session)
    return session


def row(session: Session, kind: str, key: str) -> InvitationContent:
    found = session.scalar(select(InvitationContent).where(InvitationContent.kind == kind,
                                                           InvitationContent.key == key))
    assert found is not None, (kind, key)
    return found


def counts(session: Session) -> dict[str, int]:
    query = select(InvitationContent.kind, func.count()).group_by(InvitationContent.kind)
    return {kind: int(n) for kind, n in session.execute(query)}


def edit(session: Session, piece: InvitationContent, **changes: Any) -> InvitationContent:
    """``content.update`` with the piece's current values, except ``changes``."""
    values: dict[str, Any] = {"label": dict(piece.label), "body": dict(piece.body), "position": piece.position,
                                 "is_active": piece.is_active, "now": NOW}
    values.update(changes)
    return content.update(session, piece.id, **values)


def refusal(session: Session, piece: InvitationContent, **changes: Any) -> ContentError:
    with pytest.raises(ContentError) as refused:
        edit(session, piece, **changes)
    return refused.value


# -- the seed --------------------------------------------------------------------------------


def test_seed_inserts_every_piece_of_content_yml_once(session: Session):
    added = content.seed(session)

    assert added == sum(len(keys) for keys in SEED_KEYS.values())
    assert counts(session) == {kind: len(keys) for kind, keys in SEED_KEYS.items()}


def test_seed_keeps_the_file_order_and_both_languages(session: Session):
    content.seed(session)

    catalog = content.catalog(session)
    for kind, keys in SEED_KEYS.items():
        assert [p.key for p in catalog.of_kind(kind)] == keys
        assert [p.position for p in catalog.of_kind(kind)] == [10 * i for i in range(len(keys))]
    teacher = catalog.get("position", "teacher")
    assert teacher is not None
    assert teacher.label == SEED["positions"]["teacher"]["label"]
    assert teacher.body == SEED["positions"]["teacher"]["argument"]
    assert catalog.text("subject") == SEED["texts"]["subject"]


def test_a_second_seed_adds_nothing(session: Session):
    content.seed(session)

    assert content.seed(session) == 0
    assert sum(counts(session).values()) == sum(len(keys) for keys in SEED_KEYS.values())


def test_seed_fills_only_the_kinds_that_have_no_row(session: Session):
    session.add(InvitationContent(kind="reason", key="own_reason", position=0,
                                  label={"fr": "Ma raison"}, body={"fr": "Mon argument."}))
    session.flush()

    added = content.seed(session)

    assert added == sum(len(keys) for keys in SEED_KEYS.values()) - len(SEED_KEYS["reason"])
    assert [p.key for p in content.catalog(session).of_kind("reason")] == ["own_reason"]
    assert counts(session)["interest"] == len(SEED_KEYS["interest"])


# -- update: what an edit may contain ----------------------------------------------------------


def test_update_saves_trimmed_texts_and_drops_an_empty_translation(seeded: Session):
    piece = row(seeded, "position", "teacher")

    saved = edit(seeded, piece, label={"fr": "  Professeur·e ", "en": ""},
                 body={"fr": "Ligne un\r\nligne deux, {{ first_name }}.", "en": "  "}, position=5)

    assert saved.label == {"fr": "Professeur·e"}
    assert saved.body == {"fr": "Ligne un\nligne deux, {{ first_name }}."}
    assert (saved.position, saved.updated_at) == (5, NOW)


@pytest.mark.parametrize(("kind", "key", "field", "limit"), [
    ("position", "teacher", "body_fr", content.MAX_BODY),
    ("position", "teacher", "body_en", content.MAX_BODY),
    ("text", "introduction", "body_fr", content.MAX_BODY),
    ("text", "subject", "body_fr", content.MAX_SUBJECT),
    ("position", "teacher", "label_fr", content.MAX_LABEL),
])
def test_update_refuses_a_text_over_its_limit(seeded: Session, kind: str, key: str, field: str, limit: int):
    piece = row(seeded, kind, key)
    part, locale = field.split("_")
    texts = dict(getattr(piece, part))
    texts[locale] = "{{ first_name }}" + "x" * (limit - len("{{ first_name }}") + 1)

    error = refusal(seeded, piece, **{part: texts})

    assert (error.field, error.code, error.limit) == (field, "too_long", limit)


def test_update_accepts_a_text_of_exactly_the_limit(seeded: Session):
    piece = row(seeded, "text", "subject")

    saved = edit(seeded, piece, body={"fr": "{{ first_name }}" + "x" * (content.MAX_SUBJECT - 16)})

    assert len(saved.body["fr"]) == content.MAX_SUBJECT


@pytest.mark.parametrize("text", [
    "Salut {{ user.email }}",
    "Salut {{ data.x }}",
    "{{ ''.__class__ }}",
    "{{ first_name.__class__ }}",
    "{{ last_name }}",
    "{% for x in data %}{{ x }}{% endfor %}",
    "{{ first_name",
    "{% if first_name %}",
])
def test_update_refuses_any_placeholder_but_first_name_and_malformed_templates(seeded: Session, text: str):
    piece = row(seeded, "interest", "ecology")

    error = refusal(seeded, piece, body={"fr": text})

    assert (error.field, error.code) == ("body_fr", "placeholder")
    assert row(seeded, "interest", "ecology").body == SEED["interests"]["ecology"]["argument"]


def test_update_checks_the_english_text_and_the_labels_too(seeded: Session):
    piece = row(seeded, "interest", "ecology")

    assert refusal(seeded, piece, body={"fr": "Bien.", "en": "{{ user.email }}"}).field == "body_en"
    assert refusal(seeded, piece, label={"fr": "{{ data.x }}"}).field == "label_fr"


def test_update_requires_the_french_label_of_a_choice(seeded: Session):
    piece = row(seeded, "project", "travel")

    error = refusal(seeded, piece, label={"fr": " ", "en": "Travel"})

    assert (error.field, error.code) == ("label_fr", "label_required")


def test_update_requires_the_french_text(seeded: Session):
    piece = row(seeded, "project", "travel")

    error = refusal(seeded, piece, body={"en": "Only in English."})

    assert (error.field, error.code) == ("body_fr", "text_required")


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_update_refuses_an_introduction_that_does_not_greet_the_friend(seeded: Session, locale: str):
    piece = row(seeded, "text", "introduction")
    body = {**piece.body, locale: "Bonjour, je voulais te parler d'Engagement."}

    error = refusal(seeded, piece, body=body)

    assert (error.field, error.code) == (f"body_{locale}", "greeting")


def test_update_refuses_an_introduction_naming_first_name_without_the_placeholder(seeded: Session):
    piece = row(seeded, "text", "introduction")

    error = refusal(seeded, piece, body={"fr": "Bonjour first_name, je voulais te parler d'Engagement."})

    assert (error.field, error.code) == ("body_fr", "greeting")


def test_update_of_a_piece_that_is_gone_is_refused(seeded: Session):
    with pytest.raises(ContentError) as refused:
        content.update(seeded, 10**9, label={"fr": "x"}, body={"fr": "x"}, position=0, is_active=True, now=NOW)

    assert (refused.value.field, refused.value.code) == ("id", "gone")


# -- update: hiding choices ------------------------------------------------------------------


def test_hiding_a_reason_is_refused_when_only_two_would_remain(seeded: Session):
    keys = SEED_KEYS["reason"]
    for key in keys[:-3]:
        edit(seeded, row(seeded, "reason", key), is_active=False)
    assert len(content.catalog(seeded).choices("reason")) == 3

    edit(seeded, row(seeded, "reason", keys[-3]), is_active=False)
    error = refusal(seeded, row(seeded, "reason", keys[-2]), is_active=False)

    assert (error.field, error.code) == ("is_active", "too_few_visible")
    assert [key for key, _ in content.catalog(seeded).choices("reason")] == keys[-2:]


def test_hiding_the_last_visible_gender_is_refused(seeded: Session):
    genders = SEED_KEYS["gender"]
    for key in genders[:-1]:
        edit(seeded, row(seeded, "gender", key), is_active=False)

    assert refusal(seeded, row(seeded, "gender", genders[-1]), is_active=False).code == "too_few_visible"


def test_hiding_an_interest_removes_it_from_the_choices_only(seeded: Session):
    edit(seeded, row(seeded, "interest", "sport"), is_active=False)

    catalog = content.catalog(seeded)
    assert "sport" not in [key for key, _ in catalog.choices("interest")]
    assert len(catalog.choices("interest")) == len(SEED_KEYS["interest"]) - 1
    hidden = catalog.get("interest", "sport")
    assert hidden is not None and hidden.is_active is False
    assert "sport" in [p.key for p in catalog.of_kind("interest", active_only=False)]


def test_a_text_cannot_be_hidden(seeded: Session):
    saved = edit(seeded, row(seeded, "text", "conclusion"), is_active=False)

    assert saved.is_active is True


# -- add -------------------------------------------------------------------------------------


def test_add_puts_a_new_choice_at_the_end_of_its_list(seeded: Session):
    added = content.add(seeded, "interest", "space", label={"fr": "Espace", "en": "Space"},
                        body={"fr": "L'espace, {{ first_name }} !"}, now=NOW)

    interests = content.catalog(seeded).of_kind("interest")
    assert interests[-1].key == "space"
    assert added.position == interests[-2].position + 10
    assert (interests[-1].label, interests[-1].body) == ({"fr": "Espace", "en": "Space"},
                                                         {"fr": "L'espace, {{ first_name }} !"})


def test_add_to_an_empty_kind_starts_at_ten(session: Session):
    added = content.add(session, "reason", "first", label={"fr": "Première"}, body={"fr": "Argument."}, now=NOW)

    assert added.position == 10


@pytest.mark.parametrize("key", ["", "Space", "1space", "_space", "space-race", "space race", "espacé", "a" * 65])
def test_add_refuses_a_malformed_key(seeded: Session, key: str):
    with pytest.raises(ContentError) as refused:
        content.add(seeded, "interest", key, label={"fr": "Espace"}, body={"fr": "Argument."}, now=NOW)

    assert (refused.value.field, refused.value.code) == ("key", "key_format")


def test_add_accepts_the_longest_key(seeded: Session):
    added = content.add(seeded, "interest", "a" * 64, label={"fr": "Long"}, body={"fr": "Argument."}, now=NOW)

    assert added.key == "a" * 64


def test_add_refuses_a_key_already_taken_even_by_a_hidden_choice(seeded: Session):
    edit(seeded, row(seeded, "interest", "sport"), is_active=False)

    with pytest.raises(ContentError) as refused:
        content.add(seeded, "interest", "sport", label={"fr": "Sport"}, body={"fr": "Argument."}, now=NOW)

    assert (refused.value.field, refused.value.code) == ("key", "key_taken")
    assert counts(seeded)["interest"] == len(SEED_KEYS["interest"])


def test_add_allows_a_key_used_by_another_kind(seeded: Session):
    added = content.add(seeded, "interest", "teacher", label={"fr": "Enseignants"}, body={"fr": "Argument."},
                        now=NOW)

    assert (added.kind, added.key) == ("interest", "teacher")


@pytest.mark.parametrize("kind", ["text", "hobby", ""])
def test_add_refuses_texts_and_unknown_kinds(seeded: Session, kind: str):
    with pytest.raises(ContentError) as refused:
        content.add(seeded, kind, "new_piece", label={"fr": "Nouveau"}, body={"fr": "Argument."}, now=NOW)

    assert (refused.value.field, refused.value.code) == ("kind", "kind")


def test_add_checks_the_texts_like_update(seeded: Session):
    with pytest.raises(ContentError) as refused:
        content.add(seeded, "interest", "space", label={"fr": "Espace"}, body={"fr": "{{ user.email }}"}, now=NOW)

    assert (refused.value.field, refused.value.code) == ("body_fr", "placeholder")


# -- the cache -------------------------------------------------------------------------------


def cached_body(session: Session, kind: str, key: str) -> dict[str, str]:
    piece = content.catalog(session).get(kind, key)
    assert piece is not None
    return piece.body


@pytest.fixture
def long_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache that never expires during the test: only invalidation can refresh it."""
    monkeypatch.setattr(content, "CACHE_TTL_SECONDS", 3600.0)


@pytest.mark.usefixtures("long_cache")
def test_catalog_is_cached_until_an_edit_invalidates_it(seeded: Session):
    piece = row(seeded, "interest", "ecology")
    seeded_body = dict(piece.body)
    assert cached_body(seeded, "interest", "ecology") == seeded_body
    piece.body = {"fr": "Changé derrière le dos du cache."}
    seeded.flush()
    assert cached_body(seeded, "interest", "ecology") == seeded_body  # the cache does not see a raw write

    edit(seeded, piece, body={"fr": "Changé par un organisateur."})

    assert cached_body(seeded, "interest", "ecology") == {"fr": "Changé par un organisateur."}


@pytest.mark.usefixtures("long_cache")
def test_catalog_shows_an_added_choice_at_once(seeded: Session):
    content.catalog(seeded)

    content.add(seeded, "reason", "new_reason", label={"fr": "Nouvelle raison"}, body={"fr": "Argument."}, now=NOW)

    assert content.catalog(seeded).choices("reason")[-1] == ("new_reason", {"fr": "Nouvelle raison"})


@pytest.mark.usefixtures("long_cache")
def test_catalog_shows_a_hidden_choice_as_hidden_at_once(seeded: Session):
    assert "sport" in dict(content.catalog(seeded).choices("interest"))

    edit(seeded, row(seeded, "interest", "sport"), is_active=False)

    assert "sport" not in dict(content.catalog(seeded).choices("interest"))


# -- the choice sets workflows name ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(content.CHOICE_SETS))
def test_choice_set_is_registered_and_lists_the_seeded_choices_in_order(seeded: Session, name: str):
    kind = content.CHOICE_SETS[name]

    choices = REGISTRY.choices[name](seeded, "fr")

    assert [key for key, _ in choices] == SEED_KEYS[kind]
    section = next(s for s, k in content.SEED_SECTIONS.items() if k == kind)
    assert [label for _, label in choices] == [SEED[section][key]["label"] for key in SEED_KEYS[kind]]


def test_the_five_choice_sets_are_registered():
    assert set(content.CHOICE_SETS) == {"invitation.genders", "invitation.positions", "invitation.projects",
                                        "invitation.interests", "invitation.reasons"}
    assert set(content.CHOICE_SETS) <= set(REGISTRY.choices)


def test_choice_set_offers_only_visible_choices_in_the_organizers_order(seeded: Session):
    edit(seeded, row(seeded, "interest", "sport"), is_active=False)
    edit(seeded, row(seeded, "interest", "pensions"), position=-10)
    edit(seeded, row(seeded, "interest", "ecology"), position=1000)

    keys = [key for key, _ in REGISTRY.choices["invitation.interests"](seeded, "en")]

    assert keys[0] == "pensions" and keys[-1] == "ecology"
    assert "sport" not in keys
    assert sorted(keys) == sorted(set(SEED_KEYS["interest"]) - {"sport"})


def test_choice_set_without_a_session_is_empty():
    assert REGISTRY.choices["invitation.reasons"](None, "fr") == []
