"""Gunicorn servers on loopback and wrk runs against them, with wrk's output parsed."""

from __future__ import annotations

import os
import re
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import ROOT

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass
class Server:
    """A running gunicorn master; ``base`` is its loopback URL."""

    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def worker_cpu_seconds(self) -> float:
        """User + system CPU of the master's current children (the workers)."""
        total = 0.0
        for child in _children(self.process.pid):
            try:
                fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
        return total


#: Processes of the services the app talks to (``{"mysqld": pid}``), whose CPU each wrk run also measures:
#: what a request costs the machine beyond the app's own workers (`bench/wizard_peers.py --services`).
SERVICE_PIDS: dict[str, int] = {}


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of one process, all its threads (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def find_services(*names: str) -> dict[str, int]:
    """The pids of the named services running here (the first of each name), via ``pidof``."""
    found = {}
    for name in names:
        done = subprocess.run(["pidof", "-s", name], capture_output=True, text=True, check=False)
        if done.returncode == 0 and done.stdout.strip():
            found[name] = int(done.stdout.split()[0])
    return found


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.extend(int(c) for c in (task / "children").read_text().split())
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(app: str, env: dict[str, str], log: Path, workers: int = 2,
             ready_path: str = "/", options: tuple[str, ...] = (), python: str | Path = sys.executable,
             ) -> Iterator[Server]:
    """``app`` under gunicorn (sync workers) on a free loopback port; stopped on exit, whatever happens.

    ``python`` is the interpreter whose gunicorn serves it (a peer's own virtualenv, bench/wizard_peers.py).
    """
    port = free_port()
    command = [str(python), "-m", "gunicorn", "--workers", str(workers), "--worker-class", "sync",
               "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "30", *options, app]
    with log.open("w") as out:
        process = subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        _wait_until_up(server, ready_path)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_until_up(server: Server, path: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.log.read_text()}")
        try:
            with urllib.request.urlopen(server.base + path, timeout=2) as response:
                if response.status == 200:
                    time.sleep(0.5)  # let the second worker finish booting too
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not answer in 30 s:\n{server.log.read_text()}")


@dataclass
class WrkResult:
    requests_per_s: float
    requests: int
    latency_ms: dict[str, float]
    socket_errors: int
    non_2xx_3xx: int
    server_cpu_ms_per_request: float
    wrk_cpu_ms_per_request: float
    extra: dict[str, int] = field(default_factory=dict)
    service_cpu_ms_per_request: dict[str, float] = field(default_factory=dict)  # SERVICE_PIDS' CPU, by name
    output: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "output"}


def run_wrk(server: Server, url: str, *, threads: int, connections: int, seconds: int,
            script: Path | None = None, headers: tuple[str, ...] = ()) -> WrkResult:
    """One wrk run with ``--latency``; CPU of the server's workers and of wrk itself measured around it."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency"]
    for header in headers:
        command += ["-H", header]
    if script is not None:
        command += ["-s", str(script)]
    services = {name: process_cpu_seconds(pid) for name, pid in SERVICE_PIDS.items()}
    cpu_server = server.worker_cpu_seconds()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 60, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = server.worker_cpu_seconds() - cpu_server
    services = {name: process_cpu_seconds(SERVICE_PIDS[name]) - cpu for name, cpu in services.items()}
    wrk_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = parse(done.stdout, server_cpu, wrk_cpu)
    result.service_cpu_ms_per_request = {name: round(cpu * 1000 / max(result.requests, 1), 3)
                                         for name, cpu in services.items()}
    return result


def parse(output: str, server_cpu: float, wrk_cpu: float) -> WrkResult:
    requests = int(_search(r"(\d+) requests in", output))
    latency = {f"p{p}": _duration_ms(_search(rf"^\s+{p}%\s+(\S+)", output)) for p in (50, 75, 90, 99)}
    latency["mean"] = _duration_ms(_search(r"^\s+Latency\s+(\S+)", output))
    socket_errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    extra = {k: int(v) for k, v in re.findall(r"BENCH (\w+)=(\d+)", output)}
    per = max(requests, 1)
    return WrkResult(
        requests_per_s=float(_search(r"Requests/sec:\s+([\d.]+)", output)), requests=requests,
        latency_ms=latency, socket_errors=socket_errors, non_2xx_3xx=int(non_ok.group(1)) if non_ok else 0,
        server_cpu_ms_per_request=round(server_cpu * 1000 / per, 3),
        wrk_cpu_ms_per_request=round(wrk_cpu * 1000 / per, 3), extra=extra, output=output,
    )


def _search(pattern: str, text: str) -> str:
    found = re.search(pattern, text, re.MULTILINE)
    if found is None:
        raise ValueError(f"wrk output lacks {pattern!r}:\n{text}")
    return found.group(1)


def _duration_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return round(float(number) * UNITS[unit], 3)
