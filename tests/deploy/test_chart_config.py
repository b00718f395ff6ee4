"""The chart's ConfigMap and Secret carry exactly the variables engagement/config.py reads."""

from __future__ import annotations

from typing import Any

import pytest

from engagement.config import ConfigError, load_settings
from tests.deploy.chart import (
    PROCESS_KNOBS,
    config_variables,
    container_env,
    merge_values,
    of_kind,
    one,
    pod_specs,
    production_values,
    render,
)

Objects = list[dict[str, Any]]
CONNECTION_URLS = {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}  # they carry passwords


def _is_credential(name: str) -> bool:
    return name.endswith(("_KEY", "_SECRET", "_PASSWORD", "_TOKEN")) or name in CONNECTION_URLS


class RecordingEnv(dict[str, str]):
    """An environment that remembers every variable asked for."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return super().__contains__(key)


def _production_env(objects: Objects) -> dict[str, str]:
    """The ConfigMap as the chart renders it, and a filled Secret."""
    env = dict(one(objects, "ConfigMap")["data"])
    env.update(SECRET_KEY="s" * 48, DATABASE_URL="mysql+pymysql://app:pw@db:3306/engagement",
               REDIS_URL="redis://redis:6379/0", CELERY_BROKER_URL="amqp://app:pw@rabbitmq:5672//",
               MAILJET_API_KEY="key", MAILJET_API_SECRET="secret", MAILJET_WEBHOOK_SECRET="hook",
               ALGOLIA_API_KEY="")
    return env


def test_the_variables_are_read_from_config_py_source() -> None:
    names = config_variables()
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "ENGAGEMENT_ENV",
            "ENGAGEMENT_INSTANCE_DIR", "MAIL_BACKEND", "SITE_URL"} <= names
    assert all(name.isupper() for name in names)


def test_the_source_reading_misses_nothing_load_settings_asks_for(default_objects: Objects) -> None:
    env = RecordingEnv(_production_env(default_objects))
    load_settings(env)
    assert env.asked == config_variables()


def test_the_source_reading_recognises_each_way_of_reading_a_variable() -> None:
    source = '''
import os
def load(env):
    a = _optional(env, "A_VAR")
    b = env.get("B_VAR", "")
    c = env["C_VAR"]
    d = "D_VAR" in env
    e = os.environ.get("E_VAR")
    f = os.getenv("F_VAR")
    g = _choice(env, "G_VAR", ("x",), "x")
    print("NOT_A_VAR", other.get("NOR_THIS"))
'''
    assert config_variables(source) == {"A_VAR", "B_VAR", "C_VAR", "D_VAR", "E_VAR", "F_VAR", "G_VAR"}


def test_the_configmap_and_the_secret_hold_exactly_the_config_py_variables(default_objects: Objects) -> None:
    configmap = set(one(default_objects, "ConfigMap")["data"])
    secret = set(one(default_objects, "Secret")["data"])
    assert configmap & secret == set()
    assert configmap | secret == config_variables()


def test_credentials_are_in_the_secret_only(default_objects: Objects) -> None:
    configmap = set(one(default_objects, "ConfigMap")["data"])
    secret = set(one(default_objects, "Secret")["data"])
    assert {name for name in config_variables() if _is_credential(name)} == secret
    assert not any(_is_credential(name) for name in configmap)


def test_every_container_gets_exactly_the_config_py_variables(scenario: tuple[str, Objects]) -> None:
    name, objects = scenario
    configmaps = {c["metadata"]["name"]: c for c in of_kind(objects, "ConfigMap")}
    extra = {"TZ"} if name == "plain" else set()  # extraEnv
    for pod, spec in pod_specs(objects).items():
        for container in spec["containers"]:
            from_config, others = container_env(container, configmaps)
            assert from_config == config_variables(), pod
            assert others <= PROCESS_KNOBS | extra, pod


def test_an_existing_secret_replaces_the_chart_secret() -> None:
    objects = render(merge_values(production_values(), {"secret": {"asFiles": False}}))  # as environment variables
    assert of_kind(objects, "Secret") == []
    for pod, spec in pod_specs(objects).items():
        refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in spec["containers"][0]["env"] if "valueFrom" in e}
        assert {ref["name"] for ref in refs.values()} == {"engagement-production"}, pod
        assert {key for key, ref in refs.items() if not ref["optional"]} == {"SECRET_KEY", "DATABASE_URL"}, pod
        assert all(ref["key"] == key for key, ref in refs.items())


def test_the_chart_defaults_are_a_valid_production_configuration(default_objects: Objects) -> None:
    settings = load_settings(_production_env(default_objects))
    assert settings.is_production
    assert settings.instance_dir is None  # a read-only application: nothing written outside /tmp
    assert settings.site_url == "https://engagement.example.org"
    assert settings.mail_backend == "mailjet"
    assert settings.database_url.endswith("?charset=utf8mb4")


def test_without_secrets_the_pods_refuse_to_start(default_objects: Objects) -> None:
    env = dict(one(default_objects, "ConfigMap")["data"])
    env.update(dict.fromkeys(one(default_objects, "Secret")["data"], ""))
    with pytest.raises(ConfigError):
        load_settings(env)


def test_forwarded_addresses_are_trusted_from_the_ingress_only_when_there_is_one(
        default_objects: Objects, production_objects: Objects, plain_objects: Objects) -> None:
    assert one(default_objects, "ConfigMap")["data"]["TRUSTED_PROXIES"] == "0"  # no ingress: nobody is believed
    assert one(production_objects, "ConfigMap")["data"]["TRUSTED_PROXIES"] == "1"
    assert one(plain_objects, "ConfigMap")["data"]["TRUSTED_PROXIES"] == "1"
    assert load_settings(_production_env(production_objects)).trusted_proxies == 1


def test_an_explicit_count_of_trusted_proxies_wins() -> None:
    objects = render({"ingress": {"enabled": True}, "config": {"TRUSTED_PROXIES": "2"}})
    assert one(objects, "ConfigMap")["data"]["TRUSTED_PROXIES"] == "2"
    objects = render({"ingress": {"enabled": True}, "config": {"TRUSTED_PROXIES": "0"}})
    assert one(objects, "ConfigMap")["data"]["TRUSTED_PROXIES"] == "0"
