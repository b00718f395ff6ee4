"""Admins grant roles and the analysts' permission to see personal data at /admin/users; every change
is logged, and an admin never removes their own admin role."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import select

from engagement.accounts import roles
from engagement.accounts.models import RoleChange, User
from engagement.db import transaction, utcnow
from engagement.privacy.erasure import erase_user
from tests.functional.helpers import text
from tests.functional.invitation_steps import log_in, make_user
from web.admin import views

ADMIN = "admin@example.org"
URL = "/admin/users"


@pytest.fixture
def admin(app, client):
    make_user(app, ADMIN, role="admin", first_name="Ada", last_name="Admin")
    log_in(client, ADMIN)
    client.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def user_id(factory, email: str) -> int:
    with factory() as session:
        return session.scalar(select(User.id).where(User.email == email))


def grant(client, target: int, role: str, personal_data: bool = False, next_url: str | None = None):
    client.get(URL)
    data = {"role": role, **({"can_see_personal_data": "y"} if personal_data else {})}
    if next_url is not None:
        data["next"] = next_url
    return client.post(f"{URL}/{target}/role", data)


def flashes(page: str) -> list[str]:
    return [text(m).strip() for m in re.findall(r'<div class="notice" role="status">(.*?)</div>', page, re.S)]


def changes(factory) -> list[tuple]:
    with factory() as session:
        return [(c.user_id, c.actor_id, c.from_role, c.to_role, c.from_personal_data, c.to_personal_data)
                for c in session.scalars(select(RoleChange).order_by(RoleChange.id))]


def test_anonymous_visitors_log_in_and_everybody_but_admins_is_refused(app, client, new_client, factory):
    target = make_user(app, "someone@example.org")
    response = client.get(URL)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    for role in ("member", "organizer", "analyst"):
        make_user(app, f"{role}@example.org", role=role)
        browser = new_client()
        log_in(browser, f"{role}@example.org")
        assert browser.get(URL).status_code == 403, role
        browser.get("/account")  # a page with a CSRF token: the refusal is the role's, not the token's
        assert browser.post(f"{URL}/{target}/role", {"role": "admin"}).status_code == 403, role
    with factory() as session:
        assert session.get(User, target).role == "member"
    assert changes(factory) == []


def test_an_admin_grants_a_role_and_the_change_is_logged_and_shown(app, admin, factory):
    target = make_user(app, "ana.lyst@example.org")
    me = user_id(factory, ADMIN)
    response = grant(admin, target, "analyst", personal_data=True, next_url="/admin/users?q=ana")
    assert response.status_code == 303 and response.headers["Location"] == "/admin/users?q=ana"
    with factory() as session:
        granted = session.get(User, target)
        assert (granted.role, granted.can_see_personal_data) == ("analyst", True)
    assert changes(factory) == [(target, me, "member", "analyst", False, True)]
    admin.get(response.headers["Location"])
    assert flashes(admin.last_html) == ["ana.lyst@example.org is now Analyst and sees personal data."]
    log = re.search(r'<table class="data" id="role-changes">.*?</table>', admin.last_html, re.S).group(0)
    assert re.search(r"<td data-actor>admin@example.org</td>\s*<td data-whom>ana.lyst@example.org</td>", log)
    assert 'data-from="member"' in log and 'data-to="analyst"' in log
    row = re.search(rf'<tr data-user="{target}"[^>]*>', admin.last_html).group(0)
    assert 'data-role="analyst"' in row and 'data-personal-data="y"' in row


def test_withdrawing_the_personal_data_permission_is_logged_too(app, admin, factory):
    target = make_user(app, "ana.lyst@example.org", role="analyst")
    grant(admin, target, "analyst", personal_data=True)
    response = grant(admin, target, "analyst", personal_data=False)
    assert response.status_code == 303 and response.headers["Location"] == URL
    me = user_id(factory, ADMIN)
    assert changes(factory) == [(target, me, "analyst", "analyst", False, True),
                                (target, me, "analyst", "analyst", True, False)]
    admin.get(URL)
    assert flashes(admin.last_html) == ["ana.lyst@example.org is now Analyst."]


def test_saving_an_unchanged_role_logs_nothing(app, admin, factory):
    target = make_user(app, "orga@example.org", role="organizer")
    grant(admin, target, "organizer")
    assert changes(factory) == []
    admin.get(URL)
    assert flashes(admin.last_html) == ["Nothing changed for orga@example.org."]


def test_an_admin_cannot_remove_their_own_admin_role(app, admin, factory):
    make_user(app, "other.admin@example.org", role="admin")  # not the last admin: the rule is about oneself
    me = user_id(factory, ADMIN)
    response = grant(admin, me, "member")
    assert response.status_code == 303
    with factory() as session:
        assert session.get(User, me).role == "admin"
    assert changes(factory) == []
    admin.get(URL)
    assert flashes(admin.last_html) == ["You cannot remove your own admin role: another admin can."]
    assert admin.get(URL).status_code == 200  # still an admin


def test_another_admin_may_be_demoted(app, admin, factory):
    other = make_user(app, "other.admin@example.org", role="admin")
    grant(admin, other, "organizer")
    with factory() as session:
        assert session.get(User, other).role == "organizer"
    assert changes(factory) == [(other, user_id(factory, ADMIN), "admin", "organizer", False, False)]


def test_a_post_without_the_csrf_token_is_refused(app, admin, factory):
    target = make_user(app, "someone@example.org")
    response = admin.client.post(f"{URL}/{target}/role", data={"role": "admin"})
    assert response.status_code == 400
    with factory() as session:
        assert session.get(User, target).role == "member"


def test_an_unknown_role_or_account_changes_nothing(app, admin, factory):
    target = make_user(app, "someone@example.org")
    response = grant(admin, target, "superuser")
    assert response.status_code == 303
    admin.get(URL)
    assert flashes(admin.last_html) == ["The role was not changed: the form was incomplete."]
    assert grant(admin, 999_999, "analyst").status_code == 404
    assert changes(factory) == []


def test_search_by_email_and_pages(app, admin, monkeypatch):
    for name in ("alice", "bob", "alicia", "albert"):
        make_user(app, f"{name}@example.net")
    admin.get(f"{URL}?q=ALI")
    assert re.findall(r"<td>([^<]+@example\.net)</td>", admin.last_html) == ["alice@example.net",
                                                                            "alicia@example.net"]
    monkeypatch.setattr(views, "PAGE", 2)
    admin.get(f"{URL}?q=example.net")
    assert re.findall(r"<td>([^<]+@example\.net)</td>", admin.last_html) == ["alice@example.net", "bob@example.net"]
    following = re.search(r'<a href="([^"]+)" rel="next">', admin.last_html).group(1)
    admin.get(text(following))
    assert re.findall(r"<td>([^<]+@example\.net)</td>", admin.last_html) == ["alicia@example.net",
                                                                            "albert@example.net"]
    assert 'rel="next"' not in admin.last_html
    admin.get(f"{URL}?q=example.net&after=99999999999999999999")  # out of range: the first page
    assert re.findall(r"<td>([^<]+@example\.net)</td>", admin.last_html) == ["alice@example.net", "bob@example.net"]
    admin.get(f"{URL}?q=al_c")  # LIKE wildcards are searched literally (as a wildcard, _ would match alice)
    assert "No account matches." in admin.last_html


def test_the_navigation_shows_the_areas_to_their_roles_only(app, admin, new_client):
    admin.get("/account")
    assert 'href="/admin/users"' in admin.last_html and 'href="/analyst/explorer"' in admin.last_html
    make_user(app, "ana@example.org", role="analyst")
    analyst = new_client()
    log_in(analyst, "ana@example.org")
    analyst.get("/account")
    assert 'href="/admin/users"' not in analyst.last_html and 'href="/analyst/explorer"' in analyst.last_html
    make_user(app, "member@example.org")
    member = new_client()
    log_in(member, "member@example.org")
    member.get("/account")
    assert 'href="/admin/users"' not in member.last_html and 'href="/analyst/explorer"' not in member.last_html


def test_two_admins_demoting_each_other_at_once_leave_one_admin(app, factory):
    first = make_user(app, "first@example.org", role="admin")
    second = make_user(app, "second@example.org", role="admin")
    barrier, outcomes = threading.Barrier(2), []

    def demote(actor_id: int, target_id: int) -> None:
        barrier.wait()
        try:
            with transaction(factory) as session:
                actor, target = session.get(User, actor_id), session.get(User, target_id)
                roles.grant(session, target, role="member", actor=actor, now=utcnow())
            outcomes.append("demoted")
        except roles.RoleError as refused:
            outcomes.append(refused.code)

    threads = [threading.Thread(target=demote, args=pair) for pair in ((first, second), (second, first))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["demoted", "last_admin"]
    with factory() as session:
        assert sorted(u.role for u in session.scalars(select(User).where(User.id.in_((first, second))))) == [
            "admin", "member"]
    assert len(changes(factory)) == 1


def test_the_log_outlives_a_deleted_account(app, admin, factory):
    target = make_user(app, "leaving@example.org")
    grant(admin, target, "organizer")
    admin.get(URL)  # shows (and consumes) the flash message naming the account
    with transaction(factory) as session:
        erase_user(session, session.get(User, target), utcnow())
    assert changes(factory) == [(None, user_id(factory, ADMIN), "member", "organizer", False, False)]
    admin.get(URL)
    assert "<td data-whom>deleted account</td>" in admin.last_html
    assert "leaving@example.org" not in admin.last_html
