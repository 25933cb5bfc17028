from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

import pytest
from django.test import Client

from epoch_site.config import AuthConfig

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "/apis/v1/topologies": {"get", "post", "put"},
    "/apis/v1/topologies/{topology_id}": {"get", "put", "delete"},
    "/apis/v1/topologies/{topology_id}/run": {"put"},
    "/apis/v1/topologies/{topology_id}/pause": {"put"},
    "/apis/v1/topologies/{topology_id}/unpause": {"put"},
    "/apis/v1/topologies/{topology_id}/runs": {"get"},
    "/apis/v1/topologies/{topology_id}/runs/{run_id}": {"get"},
    "/apis/v1/topologies/{topology_id}/runs/{run_id}/tasks/{task_name}/kill": {"post"},
    "/apis/v1/topologies/{topology_id}/runs/{run_id}/tasks/{task_name}/log": {"get"},
    "/apis/housekeeping/v1/leader": {"get"},
    "/apis/v1/cron/preview": {"get"},
    "/topologies/create": {"post"},
    "/topologies/{topology_id}/update": {"put"},
}


@pytest.fixture
def client(settings: Any) -> Client:
    settings.EPOCH = replace(settings.EPOCH, auth=AuthConfig(enabled=False))
    return Client()


def test_schema_covers_every_endpoint(client: Client) -> None:
    response = client.get("/apis/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = {path: set(item) - {"parameters"} for path, item in schema["paths"].items()}
    assert paths == ENDPOINTS
    assert schema["components"]["securitySchemes"]["basicAuth"] == {
        "type": "http",
        "scheme": "basic",
    }


def test_swagger_ui_serves_its_assets_locally(client: Client) -> None:
    page = client.get("/apis/v1/docs").content.decode()
    assert "swagger-ui" in page
    assert "/static/drf_spectacular_sidecar/" in page
    assert "cdn" not in page.lower()


def test_schema_needs_a_login_when_auth_is_on(client: Client, settings: Any) -> None:
    settings.EPOCH = replace(settings.EPOCH, auth=AuthConfig(enabled=True))
    assert client.get("/apis/v1/schema").status_code == 401
    token = base64.b64encode(b"nobody:x").decode()
    assert client.get("/apis/v1/schema", HTTP_AUTHORIZATION=f"Basic {token}").status_code == 401
