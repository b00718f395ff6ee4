"""What checkov asked of the chart's production render (issue #23, finding 10): NetworkPolicies, the Secret as files,
images pinned by digest, every object in the release's namespace. The probes of workers and beat: test_chart.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engagement.config import load_settings
from tests.deploy.chart import (
    deployments,
    matches,
    merge_values,
    of_kind,
    one,
    pod_labels,
    pod_specs,
    production_values,
    render,
    render_tool,
)

Objects = list[dict[str, Any]]
DIGEST = "sha256:" + "0123456789abcdef" * 4
WORKLOADS = ("Deployment", "Job")


def _policies(objects: Objects) -> dict[str, dict[str, Any]]:
    """NetworkPolicies by the name of the one workload whose pods they select (each must select exactly one)."""
    workloads = [o for o in objects if o["kind"] in WORKLOADS]
    found = {}
    for policy in of_kind(objects, "NetworkPolicy"):
        selector = policy["spec"]["podSelector"]["matchLabels"]
        selected = [w["metadata"]["name"] for w in workloads if matches(selector, pod_labels(w))]
        assert len(selected) == 1, (policy["metadata"]["name"], selected)
        found[selected[0]] = policy
    return found


def _egress_ports(policy: dict[str, Any]) -> set[int]:
    return {port["port"] for rule in policy["spec"]["egress"] for port in rule["ports"]}


def test_every_workload_of_the_production_render_has_its_network_policy(production_objects: Objects) -> None:
    policies = _policies(production_objects)
    assert set(policies) == {o["metadata"]["name"] for o in production_objects if o["kind"] in WORKLOADS}
    for policy in policies.values():
        assert policy["apiVersion"] == "networking.k8s.io/v1"
        assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]  # what is not allowed is refused


def test_only_the_ingress_controller_reaches_the_web_pods_on_their_http_port(production_objects: Objects) -> None:
    policies = _policies(production_objects)
    [rule] = policies["engagement-web"]["spec"]["ingress"]
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]
    [peer] = rule["from"]
    assert peer["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}
    assert peer["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}}
    for name, policy in policies.items():
        if name != "engagement-web":
            assert policy["spec"]["ingress"] == [], name  # workers, beat and the Job take no connection


def test_each_workload_may_open_only_the_connections_its_role_needs(production_objects: Objects) -> None:
    dns, database, redis, rabbitmq, https = 53, 3306, 6379, 5672, 443
    expected = {"web": {dns, database, redis, rabbitmq, https}, "beat": {dns, rabbitmq}, "migrate": {dns, database}}
    for name, policy in _policies(production_objects).items():
        component = policy["metadata"]["labels"]["app.kubernetes.io/component"]
        role = "workers" if component.startswith("worker-") else component
        wanted = expected.get(role, {dns, database, redis, rabbitmq, https})
        assert _egress_ports(policy) == wanted, name
        for rule in policy["spec"]["egress"]:
            if rule["ports"][0]["port"] == https:  # Mailjet, Algolia, buckets: public addresses only
                blocks = [peer["ipBlock"] for peer in rule["to"]]
                assert {"cidr": "0.0.0.0/0", "except": blocks[0]["except"]} == blocks[0]
                assert "10.0.0.0/8" in blocks[0]["except"] and "169.254.0.0/16" in blocks[0]["except"]


def test_the_egress_targets_are_values_an_operator_narrows() -> None:
    traefik = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "traefik"}}}
    values = merge_values(production_values(), {"networkPolicy": {
        "ingressFrom": [traefik],
        "egress": {"database": {"to": [{"ipBlock": {"cidr": "10.1.2.3/32"}}], "ports": [{"port": 3307}]},
                   "https": None}}})
    policies = _policies(render(values, revision=2))
    web = policies["engagement-web"]["spec"]
    assert web["ingress"][0]["from"] == [traefik]
    [database] = [rule for rule in web["egress"] if rule["ports"] == [{"port": 3307}]]
    assert database["to"] == [{"ipBlock": {"cidr": "10.1.2.3/32"}}]
    assert 443 not in _egress_ports(policies["engagement-web"])  # null deletes a target


def test_without_ingress_sources_nobody_reaches_the_web_pods() -> None:
    policies = _policies(render(merge_values(production_values(), {"networkPolicy": {"ingressFrom": []}})))
    assert policies["engagement-web"]["spec"]["ingress"] == []


def test_no_network_policy_unless_enabled(default_objects: Objects, plain_objects: Objects) -> None:
    """A NetworkPolicy needs a CNI that enforces it and the addresses of the services: the operator turns it on."""
    assert of_kind(default_objects, "NetworkPolicy") == [] and of_kind(plain_objects, "NetworkPolicy") == []


def test_the_production_render_holds_no_credential_in_the_environment(production_objects: Objects) -> None:
    secret_keys = set(render_tool().load_values([render_tool().CHART / "values.yaml"])["secret"]["data"])
    for pod, spec in pod_specs(production_objects).items():
        [container] = spec["containers"]
        assert not [e for e in container["env"] if "valueFrom" in e], pod
        files = {e["name"]: e["value"] for e in container["env"] if e["name"].endswith("_FILE")}
        assert files == {f"{key}_FILE": f"/run/secrets/engagement/{key}" for key in secret_keys}, pod
        mount = {"name": "secrets", "mountPath": "/run/secrets/engagement", "readOnly": True}
        assert mount in container["volumeMounts"], pod
        [volume] = [v for v in spec["volumes"] if v["name"] == "secrets"]
        assert volume["projected"]["defaultMode"] == 0o440  # the pods' group (fsGroup) reads them, nobody else
        sources = {s["secret"]["optional"]: s["secret"] for s in volume["projected"]["sources"]}
        assert {s["name"] for s in sources.values()} == {"engagement-production"}
        assert {i["key"] for i in sources[False]["items"]} == {"SECRET_KEY", "DATABASE_URL"}  # else no start
        assert {i["key"] for i in sources[True]["items"]} == secret_keys - {"SECRET_KEY", "DATABASE_URL"}


def test_the_application_reads_the_secret_files_the_chart_mounts(tmp_path: Path) -> None:
    """The pod's environment, with the Secret written where the chart says it is mounted (optional keys absent)."""
    objects = render({"secret": {"asFiles": True, "mountPath": str(tmp_path)}, "config": {"MAIL_BACKEND": "outbox"}})
    (tmp_path / "SECRET_KEY").write_text("s" * 48)
    (tmp_path / "DATABASE_URL").write_text("mysql+pymysql://app:pw@db:3306/engagement")
    container = deployments(objects)["web"]["spec"]["template"]["spec"]["containers"][0]
    env = {**one(objects, "ConfigMap")["data"], **{e["name"]: e["value"] for e in container["env"] if "value" in e}}
    settings = load_settings(env)
    assert settings.secret_key == "s" * 48
    assert settings.database_url == "mysql+pymysql://app:pw@db:3306/engagement?charset=utf8mb4"
    assert settings.redis_url is None and settings.celery_broker_url is None


