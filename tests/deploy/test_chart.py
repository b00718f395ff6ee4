"""The Helm chart, rendered offline by Helm's own engine and validated against the Kubernetes schemas."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from engagement.outbox import CAMPAIGNS, LISTS, SEARCH, TRANSACTIONAL
from tests.deploy.chart import (
    CHART,
    OLDEST_KUBERNETES,
    PRODUCTION_VALUES,
    deployments,
    matches,
    of_kind,
    one,
    pod_labels,
    pod_specs,
    production_values,
    render,
    render_tool,
    require,
)

Objects = list[dict[str, Any]]
WORKERS = {f"worker-{q}": q for q in (TRANSACTIONAL, CAMPAIGNS, LISTS, SEARCH)}


def _kubernetes_versions() -> list[str]:
    require("kubernetes_validate")
    from kubernetes_validate import latest_version

    return [OLDEST_KUBERNETES, latest_version()]


@pytest.mark.parametrize("version", ["oldest", "latest"])
def test_every_manifest_passes_strict_kubernetes_validation(scenario: tuple[str, Objects], version: str) -> None:
    kubernetes = dict(zip(["oldest", "latest"], _kubernetes_versions(), strict=True))[version]
    import kubernetes_validate

    name, objects = scenario
    assert objects, name
    for obj in objects:
        kubernetes_validate.validate(obj, kubernetes, strict=True)


def test_strict_validation_rejects_a_misspelt_field(default_objects: Objects) -> None:
    latest = _kubernetes_versions()[-1]
    import kubernetes_validate

    broken = copy.deepcopy(deployments(default_objects)["web"])
    broken["spec"]["template"]["spec"]["containers"][0]["readonlyRootFilesystem"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, latest, strict=True)


def test_the_kubernetes_validate_command_accepts_the_rendered_files(tmp_path: Path) -> None:
    require("helm_python")
    tool = render_tool()
    files = tool.write(tool.render({}), tmp_path / "default")
    files += tool.write(tool.render(production_values(), revision=2), tmp_path / "production")
    command = Path(sys.executable).with_name("kubernetes-validate")
    for version in _kubernetes_versions():
        result = subprocess.run([str(command), "--strict", "--quiet", "-k", version, *map(str, files)],
                                capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("values_file", [None, PRODUCTION_VALUES])
def test_helm_lint_reports_no_warning(values_file: Path | None) -> None:
    require("helm_python")
    import helm_python

    values = render_tool().load_values([values_file] if values_file else [])
    report = helm_python.lint(CHART, values, strict=True)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


def test_one_deployment_per_component(default_objects: Objects) -> None:
    assert set(deployments(default_objects)) == {"web", "beat", *WORKERS}
    assert set(WORKERS.values()) == {TRANSACTIONAL, CAMPAIGNS, LISTS, SEARCH}  # every queue Celery declares


def test_one_image_runs_each_component_by_its_command(default_objects: Objects, production_objects: Objects) -> None:
    found = deployments(default_objects)
    containers = {component: d["spec"]["template"]["spec"]["containers"] for component, d in found.items()}
    assert all(len(c) == 1 and "command" not in c[0] for c in containers.values())  # the image's ENTRYPOINT
    args = {component: c[0]["args"] for component, c in containers.items()}
    assert args["web"] == ["serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
    assert args["beat"] == ["beat"]
    for component, queue in WORKERS.items():
        assert args[component] == ["worker", "--queues", queue]
    assert {c[0]["image"] for c in containers.values()} == {"registry.example.org/engagement/engagement:0.1.0"}
    job = one(production_objects, "Job")["spec"]["template"]["spec"]["containers"][0]
    assert job["args"] == ["db", "upgrade", "head"]
    assert job["image"] == ("registry.example.org/engagement/engagement:2026.11.28-8dcec23"
                            "@sha256:ad2cc4c513bcc133c55c86dd81adc3bd0ddf79dae02eeabac35afcd830e12595")


def test_only_the_job_migrates(scenario: tuple[str, Objects]) -> None:
    _, objects = scenario
    for obj in of_kind(objects, "Deployment"):
        for container in obj["spec"]["template"]["spec"]["containers"]:
            assert container["args"][0] != "db"


def test_every_pod_is_locked_down(scenario: tuple[str, Objects]) -> None:
    _, objects = scenario
    specs = pod_specs(objects)
    assert specs
    for name, spec in specs.items():
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] > 0, name
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        tmp = {v["name"]: v for v in spec["volumes"]}["tmp"]
        assert "emptyDir" in tmp and tmp["emptyDir"]["sizeLimit"], name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert context["runAsNonRoot"] is True and context["runAsUser"] > 0, name
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}, name
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"], name
            for kind in ("requests", "limits"):
                assert set(container["resources"][kind]) == {"cpu", "memory"}, (name, kind)


def test_web_probes_liveness_and_readiness(default_objects: Objects) -> None:
    container = deployments(default_objects)["web"]["spec"]["template"]["spec"]["containers"][0]
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}


def test_workers_and_beat_are_probed_by_their_heartbeat(default_objects: Objects) -> None:
    heartbeat_file = one(default_objects, "ConfigMap")["data"]["HEARTBEAT_FILE"]
    found = deployments(default_objects)
    for component in [*WORKERS, "beat"]:
        container = found[component]["spec"]["template"]["spec"]["containers"][0]
        ages = {}
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            command = container[kind]["exec"]["command"]  # the image's own command: no shell needed
            assert command[:4] == ["engagement", "health", "--heartbeat", heartbeat_file], (component, kind)
            assert command[4] == "--max-age"
            ages[kind] = int(command[5])
        # a worker's heartbeat comes every 10 s (engagement/heartbeat.py): several may be missed before a restart
        assert 30 <= ages["readinessProbe"] <= ages["livenessProbe"], component
        if component != "beat":
            env = {e["name"]: e.get("value") for e in container["env"]}
            assert int(env["CELERY_WORKER_CONCURRENCY"]) >= 1  # else Celery starts one process per node CPU


def test_the_heartbeat_probes_can_be_turned_off() -> None:
    found = deployments(render({"heartbeatProbes": {"enabled": False}}))
    for component in [*WORKERS, "beat"]:
        container = found[component]["spec"]["template"]["spec"]["containers"][0]
        assert not {"startupProbe", "readinessProbe", "livenessProbe"} & set(container), component


def test_workers_are_one_deployment_an_entry() -> None:
    objects = render({"workers": {"lists": {"enabled": False},
                                  "bulk": {"enabled": True, "queues": "campaigns,lists", "replicas": 5,
                                           "concurrency": 8, "resources": {"requests": {"cpu": "1", "memory": "1Gi"},
                                                                           "limits": {"cpu": "2", "memory": "2Gi"}}}}})
    found = deployments(objects)
    assert "worker-lists" not in found
    bulk = found["worker-bulk"]
    assert bulk["spec"]["replicas"] == 5
    assert bulk["spec"]["template"]["spec"]["containers"][0]["args"] == ["worker", "--queues", "campaigns,lists"]


def test_beat_is_a_single_replica_replaced_not_rolled(scenario: tuple[str, Objects]) -> None:
    name, objects = scenario
    beats = [d for d in of_kind(objects, "Deployment") if pod_labels(d)["app.kubernetes.io/component"] == "beat"]
    if name == "plain":
        assert beats == []  # beat.enabled: false
        return
    assert len(beats) == 1
    assert beats[0]["spec"]["replicas"] == 1
    assert beats[0]["spec"]["strategy"] == {"type": "Recreate"}


def test_no_value_scales_the_beat() -> None:
    beat = deployments(render({"beat": {"replicas": 3}, "replicas": 3}))["beat"]
    assert beat["spec"]["replicas"] == 1


def test_hpa_and_pdb_target_the_web_pods_only(scenario: tuple[str, Objects]) -> None:
    name, objects = scenario
    found = deployments(objects)
    web = found["web"]
    others = [pod_labels(d) for c, d in found.items() if c != "web"]
    if name == "plain":
        assert of_kind(objects, "HorizontalPodAutoscaler") == [] and of_kind(objects, "PodDisruptionBudget") == []
        assert web["spec"]["replicas"] == 3
        return
    hpa = one(objects, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": web["metadata"]["name"]}
    assert hpa["spec"]["minReplicas"] >= 2 and hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert "replicas" not in web["spec"]  # the HPA owns the count: a rollout would reset it otherwise
    pdb = one(objects, "PodDisruptionBudget")
    assert pdb["apiVersion"] == "policy/v1"
    selector = pdb["spec"]["selector"]["matchLabels"]
    assert matches(selector, pod_labels(web))
    assert not any(matches(selector, labels) for labels in others)
    assert pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]  # a drain can always proceed


def test_each_deployment_selects_only_its_own_pods(scenario: tuple[str, Objects]) -> None:
    _, objects = scenario
    found = of_kind(objects, "Deployment")
    for deployment in found:
        selector = deployment["spec"]["selector"]["matchLabels"]
        owners = [d["metadata"]["name"] for d in found if matches(selector, pod_labels(d))]
        assert owners == [deployment["metadata"]["name"]]


def test_the_service_and_the_ingress_lead_to_the_web_pods(production_objects: Objects) -> None:
    found = deployments(production_objects)
    service = one(production_objects, "Service")
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]
    assert [c for c, d in found.items() if matches(service["spec"]["selector"], pod_labels(d))] == ["web"]
    ingress = one(production_objects, "Ingress")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"hosts": ["agir.example.org"], "secretName": "agir-example-org-tls"}]
    rule = ingress["spec"]["rules"][0]
    assert rule["host"] == "agir.example.org"
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": service["metadata"]["name"], "port": {"name": "http"}}


def test_no_ingress_unless_enabled(default_objects: Objects, plain_objects: Objects) -> None:
    assert of_kind(default_objects, "Ingress") == []
    assert "tls" not in one(plain_objects, "Ingress")["spec"]


def test_the_migration_job_exists_only_when_asked(default_objects: Objects, production_objects: Objects) -> None:
    assert of_kind(default_objects, "Job") == []
    job = one(production_objects, "Job")
    assert job["metadata"]["name"] == "engagement-migrate-7"  # one Job a release revision: Jobs are immutable
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["spec"]["activeDeadlineSeconds"] > 0


def test_the_migration_can_run_the_new_image_before_the_pods_do() -> None:
    objects = render({"image": {"tag": "old"}, "migration": {"run": True, "imageTag": "new", "revision": "0007_x"}},
                     revision=3)
    job = one(objects, "Job")["spec"]["template"]["spec"]["containers"][0]
    assert job["image"].endswith(":new") and job["args"] == ["db", "upgrade", "0007_x"]
    assert {d["spec"]["template"]["spec"]["containers"][0]["image"].rsplit(":", 1)[1]
            for d in of_kind(objects, "Deployment")} == {"old"}


def _annotations(objects: Objects) -> dict[str, dict[str, str]]:
    found = of_kind(objects, "Deployment")
    return {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["annotations"] for d in found}


def test_a_change_of_configuration_rolls_every_pod(default_objects: Objects) -> None:
    before = _annotations(default_objects)
    config_changed = _annotations(render({"config": {"MAIL_CLAIM_LEASE": "300"}}))
    secret_changed = _annotations(render({"secret": {"data": {"SECRET_KEY": "rotated"}}}))
    for name, checksums in before.items():
        assert config_changed[name]["checksum/config"] != checksums["checksum/config"]
        assert config_changed[name]["checksum/secret"] == checksums["checksum/secret"]
        assert secret_changed[name]["checksum/secret"] != checksums["checksum/secret"]


def test_an_existing_secret_has_no_checksum(production_objects: Objects) -> None:
    for checksums in _annotations(production_objects).values():
        assert "checksum/config" in checksums and "checksum/secret" not in checksums


def test_the_notes_say_how_to_migrate() -> None:
    require("helm_python")
    tool = render_tool()
    assert "migration.run=true" in tool.notes({})
    assert "WARNING" in tool.notes({})  # no SECRET_KEY, no existing Secret
    production = tool.notes(production_values(), revision=4)
    assert "logs --follow job/engagement-migrate-4" in production and "WARNING" not in production
