"""What the ZooKeeper store costs a node, against baselines measured in the same run.

Run from the repository root (prints figures; never a CI gate)::

    .venv/bin/python -m bench.store_bench [--topologies 10000] [--runs-per-topology 10] [--json]

It starts its own ZooKeeper 3.8 (Debian's package, ``java -Xmx1g``, ``mntr`` allowed) on a free
loopback port and a fresh SQLite mirror in a temporary directory, then measures:

1. **Population.** N topologies through ``ZkStore.create_topology`` (one by one), then N*M
   single-task runs through ``ZkStore.create_runs`` in batches; round r creates run r of every
   topology, as a scheduler firing every topology would. The store mirrors all of it into SQL.
2. **ZooKeeper writes per run life cycle** (created -> task RUNNING -> task COMPLETED and run
   SUCCESSFUL) over a sample of runs of existing topologies. Counted at the protocol level: every
   request the store's kazoo client queues is classified; a create, set, delete or multi is one
   write (reads are counted apart). Cross-checked with the server's zxid (``srvr``), which
   advances once per committed transaction, failed multis included.
3. **Throughput against raw kazoo.** Every store batch is followed by the same payload bytes
   written with ``create_async`` under ``/bench-raw``, pipelined the same way (all in flight,
   then all awaited). The raw side gets its payloads pre-encoded and creates a topology's runs
   parent in the first round, as the layout needs. Headline: store rate / raw rate over all
   rounds; the first round (runs parents missing) and the later rounds are also shown.
4. **Mirror lag.** A ``ZkMirror`` on its own client resynchronises everything and sets its
   watches; another client (``mirror=False``, as another node) then makes a burst of updates
   (``update_run`` from a thread pool) and a burst of creates (``create_runs``). Lag is the time
   from the end of each burst until the SQL tables show all of it (polled every 5 ms); the
   headline is the worse of the two.
5. **Resident memory** (psutil RSS of this process) once the mirror holds all N topologies and
   N*M runs with its watches set, after a garbage collection; the peak RSS is shown too.

Absolute times depend on the machine and are informative; compare the ratios and counts.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import secrets
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
from kazoo.client import KazooClient

from bench.common import in_scratch_dir, run_args, wait_for
from epoch_site.config import ZooKeeperConfig
from epoch_site.durations import Duration
from tests.support.zookeeper import LOGGING_JAR, MAIN_CLASS, ZOOKEEPER_JAR, ZooKeeperServer
from tests.topologies.storage import samples
from topologies.codec import run_to_json
from topologies.domain import RunInfo, RunState, TaskState
from topologies.storage import connection
from topologies.storage.paths import Paths

if TYPE_CHECKING:
    from topologies.storage.mirror import ZkMirror
    from topologies.storage.zk import ZkStore

PATHS = Paths("epoch")
RAW_RUNS = "/bench-raw/runs"
WRITE_REQUESTS = frozenset({"Create", "Create2", "Delete", "SetData", "Transaction", "SetACL"})
FIRST_FIRE = datetime(2024, 10, 18, 2, 30, tzinfo=UTC)
POLL_S = 0.005
SETTLE_TIMEOUT_S = 1800.0


# --- set-up ---------------------------------------------------------------------------------------


class BenchZooKeeper(ZooKeeperServer):
    """The test suite's server with a heap for this data volume and ``mntr`` allowed."""

    HEAP = "-Xmx1g"

    def _write_config(self) -> None:
        super()._write_config()
        config = self.workdir / "zoo.cfg"
        config.write_text(config.read_text().replace("ruok,stat,srvr", "ruok,stat,srvr,mntr"))

    def start(self) -> None:
        log = (self.workdir / "server.log").open("ab")
        command = ["java", self.HEAP, "-cp", f"{ZOOKEEPER_JAR}:{LOGGING_JAR}", MAIN_CLASS]
        self.process = subprocess.Popen(
            [*command, str(self.workdir / "zoo.cfg")], stdout=log, stderr=subprocess.STDOUT
        )
        self._wait_until_serving()


def setup_django(workdir: Path) -> None:
    """Point Epoch at a database of its own in ``workdir`` and create its tables."""
    os.environ["EPOCH_DATA_DIR"] = str(workdir)
    os.environ["EPOCH_DB_PATH"] = str(workdir / "epoch.sqlite3")
    os.environ["EPOCH_SECRET_KEY"] = secrets.token_urlsafe(32)
    os.environ["DJANGO_SETTINGS_MODULE"] = "epoch_site.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def new_client(address: str) -> KazooClient:
    """A started client built as Epoch builds its own (handler and retry policy)."""
    config = ZooKeeperConfig(connection_string=address, session_timeout=Duration(30, "seconds"))
    client = connection.new_client(config)
    client.start(timeout=30)
    return client


