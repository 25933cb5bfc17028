from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from kazoo.client import KazooClient
from rest_framework.test import APIClient

from epoch_site.config import AuthConfig
from topologies.storage.base import Store
from topologies.storage.embedded import SqlStore
from topologies.storage.paths import Paths
from topologies.storage.zk import ZkStore


@pytest.fixture
def zk(zk_connection_string: str) -> Iterator[KazooClient]:
    client = KazooClient(hosts=zk_connection_string, timeout=5)
    client.start(timeout=10)
    yield client
    client.stop()
    client.close()


@pytest.fixture
def zk_store(zk: KazooClient) -> ZkStore:
    return ZkStore(zk, Paths("epoch"))


@pytest.fixture(params=["zookeeper", "sql"])
def store(request: pytest.FixtureRequest) -> Store:
    """Every contract test runs against both backends."""
    if request.param == "sql":
        return SqlStore()
    return request.getfixturevalue("zk_store")


@pytest.fixture
def api(settings: Any, db: None) -> APIClient:
    """An API client against an embedded node with authentication off (the scenarios' default)."""
    settings.EPOCH = replace(settings.EPOCH, auth=AuthConfig(enabled=False))
    return APIClient()
