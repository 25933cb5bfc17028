"""The mirror's child process, on a real ZooKeeper: it reports when it is in step, stops when
asked, and neither side hangs when the other dies at any moment."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from epoch_site.config import BASE_DIR, ZooKeeperConfig
from tests.support.nodes import clean_environment
from topologies.storage.mirror_process import MirrorProcess

SETTLE_S = 30.0  # generous bounds that only catch a hang; nothing here measures speed


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database of the child's own, away from the test database and ``data/``."""
    directory = tmp_path_factory.mktemp("mirror-child")
    env = clean_environment({"EPOCH_DATA_DIR": str(directory)})
    migrate = [sys.executable, "manage.py", "migrate", "--verbosity", "0"]
    subprocess.run(migrate, cwd=BASE_DIR, env=env, check=True)  # noqa: S603
    return directory


@pytest.fixture
def mirror(
    data_dir: Path, zk_connection_string: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MirrorProcess]:
    monkeypatch.setenv("EPOCH_DATA_DIR", str(data_dir))  # a spawned child takes this environment
    process = MirrorProcess(ZooKeeperConfig(connection_string=zk_connection_string))
    process.start()
    yield process
    process.stop()


def wait_until(condition: object, timeout_s: float = SETTLE_S) -> bool:
    assert callable(condition)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def stops_without_hanging(mirror: MirrorProcess) -> bool:
    stopper = threading.Thread(target=mirror.stop, daemon=True)
    stopper.start()
    stopper.join(SETTLE_S)
    return not stopper.is_alive()


def test_the_child_reports_in_sync_and_stops_cleanly_when_asked(mirror: MirrorProcess) -> None:
    assert wait_until(mirror.in_sync)
    assert stops_without_hanging(mirror)
    assert not mirror.alive()
    assert not mirror.in_sync()
    assert mirror.exit_code == 0


def test_stopping_after_the_child_was_killed_in_step_does_not_hang(mirror: MirrorProcess) -> None:
    assert wait_until(mirror.in_sync)
    assert mirror.pid is not None
    psutil.Process(mirror.pid).kill()
    assert wait_until(lambda: not mirror.alive())
    assert not mirror.in_sync()
    assert stops_without_hanging(mirror)


def test_stopping_after_the_child_was_killed_while_starting_does_not_hang(
    mirror: MirrorProcess,
) -> None:
    assert mirror.pid is not None
    psutil.Process(mirror.pid).kill()
    assert stops_without_hanging(mirror)
    assert not mirror.in_sync()


PARENT = """
import os, sys, time
from epoch_site.config import ZooKeeperConfig
from topologies.storage.mirror_process import MirrorProcess

mirror = MirrorProcess(ZooKeeperConfig(connection_string=sys.argv[1]))
mirror.start()
print(mirror.pid, flush=True)
time.sleep(600)
"""


def test_the_child_stops_when_its_parent_dies(data_dir: Path, zk_connection_string: str) -> None:
    env = clean_environment({"EPOCH_DATA_DIR": str(data_dir)})
    script = [sys.executable, "-c", textwrap.dedent(PARENT), zk_connection_string]
    parent = subprocess.Popen(script, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE)  # noqa: S603
    try:
        assert parent.stdout is not None
        child = psutil.Process(int(parent.stdout.readline()))
        assert child.ppid() == parent.pid
    finally:
        parent.kill()  # SIGKILL: no clean-up runs in the parent
        parent.wait()
    _, still_running = psutil.wait_procs([child], timeout=SETTLE_S)
    assert not still_running  # a mirror must not outlive its node, writing SQL on its own
