"""tools/render_chart.py: values merged as Helm merges them, output as `helm template` prints it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.deploy.chart import render_tool, require


def test_values_files_merge_maps_and_replace_the_rest() -> None:
    tool = render_tool()
    base = {"web": {"replicas": 2, "resources": {"limits": {"cpu": "1"}}}, "imagePullSecrets": [{"name": "a"}]}
    override = {"web": {"resources": {"limits": {"memory": "1Gi"}}}, "imagePullSecrets": [{"name": "b"}],
                "ingress": {"enabled": True}}
    assert tool.merge_values(base, override) == {
        "web": {"replicas": 2, "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}},
        "imagePullSecrets": [{"name": "b"}],
        "ingress": {"enabled": True},
    }
    assert base["web"]["resources"]["limits"] == {"cpu": "1"}  # the inputs are left alone


def test_a_null_is_kept_for_helm_to_delete_the_default() -> None:
    tool = render_tool()
    assert tool.merge_values({"web": {"startupProbe": {"periodSeconds": 2}}}, {"web": {"startupProbe": None}}) == {
        "web": {"startupProbe": None}}
    require("helm_python")
    from tests.deploy.chart import deployments, render

    container = deployments(render({"web": {"startupProbe": None}}))["web"]["spec"]["template"]["spec"]["containers"][0]
    assert "startupProbe" not in container


def test_set_string_sets_a_nested_text(tmp_path: Path) -> None:
    tool = render_tool()
    first = tmp_path / "a.yaml"
    first.write_text("image:\n  tag: one\nweb:\n  replicas: 2\n")
    second = tmp_path / "b.yaml"
    second.write_text("image:\n  tag: two\n")
    values = tool.load_values([first, second], ["secret.data.SECRET_KEY=x=y", "image.tag=3"])
    assert values == {"image": {"tag": "3"}, "web": {"replicas": 2}, "secret": {"data": {"SECRET_KEY": "x=y"}}}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        tool.set_string({}, "no-equals-sign")


def test_a_values_file_must_hold_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ValueError, match="mapping"):
        render_tool().load_values([path])


def test_the_stream_is_what_helm_template_prints(capsys: pytest.CaptureFixture[str]) -> None:
    require("helm_python")
    tool = render_tool()
    assert tool.main(["--set-string", "image.tag=abc"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("---\n# Source: engagement/templates/")
    objects = [doc for doc in yaml.safe_load_all(out) if doc]
    assert objects == tool.documents(tool.render({"image": {"tag": "abc"}}))
    assert "NOTES" not in out and "_helpers" not in out


def test_the_output_dir_gets_one_file_a_template(tmp_path: Path) -> None:
    require("helm_python")
    tool = render_tool()
    assert tool.main(["--output-dir", str(tmp_path), "--revision", "5", "-f",
                      str(Path(tool.CHART) / "ci" / "production-values.yaml")]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "job-migrate.yaml" in names and "ingress.yaml" in names and "secret.yaml" not in names
    job = yaml.safe_load((tmp_path / "job-migrate.yaml").read_text())
    assert job["metadata"]["name"] == "engagement-migrate-5"


def test_the_engine_is_helm_itself() -> None:
    require("helm_python")
    import helm_python

    assert helm_python.helm_sdk_version().startswith(("v3.", "v4."))
