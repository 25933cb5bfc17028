"""One scheduler node firing N every-minute topologies against a real ZooKeeper and Drove.

Run from the repository root (prints figures; never a CI gate)::

    .venv/bin/python -m bench.scheduler_bench [--topologies 1000] [--minutes 3] [--json]

Set-up: a ZooKeeper 3.8 (``bench.store_bench.BenchZooKeeper``, ``-Xmx1g``) and a fresh SQLite
database in a temporary directory; the Drove simulator in a subprocess of its own (this module
with ``--serve-simulator``: a large cluster, 1 s tasks, an unbounded request log), so that this
process holds only the scheduler and its CPU can be measured apart. N topologies with the cron
``0 * * ? * *`` (all fire at second 0: the hard case) are created through ``ZkStore``. Then one
node is wired as ``run_scheduler`` wires it: ``MirrorProcess``, a real ``LeaderElection`` fencing a
``ZkStore``, ``EventBus`` + ``MailNotifier``, the ``DroveGateway``, ``SystemClock`` and the
command's ``engine_options``, looped over like ``Command._loop``.

The window is M whole minutes starting at the first minute boundary at least ``--warm-up``
seconds after the engine took over (catch-up fires of the set-up are outside it), and ends
``--settle`` seconds after the last fire. Over it:

* **fire lag**: simulator time of each Drove CREATE minus the fire time encoded in its task id
  (``<topology>-ESR-yyyy-MM-dd-HH-mm-ss-SSS-<task>``, UTC): p50, p99, max;
* **missed fires**: N*M minus the run records (any state) of the window's fires in the mirror;
* **runs completed per second**: window runs that reached SUCCESSFUL / the window's fire span;
* **ZooKeeper writes per run**: create/set/delete/multi requests the scheduler's kazoo client
  queued (the election shares it; the mirror, a child process as in production, has a session
  of its own and is not counted) / runs; the server zxid delta alongside;
* **Drove calls per run**: logged simulator requests other than the shared ``GET
  /apis/v1/tasks`` (reported apart) / runs;
* **CPU**: psutil CPU time of this process (the scheduler) over wall time, in percent of one
  core; the simulator and ZooKeeper processes are shown separately (all share the machine);
* **resident memory**: psutil RSS of this process, the largest seen in the window (the mirror
  process's alongside).

``--profile`` adds a sampling profiler over every thread of this process (on-CPU frames only)
and prints the hottest Epoch functions; it costs CPU of its own, so figures are then rougher.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import psutil
import requests

from bench.common import in_scratch_dir, run_args, wait_for
from bench.store_bench import (
    BenchZooKeeper,
    RequestCounter,
    close_client,
    new_client,
    rss_mb,
    server_zxid,
    setup_django,
)
from epoch_site.config import ZooKeeperConfig
from tests.support.zookeeper import free_port

if TYPE_CHECKING:
    from kazoo.client import KazooClient

    from scheduler.election import LeaderElection
    from scheduler.engine import Engine
    from scheduler.events import EventBus
    from scheduler.notifications import MailNotifier
    from topologies.storage.mirror_process import MirrorProcess
    from topologies.storage.paths import Paths

CRON = "0 * * ? * *"
TASK_NAME = "bench-task"
ACTIVE_LIST = ("GET", "/apis/v1/tasks")
RUN_ID = re.compile(r"ESR-(\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-\d{3})")
MINUTE_MS = 60_000
POLL_S = 0.05


# --- the Drove simulator, in a subprocess ---------------------------------------------------------


def serve_simulator(port: int, cpus: int) -> int:
    """The ``--serve-simulator`` mode: ``cpus`` cores, 1 s tasks, every request logged.

    The simulator's capacity check walks every core on each CREATE, so the cluster is sized to
    the load (one core per topology and some) rather than made huge.
    """
    from drove_client.simulator import DroveSimulator, SimSettings
    from drove_client.simulator.cli import run_until_signal

    settings = SimSettings(
        run_s=1.0, cpus=cpus, memory_mb=cpus * 1024, max_logged_requests=5_000_000
    )
    simulator = DroveSimulator(settings, ports=[port])
    return run_until_signal(simulator, lambda line: print(line, flush=True))


@dataclass
class SimulatorProcess:
    process: subprocess.Popen[bytes]
    url: str

    @classmethod
    def start(cls, workdir: Path, cpus: int) -> SimulatorProcess:
        port = free_port()
        log = (workdir / "simulator.log").open("ab")
        command = [sys.executable, "-m", "bench.scheduler_bench", "--serve-simulator", str(port)]
        command += ["--sim-cpus", str(cpus)]
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        simulator = cls(process, f"http://127.0.0.1:{port}")
        simulator.wait_until_serving()
        return simulator

    def wait_until_serving(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.url}/_sim/state", timeout=1).raise_for_status()
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("the Drove simulator did not start")

    def logged_requests(self) -> list[dict[str, Any]]:
        answer = requests.get(f"{self.url}/_sim/requests", timeout=300)
        answer.raise_for_status()
        return list(answer.json()["requests"])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


# --- topologies -----------------------------------------------------------------------------------


def topology_id(index: int) -> str:
    return f"BENCH-{index:05d}"


def create_topologies(client: KazooClient, paths: Paths, count: int, spread: bool) -> float:
    """N ACTIVE every-minute topologies with 1 s tasks, one ``create_topology`` each; seconds."""
    from tests.topologies.api.conftest import topology_body
    from topologies.codec import topology_from_json
    from topologies.domain import TopologyDetails, TopologyState
    from topologies.storage.zk import ZkStore

    store = ZkStore(client, paths)
    start = time.monotonic()
    for index in range(count):
        cron = f"{index % 60} * * ? * *" if spread else CRON  # spread: the fires fill each minute
        body = topology_body(topology_id(index), trigger={"type": "CRON", "timeSpec": cron})
        body["task"].update(taskName=TASK_NAME, env={"DROVE_SIM_DURATION": "1s"})
        now = int(time.time() * 1000)
        details = TopologyDetails(
            topology_id(index), topology_from_json(body), TopologyState.ACTIVE, now, now
        )
        store.create_topology(details)
    return time.monotonic() - start


# --- the scheduler node, wired as run_scheduler wires it ------------------------------------------


@dataclass
class Node:
    client: KazooClient
    mirror: MirrorProcess
    election: LeaderElection
    engine: Engine
    bus: EventBus
    notifier: MailNotifier
    stopping: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def loop(self) -> None:
        """``run_scheduler``'s ``_loop``: step while there is work, sleep only when idle."""
        from scheduler.management.commands.run_scheduler import Command

        while not self.stopping.is_set():
            if self.engine.step():
                continue
            self.stopping.wait(Command._idle_wait(self.engine))

    def start(self) -> None:
        self.thread = threading.Thread(target=self.loop, name="bench-scheduler-loop")
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join()
        self.engine.close()
        self.bus.drain()
        self.notifier.close()
        self.bus.close()
        self.election.stop()
        self.mirror.stop()


