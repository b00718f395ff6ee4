"""What the command line reads from a file or standard input must be UTF-8 (issue #23): otherwise one clear
line naming the first bad byte and exit status 1, no traceback, nothing stored."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import select

from engagement import PROJECT_ROOT
from engagement.accounts.models import User
from engagement.campaigns.models import Campaign
from tests.functional.helpers import count

NOT_UTF8 = {"encoded surrogate": b"Bonjour \xed\xa0\x80 samedi.\n", "0xff": b"Bonjour\xff samedi.\n",
            "cut short": b"R\xc3union samedi.\n", "latin-1": "Réunion samedi.\n".encode("latin-1")}
FIRST_BAD_BYTE = {"encoded surrogate": 9, "0xff": 8, "cut short": 2, "latin-1": 2}


@pytest.mark.parametrize("kind", NOT_UTF8)
def test_a_body_file_that_is_not_utf8_is_one_clear_line(cli, read, tmp_path, kind):
    body = tmp_path / "body.txt"
    body.write_bytes(NOT_UTF8[kind])
    result = cli("campaign", "send", "--audience", "all", "--subject", "Samedi", "--body-file", str(body))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: --body-file: the file is not valid UTF-8: byte {FIRST_BAD_BYTE[kind]}\n"
    assert count(read(), Campaign) == 0


def test_a_body_on_standard_input_that_is_not_utf8_is_one_clear_line(cli, read):
    result = cli("campaign", "send", "--audience", "all", "--subject", "Samedi", "--body-file", "-",
                 stdin=NOT_UTF8["0xff"])
    assert result.exit_code == 1
    assert result.stderr == "Error: --body-file: standard input is not valid UTF-8: byte 8\n"
    assert count(read(), Campaign) == 0


def test_a_utf8_body_file_with_a_byte_order_mark_is_read_as_text(cli, read, tmp_path):
    body = tmp_path / "body.txt"
    body.write_bytes("\ufeffRéunion samedi.\n".encode())
    result = cli("campaign", "send", "--audience", "all", "--subject", "Samedi", "--body-file", str(body))
    assert result.exit_code == 0, result.output
    assert read().scalar(select(Campaign.body)) == "Réunion samedi."  # the service trims the end


@pytest.mark.parametrize("password", [b"Pass\xffword-2026x\n", b"Pass\xed\xa0\x80word-2026x\n"])
def test_a_password_on_standard_input_that_is_not_utf8_is_one_clear_line(cli, read, password):
    result = cli("users", "create", "ana@example.org", "--password-stdin", stdin=password)
    assert result.exit_code == 1
    assert result.stderr == "Error: --password-stdin: standard input is not valid UTF-8: byte 5\n"
    assert count(read(), User) == 0


def test_a_utf8_password_on_standard_input_is_kept_as_typed(cli, read):
    result = cli("users", "create", "ana@example.org", "--password-stdin", stdin="Mot-de-passe-été-2026\r\n")
    assert result.exit_code == 0, result.output
    from engagement.accounts.passwords import verify

    assert verify(read().scalar(select(User.password_hash)), "Mot-de-passe-été-2026")


@pytest.mark.parametrize("args", [("users", "create", "\udcff@example.org"),
                                  ("users", "grant", "ana@example.org", "--role", "admin", "--scope", "x\udcff"),
                                  ("campaign", "send", "--audience", "all", "--subject", "Sam\udcffedi",
                                   "--body-file", "-")])
def test_an_argument_that_is_not_utf8_is_one_clear_line(cli, read, args):
    """Python decodes such bytes of a command line as lone surrogates (here typed as it would make them)."""
    number = next(n for n, arg in enumerate(args, 1) if "\udcff" in arg)
    result = cli(*args, stdin="Bonjour.\n")
    assert result.exit_code == 1
    byte = args[number - 1].index("\udcff") + 1
    assert result.stderr == f"Error: argument {number} is not valid UTF-8: byte {byte}\n"
    assert count(read(), User) == 0 and count(read(), Campaign) == 0


def test_the_real_command_in_a_c_locale_prints_no_traceback(env, settings, tmp_path):
    """As an operator's shell runs it: standard input decoded by Python's locale (surrogateescape in C)."""
    body = tmp_path / "body.txt"
    body.write_bytes(NOT_UTF8["encoded surrogate"])
    runs = [(["campaign", "send", "--audience", "all", "--subject", "S", "--body-file", str(body)], b""),
            (["users", "create", "ana@example.org", "--password-stdin"], b"Pass\xffword-2026x\n"),
            (["users", "create", b"\xe9ric@example.org"], b""),
            (["campaign", "send", "--audience", "all", "--subject", b"R\xe9union", "--body-file", str(body)], b"")]
    for args, stdin in runs:
        done = subprocess.run([sys.executable, "-m", "web.cli", *args], input=stdin, capture_output=True,
                              env={"PATH": "/usr/bin:/bin", "LC_ALL": "C", **env}, cwd=PROJECT_ROOT, timeout=60)
        assert done.returncode == 1, done.stderr
        assert b"Traceback" not in done.stderr and b"not valid UTF-8: byte" in done.stderr
