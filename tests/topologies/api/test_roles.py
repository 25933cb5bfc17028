"""Role matrix: anonymous, guest and admin against every API endpoint (authentication on)."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

import pytest
from rest_framework.test import APIClient

from epoch_site.accounts.services import sync_users
from epoch_site.config import AuthConfig, UserSpec
from tests.topologies.api.conftest import topology_body

pytestmark = pytest.mark.django_db

USERS = AuthConfig(
    True, (UserSpec("admin", "admin", "READ_WRITE"), UserSpec("guest", "guest", "READ_ONLY"))
)
T = "/apis/v1/topologies/TEST_TOPO-1"
R = f"{T}/runs/TR-1/tasks/test-task-1"
EDIT = {
    "cron": "0 0 3 ? * *",
    "docker": "acme/job:2",
    "cpus": 1,
    "memory": 512,
    "notifyEmail": "a@x.com",
}

READS = [
    ("get", "/apis/v1/topologies", None),
    ("get", T, None),
    ("get", f"{T}/runs", None),
    ("get", f"{T}/runs/TR-1", None),
    ("get", f"{R}/log", None),
    ("get", "/apis/housekeeping/v1/leader", None),
    ("get", "/apis/v1/cron/preview?expression=0+*+*+%3F+*+*", None),
]
WRITES = [
    ("post", "/apis/v1/topologies", topology_body("TEST_TOPO-2")),
    ("put", "/apis/v1/topologies", topology_body()),
    ("put", T, EDIT),
    ("put", f"{T}/run", None),
    ("put", f"{T}/pause", None),
    ("put", f"{T}/unpause", None),
    ("post", f"{R}/kill", None),
    ("delete", T, None),
]


@pytest.fixture
def clients(settings: Any) -> dict[str, APIClient]:
    settings.EPOCH = replace(settings.EPOCH, auth=USERS)
    sync_users(USERS)
    made = {}
    for name in ("anonymous", "guest", "admin"):
        client = APIClient()
        if name != "anonymous":
            token = base64.b64encode(f"{name}:{name}".encode()).decode()
            client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
        made[name] = client
    made["admin"].post(
        "/apis/v1/topologies", json.dumps(topology_body()), content_type="application/json"
    )
    return made


def call(client: APIClient, method: str, path: str, body: Any) -> Any:
    if method == "get":
        return client.get(path)
    data = json.dumps(body) if body is not None else ""
    return getattr(client, method)(path, data, content_type="application/json")


@pytest.mark.parametrize(("method", "path", "body"), READS + WRITES)
def test_anonymous_is_challenged_everywhere(
    clients: dict[str, APIClient], method: str, path: str, body: Any
) -> None:
    response = call(clients["anonymous"], method, path, body)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="realm"'


@pytest.mark.parametrize(("method", "path", "body"), READS)
def test_guest_may_read(clients: dict[str, APIClient], method: str, path: str, body: Any) -> None:
    assert call(clients["guest"], method, path, body).status_code in (200, 404)


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_guest_may_not_write(
    clients: dict[str, APIClient], method: str, path: str, body: Any
) -> None:
    response = call(clients["guest"], method, path, body)
    assert response.status_code == 403
    assert response.json() == {"status": "FAILED", "message": "[2001]: Forbidden Error"}


@pytest.mark.parametrize(("method", "path", "body"), READS + WRITES)
def test_admin_may_do_everything(
    clients: dict[str, APIClient], method: str, path: str, body: Any
) -> None:
    response = call(clients["admin"], method, path, body)
    assert response.status_code not in (401, 403)
    assert response.status_code < 500
