"""The chart rendered once a session for each scenario the tests look at."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy.chart import PLAIN_VALUES, production_values, render


@pytest.fixture(scope="session")
def default_objects() -> list[dict[str, Any]]:
    """The chart with its default values."""
    return render()


@pytest.fixture(scope="session")
def production_objects() -> list[dict[str, Any]]:
    """helm/ci/production-values.yaml: a digest, ingress with TLS, an existing Secret, NetworkPolicies, the migration
    Job (revision 7)."""
    return render(production_values(), revision=7)


@pytest.fixture(scope="session")
def plain_objects() -> list[dict[str, Any]]:
    """The optional branches: no HPA, no PDB, ingress without TLS, no beat, one worker off, extras."""
    return render(PLAIN_VALUES)


@pytest.fixture(scope="session", params=["default", "production", "plain"])
def scenario(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, request.getfixturevalue(f"{request.param}_objects")
