"""A real ZooKeeper 3.8 server (Debian's package) run with java on a free loopback port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from kazoo.client import KazooClient

ZOOKEEPER_JAR = Path("/usr/share/java/zookeeper.jar")
LOGGING_JAR = Path("/usr/share/java/slf4j-simple.jar")
MAIN_CLASS = "org.apache.zookeeper.server.ZooKeeperServerMain"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ZooKeeperServer:
    """Start, stop and restart one standalone server; its data survives a restart."""

    def __init__(self, workdir: Path) -> None:
        missing = [str(p) for p in (ZOOKEEPER_JAR, LOGGING_JAR) if not p.is_file()]
        if missing or shutil.which("java") is None:
            raise RuntimeError(
                f"ZooKeeper is not installed ({', '.join(missing) or 'java'} missing): "
                "run ./scripts/test.sh, which installs Debian's zookeeper package"
            )
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._write_config()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _write_config(self) -> None:
        (self.workdir / "data").mkdir(parents=True, exist_ok=True)
        (self.workdir / "zoo.cfg").write_text(
            "\n".join(
                [
                    "tickTime=200",
                    f"dataDir={self.workdir / 'data'}",
                    f"clientPort={self.port}",
                    "clientPortAddress=127.0.0.1",
                    "admin.enableServer=false",
                    "minSessionTimeout=400",
                    "maxSessionTimeout=60000",
                    "4lw.commands.whitelist=ruok,stat,srvr",
                ]
            )
        )

    def start(self) -> None:
        log = (self.workdir / "server.log").open("ab")
        classpath = f"{ZOOKEEPER_JAR}:{LOGGING_JAR}"
        self.process = subprocess.Popen(
            ["java", "-Xmx256m", "-cp", classpath, MAIN_CLASS, str(self.workdir / "zoo.cfg")],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_serving()

    def _wait_until_serving(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"ZooKeeper exited; see {self.workdir / 'server.log'}")
            client = KazooClient(hosts=self.address, timeout=2)
            try:
                client.start(timeout=1)
                client.stop()
                return
            except Exception:  # noqa: BLE001, S112 - not up yet; try again until the deadline
                continue
            finally:
                client.close()
        raise RuntimeError(f"ZooKeeper did not start; see {self.workdir / 'server.log'}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()
