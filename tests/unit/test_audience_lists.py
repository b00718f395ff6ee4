"""Audience lists: their content, debounced builds, and the changes that mark them dirty in their transaction."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engagement import PROJECT_ROOT, demo, outbox
from engagement.accounts import profile
from engagement.accounts.models import User
from engagement.campaigns import lists
from engagement.campaigns.models import AudienceList
from engagement.committees import service as committees
from engagement.committees.models import Committee, CommitteeMembership
from engagement.config import Settings
from engagement.core import Core, bootstrap
from engagement.db import transaction, utcnow
from engagement.geo import departments
from engagement.geo.communes import directory
from engagement.privacy import erasure
from engagement.workflow import definitions
from engagement.workflow.registry import REGISTRY

PARIS = {"street": "1 rue de Rivoli", "postal_code": "75001", "city": "75101",
         "city_name": "Paris 1er Arrondissement", "country": "FR"}
LYON = {"street": "1 place des Terreaux", "postal_code": "69001", "city": "69381",
        "city_name": "Lyon 1er Arrondissement", "country": "FR"}


class Recorder:
    """A relay that only writes down what it was handed (builds then run when the test says)."""

    def __init__(self, _factory: Any) -> None:
        self.handed: list[tuple[str, list[int]]] = []

    def __call__(self, ids: list[int], queue: str = outbox.TRANSACTIONAL) -> None:
        self.handed.append((queue, ids))


@pytest.fixture
def core(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Core]:
    """The wired core (change tracking included) on the test's database, with a recording relay."""
    monkeypatch.setattr(definitions, "_ACTIVE", {})
    monkeypatch.setattr(definitions, "_VERSIONS", {})
    monkeypatch.setattr(REGISTRY, "mail_templates", REGISTRY.mail_templates)
    core = bootstrap(settings, Recorder)
    yield core
    core.engine.dispose()


def member(session: Session, email: str, address: dict[str, str] | None = PARIS, active: bool = True,
           activated: bool = True, first_name: str = "Camille", last_name: str = "Durand") -> User:
    user = User(email=email, first_name=first_name, last_name=last_name, is_active=active,
                activated_at=utcnow() if activated else None, address=address, birth_date=date(1990, 5, 17))
    session.add(user)
    session.flush()
    return user


def approved_committee(session: Session, host: User, name: str = "Comité Paris Centre") -> Committee:
    committee = committees.propose(session, name=name, description="", address=PARIS, creator_id=host.id,
                                   now=utcnow())
    committees.decide(session, committee, True, utcnow())
    return committee


def stored_json(factory: sessionmaker[Session], key: str) -> list[dict[str, Any]]:
    with factory() as session:
        stored = lists.read(session, key)
    assert stored is not None
    raw = gzip.decompress(stored.body)
    assert hashlib.sha256(raw).hexdigest() == stored.etag
    return json.loads(raw)


def dirty_keys(factory: sessionmaker[Session]) -> set[str]:
    with factory() as session:
        return set(session.scalars(select(AudienceList.key).where(AudienceList.dirty_at.is_not(None))))


