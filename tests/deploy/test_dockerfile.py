"""The Dockerfile, read as instructions (the image itself cannot be built here: no daemon, no base image)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import yaml

from engagement import PROJECT_ROOT

DOCKERFILE = PROJECT_ROOT / "Dockerfile"
#: What the application needs at run time (engagement.PROJECT_ROOT is the copied checkout) and to install.
NEEDED = ["engagement", "forms", "web", "workers", "workflows", "templates", "static", "translations",
          "migrations", "setup.cfg", "pyproject.toml", "README.md"]


@dataclass
class Instruction:
    keyword: str
    arguments: str
    stage: int


def instructions() -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped, each with its stage."""
    logical: list[str] = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        logical.append(pending.strip())
        pending = ""
    found, stage = [], -1
    for text in logical:
        keyword, _, arguments = text.partition(" ")
        if keyword.upper() == "FROM":
            stage += 1
        found.append(Instruction(keyword.upper(), arguments.strip(), stage))
    return found


def _stage(index: int) -> list[Instruction]:
    return [i for i in instructions() if i.stage == index]


def _final() -> list[Instruction]:
    return _stage(max(i.stage for i in instructions()))


def _env(stage: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction in stage:
        if instruction.keyword == "ENV":
            for key, value in re.findall(r'(\w+)=("[^"]*"|\S*)', instruction.arguments):
                env[key] = value.strip('"')
    return env


def _chart_values() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "helm" / "values.yaml").read_text(encoding="utf-8"))


def test_a_builder_stage_and_a_runtime_stage() -> None:
    froms = [i.arguments for i in instructions() if i.keyword == "FROM"]
    assert len(froms) == 2
    assert froms[0].endswith(" AS builder") and froms[1].endswith(" AS runtime")
    copies = [i.arguments for i in _final() if i.keyword == "COPY"]
    assert copies == ["--from=builder /opt/venv /opt/venv", "--from=builder /app /app"]  # nothing else


def test_the_base_image_is_the_python_the_project_requires() -> None:
    args = {i.arguments.split("=", 1)[0]: i.arguments.split("=", 1)[1] for i in instructions() if i.keyword == "ARG"}
    assert args["PYTHON_IMAGE"].startswith("python:3.11-slim")
    assert all(i.arguments.startswith("${PYTHON_IMAGE} ") for i in instructions() if i.keyword == "FROM")


def test_the_builder_compiles_translations_and_byte_code() -> None:
    runs = " ".join(i.arguments for i in _stage(0) if i.keyword == "RUN")
    assert "pybabel compile" in runs and "-d translations" in runs
    assert "python -m compileall" in runs and "/app" in runs and "/opt/venv" in runs
    assert "pip install --no-deps -e ." in runs  # PROJECT_ROOT is /app, where templates/ and workflows/ are


def test_nothing_is_fetched_from_a_url() -> None:
    for instruction in instructions():
        assert instruction.keyword != "ADD", "COPY only: ADD fetches URLs and unpacks archives"
        assert not re.search(r"\b(curl|wget)\b", instruction.arguments)


def test_the_runtime_runs_as_a_numeric_unprivileged_user() -> None:
    users = [i.arguments for i in _final() if i.keyword == "USER"]
    assert len(users) == 1
    uid, _, gid = users[0].partition(":")
    assert uid.isdigit() and int(uid) > 0 and gid.isdigit() and int(gid) > 0
    values = _chart_values()
    assert values["podSecurityContext"]["runAsUser"] == int(uid) == values["securityContext"]["runAsUser"]
    assert values["podSecurityContext"]["runAsGroup"] == int(gid)


def test_the_runtime_environment_writes_nothing_outside_tmp() -> None:
    env = _env(_final())
    assert env["PYTHONDONTWRITEBYTECODE"] == "1" and env["PYTHONUNBUFFERED"] == "1"
    assert env["HOME"] == "/tmp" and env["TMPDIR"] == "/tmp"
    assert "--worker-tmp-dir /dev/shm" in env["GUNICORN_CMD_ARGS"]
    assert env["ENGAGEMENT_INSTANCE_DIR"] == ""  # a read-only application: no instance folder
    assert env["PATH"].startswith("/opt/venv/bin:")


def test_the_entrypoint_is_the_engagement_command_and_serves_by_default() -> None:
    final = _final()
    entrypoint = [json.loads(i.arguments) for i in final if i.keyword == "ENTRYPOINT"]
    command = [json.loads(i.arguments) for i in final if i.keyword == "CMD"]  # exec form: no shell
    assert entrypoint == [["/opt/venv/bin/engagement"]]
    assert command == [["serve", "--host", "0.0.0.0", "--port", "8000"]]
    exposed = [i.arguments for i in final if i.keyword == "EXPOSE"]
    assert exposed == [str(_chart_values()["web"]["port"])] == ["8000"]


def test_every_command_the_image_and_chart_use_exists() -> None:
    from web.cli import main

    serve = main.commands["serve"]
    assert {"host", "port", "workers"} <= {p.name for p in serve.params}
    assert {"queues"} <= {p.name for p in main.commands["worker"].params}  # and --name, for a second one on a host
    assert "beat" in main.commands
    assert {p.name for p in main.commands["health"].params} == {"path", "max_age"}  # the heartbeat probes'
    upgrade = main.commands["db"].commands["upgrade"]  # type: ignore[attr-defined]
    assert upgrade.params[0].name == "revision"  # the migration Job's `db upgrade` (and --sql to review)
    assert {"as_sql", "start"} <= {p.name for p in upgrade.params}


def test_the_build_context_keeps_what_the_app_needs_and_leaves_the_rest() -> None:
    patterns = {line.strip().rstrip("/") for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")}
    assert not patterns & set(NEEDED)
    assert {".git", ".venv", "instance", "tests", "bench", "**/*.mo"} <= patterns
    for needed in NEEDED:
        assert (PROJECT_ROOT / needed).exists(), needed
