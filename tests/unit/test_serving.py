"""`engagement serve`'s gunicorn command line: a control socket per server (web/serving.py; issue #23, 13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from web import serving


def test_each_address_has_its_own_control_socket_in_the_instance_folder(tmp_path: Path) -> None:
    first = serving.control_socket(tmp_path, "127.0.0.1", 5000)
    assert first == tmp_path / "gunicorn-127.0.0.1-5000.ctl"
    assert serving.control_socket(tmp_path, "127.0.0.1", 5001) != first
    assert serving.control_socket(tmp_path, "::1", 5000) == tmp_path / "gunicorn-__1-5000.ctl"


def test_without_an_instance_folder_or_with_a_deep_one_the_socket_goes_to_the_temporary_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serving.tempfile, "gettempdir", lambda: "/tmp")
    assert serving.control_socket(None, "0.0.0.0", 8000) == Path("/tmp/engagement-gunicorn-0.0.0.0-8000.ctl")
    deep = tmp_path.joinpath(*["folder"] * 20)
    assert serving.control_socket(deep, "0.0.0.0", 8000) == Path("/tmp/engagement-gunicorn-0.0.0.0-8000.ctl")
    monkeypatch.setattr(serving.tempfile, "gettempdir", lambda: str(deep))
    assert serving.control_socket(deep, "0.0.0.0", 8000) is None  # no path fits: none, rather than a shared one


def test_the_command_names_the_socket_or_turns_it_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serving, "has_control_socket", lambda: True)
    argv = serving.gunicorn_command("127.0.0.1", 5000, 2, tmp_path)
    assert argv[argv.index("--control-socket") + 1] == str(tmp_path / "gunicorn-127.0.0.1-5000.ctl")
    assert argv[-1] == "web.wsgi:app"
    monkeypatch.setattr(serving, "control_socket", lambda *args: None)
    assert "--no-control-socket" in serving.gunicorn_command("127.0.0.1", 5000, 2, tmp_path)
    monkeypatch.setattr(serving, "has_control_socket", lambda: False)  # gunicorn before 25.1: no such option
    assert not {"--control-socket", "--no-control-socket"} & set(serving.gunicorn_command("h", 1, 1, tmp_path))
