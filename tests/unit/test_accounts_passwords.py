"""The password rule's one owner (engagement.accounts.passwords): policy, hashing for storage, and sign-up
refusing anything but a hash, called directly without a form."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engagement.accounts import passwords, signup
from engagement.accounts.models import User
from engagement.workflow.models import WorkflowInstance
from engagement.workflow.registry import ActionContext

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
TYPED = "une phrase de passe solide"


def answers(password: Any) -> dict[str, Any]:
    return {"email": "camille@example.org", "password": password, "first_name": "Camille", "last_name": "Martin",
            "birth_date": "1990-05-17", "address": None, "interests": [], "newsletter": False}


def context(session: Session, data: dict[str, Any]) -> ActionContext:
    instance = WorkflowInstance(workflow_id="signup", version=1, state="summary", data=data, history=[],
                                started_at=NOW, updated_at=NOW, entered_at=NOW)
    session.add(instance)
    session.flush()
    return ActionContext(session=session, instance=instance, data=data, actor=None, now=NOW, locale="fr")


def users(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


def test_for_storage_keeps_an_argon2id_hash_that_verifies():
    stored = passwords.for_storage(TYPED)

    assert stored.startswith("$argon2id$") and TYPED not in stored
    assert passwords.is_hash(stored) and passwords.verify(stored, TYPED)


@pytest.mark.parametrize(("typed", "rule"), [("Qz7!", "too_short"), ("x" * 129, "too_long"),
                                             ("sunshine", "too_common")])
def test_for_storage_refuses_what_the_policy_refuses_naming_the_rule_only(typed: str, rule: str):
    with pytest.raises(ValueError, match=rule) as refused:
        passwords.for_storage(typed)

    assert typed not in str(refused.value)


@pytest.mark.parametrize("value", [TYPED, "$argon2id$not a hash", "", None, 12345678])
def test_only_an_argon2_hash_is_a_hash(value: Any):
    assert not passwords.is_hash(value)


def test_signup_stores_the_hash_it_is_handed(session: Session):
    stored = passwords.for_storage(TYPED)

    signup.create_member(context(session, answers(stored)))

    user = session.scalar(select(User).where(User.email == "camille@example.org"))
    assert user is not None and user.password_hash == stored


def test_signup_refuses_a_password_as_typed_without_storing_or_echoing_it(session: Session):
    with pytest.raises(ValueError, match="hashed by passwords") as refused:
        signup.create_member(context(session, answers(TYPED)))

    assert TYPED not in str(refused.value)
    assert users(session) == 0