def test_a_digest_pins_every_image_of_the_release(production_objects: Objects, default_objects: Objects) -> None:
    digest = production_values()["image"]["digest"]
    for name, spec in pod_specs(production_objects).items():
        image = spec["containers"][0]["image"]
        assert image == f"registry.example.org/engagement/engagement:2026.11.28-8dcec23@{digest}", name
    assert all("@" not in spec["containers"][0]["image"] for spec in pod_specs(default_objects).values())


def test_the_migration_pins_its_own_image_when_it_runs_another_tag() -> None:
    objects = render({"image": {"tag": "old", "digest": DIGEST},
                      "migration": {"run": True, "imageTag": "new", "imageDigest": "sha256:" + "f" * 64}}, revision=3)
    assert one(objects, "Job")["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":new@sha256:" + "f" * 64)
    assert {d["spec"]["template"]["spec"]["containers"][0]["image"].split(":", 1)[1]
            for d in of_kind(objects, "Deployment")} == {f"old@{DIGEST}"}
    same = render({"image": {"tag": "v1", "digest": DIGEST}, "migration": {"run": True}})
    assert one(same, "Job")["spec"]["template"]["spec"]["containers"][0]["image"].endswith(f":v1@{DIGEST}")


@pytest.mark.parametrize("digest", ["sha256:abc", "latest", "sha512:" + "0" * 128, "sha256:" + "ABCDEF01" * 8])
def test_a_malformed_digest_stops_the_render(digest: str) -> None:
    from helm_python.errors import HelmRenderError

    with pytest.raises(HelmRenderError, match="sha256: followed by 64 lowercase hex digits"):
        render({"image": {"digest": digest}})


def test_every_object_names_the_release_namespace(scenario: tuple[str, Objects]) -> None:
    _, objects = scenario
    for obj in objects:
        assert obj["metadata"]["namespace"] == "engagement", (obj["kind"], obj["metadata"]["name"])
