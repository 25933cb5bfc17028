"""``python manage.py run_scheduler``: this node's scheduler process.

Every node runs it. In cluster mode it keeps the node's SQL mirror in step with ZooKeeper (in a
child process, ``MirrorProcess``, so the mirror and the scheduler each have a core), joins the
leader election once the node's web server answers, and schedules only while it leads. In
embedded mode the node is always the leader. SIGTERM leaves the election at once and exits
without touching running tasks.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from epoch_site.config import EpochConfig
from scheduler.core.clock import SystemClock
from scheduler.core.tasks import Limits
from scheduler.drove_gateway import node_gateway
from scheduler.election import LeaderElection
from scheduler.engine import Engine, EngineOptions
from scheduler.events import EventBus
from scheduler.notifications import MailNotifier
from topologies.storage.base import Store
from topologies.storage.connection import started_client
from topologies.storage.embedded import SqlStore
from topologies.storage.factory import scheduler_store
from topologies.storage.mirror_process import MirrorProcess
from topologies.storage.paths import Paths

log = logging.getLogger(__name__)

IDLE_SLEEP_S = 0.2
WEB_WAIT_S = 60.0


def engine_options(config: EpochConfig) -> EngineOptions:
    options = config.options
    return EngineOptions(
        zone=ZoneInfo(options.time_zone),
        poll_interval_ms=round(options.task_poll_interval.seconds * 1000),
        refresh_interval_ms=500,
        cleanup_interval_ms=round(options.cleanup_job_interval.seconds * 1000),
        runs_per_topology=options.num_runs_per_job,
        misfire_grace_ms=round(options.misfire_grace_period.seconds * 1000),
        limits=Limits(
            retry_count=config.drove.rpc_retry_count,
            missing_task_timeout_ms=round(options.missing_task_timeout.seconds * 1000),
        ),
    )


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False  # not serving yet


class Command(BaseCommand):
    help = "Run this node's scheduler: mirror, leader election and (when leading) scheduling."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--no-wait-for-web", action="store_true", help="join the election at once"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stopping = threading.Event()
        self.mirror_lost = False
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        config = settings.EPOCH
        if config.embedded:
            self._serve(SqlStore(), lambda: True, lambda: True)
            return
        self._serve_cluster(config, wait_for_web=not options["no_wait_for_web"])

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping.set()

    def _serve_cluster(self, config: EpochConfig, wait_for_web: bool) -> None:
        paths = Paths(config.zookeeper.namespace)
        client = started_client(config.zookeeper, timeout_s=30)
        mirror = MirrorProcess(config.zookeeper)
        mirror.start()
        watchdog = threading.Thread(target=self._watch, args=(mirror,), daemon=True)
        watchdog.start()
        if wait_for_web:
            self._wait_for_web(config)
        election = LeaderElection(client, paths, config.advertise_url)
        election.start()
        try:
            store = scheduler_store(client, paths, election.fence_path)
            self._serve(store, lambda: election.is_leader, mirror.in_sync)
        finally:
            election.stop()  # first: another node may lead at once
            mirror.stop()
            client.stop()
            client.close()
        if self.mirror_lost:
            raise CommandError("the mirror process stopped; restart this node")

    def _watch(self, mirror: MirrorProcess) -> None:
        """Stop the node when its mirror process dies: it would lead on stale data."""
        while not self.stopping.wait(1.0):
            if not mirror.alive():
                log.error("The mirror process stopped; stopping this node's scheduler")
                self.mirror_lost = True
                self.stopping.set()

    def _wait_for_web(self, config: EpochConfig) -> None:
        """Join the election only once this node can serve the requests forwarded to a leader."""
        url = f"http://127.0.0.1:{config.server.app_port}/ping"
        deadline = time.monotonic() + WEB_WAIT_S
        while time.monotonic() < deadline and not self.stopping.is_set():
            if _answers(url):
                return
            self.stopping.wait(0.5)
        log.warning("Web server at %s did not answer; joining the election anyway", url)

    def _serve(
        self, store: Store, is_leader: Callable[[], bool], ready: Callable[[], bool]
    ) -> None:
        config = settings.EPOCH
        bus = EventBus()
        notifier = MailNotifier(config.notify, store.get_run, store.get_topology)
        bus.subscribe(notifier)
        engine = Engine(
            store, node_gateway(), SystemClock(), bus, engine_options(config), is_leader, ready
        )
        log.info("Scheduler running as %s", config.advertise_url)
        try:
            self._loop(engine)
        finally:
            engine.close()
            bus.drain()
            notifier.close()
            bus.close()
        log.info("Scheduler stopped")

    def _loop(self, engine: Engine) -> None:
        while not self.stopping.is_set():
            if engine.step():
                continue
            self.stopping.wait(self._idle_wait(engine))

    @staticmethod
    def _idle_wait(engine: Engine) -> float:
        wake = engine.next_wake_ms()
        if wake is None:
            return IDLE_SLEEP_S
        return max(0.0, min(IDLE_SLEEP_S, (wake - SystemClock().now_ms()) / 1000))
