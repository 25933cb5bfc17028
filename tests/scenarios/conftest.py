"""Black-box harness for the acceptance scenarios (scenarios.md): Epoch and Drove over real HTTP.

* Epoch's API is pytest-django's live server in embedded mode (the SQL store); its views reach
  Drove through this process's cached gateway, which the harness points at the test's simulator.
* Drove is the bundled simulator, in-process on a free port; tests script outcomes through task
  env (``DROVE_SIM_*``), inject its faults and read its request log.
* The scheduler is an ``Engine`` in the test process over the same store, on a ``ManualClock``:
  tests advance schedule time and wait in real time only for the simulated tasks to progress.
  The engine is stepped after every change made over HTTP, as the scheduler's loop would be.
* Mail goes to a real SMTP server through a ``MailNotifier`` on the engine's event bus.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from drove_client.client import DroveClient
from drove_client.simulator import DroveSimulator, Fault, SimUser
from drove_client.simulator.lifecycle import SimTask, task_result
from epoch_site.config import AuthConfig, NotifyConfig
from epoch_site.durations import Duration
from scheduler import drove_gateway
from scheduler.core.clock import ManualClock
from scheduler.drove_gateway import DroveGateway
from scheduler.engine import Engine
from scheduler.events import EpochEvent, EventBus
from scheduler.management.commands.run_scheduler import engine_options
from scheduler.notifications import MailNotifier
from tests.drove_client.conftest import drove_config, fast_settings
from tests.scheduler.stepping import settle, step
from tests.support.smtp import Inbox, smtp_server
from tests.topologies.api.conftest import topology_body
from topologies.storage.embedded import SqlStore

APP = "epoch-test"
SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
UTC = ZoneInfo("UTC")
FROM_NAME, FROM_ADDRESS = "Epoch", "epoch@example.com"
SETTLE_TIMEOUT_S = 30.0
NEVER = "0 0 0 1 1 ? 2099"  # a cron that does not fire while a test runs


def run_id(prefix: str, instant_ms: int, zone: ZoneInfo = UTC) -> str:
    """``<prefix>-yyyy-MM-dd-HH-mm-ss-SSS`` of ``instant_ms`` in ``zone`` (epoch-model.md §13)."""
    moment = datetime.fromtimestamp(instant_ms // 1000, tz=zone)
    return f"{prefix}-{moment:%Y-%m-%d-%H-%M-%S}-{instant_ms % 1000:03d}"


def task_id(topology_id: str, run: str, task_name: str = "test-task-1") -> str:
    return f"{topology_id}-{run}-{task_name}"


def cron_topology(
    name: str = "TEST_TOPO-1", cron: str = "0/5 * * * * ?", **task_changes: Any
) -> dict[str, Any]:
    """The fixture topology with a CRON trigger and changed task fields."""
    body = topology_body(name, trigger={"type": "CRON", "timeSpec": cron})
    body["task"].update(task_changes)
    return body


def at_topology(name: str, time_ms: int, **task_changes: Any) -> dict[str, Any]:
    body = cron_topology(name, **task_changes)
    body["trigger"] = {"type": "AT", "time": time_ms}
    return body


def scripted(outcome: str = "success", **env: str) -> dict[str, str]:
    """Task env telling the simulator how the task ends (``DROVE_SIM_*``)."""
    return {"DROVE_SIM_OUTCOME": outcome, **{f"DROVE_SIM_{k.upper()}": v for k, v in env.items()}}


def composite_topology(
    outcomes: list[str], composition: str = "ALL", name: str = "TEST_TOPO-1"
) -> dict[str, Any]:
    """A composite of container tasks ``test-task-1..n``, task i ending as ``outcomes[i-1]``."""
    base = topology_body(name)["task"]
    children = [
        {**base, "taskName": f"test-task-{i}", "env": scripted(outcome)}
        for i, outcome in enumerate(outcomes, start=1)
    ]
    task = {"type": "COMPOSITE", "tasks": children, "compositionType": composition}
    return cron_topology(name) | {"task": task}


def one_step() -> bool:
    """A ``settle`` condition met at once: the scheduler takes exactly one step."""
    return True


def next_minute_ms() -> int:
    """A whole minute one to two minutes ahead of real time: HTTP-made timestamps lie before it."""
    return math.ceil(time.time() * 1000 / MINUTE) * MINUTE + MINUTE


@dataclass(frozen=True)
class Options:
    """Harness knobs; the defaults are the harness table of scenarios.md."""

    time_zone: str = "UTC"
    drove_credentials: tuple[str, str] | None = None
    default_emails: tuple[str, ...] = ()
    disable_for_successful_runs: bool = False


@dataclass
class Epoch:
    """One Epoch node as a test sees it: its HTTP API, its scheduler's clock, Drove and mail."""

    base_url: str
    clock: ManualClock
    engine: Engine
    simulator: DroveSimulator
    inbox: Inbox
    notifier: MailNotifier
    notified: list[EpochEvent]  # every event the mail notifier received, in order
    session: requests.Session = field(default_factory=requests.Session)
    start: int = field(init=False)  # the clock's first instant, a whole minute

    def __post_init__(self) -> None:
        self.start = self.clock.now_ms()

    # --- HTTP -------------------------------------------------------------------------------

    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        return self.session.request(method, f"{self.base_url}{path}", json=body, timeout=30)

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        """``data`` of a SUCCESS answer (failing the test on anything else); then one step."""
        response = self.call(method, path, body)
        envelope = response.json()
        assert (response.status_code, envelope["status"]) == (200, "SUCCESS"), envelope
        self.step()
        return envelope.get("data")

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        details: dict[str, Any] = self.ok("POST", "/apis/v1/topologies", body)
        return details

    def update(self, body: dict[str, Any]) -> dict[str, Any]:
        details: dict[str, Any] = self.ok("PUT", "/apis/v1/topologies", body)
        return details

    def pause(self, topology_id: str) -> dict[str, Any]:
        details: dict[str, Any] = self.ok("PUT", f"/apis/v1/topologies/{topology_id}/pause", "")
        return details

    def unpause(self, topology_id: str) -> dict[str, Any]:
        details: dict[str, Any] = self.ok("PUT", f"/apis/v1/topologies/{topology_id}/unpause", "")
        return details

    def delete(self, topology_id: str) -> bool:
        deleted: bool = self.ok("DELETE", f"/apis/v1/topologies/{topology_id}")
        return deleted

    def run_now(self, topology_id: str) -> str:
        answer: str = self.ok("PUT", f"/apis/v1/topologies/{topology_id}/run", "")["runId"]
        return answer

    def kill(self, topology_id: str, run: str, task_name: str = "test-task-1") -> Any:
        path = f"/apis/v1/topologies/{topology_id}/runs/{run}/tasks/{task_name}/kill"
        return self.call("POST", path, "").json()

    def runs(self, topology_id: str = "TEST_TOPO-1") -> list[dict[str, Any]]:
        """The topology's runs, oldest id first."""
        response = self.call("GET", f"/apis/v1/topologies/{topology_id}/runs").json()
        assert response["status"] == "SUCCESS", response
        return sorted(response["data"], key=lambda run: run["runId"])

    def run(self, topology_id: str, run: str) -> dict[str, Any]:
        response = self.call("GET", f"/apis/v1/topologies/{topology_id}/runs/{run}").json()
        assert response["status"] == "SUCCESS", response
        found: dict[str, Any] = response["data"]
        return found

    def start_long_run(self, topology_id: str = "TEST_TOPO-1") -> str:
        """Create a topology firing every 5 s with a 1-h task; its first run's id, once RUNNING."""
        self.create(cron_topology(topology_id, env=scripted(duration="1h")))
        run = self.fire_id(5)
        self.advance_to(5, self.task_in_state(topology_id, run, "RUNNING"))
        return run

    # --- schedule time ------------------------------------------------------------------------

    def at(self, seconds: float) -> int:
        """The instant ``seconds`` after the harness clock's start."""
        return self.start + round(seconds * SECOND)

    def fire_id(self, seconds: float) -> str:
        """The id of the scheduled run firing ``seconds`` after the start (UTC)."""
        return run_id("ESR", self.at(seconds))

    def step(self) -> None:
        step(self.engine)

    def settle(self, done: Callable[[], bool] | None = None) -> None:
        settle(self.engine, done, SETTLE_TIMEOUT_S)

    def advance_to(self, seconds: float, done: Callable[[], bool] | None = None) -> None:
        self.clock.set(self.at(seconds))
        self.settle(done)

    def run_in_state(self, topology_id: str, run: str, *states: str) -> Callable[[], bool]:
        """A ``settle`` condition: the run exists and is in one of ``states``."""

        def reached() -> bool:
            response = self.call("GET", f"/apis/v1/topologies/{topology_id}/runs/{run}").json()
            return response.get("data", {}).get("state") in states

        return reached

    def task_in_state(
        self, topology_id: str, run: str, state: str, task_name: str = "test-task-1"
    ) -> Callable[[], bool]:
        def reached() -> bool:
            response = self.call("GET", f"/apis/v1/topologies/{topology_id}/runs/{run}").json()
            tasks = response.get("data", {}).get("tasks", {})
            return tasks.get(task_name, {}).get("state") == state

        return reached

    # --- Drove --------------------------------------------------------------------------------

    def creates(self) -> list[dict[str, Any]]:
        """CREATE operations the simulator received, oldest first."""
        operations = self.simulator.requests("POST", "/apis/v1/tasks/operations")
        return [r for r in operations if (r["body"] or {}).get("type") == "CREATE"]

    def sim_task(self, task: str) -> SimTask:
        found = self.simulator.store.task(APP, task)
        assert found is not None, f"the simulator has no task {task}"
        return found

    def finish_on_drove(self, task: str, status: str = "SUCCESSFUL", exit_code: int = 0) -> None:
        """End a running simulated task now, as its container exiting would."""
        result = task_result(status, exit_code)
        self.simulator.store.force(self.sim_task(task), "RUN_COMPLETED", result=result)

    def fault(self, **fields: Any) -> None:
        self.simulator.add_fault(Fault(**fields))

    # --- mail ---------------------------------------------------------------------------------

    def flush_mail(self) -> list[EmailMessage]:
        """Every mail of the events so far, once all are sent; the notifier stops here."""
        self.engine.bus.drain()
        self.notifier.close()
        return list(self.inbox.messages)


