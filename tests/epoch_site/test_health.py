from __future__ import annotations

import time

import pytest
from django.test import Client
from kazoo.client import KazooClient
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.support.zookeeper import ZooKeeperServer

pytestmark = pytest.mark.django_db


def wait_for_status(client: Client, status: int, timeout_s: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        response = client.get("/healthcheck")
        if response.status_code == status or time.monotonic() > deadline:
            assert response.status_code == status, response.content
            return response.json()
        time.sleep(0.2)


def test_embedded_mode_checks_the_local_database(client: Client) -> None:
    response = client.get("/healthcheck")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"database"}
    assert body["database"]["healthy"] is True
    assert body["database"]["timestamp"].endswith("Z")
    assert response["Cache-Control"] == "must-revalidate,no-cache,no-store"


def test_ping_answers_pong_without_login(client: Client) -> None:
    response = client.get("/ping")
    assert response.status_code == 200
    assert response.content == b"pong"


def test_cluster_mode_is_healthy_with_zookeeper_and_creates_the_namespace(
    client: Client, cluster_settings: SettingsWrapper, zk_connection_string: str
) -> None:
    body = wait_for_status(client, 200)
    assert body["zk-connection"]["healthy"] is True
    assert body["database"]["healthy"] is True
    zk = KazooClient(hosts=zk_connection_string)
    zk.start(timeout=10)
    try:
        assert zk.exists("/epoch") is not None
    finally:
        zk.stop()
        zk.close()


def test_cluster_mode_reports_503_naming_zookeeper_when_it_stops(
    client: Client, cluster_settings: SettingsWrapper, zookeeper: ZooKeeperServer
) -> None:
    wait_for_status(client, 200)
    zookeeper.stop()
    try:
        body = wait_for_status(client, 503)
        assert body["zk-connection"] == {
            **body["zk-connection"],
            "healthy": False,
            "message": "ZK connection is not in healthy state",
        }
        assert body["database"]["healthy"] is True
    finally:
        zookeeper.start()
    wait_for_status(client, 200, timeout_s=30)


def test_healthcheck_needs_no_credentials_even_with_auth_on(client: Client) -> None:
    assert client.get("/healthcheck").status_code == 200
    assert client.get("/").status_code == 302
