"""Fixtures for the Drove client and simulator tests: real HTTP on 127.0.0.1, fast timings.

The simulator runs in-process on free ports; the client talks to it over real sockets. Timings
are tiny (20 ms per state report, 150 ms runs, 10 ms retry interval) and tests wait with short
deadlines instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from drove_client.client import DroveClient
from drove_client.simulator import DroveSimulator, SimSettings
from epoch_site.config import DroveConfig
from epoch_site.durations import Duration

APP = "epoch-1"
T = TypeVar("T")


def fast_settings(**overrides: Any) -> SimSettings:
    values: dict[str, Any] = {"step_s": 0.02, "run_s": 0.15, "snapshot_s": 0.05}
    values.update(overrides)
    return SimSettings(**values)


def drove_config(endpoints: list[str] | tuple[str, ...], **overrides: Any) -> DroveConfig:
    values: dict[str, Any] = {
        "endpoints": tuple(endpoints),
        "app_name": APP,
        "check_interval": Duration(50, "milliseconds"),
        "connection_timeout": Duration(500, "milliseconds"),
        "operation_timeout": Duration(500, "milliseconds"),
        "rpc_retry_count": 5,
        "rpc_retry_interval": Duration(10, "milliseconds"),
    }
    values.update(overrides)
    return DroveConfig(**values)


def container_task(name: str = "docker-task", **fields: Any) -> dict[str, Any]:
    """A container task definition in the original Epoch JSON shape (epoch-model.md §4.1)."""
    task: dict[str, Any] = {
        "type": "CONTAINER_EXECUTION",
        "taskName": name,
        "executable": {
            "type": "DOCKER",
            "url": "ghcr.io/acme/report-job:1.4.2",
            "dockerPullTimeout": "120 seconds",
        },
        "resources": [{"type": "CPU", "count": 1}, {"type": "MEMORY", "sizeInMB": 256}],
    }
    task.update(fields)
    return task


def scripted(outcome: str, **env: str) -> dict[str, Any]:
    """A container task whose simulated outcome is ``outcome``."""
    return container_task(env={"DROVE_SIM_OUTCOME": outcome, **env})


def wait_for(
    probe: Callable[[], T], accept: Callable[[T], bool] = bool, timeout_s: float = 5.0
) -> T:
    """Call ``probe`` until ``accept`` says yes; fail with the last value after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if accept(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting after {timeout_s}s; last value: {value!r}")
        time.sleep(0.005)


def wait_for_some(
    probe: Callable[[], T | None],
    accept: Callable[[T], bool] = lambda _: True,
    timeout_s: float = 5.0,
) -> T:
    """Like ``wait_for``, for probes that answer None until there is something to look at."""
    found = wait_for(probe, lambda v: v is not None and accept(v), timeout_s)
    assert found is not None
    return found


@pytest.fixture
def sim_settings() -> SimSettings:
    return fast_settings()


@pytest.fixture
def simulator(sim_settings: SimSettings) -> Iterator[DroveSimulator]:
    with DroveSimulator(sim_settings) as simulator:
        yield simulator


@pytest.fixture
def cluster(sim_settings: SimSettings) -> Iterator[DroveSimulator]:
    """Three simulated controllers sharing one store; controller 0 leads."""
    with DroveSimulator(sim_settings, controllers=3) as simulator:
        yield simulator


@pytest.fixture
def client(simulator: DroveSimulator) -> Iterator[DroveClient]:
    with DroveClient(drove_config([simulator.url])) as client:
        yield client
