"""The heartbeat file of workers and beat, and `engagement health`, the probe that reads it (issue #23, finding 10).

A Celery worker beats from its consumer's loop and beat after each tick; a probe fails when the file is
missing or older than ``--max-age`` seconds, so a hung loop restarts the container, whatever the broker does.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from celery import Celery
from celery.beat import Service
from celery.contrib.testing.worker import start_worker
from click.testing import CliRunner

from engagement import heartbeat
from web.cli import main
from workers import heartbeat as worker_heartbeat


def _age_by(path: Path, seconds: float) -> None:
    """Make the file's last beat ``seconds`` old."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_beat_creates_the_file_and_makes_it_fresh(tmp_path: Path) -> None:
    path = tmp_path / "run" / "heartbeat"
    heartbeat.beat(path)
    fresh, reason = heartbeat.verdict(path, max_age=60)
    assert fresh, reason
    age = heartbeat.age(path)
    assert age is not None and age < 60


def test_a_heartbeat_older_than_the_limit_is_stale(tmp_path: Path) -> None:
    path = tmp_path / "heartbeat"
    heartbeat.beat(path)
    _age_by(path, 120)
    fresh, reason = heartbeat.verdict(path, max_age=60)
    assert not fresh
    assert "120 s old" in reason and "60" in reason
    heartbeat.beat(path)
    assert heartbeat.verdict(path, max_age=60)[0]  # the next beat makes it fresh again


def test_a_missing_heartbeat_is_not_fresh(tmp_path: Path) -> None:
    path = tmp_path / "heartbeat"
    assert heartbeat.age(path) is None
    fresh, reason = heartbeat.verdict(path, max_age=60)
    assert not fresh and "no heartbeat" in reason
    heartbeat.beat(path)
    heartbeat.clear(path)
    assert not path.exists()


def test_the_health_command_passes_on_a_fresh_heartbeat_and_fails_on_a_stale_one(tmp_path: Path) -> None:
    path = tmp_path / "heartbeat"
    runner = CliRunner()
    missing = runner.invoke(main, ["health", "--heartbeat", str(path), "--max-age", "60"])
    assert missing.exit_code == 1 and "no heartbeat" in missing.output
    heartbeat.beat(path)
    fresh = runner.invoke(main, ["health", "--heartbeat", str(path), "--max-age", "60"])
    assert fresh.exit_code == 0, fresh.output
    _age_by(path, 61)
    stale = runner.invoke(main, ["health", "--heartbeat", str(path), "--max-age", "60"])
    assert stale.exit_code == 1 and "61 s old" in stale.output
    assert "Traceback" not in stale.output


def test_the_health_command_takes_the_configured_file_by_default(tmp_path: Path) -> None:
    path = tmp_path / "heartbeat"
    heartbeat.beat(path)
    env = {"ENGAGEMENT_ENV": "test", "ENGAGEMENT_INSTANCE_DIR": str(tmp_path), "SECRET_KEY": "k" * 32,
           "DATABASE_URL": "sqlite://", "HEARTBEAT_FILE": str(path)}
    assert CliRunner().invoke(main, ["health", "--max-age", "60"], env=env).exit_code == 0
    _age_by(path, 300)
    assert CliRunner().invoke(main, ["health", "--max-age", "60"], env=env).exit_code == 1
    unset = CliRunner().invoke(main, ["health"], env={**env, "HEARTBEAT_FILE": ""})
    assert unset.exit_code != 0 and "HEARTBEAT_FILE" in unset.output


def _test_app(path: Path | None) -> Celery:
    app = Celery("heartbeat-test", broker="memory://", set_as_current=False)
    app.conf.update(task_ignore_result=True, worker_hijack_root_logger=False)
    worker_heartbeat.install(app, path)
    return app


def _wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_running_worker_beats_while_it_consumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "heartbeat"
    path.write_text("")
    _age_by(path, 3600)  # left by a previous container of the same pod
    monkeypatch.setattr(heartbeat, "INTERVAL", 0.2)
    app = _test_app(path)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        assert _wait_for(lambda: heartbeat.verdict(path, max_age=5)[0]), "the worker never beat"
        _age_by(path, 30)
        assert _wait_for(lambda: heartbeat.verdict(path, max_age=5)[0]), "the worker beat only once"


def test_without_a_heartbeat_file_nothing_is_written_nor_timed(tmp_path: Path) -> None:
    app = _test_app(None)
    consumer = SimpleNamespace(app=app, timer=None)  # a timer used would raise
    step = worker_heartbeat.ConsumerHeartbeat(consumer)
    step.start(consumer)
    step.stop(consumer)
    (tmp_path / "beat").mkdir()
    scheduler = worker_heartbeat.HeartbeatScheduler(app=app, schedule_filename=str(tmp_path / "beat" / "schedule"))
    assert scheduler.tick() > 0
    assert [p.name for p in tmp_path.iterdir()] == ["beat"]  # the schedule's own folder, and nothing else


def test_beat_beats_after_every_tick_and_ticks_at_least_every_interval(tmp_path: Path) -> None:
    path = tmp_path / "heartbeat"
    app = _test_app(path)
    app.conf.beat_schedule = {"rare": {"task": "nothing.at.all", "schedule": 3600.0}}
    service = Service(app, schedule_filename=str(tmp_path / "schedule"),
                      scheduler_cls=app.conf.beat_scheduler)  # as `celery beat` does
    scheduler = service.get_scheduler()
    assert isinstance(scheduler, worker_heartbeat.HeartbeatScheduler)
    assert not path.exists()
    assert scheduler.tick() <= heartbeat.INTERVAL  # the next task is an hour away: beat still wakes up
    assert heartbeat.verdict(path, max_age=5)[0]


def test_a_running_beat_keeps_its_heartbeat_fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "heartbeat"
    monkeypatch.setattr(heartbeat, "INTERVAL", 0.2)
    app = _test_app(path)
    service = Service(app, schedule_filename=str(tmp_path / "schedule"),
                      scheduler_cls=app.conf.beat_scheduler)  # as `celery beat` does
    thread = threading.Thread(target=service.start, kwargs={"embedded_process": True}, daemon=True)
    thread.start()
    try:
        assert _wait_for(lambda: heartbeat.verdict(path, max_age=5)[0]), "beat never beat"
        _age_by(path, 30)
        assert _wait_for(lambda: heartbeat.verdict(path, max_age=5)[0]), "beat beat only once"
    finally:
        service.stop()
        thread.join(timeout=10)