def _notify_config(options: Options, smtp_port: int) -> NotifyConfig:
    return NotifyConfig(
        type="MAIL",
        smtp_server="127.0.0.1",
        port=smtp_port,
        from_name=FROM_NAME,
        from_address=FROM_ADDRESS,
        default_emails=options.default_emails,
        disable_for_successful_runs=options.disable_for_successful_runs,
    )


def _configure(settings: Any, options: Options, drove_url: str, smtp_port: int) -> None:
    """This node's configuration: the harness defaults, auth off, Drove at the simulator."""
    username, password = options.drove_credentials or (None, None)
    drove = drove_config(
        [drove_url],
        app_name=APP,
        rpc_retry_count=3,
        rpc_retry_interval=Duration(10, "milliseconds"),
        username=username,
        password=password,
    )
    config = settings.EPOCH
    settings.EPOCH = replace(
        config,
        drove=drove,
        auth=AuthConfig(enabled=False),
        notify=_notify_config(options, smtp_port),
        options=replace(config.options, num_runs_per_job=5, time_zone=options.time_zone),
    )


def _simulator(options: Options) -> DroveSimulator:
    sim_settings = fast_settings()
    if options.drove_credentials:
        sim_settings.add_users(SimUser(*options.drove_credentials))
    return DroveSimulator(sim_settings)


