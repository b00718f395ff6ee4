"""`password` fields (rules, stored only as an argon2id hash) and `min_age`/`max_age` on dates."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from engagement import PROJECT_ROOT
from engagement.accounts.service import create_user
from engagement.db import transaction
from engagement.workflow.checker import check_text
from tests.functional.helpers import instances, text

URL = "/w/account_like"
GOOD = "une phrase de passe solide"


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    env["ENGAGEMENT_WORKFLOWS_DIR"] = str(PROJECT_ROOT / "tests" / "fixtures" / "workflows" / "functional")
    return env


def years_ago(years: int, days: int = 0) -> str:
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    born = today.replace(year=today.year - years) if (today.month, today.day) != (2, 29) else date(
        today.year - years, 2, 28)
    return date.fromordinal(born.toordinal() + days).isoformat()


def send(client, secret: str, birth: str, email: str = "nouvelle@example.org"):
    client.get(URL)
    return client.post(URL, {"trigger": "next", "secret": secret, "birth_date": birth, "login_email": email})


@pytest.mark.parametrize(("secret", "message"), [
    ("court", "Le mot de passe doit comporter au moins 8 caractères."),
    ("x" * 129, "Le mot de passe doit comporter au plus 128 caractères."),
    ("password", "Ce mot de passe fait partie des plus courants\u00a0: choisissez-en un autre."),
    ("AZERTYUIOP", "Ce mot de passe fait partie des plus courants\u00a0: choisissez-en un autre."),
])
def test_weak_passwords_are_refused_and_never_shown_back(client, read, secret, message):
    response = send(client, secret, years_ago(30))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and message in text(page)
    assert f'value="{secret}"' not in page  # a password is never re-displayed
    assert instances(read(), "account_like")[0].state == "credentials"


def test_password_is_recorded_only_as_an_argon2id_hash(client, read):
    assert send(client, GOOD, years_ago(30)).status_code == 303
    [instance] = instances(read(), "account_like")
    assert instance.state == "done"
    assert instance.data["secret"].startswith("$argon2id$") and GOOD not in str(instance.data)


@pytest.mark.parametrize(("years", "days", "accepted", "message"), [
    (15, 0, True, None),
    (15, 1, False, "Vous devez avoir au moins 15 ans."),
    (14, 0, False, "Vous devez avoir au moins 15 ans."),
    (121, 0, False, "L’âge ne peut pas dépasser 120 ans."),
    (120, 0, True, None),
])
def test_birth_date_ages_are_counted_in_whole_years(client, years, days, accepted, message):
    # The date is computed when the test runs, not when it is collected: a run across midnight in Paris
    # would otherwise send yesterday's "one day short of 15" on a day it is exactly 15.
    response = send(client, GOOD, years_ago(years, days=days))
    assert (response.status_code == 303) is accepted
    if message:
        assert message in text(response.get_data(as_text=True))


def test_min_age_on_a_field_that_is_not_a_date_is_a_checker_error():
    source = (PROJECT_ROOT / "tests" / "fixtures" / "workflows" / "functional" / "account_like.yml").read_text()
    spec, diagnostics = check_text(source.replace("type: password,", "type: password, min_age: 3,"), "x.yml")
    assert spec is None and [d.message for d in diagnostics] == [
        "min_age does not apply to a password field (it applies to: date)"]


def test_an_email_already_registered_is_a_form_error_whatever_its_case(client, app, read):
    with transaction(app.extensions["engagement"].sessions) as session:
        create_user(session, "Camille@Example.org")
    response = send(client, GOOD, years_ago(30), email="camille@EXAMPLE.org")
    assert response.status_code == 422
    assert "Un compte utilise déjà cette adresse e-mail" in text(response.get_data(as_text=True))
    assert instances(read(), "account_like")[0].state == "credentials"
    assert send(client, GOOD, years_ago(30), email="camille.bis@example.org").status_code == 303


def test_an_unknown_validator_is_a_checker_error():
    source = (PROJECT_ROOT / "tests" / "fixtures" / "workflows" / "functional" / "account_like.yml").read_text()
    spec, diagnostics = check_text(source.replace("accounts.email_available", "accounts.nope"), "x.yml")
    assert spec is None and [d.message for d in diagnostics] == ["unknown validator 'accounts.nope'"]
