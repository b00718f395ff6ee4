"""Render the Helm chart offline, as `helm template` does, with Helm's own engine.

There is no `helm` binary in the package registries this project uses, so this goes through
helm-python-sdk (PyPI), which bundles Helm's Go SDK as a shared library: the templates are real Helm
templates rendered by Helm itself, with no cluster and no network.

    python tools/render_chart.py [-f VALUES.yaml]... [--set-string KEY=VALUE]... [--output-dir DIR] [CHART]

Without --output-dir the manifests go to stdout as one YAML stream (each preceded by `# Source:`, as
`helm template` prints them); with it, one file a template. `make chart` renders the default and the
production values this way and validates the result with `kubernetes-validate --strict`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "helm"
RELEASE = "engagement"
NAMESPACE = "engagement"


def merge_values(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's merge of values files: maps merge key by key, anything else (lists too) is replaced.

    A null is kept, as Helm keeps it: rendering then deletes that key from the chart's defaults.
    """
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = value
    return merged


def set_string(values: dict[str, Any], assignment: str) -> dict[str, Any]:
    """Apply one `--set-string a.b.c=text` (dotted keys only, the value always a string)."""
    path, sep, text = assignment.partition("=")
    if not sep or not path:
        raise ValueError(f"--set-string needs KEY=VALUE, not {assignment!r}")
    override: dict[str, Any] = {}
    node = override
    *parents, leaf = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = text
    return merge_values(values, override)


def load_values(files: Iterable[Path | str] = (), assignments: Iterable[str] = ()) -> dict[str, Any]:
    """The user-supplied values: the files in order, then the --set-string assignments."""
    values: dict[str, Any] = {}
    for path in files:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: a values file holds a mapping")
        values = merge_values(values, loaded)
    for assignment in assignments:
        values = set_string(values, assignment)
    return values


def render(values: Mapping[str, Any] | None = None, chart: Path = CHART, release: str = RELEASE,
           namespace: str = NAMESPACE, revision: int = 1) -> dict[str, str]:
    """Template path -> rendered text of every manifest that is not empty (NOTES.txt left out)."""
    import helm_python  # the dev extra: Helm's engine in a shared library

    with helm_python.Chart.load(chart) as loaded:
        rendered = loaded.render(dict(values or {}), name=release, namespace=namespace, revision=revision,
                                 is_install=revision == 1, is_upgrade=revision > 1)
    return {path: text for path, text in sorted(rendered.items())
            if text.strip() and not path.endswith("NOTES.txt")}


def notes(values: Mapping[str, Any] | None = None, chart: Path = CHART, release: str = RELEASE,
          namespace: str = NAMESPACE, revision: int = 1) -> str:
    """The rendered NOTES.txt, what `helm install` prints at the end."""
    import helm_python

    with helm_python.Chart.load(chart) as loaded:
        rendered = loaded.render(dict(values or {}), name=release, namespace=namespace, revision=revision)
    return next((text for path, text in rendered.items() if path.endswith("NOTES.txt")), "")


def documents(rendered: Mapping[str, str]) -> list[dict[str, Any]]:
    """Every Kubernetes object of the rendered templates, in template order."""
    found: list[dict[str, Any]] = []
    for path, text in rendered.items():
        for document in yaml.safe_load_all(text):
            if document is None:
                continue
            if not isinstance(document, dict):
                raise ValueError(f"{path}: a manifest that is not a mapping")
            found.append(document)
    return found


def stream(rendered: Mapping[str, str]) -> str:
    """One YAML stream, as `helm template` prints it."""
    return "".join(f"---\n# Source: {path}\n{text.strip()}\n" for path, text in rendered.items())


def write(rendered: Mapping[str, str], directory: Path) -> list[Path]:
    """One file a template (engagement/templates/x.yaml -> DIR/x.yaml)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for path, text in rendered.items():
        target = directory / Path(path).name
        target.write_text(f"# Source: {path}\n{text.strip()}\n", encoding="utf-8")
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chart", nargs="?", type=Path, default=CHART)
    parser.add_argument("-f", "--values", action="append", default=[], type=Path, help="a values file (repeatable)")
    parser.add_argument("--set-string", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--name", default=RELEASE, help="release name")
    parser.add_argument("--namespace", default=NAMESPACE)
    parser.add_argument("--revision", type=int, default=1, help="release revision (names the migration Job)")
    parser.add_argument("--output-dir", type=Path, help="write one file a template here instead of stdout")
    args = parser.parse_args(argv)
    rendered = render(load_values(args.values, args.set_string), args.chart, args.name, args.namespace,
                      args.revision)
    if args.output_dir:
        for path in write(rendered, args.output_dir):
            print(path, file=sys.stderr)
    else:
        sys.stdout.write(stream(rendered))
    return 0


if __name__ == "__main__":
    sys.exit(main())
