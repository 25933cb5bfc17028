"""Epoch's process supervisor: ``python -m epoch_site.launcher``.

Prepares the local database, then runs the web server, the leader-only scheduler and (in embedded
mode without a Drove endpoint) the Drove simulator as child processes. SIGTERM or SIGINT stops all
of them and exits with 143; if one child dies, the others are stopped and its exit code is returned.
If the launcher itself is killed outright (SIGKILL, an OOM kill), each child gets SIGTERM from the
kernel on Linux: an orphaned scheduler must not go on leading with no supervisor watching it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType

from epoch_site.config import BASE_DIR, ConfigError, EpochConfig, load_config

STOP_GRACE_S = 25.0
EXIT_ON_SIGTERM = 143
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def main() -> int:
    try:
        config = load_config()
    except ConfigError as error:
        sys.stderr.write(f"epoch: configuration error: {error}\n")
        return 1
    if config.debug:
        _print_diagnostics(config, os.environ)
    _prepare_database()
    return Supervisor(_services(config)).run()


def _print_diagnostics(config: EpochConfig, environ: Mapping[str, str]) -> None:
    for name in sorted(environ):
        print(f"env {name}={environ[name]}", flush=True)  # noqa: T201 - DEBUG asks for exactly this
    mode = "embedded" if config.embedded else f"cluster ({config.zookeeper.connection_string})"
    print(f"epoch: mode={mode} config={config.config_path}", flush=True)  # noqa: T201


def _manage(*args: str) -> list[str]:
    return [sys.executable, str(BASE_DIR / "manage.py"), *args]


def _prepare_database() -> None:
    for command in (_manage("migrate", "--noinput", "-v", "0"), _manage("sync_users")):
        subprocess.run(command, check=True, cwd=BASE_DIR)  # noqa: S603 - our own manage.py


def _services(config: EpochConfig) -> dict[str, list[str]]:
    services: dict[str, list[str]] = {}
    if config.drove.embedded_simulator_port is not None and _has_command("drove_simulator"):
        port = str(config.drove.embedded_simulator_port)
        services["drove-simulator"] = _manage(
            "drove_simulator", "--host", "127.0.0.1", "--port", port
        )
    services["web"] = [sys.executable, "-m", "gunicorn", "epoch_site.wsgi:application"]
    if _has_command("run_scheduler"):
        services["scheduler"] = _manage("run_scheduler")
    return services


def _has_command(name: str) -> bool:
    return any(BASE_DIR.glob(f"*/management/commands/{name}.py"))


class Supervisor:
    """Runs child processes until a signal arrives or one of them exits."""

    def __init__(self, services: dict[str, list[str]]) -> None:
        self.services = services
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = False

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        for name, command in self.services.items():
            self.children[name] = subprocess.Popen(  # noqa: S603
                command, cwd=Path(BASE_DIR), preexec_fn=_stop_with(os.getpid())
            )
        exit_code = self._wait_for_first_exit()
        self._stop_all()
        return EXIT_ON_SIGTERM if self.stopping else exit_code

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def _wait_for_first_exit(self) -> int:
        while not self.stopping:
            for name, child in self.children.items():
                code = child.poll()
                if code is not None:
                    sys.stderr.write(f"epoch: {name} exited with status {code}; stopping\n")
                    return code or 1
            time.sleep(0.2)
        return EXIT_ON_SIGTERM

    def _stop_all(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def _stop_with(launcher_pid: int) -> Callable[[], None] | None:
    """Run in each child before it starts: SIGTERM to the child when the launcher dies."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def arm() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != launcher_pid:  # the launcher died before the signal was armed
            os.kill(os.getpid(), signal.SIGTERM)

    return arm


if __name__ == "__main__":
    sys.exit(main())
