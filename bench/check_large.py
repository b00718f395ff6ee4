"""Checking a large workflow file: 200 states, 2-3 fields each, branching, conditions and actions.

Times the real CLI (``engagement workflows check FILE`` in a subprocess, interpreter start-up
and imports included) and, in process, ``check_text`` alone.

    python bench/check_large.py [--quick] [--json out.json]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import BIN, emit, ms

STATES = 200
TARGET_S = 1.0
IMPORTS = "import engagement.core, engagement.workflow.checker"  # what the check command imports


def state_yaml(i: int, last: int) -> str:
    """State ``s{i}``: a text and an integer field, every third state a choice; some conditional."""
    name = f"s{i:03d}"
    lines = [f"  {name}:", f"    title: {{fr: Étape {i}, en: Step {i}}}", "    fields:",
             f"      - {{name: f{i}_name, type: text, label: {{fr: Nom {i}, en: Name {i}}}, required: true,"
             " min_length: 2, max_length: 80}",
             f"      - {{name: f{i}_count, type: integer, label: Nombre, min: 0, max: 1000, required: true}}"]
    if i % 3 == 0:
        lines += [f"      - name: f{i}_pick", "        type: choice", "        label: {fr: Choix, en: Choice}",
                  f"        visible_if: \"data.f{i}_count is not none and data.f{i}_count > 2\"",
                  "        choices: {a: A, b: B, c: C}"]
    if i > 0 and i % 7 == 0:
        lines += [f"      - {{name: f{i}_note, type: textarea, label: Note, max_length: 500,"
                  f" required_if: \"data.f{i - 1}_count > 10\"}}"]
    if i % 25 == 0 and i < last:
        lines += ["    on_enter:", f"      - set: {{seen_{i}: \"true\"}}"]
    return "\n".join(lines)


def transitions_yaml(last: int) -> str:
    """A chain with a conditional shortcut every 10 states and a ``back_to_start`` every 40."""
    lines = []
    for i in range(last - 1):
        source, nxt = f"s{i:03d}", f"s{i + 1:03d}"
        if i % 10 == 5 and i + 2 < last:
            lines.append(f"  - {{trigger: next, source: {source}, dest: s{i + 2:03d},"
                         f" conditions: \"data.f{i}_count > 5\"}}")
        lines.append(f"  - {{trigger: next, source: {source}, dest: {nxt}}}")
        if i % 40 == 39:
            lines.append(f"  - {{trigger: restart_here, source: {source}, dest: s000,"
                         " label: {fr: Recommencer, en: Start again}}")
    lines += ["  - trigger: finish", f"    source: s{last - 1:03d}", "    dest: done", "    actions:",
              "      - set: {finished: \"true\"}",
              "      - mail: {to: \"{{ data.f0_name }}@example.org\", subject: Fini, "
              "body: \"Bonjour {{ data.f0_name }}\"}"]
    return "\n".join(lines)


def generate(states: int = STATES) -> str:
    last = states - 1  # the last state is the final one
    body = "\n".join(state_yaml(i, last) for i in range(last))
    head = ("id: bench_large\nversion: 1\ntitle: {fr: Grand formulaire, en: Large form}\n"
            "access: public\ninitial: s000\nstates:\n")
    return f"{head}{body}\n  done: {{final: true, title: Fin}}\ntransitions:\n{transitions_yaml(last)}\n"


def time_command(command: list[str], runs: int) -> tuple[float, list[float], str]:
    """Median wall time of ``command`` over ``runs`` (after one untimed warm-up for the page cache)."""
    subprocess.run(command, capture_output=True, check=False, timeout=120)
    times, output = [], ""
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
        times.append(time.perf_counter() - start)
        output = done.stderr.strip() + (f" (exit {done.returncode})" if done.returncode else "")
    return statistics.median(times), times, output


def in_process(text: str, path: str, runs: int) -> dict[str, float]:
    """Median times of the YAML load alone and of the whole ``check_text`` (load + checks + spec)."""
    from engagement.core import register_builtins
    from engagement.workflow.checker import check_text
    from engagement.workflow.loader import load_text

    register_builtins()
    spec, diagnostics = check_text(text, path)
    if spec is None:
        raise RuntimeError("the generated workflow does not check:\n" + "\n".join(map(str, diagnostics)))
    loads, checks = [], []
    for _ in range(runs):
        start = time.perf_counter()
        load_text(text)
        middle = time.perf_counter()
        check_text(text, path)
        checks.append(time.perf_counter() - middle)
        loads.append(middle - start)
    return {"load_text_ms": ms(statistics.median(loads)), "check_text_ms": ms(statistics.median(checks)),
            "states": len(spec.states), "transitions": len(spec.transitions), "fields": len(spec.fields)}


def main(argv: list[str]) -> dict[str, Any]:
    runs = 3 if "--quick" in argv else 5
    text = generate()
    with tempfile.TemporaryDirectory(prefix="bench-check-") as tmp:
        path = Path(tmp) / "bench_large.yml"
        path.write_text(text)
        cli, cli_runs, cli_output = time_command([str(BIN / "engagement"), "workflows", "check", str(path)], runs)
        bare, _runs, _out = time_command([str(BIN / "engagement"), "--help"], runs)
        python, _runs, _out = time_command([sys.executable, "-c", "pass"], runs)
        imports, _runs, _out = time_command([sys.executable, "-c", IMPORTS], runs)
        inproc = in_process(text, str(path), runs * 4)
    result = {"file_bytes": len(text.encode()), "runs": runs, "cli_s": round(cli, 3),
              "cli_runs_s": [round(t, 3) for t in cli_runs], "cli_output": cli_output,
              "cli_help_s": round(bare, 3), "python_startup_s": round(python, 3), "imports_s": round(imports, 3),
              **inproc,
              "target_s": TARGET_S, "target_met": cli < TARGET_S and "0 error(s)" in cli_output}
    report(result)
    return result


def report(result: dict[str, Any]) -> None:
    print(f"check: a {result['states']}-state workflow ({result['transitions']} transitions, {result['fields']} "
          f"fields, {result['file_bytes'] // 1024} KiB), median of {result['runs']} runs")
    print(f"  `engagement workflows check` {result['cli_s'] * 1000:.0f} ms (target < {TARGET_S:.0f} s: "
          f"{'met' if result['target_met'] else 'MISSED'}); CLI says: {result['cli_output']}")
    print(f"  for scale: `engagement --help` {result['cli_help_s'] * 1000:.0f} ms, "
          f"`python -c pass` {result['python_startup_s'] * 1000:.0f} ms, importing what the command imports "
          f"{result['imports_s'] * 1000:.0f} ms")
    print(f"  in process: check_text {result['check_text_ms']:.1f} ms, of which YAML load_text "
          f"{result['load_text_ms']:.1f} ms")


if __name__ == "__main__":
    emit(main(sys.argv[1:]), sys.argv[1:])