def drove_gateway(url: str) -> Any:
    from drove_client.client import DroveClient
    from epoch_site.config import DroveConfig
    from epoch_site.durations import Duration
    from scheduler.drove_gateway import DroveGateway

    timeout = Duration(5, "seconds")
    config = DroveConfig(
        endpoints=(url,),
        app_name="epoch-bench",
        connection_timeout=timeout,
        operation_timeout=timeout,
    )
    return DroveGateway(DroveClient(config))


def start_node(client: KazooClient, address: str, paths: Paths, drove_url: str) -> Node:
    from django.conf import settings

    from scheduler.core.clock import SystemClock
    from scheduler.election import LeaderElection
    from scheduler.engine import Engine
    from scheduler.events import EventBus
    from scheduler.management.commands.run_scheduler import engine_options
    from scheduler.notifications import MailNotifier
    from topologies.storage.factory import scheduler_store
    from topologies.storage.mirror_process import MirrorProcess

    mirror = MirrorProcess(ZooKeeperConfig(connection_string=address, namespace=paths.namespace))
    mirror.start()
    wait_for(mirror.in_sync, "the mirror's first resynchronisation", 600, POLL_S)
    election = LeaderElection(client, paths, "http://bench-node:8080")
    election.start()
    wait_for(lambda: election.is_leader, "leadership", 30, POLL_S)
    store = scheduler_store(client, paths, election.fence_path)
    bus = EventBus()
    notifier = MailNotifier(settings.EPOCH.notify, store.get_run, store.get_topology)
    bus.subscribe(notifier)
    options = engine_options(settings.EPOCH)
    gateway = drove_gateway(drove_url)
    leading = lambda: election.is_leader  # noqa: E731
    engine = Engine(store, gateway, SystemClock(), bus, options, leading, mirror.in_sync)
    node = Node(client, mirror, election, engine, bus, notifier)
    node.start()
    return node


