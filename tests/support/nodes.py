"""Epoch nodes as separate processes: each one's environment, and its launcher.

Shared by the cluster tests, the launcher tests and the API benchmark, so that every one of them
starts a node the same way: the caller's environment without any Epoch, ZooKeeper or Drove
setting of its own, plus the node's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from epoch_site.config import BASE_DIR
from tests.support.zookeeper import free_port

OWN_PREFIXES = ("EPOCH_", "ZK_", "DROVE_")


def clean_environment(settings: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without Epoch's own settings, then ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_PREFIXES)}
    env.update(settings or {})
    return env


def node_environment(
    name: str, workdir: Path, port: int, admin_port: int, settings: Mapping[str, str]
) -> dict[str, str]:
    """The environment of node ``name``: ``settings``, its ports, URL and data directory."""
    env = clean_environment(settings)
    env.update(
        EPOCH_PORT=str(port),
        EPOCH_ADMIN_PORT=str(admin_port),
        EPOCH_ADVERTISE_URL=f"http://127.0.0.1:{port}",
        EPOCH_DATA_DIR=str(workdir / "data"),
        EPOCH_NODE_NAME=name,
    )
    return env


def start_launcher(workdir: Path, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """``python -m epoch_site.launcher`` logging to ``workdir/epoch.log``, in a process group of
    its own so that a teardown can signal every child it starts."""
    workdir.mkdir(parents=True, exist_ok=True)
    with (workdir / "epoch.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "epoch_site.launcher"],
            cwd=BASE_DIR,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@dataclass
class NodeProcess:
    """One Epoch node run by its launcher: its name, directory, settings and ports."""

    name: str
    workdir: Path
    settings: dict[str, str]
    port: int = field(default_factory=free_port)
    admin_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def environment(self) -> dict[str, str]:
        return node_environment(self.name, self.workdir, self.port, self.admin_port, self.settings)

    def start(self) -> None:
        self.process = start_launcher(self.workdir, self.environment())

    def log_tail(self, lines: int = 40) -> str:
        path = self.workdir / "epoch.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
