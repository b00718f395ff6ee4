"""Settings given as files: NAME_FILE names a file holding NAME's value (a mounted Secret; issue #23, finding 10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engagement.config import ConfigError, load_settings

BASE = {"ENGAGEMENT_ENV": "production", "ENGAGEMENT_INSTANCE_DIR": "", "SITE_URL": "https://agir.example.org",
        "MAIL_BACKEND": "outbox", "MAIL_SENDER": "Le mouvement <ne-pas-repondre@agir.example.org>"}
DATABASE_URL = "mysql+pymysql://app:p%40ss@db:3306/engagement?charset=utf8mb4"


@pytest.fixture
def secrets(tmp_path: Path) -> Path:
    """A folder laid out as Kubernetes mounts a Secret: one file a key, the value alone in it."""
    folder = tmp_path / "secrets"
    folder.mkdir()
    (folder / "SECRET_KEY").write_text("s" * 48)
    (folder / "DATABASE_URL").write_text(DATABASE_URL + "\n")  # as `echo ... > file` leaves it
    (folder / "MAILJET_API_KEY").write_text("key")
    return folder


def _files(folder: Path, *names: str) -> dict[str, str]:
    return {f"{name}_FILE": str(folder / name) for name in names}


def test_each_variable_may_be_read_from_the_file_its_file_variable_names(secrets: Path) -> None:
    settings = load_settings({**BASE, **_files(secrets, "SECRET_KEY", "DATABASE_URL")})
    assert settings.secret_key == "s" * 48
    assert settings.database_url == DATABASE_URL  # the newline `echo` adds is not part of the value


def test_a_file_is_read_for_any_variable_not_only_credentials(secrets: Path) -> None:
    (secrets / "SITE_URL").write_text("https://from-a-file.example.org")
    env = {**BASE, **_files(secrets, "SECRET_KEY", "DATABASE_URL", "SITE_URL")}
    del env["SITE_URL"]
    assert load_settings(env).site_url == "https://from-a-file.example.org"


def test_a_value_and_a_file_for_one_variable_are_refused(secrets: Path) -> None:
    env = {**BASE, **_files(secrets, "SECRET_KEY", "DATABASE_URL"), "SECRET_KEY": "t" * 48}
    with pytest.raises(ConfigError, match=r"^SECRET_KEY and SECRET_KEY_FILE are both set"):
        load_settings(env)


def test_a_file_missing_from_a_mounted_folder_leaves_its_variable_unset(secrets: Path) -> None:
    """Kubernetes leaves out the optional keys a Secret lacks: no REDIS_URL file means no Redis."""
    env = {**BASE, **_files(secrets, "SECRET_KEY", "DATABASE_URL", "REDIS_URL")}
    assert load_settings(env).redis_url is None
    with pytest.raises(ConfigError, match="SECRET_KEY is required"):
        load_settings({**BASE, **_files(secrets, "DATABASE_URL"), "SECRET_KEY_FILE": str(secrets / "absent")})


def test_a_file_in_a_folder_that_does_not_exist_is_refused_naming_the_variable(secrets: Path) -> None:
    env = {**BASE, **_files(secrets, "SECRET_KEY"), "DATABASE_URL_FILE": str(secrets.parent / "secrtes" / "DB")}
    with pytest.raises(ConfigError, match=r"^DATABASE_URL_FILE names .*secrtes.* whose folder does not exist"):
        load_settings(env)


def test_an_unreadable_file_is_refused_without_its_content(secrets: Path) -> None:
    env = {**BASE, **_files(secrets, "SECRET_KEY"), "DATABASE_URL_FILE": str(secrets)}  # a folder
    with pytest.raises(ConfigError, match=r"^DATABASE_URL_FILE: cannot read") as refused:
        load_settings(env)
    assert "s" * 48 not in str(refused.value)


def test_file_variables_of_settings_nobody_reads_are_ignored(secrets: Path) -> None:
    env = {**BASE, **_files(secrets, "SECRET_KEY", "DATABASE_URL"), "SSL_CERT_FILE": "/nowhere/cert.pem",
           "UNRELATED_FILE": "/nowhere/at/all"}
    assert load_settings(env).secret_key == "s" * 48


def test_without_file_variables_nothing_changes() -> None:
    settings = load_settings({**BASE, "SECRET_KEY": "k" * 48, "DATABASE_URL": DATABASE_URL})
    assert settings.secret_key == "k" * 48 and settings.database_url == DATABASE_URL
