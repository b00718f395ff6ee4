"""The account page's long lists: their first `SHOWN` lines and a link to all of them on a page of its own (a
summary, as GOV.UK's account pages do), so that the page stays complete at a glance and costs the same whatever
the member's history."""

from __future__ import annotations

import re

from tests.functional.helpers import text
from tests.functional.invitation_steps import figures, make_user
from tests.functional.test_member_pages_queries import EMAIL, add_lists, queries
from tests.functional.test_member_places import member
from web.auth.account import SHOWN


def lines(page: str, testid: str) -> int:
    found = re.search(rf'data-testid="{testid}">(.*?)</ul>', page, re.S)
    return found.group(1).count("<li") if found else 0


def test_the_account_page_shows_the_first_lines_of_each_long_list_and_links_to_all_of_them(app, client):
    user_id = member(app, client, EMAIL)
    add_lists(app, user_id, make_user(app, "hote@example.org"), 0, SHOWN + 2)
    client.get("/account")
    page = client.last_html
    assert lines(page, "my-events") + lines(page, "my-waitlists") == SHOWN
    assert lines(page, "my-committees") == SHOWN and lines(page, "my-invitations") == SHOWN
    words = text(page)
    assert "Voir toutes mes places (12)" in words and "Voir tous les comités que je suis (12)" in words
    assert "Voir toutes mes invitations (12)" in words
    assert figures(page)[0][0] == "12"  # the figures count them all
    client.get("/account/places")
    assert lines(client.last_html, "my-events") + lines(client.last_html, "my-waitlists") == SHOWN + 2
    assert "position 2" in text(client.last_html) and 'data-testid="back-to-account"' in client.last_html
    client.get("/account/committees")
    assert lines(client.last_html, "my-committees") == SHOWN + 2
    client.get("/account/invitations")
    assert lines(client.last_html, "my-invitations") == SHOWN + 2 and "Seules les" not in text(client.last_html)


def test_a_member_with_short_lists_sees_them_whole_without_a_link(app, client):
    user_id = member(app, client, EMAIL)
    add_lists(app, user_id, make_user(app, "hote@example.org"), 0, SHOWN)
    client.get("/account")
    page = client.last_html
    assert lines(page, "my-events") + lines(page, "my-waitlists") == SHOWN and lines(page, "my-invitations") == SHOWN
    assert not any(f'data-testid="all-{name}"' in page for name in ("places", "committees", "invitations"))


def test_the_account_page_sends_as_many_queries_with_a_long_history(app, client):
    user_id = member(app, client, EMAIL)
    host_id = make_user(app, "hote@example.org")
    add_lists(app, user_id, host_id, 0, 2)
    few = min(queries(app, client, "/account") for _ in range(2))  # the fewest: not a periodic session write
    add_lists(app, user_id, host_id, 2, SHOWN)
    assert min(queries(app, client, "/account") for _ in range(2)) == few


def test_the_full_lists_are_for_their_member_only(app, client):
    for url in ("/account/places", "/account/committees", "/account/invitations"):
        response = client.get(url)
        assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_an_invitation_s_day_is_the_one_flask_babel_says_in_the_reader_s_time_zone(app, client):
    from datetime import UTC, datetime

    from flask_babel import format_date, to_user_timezone

    from engagement.db import transaction
    from engagement.invitations.models import Invitation

    user_id = member(app, client, EMAIL)
    sent = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    with transaction(app.extensions["engagement"].sessions) as session:
        session.add(Invitation(inviter_id=user_id, sender_first_name="Dominique", sender_last_name="Durand",
                               sender_email=EMAIL, friend_first_name="Ami", friend_email="ami@example.org",
                               answers={}, subject="Viens", body="…", locale="fr", created_at=sent))
    client.get("/account")
    with app.test_request_context():
        expected = format_date(to_user_timezone(sent), "long")
    assert f"invité·e le {expected}" in text(client.last_html)
