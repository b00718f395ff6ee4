"""`engagement users create --scope` and `engagement users scope`: organizers' scopes from the command line."""

from __future__ import annotations

from sqlalchemy import select

from engagement.accounts.models import OrganizerScope, ScopeChange, User


def held(read, email: str) -> list[str]:
    return list(read().scalars(select(OrganizerScope.scope).join(User, User.id == OrganizerScope.user_id)
                               .where(User.email == email).order_by(OrganizerScope.scope)))


def test_an_organizer_created_without_a_scope_is_national(cli, read):
    assert cli("users", "create", "orga@example.org", "--role", "organizer").exit_code == 0
    assert held(read, "orga@example.org") == ["national"]
    assert read().scalar(select(ScopeChange.scope)) == "national"


def test_an_organizer_created_with_scopes_has_those_only(cli, read):
    result = cli("users", "create", "ref@example.org", "--role", "organizer", "--scope", "department:75",
                 "--scope", "department:2a")
    assert result.exit_code == 0, result.output
    assert held(read, "ref@example.org") == ["department:2A", "department:75"]
    assert cli("users", "create", "m@example.org", "--scope", "national").exit_code == 2


def test_scopes_are_granted_revoked_and_listed(cli, read):
    cli("users", "create", "orga@example.org", "--role", "organizer", "--scope", "department:75")
    result = cli("users", "scope", "orga@example.org", "--grant", "department:69", "--revoke", "department:75",
                 "--list")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "department:69"
    assert "granted: department:69" in result.stderr and "revoked: department:75" in result.stderr
    log = read().execute(select(ScopeChange.action, ScopeChange.scope, ScopeChange.actor_id)
                         .order_by(ScopeChange.id)).all()
    assert log == [("grant", "department:75", None), ("revoke", "department:75", None),
                   ("grant", "department:69", None)]


def test_an_unknown_scope_or_account_is_refused(cli, read):
    cli("users", "create", "orga@example.org", "--role", "organizer", "--scope", "department:75")
    result = cli("users", "scope", "orga@example.org", "--grant", "committee:nowhere")
    assert result.exit_code == 1 and "is not a scope" in result.stderr
    assert cli("users", "scope", "nobody@example.org", "--list").exit_code == 1
    assert cli("users", "scope", "orga@example.org").exit_code == 2
    assert held(read, "orga@example.org") == ["department:75"]


def test_the_demo_has_a_host_a_referent_and_a_national_organizer_who_log_in(cli, read):
    from engagement.accounts import passwords, scopes
    from engagement.demo_organizers import PASSWORD

    assert cli("demo", "load").exit_code == 0
    session = read()
    host, referent, national = (session.scalar(select(User).where(User.email == email)) for email in (
        "hote.paris@demo.example.org", "referent.lyon@demo.example.org", "orga.national@demo.example.org"))
    assert all(passwords.verify(user.password_hash, PASSWORD) for user in (host, referent, national))
    assert [c.slug for c in scopes.committees_in(session, scopes.reach(session, host))] == ["comite-paris-centre"]
    assert scopes.reach(session, referent).departments == {"69"} and scopes.is_national(session, national)
    again = cli("demo", "load")
    assert "demo organizers: unchanged" in again.stderr
