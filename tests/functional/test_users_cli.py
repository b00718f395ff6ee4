"""`engagement users create` and `engagement users grant`: the first admin, roles and the personal-data
permission from the command line, each change logged."""

from __future__ import annotations

from sqlalchemy import select

from engagement.accounts.models import RoleChange, User


def account(read, email: str) -> User:
    found = read().scalar(select(User).where(User.email == email))
    assert found is not None
    return found


def logged(read) -> list[tuple]:
    return [(c.user_id, c.actor_id, c.from_role, c.to_role, c.from_personal_data, c.to_personal_data)
            for c in read().scalars(select(RoleChange).order_by(RoleChange.id))]


def test_the_first_admin_comes_from_the_command_line(cli, read):
    result = cli("users", "create", "First@Example.org", "--role", "admin", "--password-stdin",
                 stdin="a long and unusual passphrase\n")
    assert result.exit_code == 0, result.output
    user = account(read, "first@example.org")
    assert user.role == "admin" and user.password_hash and user.activated_at is not None
    assert f"user {user.id} created with role admin" in result.stderr


def test_grant_changes_the_role_and_logs_it_as_the_command_line(cli, read):
    assert cli("users", "create", "ana@example.org").exit_code == 0
    result = cli("users", "grant", "ANA@example.org", "--role", "analyst", "--personal-data")
    assert result.exit_code == 0, result.output
    user = account(read, "ana@example.org")
    assert (user.role, user.can_see_personal_data) == ("analyst", True)
    assert result.stderr.strip() == f"user {user.id}: member -> analyst (personal data)"
    assert logged(read) == [(user.id, None, "member", "analyst", False, True)]


def test_grant_withdraws_the_personal_data_permission_alone(cli, read):
    cli("users", "create", "ana@example.org", "--role", "analyst")
    cli("users", "grant", "ana@example.org", "--personal-data")
    result = cli("users", "grant", "ana@example.org", "--no-personal-data")
    assert result.exit_code == 0, result.output
    user = account(read, "ana@example.org")
    assert (user.role, user.can_see_personal_data) == ("analyst", False)
    assert logged(read) == [(user.id, None, "analyst", "analyst", False, True),
                            (user.id, None, "analyst", "analyst", True, False)]


def test_grant_without_a_change_logs_nothing(cli, read):
    cli("users", "create", "orga@example.org", "--role", "organizer")
    result = cli("users", "grant", "orga@example.org", "--role", "organizer")
    assert result.exit_code == 0
    assert "unchanged: organizer" in result.stderr
    assert logged(read) == []


def test_grant_needs_something_to_change(cli, read):
    cli("users", "create", "orga@example.org", "--role", "organizer")
    result = cli("users", "grant", "orga@example.org")
    assert result.exit_code == 2
    assert "--role" in result.stderr
    assert logged(read) == []


def test_grant_refuses_an_unknown_account_or_role(cli, read):
    result = cli("users", "grant", "nobody@example.org", "--role", "admin")
    assert result.exit_code == 1 and "no account with this email" in result.stderr
    cli("users", "create", "ana@example.org")
    assert cli("users", "grant", "ana@example.org", "--role", "superuser").exit_code == 2
    assert account(read, "ana@example.org").role == "member"


def test_the_last_admin_stays_an_admin(cli, read):
    cli("users", "create", "boss@example.org", "--role", "admin")
    result = cli("users", "grant", "boss@example.org", "--role", "member")
    assert result.exit_code == 1 and "the last admin keeps the admin role" in result.stderr
    assert account(read, "boss@example.org").role == "admin"
    assert logged(read) == []
    cli("users", "create", "second@example.org", "--role", "admin")
    assert cli("users", "grant", "boss@example.org", "--role", "member").exit_code == 0
    assert account(read, "boss@example.org").role == "member"
