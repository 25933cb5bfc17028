"""The UI in headless Chromium against a real Epoch node (embedded mode, Drove simulator).

Screenshots of every page land in ``test-artifacts/``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import Browser, Page, expect, sync_playwright

from epoch_site.config import BASE_DIR
from tests.epoch_site.test_launcher import epoch_env, wait_until_healthy

pytestmark = pytest.mark.browser

ARTIFACTS = BASE_DIR / "test-artifacts"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def epoch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = epoch_env(tmp_path_factory.mktemp("ui"), EPOCH_TASK_POLL_INTERVAL="300ms")
    process = subprocess.Popen(
        [sys.executable, "-m", "epoch_site.launcher"], cwd=BASE_DIR, env=env, start_new_session=True
    )
    try:
        wait_until_healthy(f"http://127.0.0.1:{env['EPOCH_ADMIN_PORT']}/healthcheck", process)
        yield f"http://127.0.0.1:{env['EPOCH_PORT']}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=40)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


def logged_in(browser: Browser, base: str, user: str, timezone_id: str | None = None) -> Page:
    page = browser.new_page(viewport={"width": 1400, "height": 900}, timezone_id=timezone_id)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{base}/login")
    page.fill("#id_username", user)
    page.fill("#id_password", user)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def snapshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def fill_form(page: Page, name: str, cron: str, env: dict[str, str] | None = None) -> None:
    page.fill("#f-name", name)
    page.fill("#f-cron", cron)
    page.fill("#f-docker", "docker.io/library/hello-world:latest")
    page.fill("#f-notify", "ops@example.com")
    for key, value in (env or {}).items():
        page.click("[data-add=env]")
        row = page.locator("#env-rows > div").last
        row.locator("[data-key=name]").fill(key)
        row.locator("[data-key=value]").fill(value)


def create(page: Page, base: str, name: str, env: dict[str, str] | None = None) -> None:
    page.goto(f"{base}/")
    fill_form(page, name, "0 0 0 1 1 ? 2099", env)
    page.click("[data-testid=submit]")
    page.wait_for_url(f"{base}/topologies/{name}")


def test_create_with_a_bad_cron_then_a_good_one(browser: Browser, epoch: str) -> None:
    page = logged_in(browser, epoch, "admin")
    expect(page.get_by_test_id("whoami")).to_contain_text("admin")
    fill_form(page, "ui-created", "0 0 0 * * *")
    expect(page.get_by_test_id("cron-preview")).to_contain_text("day-of-month")
    page.click("[data-testid=submit]")
    expect(page.get_by_test_id("form-error")).to_contain_text(
        "[3002]: Validation failed for input: cron"
    )
    snapshot(page, "home-with-error")
    assert page.url == f"{epoch}/"
    expect(page.get_by_text("day-of-month")).to_have_count(1)  # said once, not in two places
    page.fill("#f-cron", "0 30 2 ? * MON-FRI")
    expect(page.get_by_test_id("cron-preview")).to_contain_text("Monday through Friday")
    expect(page.locator("[data-field=cron]")).to_be_empty()
    page.click("[data-testid=submit]")
    page.wait_for_url(f"{epoch}/topologies/ui-created")
    expect(page.get_by_test_id("topology-id")).to_have_text("ui-created")
    snapshot(page, "topology")


def test_run_now_reaches_completed(browser: Browser, epoch: str) -> None:
    page = logged_in(browser, epoch, "admin")
    create(page, epoch, "ui-run")
    page.click("[data-action=run]")
    expect(page.get_by_test_id("action-result")).to_contain_text("Started run EIR-")
    expect(page.locator(".run-row").first).to_have_attribute(
        "data-state", "COMPLETED", timeout=20_000
    )
    snapshot(page, "topology-run-completed")


def test_times_show_in_epochs_zone_whatever_the_browsers(browser: Browser, epoch: str) -> None:
    page = logged_in(browser, epoch, "admin", timezone_id="Asia/Kolkata")
    create(page, epoch, "ui-zone")
    page.click("[data-action=run]")
    expect(page.get_by_test_id("action-result")).to_contain_text("Started run EIR-")
    page.reload()
    runs = requests.get(f"{epoch}/apis/v1/topologies/ui-zone/runs", auth=("guest", "guest"))
    created = runs.json()["data"][0]["created"]
    zone = page.evaluate("document.body.dataset.timeZone")
    assert ZoneInfo(zone).utcoffset(None) == timedelta(0)  # the test node runs on UTC
    shown = datetime.fromtimestamp(created / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
    expect(page.locator(".run-row [data-ms]").first).to_have_text(shown)  # not Kolkata's time
    expect(page.get_by_test_id("runs-table")).to_contain_text(f"Started ({zone})")
    next_fire = page.locator("dt:has-text('Next fire') + dd")
    expect(next_fire).to_have_text(f"2099-01-01 00:00:00 ({zone})")


def test_pause_and_resume(browser: Browser, epoch: str) -> None:
    page = logged_in(browser, epoch, "admin")
    create(page, epoch, "ui-pause")
    page.click("[data-action=pause]")
    expect(page.locator("[data-action=unpause]")).to_be_visible(timeout=10_000)
    page.click("[data-action=unpause]")
    expect(page.locator("[data-action=pause]")).to_be_visible(timeout=10_000)


def test_kill_a_long_task(browser: Browser, epoch: str) -> None:
    page = logged_in(browser, epoch, "admin")
    create(page, epoch, "ui-kill", env={"DROVE_SIM_DURATION": "1h"})
    page.click("[data-action=run]")
    expect(page.locator(".run-row").first).to_have_attribute(
        "data-state", "RUNNING", timeout=20_000
    )
    kill = page.locator("[data-action=kill]").first
    expect(kill).to_be_attached(timeout=20_000)
    page.locator(".run-row button").first.click()
    kill.click()
    expect(page.locator(".run-row").first).to_have_attribute("data-state", "FAILED", timeout=20_000)
    snapshot(page, "topology-killed")


def test_an_open_run_stays_open_when_newer_runs_appear(browser: Browser, epoch: str) -> None:
    page = logged_in(browser, epoch, "admin")
    create(page, epoch, "ui-open", env={"DROVE_SIM_DURATION": "1h"})
    page.click("[data-action=run]")
    first = page.locator(".run-row").first
    expect(first).to_have_attribute("data-state", "RUNNING", timeout=20_000)
    first_run = first.get_attribute("data-run")
    first.locator("button").click()
    expect(page.locator(f"#tasks-{first_run}")).to_be_visible()
    started = requests.put(
        f"{epoch}/apis/v1/topologies/ui-open/run", auth=("admin", "admin"), timeout=5
    ).json()
    second_run = started["data"]["runId"]
    # No reload: the live refresh brings the new run in above the open one.
    expect(page.locator(".run-row").first).to_have_attribute("data-run", second_run, timeout=20_000)
    expect(page.locator(f"#tasks-{first_run}")).to_be_visible()
    expect(page.locator(f"#tasks-{second_run}")).to_be_hidden()
    snapshot(page, "topology-open-run")


def test_delete_names_the_topology(browser: Browser, epoch: str) -> None:
    page = logged_in(browser, epoch, "admin")
    create(page, epoch, "ui-delete")
    messages: list[str] = []
    page.on("dialog", lambda dialog: messages.append(dialog.message))
    page.click("[data-action=delete]")
    page.wait_for_url(f"{epoch}/")
    assert any("ui-delete" in message and "not be able to undo" in message for message in messages)
    assert (
        requests.get(
            f"{epoch}/apis/v1/topologies/ui-delete", auth=("guest", "guest"), timeout=5
        ).json()["status"]
        == "FAILED"
    )


def test_guest_sees_no_write_controls(browser: Browser, epoch: str) -> None:
    admin = logged_in(browser, epoch, "admin")
    create(admin, epoch, "ui-guest")
    page = logged_in(browser, epoch, "guest")
    expect(page.locator("#topology-form")).to_have_count(0)
    page.goto(f"{epoch}/topologies/ui-guest")
    expect(page.locator("[data-action]")).to_have_count(0)
    snapshot(page, "topology-as-guest")


def test_markup_in_stored_strings_renders_as_text(browser: Browser, epoch: str) -> None:
    body = {
        "name": "ui-escape",
        "task": {
            "type": "CONTAINER_EXECUTION",
            "taskName": "t",
            "executable": {"type": "DOCKER", "url": "hello-world", "dockerPullTimeout": "1 minute"},
            "resources": [{"type": "CPU", "count": 1}, {"type": "MEMORY", "sizeInMB": 128}],
            "env": {"NOTE": "</pre><script>window.pwned=1</script>\"'"},
        },
        "trigger": {"type": "CRON", "timeSpec": "0 0 0 1 1 ? 2099"},
    }
    assert (
        requests.post(
            f"{epoch}/apis/v1/topologies", json=body, auth=("admin", "admin"), timeout=5
        ).status_code
        == 200
    )
    page = logged_in(browser, epoch, "admin")
    page.goto(f"{epoch}/topologies/ui-escape")
    page.click("text=Definition (JSON)")
    expect(page.get_by_test_id("definition")).to_contain_text("<script>window.pwned=1</script>")
    assert page.evaluate("window.pwned") is None
    fill_form(page, "<script>alert(1)</script>", "0 0 0 1 1 ? 2099") if page.locator(
        "#f-name"
    ).count() else None
    page.goto(f"{epoch}/")
    fill_form(page, "<script>x</script>", "0 0 0 1 1 ? 2099")
    page.click("[data-testid=submit]")
    expect(page.locator("[data-field=name]")).to_contain_text('name must match "[0-9a-zA-Z_-]+"')
    assert page.evaluate("window.pwned") is None
    expect(page.get_by_test_id("topology-table")).to_contain_text("ui-escape")
    snapshot(page, "home-escaped")


def test_edit_keeps_what_the_form_does_not_show(browser: Browser, epoch: str) -> None:
    page = logged_in(browser, epoch, "admin")
    create(page, epoch, "ui-edit", env={"KEEP": "me"})
    page.click('[data-bs-target="#edit-panel"]')
    expect(page.locator("#edit-panel")).to_be_visible()
    form = page.locator("#edit-panel")
    expect(form.locator("[data-key=value]").first).to_have_value("me")
    form.locator("#f-docker").fill("docker.io/library/busybox:1")
    form.locator("#f-cpus").fill("2")
    snapshot(page, "topology-edit")
    # The page posts the edit, then navigates to the same URL: wait for the answer itself.
    with page.expect_response(lambda answer: answer.url.endswith("/ui-edit/update")) as answer:
        form.locator("[data-testid=submit]").click()
    assert answer.value.ok
    page.wait_for_load_state()
    stored = requests.get(
        f"{epoch}/apis/v1/topologies/ui-edit", auth=("guest", "guest"), timeout=5
    ).json()["data"]
    task = stored["topology"]["task"]
    assert task["executable"]["url"] == "docker.io/library/busybox:1"
    assert task["resources"][0] == {"type": "CPU", "count": 2}
    assert task["env"] == {"KEEP": "me"}
    assert stored["updated"] > stored["created"]
