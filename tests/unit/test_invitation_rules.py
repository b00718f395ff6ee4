"""The invitation's abuse rules, opt-outs, the save and attribute actions and the inviter's figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engagement import signing
from engagement.accounts.models import User
from engagement.accounts.service import create_user, normalize_email
from engagement.config import Settings
from engagement.invitations import links, service
from engagement.invitations.models import Invitation, InvitationOptOut
from engagement.workflow.errors import WorkflowError
from engagement.workflow.models import WorkflowInstance
from engagement.workflow.registry import ActionContext

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
LOU, CAMILLE = "lou@example.org", "camille@example.org"


@pytest.fixture(autouse=True)
def _signing_key(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(signing._secret, "key", settings.secret_key)


def invitation(session: Session, *, sender: str = LOU, friend: str = CAMILLE, at: datetime = NOW,
               inviter: User | None = None) -> Invitation:
    row = Invitation(
        inviter_id=inviter.id if inviter else None, sender_first_name="Lou", sender_last_name="Martin",
        sender_email=sender, friend_first_name="Camille", friend_email=friend, answers={},
        subject="Camille, et si tu nous rejoignais\u00a0?", body="Salut Camille.", locale="fr", created_at=at,
    )
    session.add(row)
    session.flush()
    return row


def refusal(session: Session, *, friend: str = CAMILLE, sender: str = LOU, inviter: User | None = None,
            now: datetime = NOW) -> WorkflowError:
    with pytest.raises(WorkflowError) as refused:
        allow(session, friend=friend, sender=sender, inviter=inviter, now=now)
    return refused.value


def allow(session: Session, *, friend: str = CAMILLE, sender: str = LOU, inviter: User | None = None,
          now: datetime = NOW) -> None:
    service.check_allowed(session, friend=friend, sender=sender, inviter_id=inviter.id if inviter else None,
                          now=now)


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def instance(session: Session, actor: User | None = None, workflow_id: str = "invitation") -> WorkflowInstance:
    row = WorkflowInstance(workflow_id=workflow_id, version=1, state="summary", data={}, history=[],
                           actor_id=actor.id if actor else None, started_at=NOW, updated_at=NOW, entered_at=NOW)
    session.add(row)
    session.flush()
    return row


def context(session: Session, data: dict[str, Any], *, actor: User | None = None,
            on: WorkflowInstance | None = None) -> ActionContext:
    return ActionContext(session=session, instance=on or instance(session, actor), data=data, actor=actor,
                         now=NOW, locale="fr")


# -- inviting oneself ------------------------------------------------------------------------


@pytest.mark.parametrize(("friend", "sender"), [
    (CAMILLE, CAMILLE),
    ("Camille@Example.org", "camille@EXAMPLE.ORG"),
    (" camille@example.org\n", "CAMILLE@example.org "),
])
def test_inviting_oneself_is_refused_next_to_the_friends_address(session: Session, friend: str, sender: str):
    error = refusal(session, friend=normalize_email(friend), sender=normalize_email(sender))

    assert (error.code, error.field) == ("invitation_self", "friend_email")


def test_a_different_address_is_not_oneself(session: Session):
    allow(session, friend="camille@example.org", sender="camille@example.com")


# -- opt-outs --------------------------------------------------------------------------------


def opt_out(session: Session, email: str, now: datetime = NOW) -> bool:
    return service.opt_out(session, links.optout_link(email).rsplit("/", 1)[1], now)


def test_an_opted_out_friend_is_refused_next_to_the_friends_address(session: Session):
    assert opt_out(session, "Camille@Example.org")

    error = refusal(session, friend=CAMILLE)

    assert (error.code, error.field) == ("invitation_opted_out", "friend_email")
    allow(session, friend="someone.else@example.org")


def test_an_opted_out_sender_is_refused_next_to_their_own_address(session: Session):
    """docs/invitation.md: an opted-out address is never written to, "nor in copy as the sender"."""
    assert opt_out(session, LOU)

    error = refusal(session, friend=CAMILLE, sender=LOU)

    assert (error.code, error.field) == ("invitation_opted_out", "self_email")


def test_opt_out_records_the_hash_of_the_address_only(session: Session):
    assert opt_out(session, "Camille@Example.org")
    session.flush()

    rows = list(session.scalars(select(InvitationOptOut)))
    assert [(r.email_hash, r.created_at) for r in rows] == [(links.email_hash(CAMILLE), NOW)]
    assert service.is_opted_out(session, "CAMILLE@example.org ")
    assert not service.is_opted_out(session, LOU)


def test_opt_out_is_idempotent(session: Session):
    assert opt_out(session, CAMILLE)
    assert opt_out(session, CAMILLE)  # twice in one transaction
    session.flush()
    assert opt_out(session, "CAMILLE@EXAMPLE.ORG", NOW + timedelta(days=3))
    session.flush()

    rows = list(session.scalars(select(InvitationOptOut)))
    assert [(r.email_hash, r.created_at) for r in rows] == [(links.email_hash(CAMILLE), NOW)]


@pytest.mark.parametrize("token", ["", "a.b", "x" * 5000])
def test_opt_out_with_a_bad_token_records_nothing(session: Session, token: str):
    assert service.opt_out(session, token, NOW) is False
    session.flush()

    assert count(session, InvitationOptOut) == 0


def test_opt_out_with_a_tampered_token_records_nothing(session: Session):
    token = links.optout_link(CAMILLE).rsplit("/", 1)[1]
    digest, signature = token.split(".")
    forged = links.optout_link(LOU).rsplit("/", 1)[1].split(".")[0] + "." + signature

    assert service.opt_out(session, forged, NOW) is False
    assert service.opt_out(session, digest + "." + signature[:-4], NOW) is False
    session.flush()

    assert count(session, InvitationOptOut) == 0


# -- the same friend twice -------------------------------------------------------------------


@pytest.mark.parametrize("age", [timedelta(seconds=1), timedelta(days=3), timedelta(days=7) - timedelta(minutes=1)])
def test_same_sender_cannot_invite_the_same_friend_within_seven_days(session: Session, age: timedelta):
    invitation(session, at=NOW - age)

    error = refusal(session)

    assert (error.code, error.field) == ("invitation_repeated", "friend_email")


def test_same_sender_may_invite_the_same_friend_again_after_seven_days(session: Session):
    invitation(session, at=NOW - timedelta(days=7, minutes=1))

    allow(session)


def test_same_account_with_another_address_cannot_invite_the_same_friend_again(session: Session):
    member = create_user(session, LOU)
    invitation(session, sender="old.address@example.org", inviter=member, at=NOW - timedelta(days=1))

    error = refusal(session, sender="new.address@example.org", inviter=member)

    assert error.code == "invitation_repeated"


def test_another_sender_may_invite_the_same_friend(session: Session):
    invitation(session, sender=LOU, at=NOW - timedelta(hours=1))

    allow(session, sender="sam@example.org")


def test_another_account_using_the_same_address_is_the_same_sender(session: Session):
    member = create_user(session, "member@example.org")
    invitation(session, sender=LOU, at=NOW - timedelta(hours=1))

    assert refusal(session, sender=LOU, inviter=member).code == "invitation_repeated"


# -- invitations one address receives ----------------------------------------------------------


def test_a_fourth_invitation_to_one_address_in_a_day_is_refused(session: Session):
    for i, sender in enumerate(["a@example.org", "b@example.org", "c@example.org"]):
        invitation(session, sender=sender, at=NOW - timedelta(hours=23, minutes=i))

    error = refusal(session, sender="d@example.org")

    assert (error.code, error.field) == ("invitation_recipient_limit", "friend_email")
    allow(session, sender="d@example.org", friend="someone.else@example.org")


def test_invitations_older_than_a_day_do_not_count_for_the_recipient(session: Session):
    invitation(session, sender="a@example.org", at=NOW - timedelta(hours=2))
    invitation(session, sender="b@example.org", at=NOW - timedelta(hours=3))
    invitation(session, sender="c@example.org", at=NOW - timedelta(days=1, minutes=1))

    allow(session, sender="d@example.org")


# -- invitations one sender sends ----------------------------------------------------------------


def test_an_eleventh_invitation_in_an_hour_is_refused_with_retry_after(session: Session):
    for i in range(service.SENDER_LIMIT):
        invitation(session, friend=f"friend{i}@example.org", at=NOW - timedelta(minutes=59) + timedelta(minutes=i))

    error = refusal(session, friend="one.more@example.org")

    assert error.code == "invitation_sender_limit"
    assert error.retry_after == 3600
    allow(session, friend="one.more@example.org", sender="sam@example.org")


def test_the_tenth_invitation_in_an_hour_is_allowed(session: Session):
    for i in range(service.SENDER_LIMIT - 1):
        invitation(session, friend=f"friend{i}@example.org", at=NOW - timedelta(minutes=i))

    allow(session, friend="one.more@example.org")


def test_invitations_older_than_an_hour_do_not_count_for_the_sender(session: Session):
    for i in range(service.SENDER_LIMIT - 1):
        invitation(session, friend=f"recent{i}@example.org", at=NOW - timedelta(minutes=i))
    for i in range(5):
        invitation(session, friend=f"older{i}@example.org", at=NOW - timedelta(hours=1, minutes=1 + i))

    allow(session, friend="one.more@example.org")


def test_an_accounts_invitations_count_whatever_address_it_used(session: Session):
    member = create_user(session, LOU)
    for i in range(service.SENDER_LIMIT):
        invitation(session, sender=f"address{i}@example.org", friend=f"friend{i}@example.org", inviter=member,
                   at=NOW - timedelta(minutes=i))

    assert refusal(session, friend="one.more@example.org", sender=LOU, inviter=member).code == \
        "invitation_sender_limit"


# -- the save action -------------------------------------------------------------------------


def answers(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "friend_first_name": "Camille", "friend_email": "Camille@Example.org", "friend_age": 30,
        "friend_gender": "female", "friend_position": "teacher", "friend_project": "start_family",
        "friend_interests": ["ecology", "education"], "self_reasons": ["local_action", "act_not_complain"],
        "self_first_name": "Lou", "self_last_name": "Martin", "self_email": " LOU@example.org",
        "message_subject": "Camille, et si tu nous rejoignais\u00a0?", "message_body": "Salut Camille,\r\nviens !",
    }
    data.update(changes)
    return data


def test_save_records_the_invitation_with_normalized_addresses_and_its_links(session: Session):
    data = answers()
    ctx = context(session, data)

    service.save(ctx)

    saved = session.get(Invitation, data["invitation_id"])
    assert saved is not None
    assert (saved.friend_email, saved.sender_email, saved.inviter_id) == (CAMILLE, LOU, None)
    assert (saved.instance_id, saved.created_at, saved.locale) == (ctx.instance.id, NOW, "fr")
    assert saved.body == "Salut Camille,\nviens !"
    assert saved.answers["friend_interests"] == ["ecology", "education"]
    assert links.read_join(data["join_link"].rsplit("/", 1)[1]) == saved.id
    assert links.read_optout(data["optout_link"].rsplit("/", 1)[1]) == links.email_hash(CAMILLE)
    assert service.followed(session, data["join_link"].rsplit("/", 1)[1]) is saved


def test_save_credits_the_logged_in_member(session: Session):
    member = create_user(session, LOU)
    data = answers()

    service.save(context(session, data, actor=member))

    saved = session.get(Invitation, data["invitation_id"])
    assert saved is not None and saved.inviter_id == member.id


def test_save_refuses_oneself_whatever_the_case_and_records_nothing(session: Session):
    data = answers(friend_email="Lou@Example.ORG ", self_email="lou@example.org")

    with pytest.raises(WorkflowError) as refused:
        service.save(context(session, data))

    assert (refused.value.code, refused.value.field) == ("invitation_self", "friend_email")
    assert count(session, Invitation) == 0
    assert "invitation_id" not in data


def test_save_applies_the_rules_to_the_normalized_friend(session: Session):
    invitation(session, at=NOW - timedelta(days=1))

    with pytest.raises(WorkflowError) as refused:
        service.save(context(session, answers(friend_email="CAMILLE@example.org")))

    assert refused.value.code == "invitation_repeated"
    assert count(session, Invitation) == 1


# -- attribution -----------------------------------------------------------------------------


def attribute(session: Session, user: User | None, invited_by: Any) -> None:
    service.attribute(context(session, {service.INVITED_BY: invited_by}, on=instance(session, user, "signup")))


def test_attribute_credits_the_invitation_followed(session: Session):
    inviter, friend = create_user(session, LOU), create_user(session, CAMILLE)
    sent = invitation(session, inviter=inviter, at=NOW - timedelta(days=2))

    attribute(session, friend, sent.id)

    assert (sent.joined_user_id, sent.joined_at) == (friend.id, NOW)


def test_attribute_credits_an_anonymous_senders_invitation(session: Session):
    friend = create_user(session, CAMILLE)
    sent = invitation(session, sender=LOU)

    attribute(session, friend, sent.id)

    assert sent.joined_user_id == friend.id


def test_attribute_credits_once(session: Session):
    inviter, first, second = (create_user(session, e) for e in (LOU, CAMILLE, "sam@example.org"))
    sent = invitation(session, inviter=inviter)
    attribute(session, first, sent.id)

    attribute(session, second, sent.id)

    assert sent.joined_user_id == first.id


def test_attribute_never_credits_the_inviter_themself(session: Session):
    inviter = create_user(session, LOU)
    sent = invitation(session, inviter=inviter, sender="another.address@example.org")

    attribute(session, inviter, sent.id)

    assert (sent.joined_user_id, sent.joined_at) == (None, None)


def test_attribute_never_credits_an_anonymous_sender_signing_up_with_their_address(session: Session):
    sent = invitation(session, sender=LOU)
    sender = create_user(session, LOU)

    attribute(session, sender, sent.id)

    assert sent.joined_user_id is None


NOT_INTEGERS = {"none": lambda i: None, "text": str, "float": float, "list": lambda i: [i], "dict": lambda i: {"id": i}}


@pytest.mark.parametrize("shape", sorted(NOT_INTEGERS))
def test_attribute_ignores_an_invited_by_that_is_not_an_integer(session: Session, shape: str):
    friend = create_user(session, CAMILLE)
    sent = invitation(session)

    attribute(session, friend, NOT_INTEGERS[shape](sent.id))

    assert sent.joined_user_id is None


def test_attribute_ignores_an_unknown_invitation_or_a_missing_account(session: Session):
    friend = create_user(session, CAMILLE)
    sent = invitation(session)

    attribute(session, friend, sent.id + 1000)
    attribute(session, None, sent.id)

    assert sent.joined_user_id is None


# -- the inviter's figures -------------------------------------------------------------------


def test_inviter_figures_count_invited_and_joined(session: Session):
    inviter, other = create_user(session, LOU), create_user(session, "sam@example.org")
    friends = [create_user(session, f"friend{i}@example.org") for i in range(2)]
    sent = [invitation(session, inviter=inviter, friend=f"friend{i}@example.org") for i in range(3)]
    invitation(session, inviter=other, friend="friend9@example.org")
    invitation(session, sender=LOU, friend="friend8@example.org")  # anonymous, though from the same address
    for user, row in zip(friends, sent, strict=False):
        attribute(session, user, row.id)

    assert service.inviter_figures(session, inviter.id) == (3, 2)
    assert service.inviter_figures(session, other.id) == (1, 0)


def test_inviter_figures_of_someone_who_invited_nobody_are_zero(session: Session):
    member = create_user(session, LOU)

    assert service.inviter_figures(session, member.id) == (0, 0)
