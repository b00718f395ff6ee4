"""The pseudonymisation rule's one owner (engagement.pseudonyms): who sees people and answers, called directly."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import Session

from engagement.accounts.models import User
from engagement.accounts.service import create_user
from engagement.pseudonyms import MASK, Lens, NotAllowed, pseudonym

KEY = "test-secret-key"
HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
ANSWERS = {"email": "camille@example.org", "password": HASH, "interests": ["climat"]}


def viewer(role: str, granted: bool = False) -> User:
    return User(email=f"{role}@example.org", role=role, can_see_personal_data=granted)


@pytest.mark.parametrize(("user", "personal"), [
    (viewer("analyst"), False), (viewer("analyst", granted=True), True), (viewer("admin"), True)])
def test_a_viewer_sees_people_in_full_only_when_allowed(user: User, personal: bool):
    assert Lens.of(user, KEY).personal is personal
    assert Lens.of(user, KEY, personal=False).personal is False  # a pseudonymised export, asked for


def test_asking_for_personal_data_without_the_right_is_refused():
    with pytest.raises(NotAllowed):
        Lens.of(viewer("analyst"), KEY, personal=True)


def test_a_pseudonymised_lens_names_no_one_and_shows_only_field_names(session: Session):
    camille = create_user(session, "camille@example.org")
    lens = Lens.of(viewer("analyst"), KEY).know(session, [camille.id, None])

    assert lens.emails == {}  # not even loaded
    assert lens.person(camille.id) == pseudonym(camille.id, KEY) == lens.person(camille.id)
    assert lens.person(camille.id).startswith("member-") and "camille" not in lens.person(camille.id)
    assert lens.shown_answers(ANSWERS) is None
    assert lens.answers_cell(ANSWERS) == "email, interests, password"


def test_a_personal_lens_names_people_and_masks_password_hashes(session: Session):
    camille = create_user(session, "camille@example.org")
    lens = Lens.of(viewer("admin"), KEY).know(session, [camille.id])

    assert lens.person(camille.id) == "camille@example.org"
    assert lens.person(camille.id + 1) == pseudonym(camille.id + 1, KEY)  # not loaded: still no one named
    assert lens.shown_answers(ANSWERS) == {**ANSWERS, "password": MASK}
    assert json.loads(lens.answers_cell(ANSWERS)) == {**ANSWERS, "password": MASK}
    assert "argon2" not in lens.answers_cell(ANSWERS)
