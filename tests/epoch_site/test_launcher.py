"""Epoch started the way the quick start and the container start it, as real processes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests

from epoch_site.config import BASE_DIR
from tests.support.nodes import clean_environment
from tests.support.zookeeper import free_port


def epoch_env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = clean_environment()
    env.update(
        EPOCH_DATA_DIR=str(tmp_path / "data"),
        EPOCH_BIND_HOST="127.0.0.1",
        EPOCH_PORT=str(free_port()),
        EPOCH_ADMIN_PORT=str(free_port()),
        EPOCH_SIMULATOR_PORT=str(free_port()),
        WEB_CONCURRENCY="1",
    )
    env.update(values)
    return env


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "Epoch exited during start-up"
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass  # not serving yet
        time.sleep(0.3)
    raise AssertionError(f"{url} never answered 200")


@pytest.fixture
def running_epoch(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], dict[str, str]]]:
    env = epoch_env(tmp_path)
    process = subprocess.Popen([sys.executable, "-m", "epoch_site.launcher"], cwd=BASE_DIR, env=env)
    try:
        wait_until_healthy(f"http://127.0.0.1:{env['EPOCH_ADMIN_PORT']}/healthcheck", process)
        yield process, env
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def log_in(base: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{base}/login", timeout=5)
    token = session.cookies["epoch_csrftoken"]
    response = session.post(
        f"{base}/login",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/login"},
        timeout=10,
    )
    assert response.status_code == 200
    return session


def test_embedded_start_serves_ui_and_health_and_stops_on_sigterm(
    running_epoch: tuple[subprocess.Popen[bytes], dict[str, str]],
) -> None:
    process, env = running_epoch
    base = f"http://127.0.0.1:{env['EPOCH_PORT']}"
    health = requests.get(f"{base}/healthcheck", timeout=5)
    assert health.status_code == 200
    assert health.json()["database"]["healthy"] is True

    anonymous = requests.get(f"{base}/", allow_redirects=False, timeout=5)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login")

    page = log_in(base, "admin", "admin").get(f"{base}/", timeout=5).text
    assert "admin" in page
    assert "read/write" in page
    assert "guest" in log_in(base, "guest", "guest").get(f"{base}/", timeout=5).text

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=40) == 143


def test_children_stop_when_the_launcher_is_killed(
    running_epoch: tuple[subprocess.Popen[bytes], dict[str, str]],
) -> None:
    process, env = running_epoch
    family = psutil.Process(process.pid).children(recursive=True)
    names = " ".join(" ".join(child.cmdline()) for child in family)
    assert all(part in names for part in ("gunicorn", "run_scheduler", "drove_simulator"))
    process.kill()  # no clean-up runs in the launcher
    process.wait()
    _, orphans = psutil.wait_procs(family, timeout=40)
    assert orphans == []
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{env['EPOCH_PORT']}/ping", timeout=5)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"ZK_CONNECTION_STRING": "not a connection string"}, "zookeeper.connectionString"),
        ({"DROVE_ENDPOINT": "drove:4000"}, "drove.endpoints: 'drove:4000' is not an http(s) URL"),
        (
            {"CONFIG_FILE_PATH": "/nonexistent.yml"},
            "CONFIG_FILE_PATH: config file '/nonexistent.yml'",
        ),
        ({"PORT_8080": "abc"}, "PORT_8080: 'abc' is not a port number"),
    ],
)
@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "epoch_site.launcher"],
        [sys.executable, "-m", "gunicorn", "epoch_site.wsgi:application"],
        [sys.executable, "manage.py", "check"],
    ],
    ids=["launcher", "gunicorn", "manage"],
)
def test_bad_configuration_stops_start_up_with_one_message(
    tmp_path: Path, values: dict[str, str], message: str, command: list[str]
) -> None:
    env = epoch_env(tmp_path, EPOCH_PORT="8080", **values)
    result = subprocess.run(
        command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert f"epoch: configuration error: {message}" in result.stderr
    assert "Traceback" not in result.stderr


def test_pages_get_their_assets_from_the_node(
    running_epoch: tuple[subprocess.Popen[bytes], dict[str, str]],
) -> None:
    _, env = running_epoch
    base = f"http://127.0.0.1:{env['EPOCH_PORT']}"
    for asset in (
        "vendor/bootstrap/bootstrap.min.css",
        "vendor/bootstrap/bootstrap.bundle.min.js",
        "epoch/epoch.js",
    ):
        response = requests.get(f"{base}/static/{asset}", timeout=5)
        assert response.status_code == 200, asset
        assert len(response.content) > 1000


def test_debug_prints_the_environment_at_start(tmp_path: Path) -> None:
    env = epoch_env(tmp_path, DEBUG="1", MARKER_FOR_TEST="visible")
    process = subprocess.Popen(
        [sys.executable, "-m", "epoch_site.launcher"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.strip())
            if line.startswith("epoch: mode="):
                break
        assert "env MARKER_FOR_TEST=visible" in lines
        assert lines[-1].startswith("epoch: mode=embedded")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=40)