def queued_keys(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        rows = session.scalars(select(outbox.OutboxMessage).where(outbox.OutboxMessage.topic == lists.TOPIC)
                               .order_by(outbox.OutboxMessage.id))
        return [row.payload["key"] for row in rows]


def clear(factory: sessionmaker[Session]) -> None:
    """Forget the marks and queued builds made while arranging a test."""
    with transaction(factory) as session:
        session.execute(AudienceList.__table__.delete())
        session.execute(outbox.OutboxMessage.__table__.delete())


# -- content -------------------------------------------------------------------------------------

def test_a_department_list_holds_its_active_members_in_id_order_without_email_or_birth_date(core):
    with transaction(core.sessions) as session:
        zoe = member(session, "zoe@example.org", first_name="Zoé", last_name="Ézéchiel")
        member(session, "gone@example.org", active=False)
        member(session, "unconfirmed@example.org", activated=False)
        member(session, "lyon@example.org", address=LYON)
        other_id = member(session, "a@example.org").id
        activated = zoe.activated_at
    assert lists.build(core.sessions, "department:75")
    listed = stored_json(core.sessions, "department:75")
    assert [row["id"] for row in listed] == [zoe.id, other_id]
    assert listed[0] == {"id": zoe.id, "first_name": "Zoé", "last_name": "Ézéchiel", "postal_code": "75001",
                         "city_name": "Paris 1er Arrondissement", "joined_at": f"{activated:%Y-%m-%dT%H:%M:%S}Z"}
    with core.sessions() as session:
        body = gzip.decompress(lists.read(session, "department:75").body).decode()
    assert "@" not in body and "example.org" not in body and "1990" not in body
    assert "Zoé" in body  # UTF-8, not \u escapes


def test_a_committee_list_has_each_members_role_and_membership_date(core):
    with transaction(core.sessions) as session:
        host = member(session, "host@example.org")
        committee = approved_committee(session, host)
        follower = member(session, "follower@example.org", address=LYON)
        followed = committees.follow(session, committee, follower.id, utcnow() - timedelta(days=3))
        member(session, "other@example.org")
        key, joined = lists.committee_key(committee.id), followed.created_at
    lists.build(core.sessions, key)
    listed = stored_json(core.sessions, key)
    assert [(row["id"], row["role"]) for row in listed] == [(host.id, "host"), (follower.id, "follower")]
    assert listed[1]["joined_at"] == f"{joined:%Y-%m-%dT%H:%M:%S}Z"
    assert listed[1]["city_name"] == "Lyon 1er Arrondissement"
    with core.sessions() as session:
        assert lists.read(session, key).size == 2


def test_a_list_streams_by_pages(core, monkeypatch):
    monkeypatch.setattr(lists, "PAGE", 2)
    with transaction(core.sessions) as session:
        ids = [member(session, f"m{n}@example.org").id for n in range(5)]
    lists.build(core.sessions, "department:75")
    assert [row["id"] for row in stored_json(core.sessions, "department:75")] == ids


def test_an_empty_list_is_an_empty_array(core):
    assert lists.build(core.sessions, "department:2A")
    assert stored_json(core.sessions, "department:2A") == []


def test_a_malformed_key_is_refused(core):
    with pytest.raises(ValueError, match="not an audience list"):
        lists.build(core.sessions, "event:12")


# -- debouncing ----------------------------------------------------------------------------------

def test_a_build_is_skipped_until_a_change_marks_the_list_dirty(core):
    started = utcnow()
    assert lists.build(core.sessions, "department:75", now=started)
    assert not lists.build(core.sessions, "department:75")
    with transaction(core.sessions) as session:
        member(session, "new@example.org")
    with core.sessions() as session:
        row = session.get(AudienceList, "department:75")
        assert row.dirty_at > row.built_at == started
    assert lists.build(core.sessions, "department:75")
    assert len(stored_json(core.sessions, "department:75")) == 1
    assert not lists.build(core.sessions, "department:75")


def test_a_dirty_mark_comes_after_the_stored_times_whatever_the_clock(core):
    later = utcnow() + timedelta(minutes=5)  # a build that started on a clock ahead of ours
    lists.build(core.sessions, "department:75", now=later)
    with transaction(core.sessions) as session:
        lists.mark_dirty(session, ["department:75"], utcnow())
    with core.sessions() as session:
        row = session.get(AudienceList, "department:75")
        assert row.dirty_at > row.built_at == later
    assert lists.build(core.sessions, "department:75")


def test_a_change_committed_during_a_build_leaves_the_list_owed(core, monkeypatch):
    serialize = lists.serialize

    def slow(session: Session, key: str) -> Any:
        result = serialize(session, key)  # read on the build's snapshot ...
        with transaction(core.sessions) as other:  # ... while a member joins and commits
            member(other, "late@example.org")
        return result

    monkeypatch.setattr(lists, "serialize", slow)
    # The late change is stamped at its flush, before its commit: it may well be stamped before the
    # build started although the build did not see it (here: the build's clock is ahead).
    assert lists.build(core.sessions, "department:75", now=utcnow() + timedelta(seconds=30))
    assert stored_json(core.sessions, "department:75") == []
    monkeypatch.setattr(lists, "serialize", serialize)
    assert lists.build(core.sessions, "department:75"), "the late member's build must not be skipped"
    assert [row["last_name"] for row in stored_json(core.sessions, "department:75")] == ["Durand"]


def test_a_slow_build_never_overwrites_a_newer_list(core, monkeypatch):
    lists.build(core.sessions, "department:75")
    with transaction(core.sessions) as session:
        member(session, "early@example.org", last_name="Early")
    serialize, interleaved = lists.serialize, []

    def slow(session: Session, key: str) -> Any:
        result = serialize(session, key)  # the slow build has read: Early only
        if not interleaved:
            interleaved.append(True)
            with transaction(core.sessions) as other:
                member(other, "late@example.org", last_name="Late")
            assert lists.build(core.sessions, key)  # the late change's build runs and stores first
        return result

    monkeypatch.setattr(lists, "serialize", slow)
    assert not lists.build(core.sessions, "department:75")
    assert [row["last_name"] for row in stored_json(core.sessions, "department:75")] == ["Early", "Late"]
    assert not lists.build(core.sessions, "department:75")  # and it is up to date


def test_the_queued_build_runs_through_the_outbox_on_the_lists_queue(core):
    with transaction(core.sessions) as session:
        member(session, "a@example.org")
    assert [queue for queue, _ids in core.relay.handed] == [outbox.LISTS]
    assert outbox.deliver(core.sessions, core.relay.handed[0][1][0])
    assert len(stored_json(core.sessions, "department:75")) == 1


# -- change tracking -----------------------------------------------------------------------------

def test_following_and_leaving_a_committee_mark_its_list(core):
    with transaction(core.sessions) as session:
        host = member(session, "host@example.org", address=None)
        committee = approved_committee(session, host)
        follower = member(session, "f@example.org", address=None)
    clear(core.sessions)
    key = lists.committee_key(committee.id)
    with transaction(core.sessions) as session:
        committees.follow(session, session.get(Committee, committee.id), follower.id, utcnow())
    assert dirty_keys(core.sessions) == {key} and queued_keys(core.sessions) == [key]
    with transaction(core.sessions) as session:
        committees.leave(session, session.get(Committee, committee.id), follower.id)
    assert queued_keys(core.sessions) == [key, key]


def test_a_move_marks_both_departments_and_the_members_committees(core):
    with transaction(core.sessions) as session:
        user = member(session, "mover@example.org")
        committee = approved_committee(session, user)
    clear(core.sessions)
    with transaction(core.sessions) as session:
        profile.update_profile(session, session.get(User, user.id), LYON, [], False, words="Lettre", locale="fr",
                               now=utcnow())
    assert set(queued_keys(core.sessions)) == {"department:75", "department:69", lists.committee_key(committee.id)}
    assert len(queued_keys(core.sessions)) == 3  # once per list


def test_a_new_name_marks_the_department_and_committees(core):
    with transaction(core.sessions) as session:
        user = member(session, "n@example.org")
        committee = approved_committee(session, user)
    clear(core.sessions)
    with transaction(core.sessions) as session:
        session.get(User, user.id).last_name = "Martin"
    assert set(queued_keys(core.sessions)) == {"department:75", lists.committee_key(committee.id)}


def test_deactivation_and_deletion_mark_the_members_lists(core):
    with transaction(core.sessions) as session:
        user = member(session, "d@example.org")
        committee = approved_committee(session, user)
        other = member(session, "o@example.org", address=LYON)
        committees.follow(session, committee, other.id, utcnow())
    clear(core.sessions)
    with transaction(core.sessions) as session:
        session.get(User, user.id).is_active = False
    assert set(queued_keys(core.sessions)) == {"department:75", lists.committee_key(committee.id)}
    clear(core.sessions)
    with transaction(core.sessions) as session:
        erasure.erase_user(session, session.get(User, other.id), utcnow())
    assert set(queued_keys(core.sessions)) == {"department:69", lists.committee_key(committee.id)}


def test_changes_outside_every_list_mark_nothing(core):
    with transaction(core.sessions) as session:
        user = member(session, "signup@example.org", activated=False)  # a sign-up not confirmed yet
        user.last_name = "Petit"
        session.flush()
        user.interests = ["ecology"]
    assert queued_keys(core.sessions) == [] and dirty_keys(core.sessions) == set()


def test_a_rolled_back_change_marks_and_queues_nothing(core):
    with pytest.raises(RuntimeError), transaction(core.sessions) as session:
        member(session, "a@example.org")
        assert lists.department_key("75") in {row.key for row in session.scalars(select(AudienceList))}
        raise RuntimeError("the request failed")
    assert queued_keys(core.sessions) == [] and dirty_keys(core.sessions) == set()
    assert core.relay.handed == []


def test_one_build_per_list_and_flush(core):
    with transaction(core.sessions) as session:
        for n in range(3):
            session.add(User(email=f"u{n}@example.org", activated_at=utcnow(), address=PARIS))
    assert queued_keys(core.sessions) == ["department:75"]


# -- reading -------------------------------------------------------------------------------------

def test_estimate_reads_the_stored_count(core):
    with transaction(core.sessions) as session:
        host = member(session, "h@example.org")
        committee = approved_committee(session, host)
        member(session, "p@example.org")
    with core.sessions() as session:
        assert lists.estimate(session, "department:75") is None  # dirty, never built
        assert lists.read(session, "department:75") is None
    lists.build(core.sessions, "department:75")
    lists.build(core.sessions, lists.committee_key(committee.id))
    with core.sessions() as session:
        assert lists.estimate(session, "department:75") == 2
        assert lists.estimate(session, f"committee:{committee.slug}") == 1
        assert lists.estimate(session, "all") is None
        assert lists.estimate(session, "event:anything") is None
        assert lists.estimate(session, "committee:nowhere") is None
        assert lists.estimate(session, "department:20") is None


# -- demo data and departments -------------------------------------------------------------------

def test_demo_members_are_activated_in_real_communes_and_every_tenth_follows(core):
    lines = demo.load(core.sessions, PROJECT_ROOT / "workflows", members=30)
    assert "synthetic members: 30 created, 30 wanted" in lines
    with core.sessions() as session:
        synthetic = list(session.scalars(select(User).where(User.email.like("member%@demo.invalid"))))
        committee = session.scalar(select(Committee).where(Committee.slug == "comite-paris-centre"))
        following = set(session.scalars(select(User.email).join(CommitteeMembership).where(
            CommitteeMembership.committee_id == committee.id, CommitteeMembership.role == "follower")))
    assert all(u.activated_at and u.is_active for u in synthetic)
    assert sum(u.has_newsletter for u in synthetic) == 12  # two in five: a campaign to ``all`` reaches them
    for user in synthetic:
        assert directory().carries(user.address["postal_code"], user.address["city"])
        assert directory().name_of(user.address["city"]) == user.address["city_name"]
        assert user.department == directory().by_code[user.address["city"]].department
    assert following == {f"member{n:06d}@demo.invalid" for n in (10, 20, 30)}
    assert {"department:75", "department:2A", lists.committee_key(committee.id)} <= set(queued_keys(core.sessions))
    assert "synthetic members: 0 created, 30 wanted" in demo.load(core.sessions, PROJECT_ROOT / "workflows", 30)


def test_the_101_departments_and_the_collectivities_of_the_data_have_a_name():
    communes = {commune.department for commune in directory().by_code.values()}
    assert set(departments.NAMES) == communes and len(communes) == 101 + 8  # 975, 977, 978, 984, 986-989
    assert "20" not in departments.NAMES and "98" not in departments.NAMES
    assert departments.label("75") == "Paris (75)"
    assert departments.label("2a") == "Corse-du-Sud (2A)"
    assert departments.label("976") == "Mayotte (976)"
    assert departments.label("975") == "Saint-Pierre-et-Miquelon (975)"