def _engine(settings: Any, gateway: DroveGateway, clock: ManualClock, bus: EventBus) -> Engine:
    # Every step refreshes and polls. Retention (its own scenarios, 80 and 93) stays out of the
    # way of the runs these tests count.
    options = replace(
        engine_options(settings.EPOCH),
        poll_interval_ms=0,
        refresh_interval_ms=0,
        cleanup_interval_ms=24 * HOUR,
        workers=4,
    )
    return Engine(SqlStore(), gateway, clock, bus, options)


class _Tap:
    """Records every event on its way to the mail notifier."""

    def __init__(self, notifier: MailNotifier) -> None:
        self.notifier = notifier
        self.events: list[EpochEvent] = []

    def __call__(self, event: EpochEvent) -> None:
        self.events.append(event)
        self.notifier(event)


def _mail(stack: ExitStack, config: NotifyConfig) -> tuple[EventBus, MailNotifier, _Tap]:
    """The scheduler's event bus with the mail notifier (behind a recording tap) subscribed."""
    bus = EventBus()
    stack.callback(bus.close)
    store = SqlStore()
    notifier = MailNotifier(config, store.get_run, store.get_topology)
    stack.callback(notifier.close)
    tap = _Tap(notifier)
    bus.subscribe(tap)
    return bus, notifier, tap


def _start(stack: ExitStack, settings: Any, monkeypatch: Any, url: str, options: Options) -> Epoch:
    simulator = stack.enter_context(_simulator(options))
    inbox, smtp_port = stack.enter_context(smtp_server())
    _configure(settings, options, simulator.url, smtp_port)
    client = stack.enter_context(DroveClient(settings.EPOCH.drove))
    gateway = DroveGateway(client)
    monkeypatch.setattr(drove_gateway, "_gateway", gateway)  # the API's kills and log links
    bus, notifier, tap = _mail(stack, settings.EPOCH.notify)
    clock = ManualClock(next_minute_ms())
    engine = _engine(settings, gateway, clock, bus)
    stack.callback(bus.drain)
    stack.callback(engine.close)
    node = Epoch(url, clock, engine, simulator, inbox, notifier, tap.events)
    # Take leadership over the empty store now: topologies created later are new to the leader,
    # not fires missed while there was none (whose catch-up would follow their real-time stamps).
    node.step()
    return node


@pytest.fixture
def start_epoch(
    transactional_db: None, live_server: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Epoch]]:
    """Starts a node with changed ``Options``; everything stops at the end of the test."""
    with ExitStack() as stack:

        def start(**changes: Any) -> Epoch:
            return _start(stack, settings, monkeypatch, live_server.url, Options(**changes))

        yield start


@pytest.fixture
def epoch(start_epoch: Callable[..., Epoch]) -> Epoch:
    """A node with the harness defaults."""
    return start_epoch()
