"""The pages as a browser receives them: roles, escaping, redirects (scenarios 103, 116, 117)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from django.test import Client

from epoch_site.accounts.services import sync_users
from epoch_site.config import AuthConfig, UserSpec
from tests.topologies.api.conftest import topology_body

pytestmark = pytest.mark.django_db

USERS = AuthConfig(
    True, (UserSpec("admin", "admin", "READ_WRITE"), UserSpec("guest", "guest", "READ_ONLY"))
)
HOSTILE = "</pre><script>window.x=1</script>\"'"


@pytest.fixture
def browsers(settings: Any) -> dict[str, Client]:
    settings.EPOCH = replace(settings.EPOCH, auth=USERS)
    sync_users(USERS)
    clients = {}
    for name in ("admin", "guest"):
        client = Client()
        client.login(username=name, password=name)
        clients[name] = client
    body = topology_body()
    body["task"]["env"] = {"NOTE": HOSTILE}
    created = clients["admin"].post(
        "/apis/v1/topologies", json.dumps(body), content_type="application/json"
    )
    assert created.status_code == 200, created.content
    return clients


def page(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_admin_sees_the_create_form_and_write_controls(browsers: dict[str, Client]) -> None:
    home = page(browsers["admin"], "/")
    assert 'id="topology-form"' in home
    assert "TEST_TOPO-1" in home
    topology = page(browsers["admin"], "/topologies/TEST_TOPO-1")
    for action in ("run", "pause", "delete"):
        assert f'data-action="{action}"' in topology


def test_guest_sees_no_write_controls(browsers: dict[str, Client]) -> None:
    home = page(browsers["guest"], "/")
    assert 'id="topology-form"' not in home
    topology = page(browsers["guest"], "/topologies/TEST_TOPO-1")
    assert 'data-testid="actions"' not in topology
    assert 'data-action="kill"' not in topology


def test_stored_strings_are_shown_as_text(browsers: dict[str, Client]) -> None:
    topology = page(browsers["admin"], "/topologies/TEST_TOPO-1")
    assert "<script>window.x=1</script>" not in topology
    assert "&lt;/pre&gt;&lt;script&gt;window.x=1&lt;/script&gt;" in topology


def test_unknown_topology_page_goes_home(browsers: dict[str, Client]) -> None:
    response = browsers["guest"].get("/topologies/unknown")
    assert response.status_code == 303
    assert response["Location"] == "/"


def test_search_and_paging(browsers: dict[str, Client]) -> None:
    for index in range(12):
        body = topology_body(f"batch-{index:02d}")
        browsers["admin"].post(
            "/apis/v1/topologies", json.dumps(body), content_type="application/json"
        )
    found = page(browsers["guest"], "/?q=batch&size=10")
    assert "batch-00" in found and "batch-09" in found and "batch-10" not in found
    assert "Page 1 of 2 · 12 topologies" in found
    assert "TEST_TOPO-1" not in found


def test_anonymous_browser_is_sent_to_log_in(browsers: dict[str, Client]) -> None:
    response = Client().get("/topologies/TEST_TOPO-1")
    assert response.status_code == 302
    assert response["Location"].startswith("/login")