# --- measuring ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """Counters at one instant: wall clock, CPU seconds per process, ZooKeeper requests."""

    wall_ms: int
    monotonic: float
    cpu_s: dict[str, float]
    thread_cpu_s: dict[str, float]  # this process's threads, by name with pool numbers dropped
    zk_writes: int
    zk_reads: int
    zxid: int


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def snapshot(processes: dict[str, psutil.Process], counter: RequestCounter, zk: str) -> Snapshot:
    cpu = {name: cpu_seconds(p) for name, p in processes.items()}
    wall_ms, now = int(time.time() * 1000), time.monotonic()
    threads = thread_cpu_seconds()
    return Snapshot(wall_ms, now, cpu, threads, counter.writes(), counter.reads(), server_zxid(zk))


def thread_cpu_seconds() -> dict[str, float]:
    """CPU seconds of this process's threads, summed per kind (``epoch-run_7`` -> ``epoch-run``)."""
    names = {t.native_id: re.sub(r"[_-]\d+$", "", t.name) for t in threading.enumerate()}
    totals: Counter[str] = Counter()
    for thread in psutil.Process().threads():
        totals[names.get(thread.id, "other")] += thread.user_time + thread.system_time
    return dict(totals)


def window_fires(start_ms: int, warm_up_s: float, minutes: int, spread: bool) -> list[int]:
    """Fire instants of ``minutes`` whole minutes starting at least ``warm_up_s`` after ``start_ms``.

    Every topology fires at second 0 of each minute, or (``spread``) at its own second.
    """
    first = -(-(start_ms + int(warm_up_s * 1000)) // MINUTE_MS) * MINUTE_MS
    seconds = range(60) if spread else range(1)
    return [first + k * MINUTE_MS + s * 1000 for k in range(minutes) for s in seconds]


def run_id(fire_ms: int) -> str:
    instant = datetime.fromtimestamp(fire_ms / 1000, UTC)
    return f"ESR-{instant:%Y-%m-%d-%H-%M-%S}-{fire_ms % 1000:03d}"


def fire_ms_of(task_id: str) -> int | None:
    match = RUN_ID.search(task_id)
    if match is None:
        return None
    instant = datetime.strptime(match.group(1), "%Y-%m-%d-%H-%M-%S-%f").replace(tzinfo=UTC)
    return int(instant.timestamp() * 1000)


def sleep_until(wall_ms: int, on_tick: Callable[[], None]) -> None:
    """Sleep until the wall clock reaches ``wall_ms``, calling ``on_tick`` about every second."""
    while (left := wall_ms - time.time() * 1000) > 0:
        time.sleep(min(1.0, left / 1000))
        on_tick()


@dataclass
class Window:
    fires: list[int]
    before: Snapshot
    after: Snapshot
    peak_rss_mb: float
    mirror_peak_rss_mb: float
    states: Counter[str] = field(default_factory=Counter)


def measure(
    counter: RequestCounter, processes: dict[str, psutil.Process], zk: str, args: Any
) -> Window:
    """Sleep through the window, sampling RSS; snapshot counters at both ends."""
    fires = window_fires(int(time.time() * 1000), args.warm_up, args.minutes, args.spread)
    peak = [0.0, 0.0]
    mirror = processes["mirror"]

    def sample() -> None:
        peak[0] = max(peak[0], rss_mb())
        peak[1] = max(peak[1], mirror.memory_info().rss / 2**20)

    print(f"  window: {len(fires)} fire(s) from {run_id(fires[0])}", flush=True)
    sleep_until(fires[0] - 2000, lambda: None)
    before = snapshot(processes, counter, zk)
    sleep_until(fires[-1] + int(args.settle * 1000), sample)
    after = snapshot(processes, counter, zk)
    return Window(fires, before, after, peak[0], peak[1])


# --- the figures ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def lag_figures(creates: list[dict[str, Any]], fires: set[int]) -> dict[str, Any]:
    """Fire lag of the window's CREATEs, first CREATE per task id (duplicates are counted)."""
    first: dict[str, float] = {}
    for entry in creates:
        task_id = str(entry["body"]["spec"]["taskId"])
        fire = fire_ms_of(task_id)
        if fire in fires and task_id not in first:
            first[task_id] = (entry["time"] - fire) / 1000
    lags = list(first.values())
    return {
        "lag_p50_s": round(percentile(lags, 0.50), 3),
        "lag_p99_s": round(percentile(lags, 0.99), 3),
        "lag_max_s": round(max(lags, default=float("nan")), 3),
        "creates": len(lags),
        "duplicate_creates": sum(1 for e in creates if fire_ms_of(_task_id(e)) in fires)
        - len(lags),
    }


def _task_id(entry: dict[str, Any]) -> str:
    return str(entry["body"]["spec"]["taskId"])


def drove_figures(logged: list[dict[str, Any]], window: Window, runs: int) -> dict[str, Any]:
    inside = [e for e in logged if window.before.wall_ms <= e["time"] <= window.after.wall_ms]
    kinds = Counter(f"{e['method']} {_path_kind(e['path'])}" for e in inside)
    active = sum(1 for e in inside if (e["method"], e["path"].rstrip("/")) == ACTIVE_LIST)
    return {
        "drove_calls_per_run": round((len(inside) - active) / runs, 3) if runs else None,
        "drove_active_list_calls": active,
        "drove_requests": dict(kinds.most_common()),
    }


def _path_kind(path: str) -> str:
    return re.sub(r"BENCH-[^/]*", "{task}", path.split("?")[0])


def run_states(fires: list[int]) -> Counter[str]:
    """States of the window's run records in this node's SQL mirror."""
    from topologies import models

    ids = [run_id(fire) for fire in fires]
    rows = models.TopologyRun.objects.filter(run_id__in=ids).values_list("state", flat=True)
    return Counter(str(state) for state in rows)


def settled_run_states(fires: list[int], timeout_s: float = 120.0) -> Counter[str]:
    """``run_states`` once the mirror (another process) stopped changing them."""
    deadline = time.monotonic() + timeout_s
    states = run_states(fires)
    while time.monotonic() < deadline:
        time.sleep(2.0)
        again = run_states(fires)
        if again == states:
            break
        states = again
    return states


def cpu_figures(window: Window) -> dict[str, Any]:
    wall = window.after.monotonic - window.before.monotonic
    before, after = window.before.thread_cpu_s, window.after.thread_cpu_s
    by_thread = {
        name: round(100 * (after[name] - before.get(name, 0.0)) / wall, 1) for name in after
    }
    return {
        **{
            f"{name}_cpu_percent": round(
                100 * (window.after.cpu_s[name] - window.before.cpu_s[name]) / wall, 1
            )
            for name in window.before.cpu_s
        },
        "scheduler_cpu_by_thread": dict(sorted(by_thread.items(), key=lambda i: -i[1])),
    }


def figures(args: Any, window: Window, logged: list[dict[str, Any]]) -> dict[str, Any]:
    states = window.states
    runs = sum(states.values())
    expected = args.topologies * args.minutes
    creates = [e for e in logged if e["method"] == "POST" and e["path"].endswith("/operations")]
    creates = [e for e in creates if isinstance(e["body"], dict) and e["body"]["type"] == "CREATE"]
    zk_writes = window.after.zk_writes - window.before.zk_writes
    cpu = cpu_figures(window)
    # Per-run costs divide by the runs started inside the counting window, which can be more than
    # the window's own fires (spread fires keep coming before and after them).
    started = sum(1 for e in creates if window.before.wall_ms <= e["time"] <= window.after.wall_ms)
    per_run = started or runs
    return {
        "topologies": args.topologies,
        "minutes": args.minutes,
        "spread": args.spread,
        "fires_per_s": round(args.topologies / 60, 1),
        "runs": runs,
        "expected_fires": expected,
        "missed_fires": expected - runs,
        **lag_figures(creates, set(window.fires)),
        "runs_completed_per_s": round(states.get("SUCCESSFUL", 0) / (60 * args.minutes), 2),
        "run_states": dict(states),
        "runs_started_in_window": started,
        "zk_writes_per_run": round(zk_writes / per_run, 3) if per_run else None,
        "zk_reads_per_run": round((window.after.zk_reads - window.before.zk_reads) / per_run, 3)
        if per_run
        else None,
        "zk_zxids_per_run": round((window.after.zxid - window.before.zxid) / per_run, 3)
        if per_run
        else None,
        **drove_figures(logged, window, per_run),
        "cpu_percent": cpu["scheduler_cpu_percent"],
        **cpu,
        "rss_mb": round(window.peak_rss_mb, 1),
        "mirror_rss_mb": round(window.mirror_peak_rss_mb, 1),
        "window_s": round(window.after.monotonic - window.before.monotonic, 1),
    }


# --- an optional sampling profiler ----------------------------------------------------------------

IDLE_LEAVES = frozenset(
    {"wait", "select", "poll", "_recv", "recv", "recv_into", "acquire", "sleep", "get", "_worker"}
)


class Sampler:
    """Samples every thread's stack every ``interval_s``; counts frames of on-CPU stacks."""

    def __init__(self, interval_s: float = 0.005) -> None:
        self.interval_s = interval_s
        self.leaves: Counter[str] = Counter()
        self.inclusive: Counter[str] = Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = threading.get_ident()
        while not self._stop.wait(self.interval_s):
            for ident, frame in sys._current_frames().items():
                if ident != me and frame.f_code.co_name not in IDLE_LEAVES:
                    self._count(frame)

    def _count(self, frame: FrameType) -> None:
        self.samples += 1
        self.leaves[_where(frame)] += 1
        seen = {_where(f) for f in _stack(frame) if "/work/main/" in f.f_code.co_filename}
        self.inclusive.update(seen)

    def report(self, top: int = 25) -> None:
        print(f"\nProfile: {self.samples} on-CPU thread samples")
        print("  Epoch functions, inclusive share:")
        for where, count in self.inclusive.most_common(top):
            print(f"    {100 * count / self.samples:5.1f}%  {where}")
        print("  leaf frames:")
        for where, count in self.leaves.most_common(15):
            print(f"    {100 * count / self.samples:5.1f}%  {where}")


def _stack(frame: FrameType | None) -> Iterator[FrameType]:
    while frame is not None:
        yield frame
        frame = frame.f_back


def _where(frame: FrameType) -> str:
    code = frame.f_code
    path = code.co_filename.replace("/work/main/", "")
    return f"{path}:{code.co_name}"


# --- report ---------------------------------------------------------------------------------------


def print_report(f: dict[str, Any], setup: dict[str, float]) -> None:
    when = "each at its own second (i % 60)" if f["spread"] else "all at second 0"
    print(f"\nScheduler benchmark: {f['topologies']} topologies every minute, {when}")
    print(f"  ({f['fires_per_s']} fires/s on average), {f['minutes']} minute(s), one node")
    print(f"  set-up: topologies created in {setup['create_s']:.1f} s")
    print(
        f"  Fire lag p50 / p99 / max     {f['lag_p50_s']} / {f['lag_p99_s']} / {f['lag_max_s']} s"
    )
    print(f"    CREATEs {f['creates']}, duplicate CREATEs {f['duplicate_creates']}")
    print(f"  Missed fires                 {f['missed_fires']} of {f['expected_fires']}")
    print(f"    run records {f['runs']}: {f['run_states']}")
    print(f"  Runs completed per second    {f['runs_completed_per_s']}")
    print(f"  ZooKeeper writes per run     {f['zk_writes_per_run']}")
    print(f"    reads {f['zk_reads_per_run']}, server zxids {f['zk_zxids_per_run']}")
    print(f"  Drove calls per run          {f['drove_calls_per_run']}")
    print(f"    plus {f['drove_active_list_calls']} shared GET /apis/v1/tasks")
    print(f"    by kind: {f['drove_requests']}")
    print(f"  Scheduler CPU                {f['cpu_percent']} % of one core (2 cores here)")
    print(
        f"    mirror process {f['mirror_cpu_percent']} %, simulator {f['simulator_cpu_percent']} %,"
        f" ZooKeeper {f['zookeeper_cpu_percent']} %"
    )
    print(f"    scheduler threads: {f['scheduler_cpu_by_thread']}")
    print(f"  Scheduler resident memory    {f['rss_mb']} MB (largest in the window)")
    print(f"    mirror process {f['mirror_rss_mb']} MB")
    print(f"  window {f['window_s']} s")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--topologies", type=int, default=1000)
    parser.add_argument("--minutes", type=int, default=3)
    parser.add_argument("--warm-up", type=float, default=15.0, help="seconds before the window")
    parser.add_argument("--settle", type=float, default=20.0, help="seconds after the last fire")
    parser.add_argument("--profile", action="store_true", help="sample stacks in the window")
    parser.add_argument(
        "--spread", action="store_true", help="topology i fires at second i %% 60, not all at 0"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--json", action="store_true", help="end with one line of JSON")
    parser.add_argument("--sim-cpus", type=int, help="simulated cores (default: N + 64)")
    parser.add_argument("--serve-simulator", type=int, metavar="PORT", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def run_bench(args: argparse.Namespace, workdir: Path) -> tuple[dict[str, Any], dict[str, float]]:
    setup_django(workdir)
    from topologies.storage.paths import Paths

    server = BenchZooKeeper(workdir / "zookeeper")
    server.start()
    simulator = SimulatorProcess.start(workdir, args.sim_cpus or args.topologies + 64)
    client = new_client(server.address)
    try:
        paths = Paths("epoch")
        client.ensure_path(paths.root)
        print(f"ZooKeeper on {server.address}, Drove at {simulator.url}", flush=True)
        setup = {"create_s": create_topologies(client, paths, args.topologies, args.spread)}
        print(f"  {args.topologies} topologies in {setup['create_s']:.1f} s", flush=True)
        window, logged = drive(args, server, simulator, client, paths)
    finally:
        close_client(client)
        simulator.stop()
        server.stop()
    return figures(args, window, logged), setup


def drive(
    args: argparse.Namespace,
    server: BenchZooKeeper,
    simulator: SimulatorProcess,
    client: KazooClient,
    paths: Paths,
) -> tuple[Window, list[dict[str, Any]]]:
    """Start the node, measure the window, stop it; the simulator's request log."""
    counter = RequestCounter(client)
    node = start_node(client, server.address, paths, simulator.url)
    processes = {
        "scheduler": psutil.Process(),
        "simulator": psutil.Process(simulator.process.pid),
        "zookeeper": psutil.Process(server.process.pid if server.process else 0),
        "mirror": psutil.Process(node.mirror.pid),
    }
    sampler = Sampler() if args.profile else None
    try:
        if sampler:
            sampler.start()
        window = measure(counter, processes, server.address, args)
        window.states = settled_run_states(window.fires)
    finally:
        if sampler:
            sampler.stop()
        node.stop()
    if sampler:
        sampler.report()
    return window, simulator.logged_requests()


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.serve_simulator is not None:
        sys.exit(serve_simulator(args.serve_simulator, args.sim_cpus or 12))
    result, setup = in_scratch_dir("epoch-scheduler-bench-", args.keep, run_args(run_bench, args))
    print_report(result, setup)
    if args.json:
        print(json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    main()
