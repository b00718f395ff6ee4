"""Helpers of the deployment tests: the chart rendered offline by Helm's engine (tools/render_chart.py)."""

from __future__ import annotations

import ast
import importlib.util
import os
import sys
from types import ModuleType
from typing import Any

import pytest

from engagement import PROJECT_ROOT

CHART = PROJECT_ROOT / "helm"
PRODUCTION_VALUES = CHART / "ci" / "production-values.yaml"
OLDEST_KUBERNETES = "1.29.0"  # helm/Chart.yaml's kubeVersion
#: Variables the chart sets that engagement/config.py does not read: gunicorn's and Celery's own.
PROCESS_KNOBS = {"GUNICORN_CMD_ARGS", "CELERY_WORKER_CONCURRENCY"}
#: The optional branches of the templates, so that validation covers them too.
PLAIN_VALUES: dict[str, Any] = {
    "web": {"autoscaling": {"enabled": False}, "podDisruptionBudget": {"enabled": False}, "replicas": 3,
            "nodeSelector": {"pool": "web"}},
    "ingress": {"enabled": True, "className": "traefik", "host": "plain.example.org"},
    "workers": {"lists": {"enabled": False}},
    "beat": {"enabled": False},
    "imagePullSecrets": [{"name": "regcred"}],
    "extraEnv": [{"name": "TZ", "value": "Europe/Paris"}],
    "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "engagement", "effect": "NoSchedule"}],
    "podAnnotations": {"prometheus.io/scrape": "false"},
    "service": {"annotations": {"example.org/owner": "ops"}},
}


def require(module: str) -> None:
    """Skip, with the reason, when a dev dependency is missing; in CI (which installs them) fail instead."""
    if os.environ.get("CI"):
        __import__(module)
    else:
        pytest.importorskip(module, reason=f"{module} is in the dev extra: pip install -e '.[dev]'")


def render_tool() -> ModuleType:
    """tools/render_chart.py, imported from its path (tools/ is not a package)."""
    if "render_chart" not in sys.modules:
        spec = importlib.util.spec_from_file_location("render_chart", PROJECT_ROOT / "tools" / "render_chart.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["render_chart"] = module
        spec.loader.exec_module(module)
    return sys.modules["render_chart"]


def render(values: dict[str, Any] | None = None, revision: int = 1) -> list[dict[str, Any]]:
    """The Kubernetes objects of the chart rendered with ``values``."""
    require("helm_python")
    tool = render_tool()
    return tool.documents(tool.render(values or {}, revision=revision))


def production_values() -> dict[str, Any]:
    return render_tool().load_values([PRODUCTION_VALUES])


def merge_values(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` over ``base`` as Helm merges values files (maps key by key)."""
    return render_tool().merge_values(base, override)


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def one(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [o for o in of_kind(objects, kind) if name is None or o["metadata"]["name"] == name]
    assert len(found) == 1, f"{len(found)} {kind} named {name}"
    return found[0]


def deployments(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Deployments by component label (web, worker-transactional, ..., beat)."""
    return {d["metadata"]["labels"]["app.kubernetes.io/component"]: d for d in of_kind(objects, "Deployment")}


def pod_specs(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The pod spec of every Deployment and Job, by object name."""
    return {o["metadata"]["name"]: o["spec"]["template"]["spec"] for o in objects if o["kind"] in ("Deployment", "Job")}


def pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    return workload["spec"]["template"]["metadata"]["labels"]


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def config_variables(source: str | None = None) -> set[str]:
    """The environment variables engagement/config.py reads, from its source: the string literal naming a
    variable in ``helper(env, "NAME", ...)``, ``env.get("NAME")``, ``env["NAME"]``, ``"NAME" in env``,
    ``os.environ.get("NAME")`` and ``os.getenv("NAME")``."""
    if source is None:
        source = (PROJECT_ROOT / "engagement" / "config.py").read_text(encoding="utf-8")
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        names.update(_names_in(node))
    return names


def _is_env(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "env") or (
        isinstance(node, ast.Attribute) and node.attr == "environ")


def _text(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _names_in(node: ast.AST) -> list[str | None]:
    if isinstance(node, ast.Call):
        found = [_text(after) for before, after in zip(node.args, node.args[1:], strict=False) if _is_env(before)]
        func = node.func
        if isinstance(func, ast.Attribute) and node.args and (
                (func.attr in ("get", "pop", "setdefault") and _is_env(func.value)) or func.attr == "getenv"):
            found.append(_text(node.args[0]))
        return [name for name in found if name]
    if isinstance(node, ast.Subscript) and _is_env(node.value):
        return [name for name in [_text(node.slice)] if name]
    if isinstance(node, ast.Compare) and any(_is_env(c) for c in node.comparators):
        return [name for name in [_text(node.left)] if name]
    return []


def container_env(container: dict[str, Any], configmaps: dict[str, dict[str, Any]]) -> tuple[set[str], set[str]]:
    """(variables from the ConfigMap and the Secret, the other variables) of one container. A secret variable comes
    by name (secretKeyRef) or, with secret.asFiles, as NAME_FILE naming a file of a read-only mount."""
    from_config: set[str] = set()
    for source in container.get("envFrom", []):
        from_config |= set(configmaps[source["configMapRef"]["name"]]["data"])
    env = container.get("env", [])
    secret = {e["name"] for e in env if "secretKeyRef" in e.get("valueFrom", {})}
    mounts = [m["mountPath"].rstrip("/") + "/" for m in container.get("volumeMounts", []) if m.get("readOnly")]
    files = {e["name"] for e in env
             if e["name"].endswith("_FILE") and str(e.get("value", "")).startswith(tuple(mounts))}
    others = {e["name"] for e in env} - secret - files
    return from_config | secret | {name.removesuffix("_FILE") for name in files}, others