def close_client(client: KazooClient) -> None:
    client.stop()
    client.close()


def zk_store(client: KazooClient, mirror: bool = True) -> ZkStore:
    from topologies.storage.zk import ZkStore

    return ZkStore(client, PATHS, mirror=mirror)


# --- measuring aids -------------------------------------------------------------------------------


def four_letter_word(address: str, word: str) -> str:
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(word.encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode()


def server_zxid(address: str) -> int:
    """The last committed zxid: it advances once per write transaction the server logs."""
    for line in four_letter_word(address, "srvr").splitlines():
        if line.startswith("Zxid:"):
            return int(line.split(":", 1)[1].strip(), 16)
    raise RuntimeError("srvr gave no Zxid line")


def server_metrics(address: str) -> dict[str, str]:
    lines = four_letter_word(address, "mntr").splitlines()
    return dict(line.split("\t", 1) for line in lines if "\t" in line)


class RequestCounter:
    """Counts the requests a kazoo client queues for the server, by request type."""

    def __init__(self, client: KazooClient) -> None:
        self.counts: Counter[str] = Counter()
        send = client._call

        def counted(request: Any, async_object: Any) -> Any:
            self.counts[type(request).__name__] += 1
            return send(request, async_object)

        client._call = counted

    def writes(self) -> int:
        return sum(n for kind, n in self.counts.items() if kind in WRITE_REQUESTS)

    def reads(self) -> int:
        return sum(n for kind, n in self.counts.items() if kind not in WRITE_REQUESTS)


class SqlTimer:
    """Time spent in ``sql.mirror_new_runs``: the SQL share of ``create_runs``."""

    def __init__(self) -> None:
        self.seconds = 0.0

    @contextmanager
    def installed(self) -> Iterator[None]:
        from topologies.storage import sql

        original = sql.mirror_new_runs

        def timed(runs: list[RunInfo]) -> None:
            start = time.monotonic()
            try:
                original(runs)
            finally:
                self.seconds += time.monotonic() - start

        sql.mirror_new_runs = timed
        try:
            yield
        finally:
            sql.mirror_new_runs = original


def rss_mb() -> float:
    return float(psutil.Process().memory_info().rss) / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


# --- sample data ----------------------------------------------------------------------------------


def topology_id(index: int) -> str:
    return f"bench-{index:06d}"


def run_id(round_: int) -> str:
    return (FIRST_FIRE + timedelta(minutes=round_)).strftime("ESR-%Y-%m-%d-%H-%M-%S-000")


def new_run(index: int, round_: int) -> RunInfo:
    updated = int((FIRST_FIRE + timedelta(minutes=round_)).timestamp() * 1000)
    return samples.run(topology_id(index), run_id(round_), updated=updated)


def spread(count: int, topologies: int, first_round: int, rounds: int) -> list[tuple[int, int]]:
    """``count`` distinct (topology index, round) pairs, one per topology before wrapping."""
    return [(k % topologies, first_round + (k // topologies) % rounds) for k in range(count)]


def task_moved(state: TaskState, now_ms: int) -> Callable[[RunInfo], RunInfo]:
    def change(run: RunInfo) -> RunInfo:
        name, record = next(iter(run.tasks.items()))
        moved = replace(record, state=state, upstream_id=record.task_id, error_message="")
        return run.with_task(name, moved, now_ms)

    return change


def run_finished(now_ms: int) -> Callable[[RunInfo], RunInfo]:
    completed = task_moved(TaskState.COMPLETED, now_ms)
    return lambda run: completed(run).finished(RunState.SUCCESSFUL, "Task successful", now_ms)


# --- 1 and 3: population, store against raw kazoo -------------------------------------------------


@dataclass
class Population:
    topologies: int
    runs_per_topology: int
    batch: int
    topologies_s: float = 0.0
    store_s: list[float] = field(default_factory=list)  # per round
    raw_s: list[float] = field(default_factory=list)
    store_sql_s: float = 0.0

    def rate(self, seconds: Sequence[float]) -> float:
        runs = self.topologies * len(seconds)
        return runs / sum(seconds) if sum(seconds) else 0.0


def create_topologies(store: ZkStore, count: int) -> float:
    start = time.monotonic()
    for index in range(count):
        store.create_topology(samples.topology(topology_id(index)))
    return time.monotonic() - start


def write_raw(client: KazooClient, runs: Sequence[RunInfo], first_round: bool) -> float:
    """Raw ``create_async`` of the store's payload bytes, encoded before the clock starts."""
    from topologies.storage.zk import encode

    parents = [f"{RAW_RUNS}/{run.topology_id}" for run in runs] if first_round else []
    items = [(f"{RAW_RUNS}/{r.topology_id}/{r.run_id}", encode(run_to_json(r))) for r in runs]
    start = time.monotonic()
    pending = [client.create_async(parent, b"") for parent in parents]
    pending += [client.create_async(path, data) for path, data in items]
    for result in pending:
        result.get(timeout=120)
    return time.monotonic() - start


def write_through_store(store: ZkStore, runs: Sequence[RunInfo]) -> float:
    start = time.monotonic()
    answers = store.create_runs(runs)
    seconds = time.monotonic() - start
    if not all(answers):
        raise RuntimeError(f"the store refused {answers.count(False)} of {len(runs)} runs")
    return seconds


def create_round(store: ZkStore, raw: KazooClient, population: Population, round_: int) -> None:
    store_s = raw_s = 0.0
    for start in range(0, population.topologies, population.batch):
        end = min(population.topologies, start + population.batch)
        runs = [new_run(index, round_) for index in range(start, end)]
        store_s += write_through_store(store, runs)
        raw_s += write_raw(raw, runs, first_round=round_ == 0)
    population.store_s.append(store_s)
    population.raw_s.append(raw_s)


def populate(address: str, args: argparse.Namespace) -> Population:
    population = Population(args.topologies, args.runs_per_topology, args.batch)
    writer, raw = new_client(address), new_client(address)
    try:
        store = zk_store(writer)
        population.topologies_s = create_topologies(store, args.topologies)
        raw.ensure_path(RAW_RUNS)
        sql_timer = SqlTimer()
        with sql_timer.installed():
            for round_ in range(args.runs_per_topology):
                create_round(store, raw, population, round_)
                print(f"  round {round_ + 1}/{args.runs_per_topology} created", flush=True)
        population.store_sql_s = sql_timer.seconds
    finally:
        close_client(writer)
        close_client(raw)
    return population


# --- 2: ZooKeeper writes per run life cycle -------------------------------------------------------


@dataclass
class Lifecycle:
    runs: int
    writes: int
    reads: int
    zxids: int
    by_request: dict[str, int]


def live_one_run(store: ZkStore, run: RunInfo, now_ms: int) -> None:
    if not store.create_run(run):
        raise RuntimeError(f"run {run.topology_id}/{run.run_id} already existed")
    store.update_run(run.topology_id, run.run_id, task_moved(TaskState.RUNNING, now_ms))
    store.update_run(run.topology_id, run.run_id, run_finished(now_ms + 1000))


def count_lifecycle_writes(address: str, args: argparse.Namespace) -> Lifecycle:
    """Live ``--lifecycle-sample`` runs through the store; count what reaches ZooKeeper."""
    client = new_client(address)
    try:
        counter, store = RequestCounter(client), zk_store(client)
        round_ = args.runs_per_topology  # a round no topology has run yet
        # One sample run per topology: two in one round would share a fire, hence a run id.
        sample = min(args.lifecycle_sample, args.topologies)
        pairs = spread(sample, args.topologies, round_, 1)
        runs = [new_run(index, fired) for index, fired in pairs]
        zxid_before = server_zxid(address)
        for run in runs:
            live_one_run(store, run, run.updated + 1000)
        zxids = server_zxid(address) - zxid_before
        counts = Lifecycle(
            len(runs), counter.writes(), counter.reads(), zxids, dict(counter.counts)
        )
        for run in runs:  # leave exactly N*M runs for the mirror
            store.delete_runs(run.topology_id, [run.run_id])
    finally:
        close_client(client)
    return counts


# --- 4 and 5: the mirror: resident memory, lag after a burst --------------------------------------


@dataclass
class MirrorFigures:
    burst: int
    resync_s: float
    rss_mb: float
    zk_watches: int
    warm_resync_s: float = 0.0
    update_burst_s: float = 0.0
    update_lag_s: float = 0.0
    create_burst_s: float = 0.0
    create_lag_s: float = 0.0
    rss_after_bursts_mb: float = 0.0


def mirrored_counts() -> tuple[int, int]:
    from topologies import models

    return models.Topology.objects.count(), models.TopologyRun.objects.count()


def start_mirror(mirror: ZkMirror, address: str, args: argparse.Namespace) -> MirrorFigures:
    """Start the mirror (a full resync that sets every watch); RSS once it holds everything."""
    start = time.monotonic()
    mirror.start()
    if not mirror.wait_until_idle(SETTLE_TIMEOUT_S):
        raise RuntimeError("the mirror did not finish its resynchronisation")
    resync_s = time.monotonic() - start
    expected = (args.topologies, args.topologies * args.runs_per_topology)
    if mirrored_counts() != expected:
        raise RuntimeError(f"mirror holds {mirrored_counts()}, expected {expected}")
    gc.collect()
    watches = int(server_metrics(address).get("zk_watch_count", "0"))
    return MirrorFigures(args.burst, resync_s, rss_mb(), watches)


def warm_resync(mirror: ZkMirror) -> float:
    """A second full resync, the SQL mirror already current: what a restarted node pays."""
    start = time.monotonic()
    mirror.request_resync()
    return wait_for(mirror.in_sync, "warm resync", SETTLE_TIMEOUT_S, POLL_S) - start


def burst_of_updates(other: ZkStore, args: argparse.Namespace) -> tuple[float, float]:
    """``--burst`` update_run calls from a thread pool; returns (burst s, lag s)."""
    from topologies import models

    targets = spread(args.burst, args.topologies, 0, args.runs_per_topology)
    finish = run_finished(int(time.time() * 1000))

    def update(target: tuple[int, int]) -> RunInfo:
        return other.update_run(topology_id(target[0]), run_id(target[1]), finish)

    successful = models.TopologyRun.objects.filter(state=RunState.SUCCESSFUL.value)
    start = time.monotonic()
    with ThreadPoolExecutor(args.burst_threads) as pool:
        list(pool.map(update, targets))
    end = time.monotonic()
    seen = wait_for(
        lambda: successful.count() == len(targets), "update burst in SQL", SETTLE_TIMEOUT_S, POLL_S
    )
    return end - start, seen - end


def burst_of_creates(other: ZkStore, args: argparse.Namespace) -> tuple[float, float]:
    """``--burst`` new runs through one ``create_runs`` call; returns (burst s, lag s)."""
    from topologies import models

    pairs = spread(args.burst, args.topologies, args.runs_per_topology, args.runs_per_topology)
    runs = [new_run(index, round_) for index, round_ in pairs]
    expected = models.TopologyRun.objects.count() + len(runs)
    start = time.monotonic()
    if not all(other.create_runs(runs)):
        raise RuntimeError("the create burst was refused")
    end = time.monotonic()
    seen = wait_for(
        lambda: models.TopologyRun.objects.count() == expected,
        "create burst in SQL",
        SETTLE_TIMEOUT_S,
        POLL_S,
    )
    return end - start, seen - end


def measure_mirror(address: str, args: argparse.Namespace) -> MirrorFigures:
    from topologies.storage.mirror import ZkMirror

    node, other = new_client(address), new_client(address)
    mirror = ZkMirror(node, PATHS)
    try:
        figures = start_mirror(mirror, address, args)
        figures.warm_resync_s = warm_resync(mirror)
        other_node = zk_store(other, mirror=False)
        figures.update_burst_s, figures.update_lag_s = burst_of_updates(other_node, args)
        figures.create_burst_s, figures.create_lag_s = burst_of_creates(other_node, args)
        figures.rss_after_bursts_mb = rss_mb()
    finally:
        mirror.stop()
        close_client(node)
        close_client(other)
    return figures


# --- report ---------------------------------------------------------------------------------------


def summary(population: Population, lifecycle: Lifecycle, mirror: MirrorFigures) -> dict[str, Any]:
    store_rate, raw_rate = population.rate(population.store_s), population.rate(population.raw_s)
    later_store, later_raw = population.store_s[1:], population.raw_s[1:]
    return {
        "zk_writes_per_run": round(lifecycle.writes / lifecycle.runs, 3),
        "throughput_ratio_vs_raw": round(store_rate / raw_rate, 3),
        "mirror_lag_s": round(max(mirror.update_lag_s, mirror.create_lag_s), 3),
        "rss_mb": round(mirror.rss_mb, 1),
        "topologies": population.topologies,
        "runs_per_topology": population.runs_per_topology,
        "runs": population.topologies * population.runs_per_topology,
        "batch": min(population.batch, population.topologies),
        "store_runs_per_s": round(store_rate),
        "raw_runs_per_s": round(raw_rate),
        "first_round_ratio": _ratio(population, population.store_s[:1], population.raw_s[:1]),
        "later_rounds_ratio": _ratio(population, later_store, later_raw),
        "store_sql_share": round(population.store_sql_s / sum(population.store_s), 3),
        "topologies_per_s": round(population.topologies / population.topologies_s),
        "lifecycle_sample": lifecycle.runs,
        "zk_reads_per_run": round(lifecycle.reads / lifecycle.runs, 3),
        "zk_zxids_per_run": round(lifecycle.zxids / lifecycle.runs, 3),
        "lifecycle_requests": lifecycle.by_request,
        "mirror_resync_s": round(mirror.resync_s, 2),
        "mirror_warm_resync_s": round(mirror.warm_resync_s, 2),
        "mirror_lag_update_s": round(mirror.update_lag_s, 3),
        "mirror_lag_create_s": round(mirror.create_lag_s, 3),
        "burst": mirror.burst,
        "update_burst_s": round(mirror.update_burst_s, 3),
        "create_burst_s": round(mirror.create_burst_s, 3),
        "zk_watches": mirror.zk_watches,
        "rss_after_bursts_mb": round(mirror.rss_after_bursts_mb, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def _ratio(population: Population, store_s: Sequence[float], raw_s: Sequence[float]) -> float:
    raw = population.rate(raw_s)
    return round(population.rate(store_s) / raw, 3) if raw else 0.0


def print_report(figures: dict[str, Any]) -> None:
    f = figures
    print(f"\nStore benchmark: {f['topologies']} topologies, {f['runs']} runs, batch {f['batch']}")
    print(f"  ZooKeeper writes per run life cycle  {f['zk_writes_per_run']}  (target <= 3)")
    print(f"    reads {f['zk_reads_per_run']}, server zxids {f['zk_zxids_per_run']}")
    print(f"    requests over {f['lifecycle_sample']} runs: {f['lifecycle_requests']}")
    print(f"  Throughput ratio store/raw kazoo     {f['throughput_ratio_vs_raw']}  (target >= 0.5)")
    print(f"    store {f['store_runs_per_s']} runs/s, raw {f['raw_runs_per_s']} runs/s")
    print(f"    first round {f['first_round_ratio']}, later rounds {f['later_rounds_ratio']}")
    print(f"    SQL mirroring share of store time {f['store_sql_share']}")
    print(f"    topologies created {f['topologies_per_s']}/s (one by one)")
    print(f"  Mirror lag after a burst             {f['mirror_lag_s']} s  (target < 1 s)")
    print(
        f"    {f['burst']} updates: burst {f['update_burst_s']} s, lag {f['mirror_lag_update_s']} s"
    )
    print(
        f"    {f['burst']} creates: burst {f['create_burst_s']} s, lag {f['mirror_lag_create_s']} s"
    )
    print(f"    full resync {f['mirror_resync_s']} s, server watches {f['zk_watches']}")
    print(f"    full resync again, mirror current {f['mirror_warm_resync_s']} s")
    print(f"  Resident memory of the node          {f['rss_mb']} MB  (target < 300 MB)")
    print(
        f"    after the bursts {f['rss_after_bursts_mb']} MB, peak (getrusage) {f['peak_rss_mb']} MB"
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--topologies", type=int, default=10_000)
    parser.add_argument("--runs-per-topology", type=int, default=10)
    parser.add_argument("--batch", type=int, default=1000, help="runs per create_runs call")
    parser.add_argument("--lifecycle-sample", type=int, default=200)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--burst-threads", type=int, default=16)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--json", action="store_true", help="end with one line of JSON")
    return parser.parse_args(argv)


def run_bench(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    setup_django(workdir)
    server = BenchZooKeeper(workdir / "zookeeper")
    server.start()
    try:
        print(f"ZooKeeper on {server.address}; data in {workdir}", flush=True)
        population = populate(server.address, args)
        lifecycle = count_lifecycle_writes(server.address, args)
        mirror = measure_mirror(server.address, args)
    finally:
        server.stop()
    return summary(population, lifecycle, mirror)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    figures = in_scratch_dir("epoch-store-bench-", args.keep, run_args(run_bench, args))
    print_report(figures)
    if args.json:
        print(json.dumps(figures, separators=(",", ":")))


if __name__ == "__main__":
    main()
