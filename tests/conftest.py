"""Shared fixtures: a real ZooKeeper per test session, a fresh chroot per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kazoo.client import KazooClient

from tests.support.zookeeper import ZooKeeperServer


@pytest.fixture(autouse=True)
def fast_password_hashing(request: pytest.FixtureRequest) -> None:
    # Users are synchronised in many tests; the production hasher is slow by design. The pure
    # core's tests also run without the Django plugin, where there is nothing to speed up.
    if request.config.pluginmanager.hasplugin("django"):
        settings: Any = request.getfixturevalue("settings")
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def zookeeper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZooKeeperServer]:
    server = ZooKeeperServer(tmp_path_factory.mktemp("zookeeper"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def zk_connection_string(zookeeper: ZooKeeperServer) -> Iterator[str]:
    """A connection string whose chroot belongs to this test alone."""
    if zookeeper.process is None:
        zookeeper.start()  # a previous test stopped it on purpose
    chroot = f"/test-{uuid.uuid4().hex[:12]}"
    admin = KazooClient(hosts=zookeeper.address)
    admin.start(timeout=10)
    admin.create(chroot)
    admin.stop()
    admin.close()
    yield f"{zookeeper.address}{chroot}"


@pytest.fixture
def cluster_settings(settings: Any, zk_connection_string: str, tmp_path: Any) -> Iterator[Any]:
    """Settings of a cluster node on this test's ZooKeeper chroot, with a fresh shared client."""
    from epoch_site.config import load_config
    from topologies.storage.connection import close_shared_client

    settings.EPOCH = load_config(
        {
            "ZK_CONNECTION_STRING": zk_connection_string,
            "DROVE_ENDPOINT": "http://127.0.0.1:1",
            "DROVE_APP_NAME": "epoch-test",
            "EPOCH_DATA_DIR": str(tmp_path),
            "EPOCH_SECRET_KEY": "test",
        }
    )
    close_shared_client()
    yield settings
    close_shared_client()
