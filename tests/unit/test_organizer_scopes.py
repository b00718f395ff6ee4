"""engagement.accounts.scopes: what national, department and committee scopes cover, granting and revoking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engagement.accounts import scopes
from engagement.accounts.models import OrganizerScope, ScopeChange, User
from engagement.committees import service as committees
from engagement.committees.models import Committee
from engagement.db import transaction, utcnow
from engagement.events import service as events
from engagement.events.models import Event
from engagement.events.service import EventInput

PARIS = {"street": "3 rue du Port", "postal_code": "75011", "city": "75111", "city_name": "Paris", "country": "FR"}
LYON = {"street": "1 place Bellecour", "postal_code": "69002", "city": "69382", "city_name": "Lyon", "country": "FR"}


def _user(session, email: str, role: str = "organizer") -> User:
    user = User(email=email, role=role, activated_at=utcnow())
    session.add(user)
    session.flush()
    return user


def _event(session, name: str, address: dict[str, str] | None, committee: Committee | None) -> Event:
    begins = utcnow() + timedelta(days=3)
    data = EventInput(name=name, description="", begins_at=begins, ends_at=begins + timedelta(hours=1),
                      address=address, online_url=None if address else "https://visio.example.org",
                      committee_id=committee.id if committee else None)
    return events.create(session, data, None, utcnow())


@pytest.fixture
def world(factory):
    """Paris (75) and Lyon (69) committees, each with an event, an online event of the Paris committee."""
    with transaction(factory) as session:
        host = _user(session, "host@example.org")
        paris = committees.propose(session, name="Paris Centre", description="", address=PARIS, creator_id=host.id,
                                   now=utcnow())
        lyon = committees.propose(session, name="Lyon Presqu'île", description="", address=LYON,
                                  creator_id=_user(session, "lyon@example.org", "member").id, now=utcnow())
        session.flush()
        for row in (paris, lyon):
            committees.decide(session, row, True, utcnow())
        _event(session, "Paris meeting", PARIS, paris)
        _event(session, "Paris online", None, paris)
        _event(session, "Lyon meeting", LYON, lyon)
        _event(session, "Lyon unattached", LYON, None)
    return factory


def _users(session, *emails: str) -> list[User]:
    return [session.scalar(select(User).where(User.email == email)) for email in emails]


def _events(session, user: User) -> set[str]:
    return {e.name for e in session.scalars(select(Event)) if scopes.may_manage_event(session, user, e)}


def test_a_host_manages_their_committees_events_only_and_writes_to_its_people(world):
    with world() as session:
        (host,) = _users(session, "host@example.org")
        assert _events(session, host) == {"Paris meeting", "Paris online"}
        specs = scopes.audiences(session, host)
        assert specs[0] == "committee:paris-centre"  # departments, committees, then events
        assert set(specs) == {"committee:paris-centre", "event:paris-meeting", "event:paris-online"}
        assert scopes.may_address(session, host, "committee:paris-centre")
        assert not scopes.may_address(session, host, "department:75")
        assert not scopes.may_address(session, host, "committee:lyon-presqu-ile")
        assert not scopes.may_address(session, host, "all")
        lyon = committees.by_slug(session, "lyon-presqu-ile")
        assert not scopes.may_manage_committee(session, host, lyon)
        assert not scopes.may_decide_committee(session, host, committees.by_slug(session, "paris-centre"))


def test_a_referent_covers_their_departments_events_committees_and_members(world):
    with transaction(world) as session:
        referent = _user(session, "ref@example.org")
        scopes.grant(session, referent, "department:69", actor=None, now=utcnow())
    with world() as session:
        (referent,) = _users(session, "ref@example.org")
        assert _events(session, referent) == {"Lyon meeting", "Lyon unattached"}
        assert scopes.may_address(session, referent, "department:69")
        assert scopes.may_address(session, referent, "committee:lyon-presqu-ile")
        assert not scopes.may_address(session, referent, "department:75")
        assert scopes.may_decide_committee(session, referent, committees.by_slug(session, "lyon-presqu-ile"))
        assert "department:69" in scopes.audiences(session, referent)


def test_an_online_event_of_a_departments_committee_is_the_referents(world):
    with transaction(world) as session:
        referent = _user(session, "ref@example.org")
        scopes.grant(session, referent, "department:75", actor=None, now=utcnow())
    with world() as session:
        assert _events(session, *_users(session, "ref@example.org")) == {"Paris meeting", "Paris online"}


def test_national_organizers_and_admins_cover_everything_members_nothing(world):
    with transaction(world) as session:
        national = _user(session, "nat@example.org")
        scopes.grant(session, national, "national", actor=None, now=utcnow())
        _user(session, "admin@example.org", "admin")
        _user(session, "member@example.org", "member")
        _user(session, "bare@example.org")
    with world() as session:
        national, admin, member, bare = _users(session, "nat@example.org", "admin@example.org",
                                               "member@example.org", "bare@example.org")
        every = {"Paris meeting", "Paris online", "Lyon meeting", "Lyon unattached"}
        assert _events(session, national) == _events(session, admin) == every
        assert scopes.audiences(session, national)[0] == "all" and scopes.may_address(session, admin, "all")
        assert _events(session, member) == _events(session, bare) == set()
        assert scopes.audiences(session, member) == scopes.audiences(session, bare) == []


def test_hosting_gives_no_scope_to_a_member(world):
    with world() as session:
        (host,) = _users(session, "lyon@example.org")  # hosts the Lyon committee, but is a member
        assert scopes.reach(session, host).empty and _events(session, host) == set()


def test_granting_and_revoking_are_logged_once(world):
    with transaction(world) as session:
        (host,) = _users(session, "host@example.org")
        admin = _user(session, "admin@example.org", "admin")
        assert scopes.grant(session, host, " Department:2a ", actor=admin, now=utcnow()).scope == "department:2A"
        assert scopes.grant(session, host, "department:2A", actor=admin, now=utcnow()) is None
        assert [s.scope for s in scopes.scopes_of(session, host)] == ["department:2A"]
        assert scopes.revoke(session, host, "department:2A", actor=None, now=utcnow()).action == "revoke"
        assert scopes.revoke(session, host, "department:2A", actor=None, now=utcnow()) is None
    with world() as session:
        log = session.execute(select(ScopeChange.action, ScopeChange.scope, ScopeChange.actor_id)
                              .order_by(ScopeChange.id)).all()
        admin_id = session.scalar(select(User.id).where(User.email == "admin@example.org"))
        assert log == [("grant", "department:2A", admin_id), ("revoke", "department:2A", None)]
        assert session.scalar(select(OrganizerScope.id)) is None


@pytest.mark.parametrize("spec", ["department:99", "committee:nowhere", "regional", "national:75", ""])
def test_a_scope_that_names_nothing_is_refused(world, spec):
    with transaction(world) as session:
        (host,) = _users(session, "host@example.org")
        with pytest.raises(scopes.ScopeError) as refused:
            scopes.grant(session, host, spec, actor=None, now=utcnow())
        assert refused.value.code == "unknown_scope"


def test_only_organizers_are_given_a_scope(world):
    with transaction(world) as session:
        (member,) = _users(session, "lyon@example.org")
        with pytest.raises(scopes.ScopeError) as refused:
            scopes.grant(session, member, "national", actor=None, now=utcnow())
        assert refused.value.code == "not_organizer"


def test_a_committee_scope_goes_with_its_committee(world):
    with transaction(world) as session:
        referent = _user(session, "other@example.org")
        scopes.grant(session, referent, "committee:lyon-presqu-ile", actor=None, now=utcnow())
    with transaction(world) as session:
        session.delete(committees.by_slug(session, "lyon-presqu-ile"))
    with world() as session:
        assert session.scalar(select(OrganizerScope.id)) is None


def test_the_migration_keeps_every_organizer_national_and_logs_it(tmp_path):
    from sqlalchemy import create_engine, text

    from engagement import migrate

    url = f"sqlite:///{tmp_path / 'scopes.db'}"
    migrate.upgrade(url, "0014_workflow_drafts")
    engine = create_engine(url)
    with engine.begin() as connection:
        for email, role in (("orga@example.org", "organizer"), ("member@example.org", "member"),
                            ("boss@example.org", "admin")):
            connection.execute(text("INSERT INTO users (email, role, is_active, created_at, interests) "
                                    "VALUES (:email, :role, 1, '2026-12-01 10:00:00', '[]')"),
                               {"email": email, "role": role})
    migrate.upgrade(url, "0015_organizer_scopes")
    with engine.connect() as connection:
        granted = connection.execute(text("SELECT u.email, s.scope, s.kind FROM organizer_scopes s "
                                          "JOIN users u ON u.id = s.user_id")).all()
        logged = connection.execute(text("SELECT u.email, c.action, c.scope, c.actor_id FROM scope_changes c "
                                         "JOIN users u ON u.id = c.user_id")).all()
    engine.dispose()
    assert granted == [("orga@example.org", "national", "national")]
    assert logged == [("orga@example.org", "grant", "national", None)]
