"""Latency of Epoch's v1 API on a two-node cluster, and what forwarding to the leader adds.

Run from the repository root (prints figures; never a CI gate)::

    .venv/bin/python -m bench.api_bench [--topologies 10000] [--runs-per-topology 10]
                                        [--requests 300] [--json]

It starts its own ZooKeeper 3.8 and a Drove simulator, loads N topologies and N*M finished runs
straight into ZooKeeper (``ZkStore`` with ``mirror=False``, batched as in ``store_bench``), builds
each node's SQL mirror with ``manage.py sync_store``, then starts TWO Epoch nodes
(``python -m epoch_site.launcher``: gunicorn + scheduler, each with its own data directory) on the
same namespace. Once both mirrors hold everything, the nodes agree on a leader and their processes
are quiet, it measures p50/p99 latency of sequential requests (after a warm-up, keep-alive) for:

* ``list``: ``GET /apis/v1/topologies?page=K&pageSize=50`` (K cycles over every page);
* ``get``: ``GET /apis/v1/topologies/<id>``;
* ``runs``: ``GET /apis/v1/topologies/<id>/runs`` (M runs each);
* ``create``: ``POST /apis/v1/topologies`` with a unique name;

sent to the leader and to the follower (which forwards to the leader), each twice: with HTTP Basic
on every request (a PBKDF2 password check per request) and with a session cookie from ``/login``.
Forwarding overhead is follower p50 minus leader p50, per endpoint; the headline is the worst one.
The loaded topologies are ACTIVE with a daily cron and were updated "now", so the leader has no
missed fires to catch up on; the runs are finished, so it has nothing to follow on Drove.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
import requests

from bench.common import in_scratch_dir, run_args
from bench.store_bench import (
    PATHS,
    BenchZooKeeper,
    close_client,
    new_client,
    run_finished,
    run_id,
    setup_django,
    topology_id,
)
from tests.support.nodes import NodeProcess
from tests.support.zookeeper import free_port
from tests.topologies import examples
from tests.topologies.storage import samples
from topologies.domain import RunInfo

if TYPE_CHECKING:
    from topologies.storage.zk import ZkStore

BASE_DIR = Path(__file__).resolve().parent.parent
API = "/apis/v1/topologies"
LEADER_PATH = "/apis/housekeeping/v1/leader"
PAGE_SIZE = 50
ADMIN = "admin"
START_TIMEOUT_S = 900.0
QUIET_CPU_PERCENT = 15.0  # a node's process tree below this for QUIET_WINDOW_S counts as settled
QUIET_WINDOW_S = 3.0
ENDPOINTS = ("list", "get", "runs", "create")
TARGET_P99_MS = 100.0
TARGET_FORWARD_MS = 20.0


def log(message: str) -> None:
    print(message, flush=True)


# --- loading ZooKeeper ----------------------------------------------------------------------------


def finished_run(index: int, round_: int, now_ms: int, rounds: int) -> RunInfo:
    """Run ``round_`` of topology ``index``: SUCCESSFUL, finished before the topology's update."""
    updated = now_ms - (rounds - round_) * 60_000
    run = samples.run(topology_id(index), run_id(round_), updated=updated)
    return run_finished(updated)(replace(run, created=updated - 1000))


def load_store(address: str, args: argparse.Namespace) -> float:
    """N topologies one by one, then N*M runs in ``--batch`` batches; returns seconds taken."""
    from topologies.storage.zk import ZkStore

    client = new_client(address)
    start = time.monotonic()
    try:
        store = ZkStore(client, PATHS, mirror=False)
        now_ms = int(time.time() * 1000)
        for index in range(args.topologies):
            store.create_topology(samples.topology(topology_id(index), created=now_ms))
        for round_ in range(args.runs_per_topology):
            load_round(store, args, round_, now_ms)
            log(f"  runs round {round_ + 1}/{args.runs_per_topology} loaded")
    finally:
        close_client(client)
    return time.monotonic() - start


def load_round(store: ZkStore, args: argparse.Namespace, round_: int, now_ms: int) -> None:
    for first in range(0, args.topologies, args.batch):
        indices = range(first, min(args.topologies, first + args.batch))
        runs = [finished_run(i, round_, now_ms, args.runs_per_topology) for i in indices]
        if not all(store.create_runs(runs)):
            raise RuntimeError("the store refused some runs")


# --- the nodes ------------------------------------------------------------------------------------


class Node(NodeProcess):
    @property
    def db_path(self) -> Path:
        return self.workdir / "data" / "epoch.sqlite3"

    def manage(self, *command: str) -> subprocess.Popen[bytes]:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with (self.workdir / "manage.log").open("ab") as out:
            return subprocess.Popen(
                [sys.executable, "manage.py", *command],
                cwd=BASE_DIR,
                env=self.environment(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            tail = (self.workdir / "epoch.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.name} exited:\n{tail}")

    def mirrored(self) -> tuple[int, int]:
        """(topologies, runs) in this node's SQL mirror, read straight from its database."""
        if not self.db_path.exists():
            return 0, 0
        with closing(sqlite3.connect(self.db_path, timeout=5)) as db:
            try:
                topologies = db.execute("SELECT COUNT(*) FROM topologies_topology").fetchone()
                runs = db.execute("SELECT COUNT(*) FROM topologies_topologyrun").fetchone()
            except sqlite3.OperationalError:  # not migrated yet, or busy
                return 0, 0
        return int(topologies[0]), int(runs[0])

    def cpu_percent(self, seconds: float) -> float:
        """CPU use of the node's whole process tree over ``seconds`` (100 = one core)."""
        assert self.process is not None
        root = psutil.Process(self.process.pid)
        tree = [root, *root.children(recursive=True)]
        before = sum(_cpu_seconds(p) for p in tree)
        time.sleep(seconds)
        return 100 * (sum(_cpu_seconds(p) for p in tree) - before) / seconds


def _cpu_seconds(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return float(times.user + times.system)


def wait_until(condition: Callable[[], bool], what: str, nodes: Sequence[Node]) -> float:
    """Poll ``condition`` every 0.5 s; returns the seconds it took."""
    start = time.monotonic()
    while not condition():
        for node in nodes:
            node.check_alive()
        if time.monotonic() - start > START_TIMEOUT_S:
            raise RuntimeError(f"{what}: not reached within {START_TIMEOUT_S} s")
        time.sleep(0.5)
    return time.monotonic() - start


def presync(nodes: Sequence[Node]) -> float:
    """``migrate`` then ``sync_store`` for every node, the nodes in parallel; returns seconds."""
    start = time.monotonic()
    for command in (("migrate", "--noinput", "-v", "0"), ("sync_store",)):
        processes = [node.manage(*command) for node in nodes]
        if any(p.wait() != 0 for p in processes):
            raise RuntimeError(f"manage.py {command[0]} failed; see the nodes' manage.log")
    return time.monotonic() - start


def leader_of(nodes: Sequence[Node], auth: tuple[str, str]) -> str | None:
    answers = set()
    for node in nodes:
        try:
            response = requests.get(node.url + LEADER_PATH, auth=auth, timeout=10)
        except requests.RequestException:  # not serving yet
            return None
        answers.add(response.json().get("leader") if response.ok else None)
    return answers.pop() if len(answers) == 1 else None


def settled(nodes: Sequence[Node]) -> bool:
    return all(node.cpu_percent(QUIET_WINDOW_S) < QUIET_CPU_PERCENT for node in nodes)


# --- measuring ------------------------------------------------------------------------------------


@dataclass
class Client:
    """One keep-alive connection to a node, authenticated one way."""

    base: str
    session: requests.Session
    csrf: bool = False  # session auth: unsafe methods need the CSRF token

    def send(self, method: str, path: str, body: Any = None) -> float:
        """Milliseconds until the whole answer is read; a non-2xx answer is an error."""
        headers = {}
        if self.csrf and method != "GET":
            headers["X-CSRFToken"] = self.session.cookies["epoch_csrftoken"]
        start = time.monotonic()
        response = self.session.request(
            method, self.base + path, json=body, headers=headers, timeout=60
        )
        elapsed = (time.monotonic() - start) * 1000
        if not response.ok or response.json().get("status") != "SUCCESS":
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return elapsed


def basic_client(base: str, password: str) -> Client:
    session = requests.Session()
    session.auth = (ADMIN, password)
    return Client(base, session)


def session_client(base: str, password: str) -> Client:
    """Logged in through ``/login`` with the CSRF token, as a browser does."""
    session = requests.Session()
    session.get(f"{base}/login", timeout=10)
    token = session.cookies["epoch_csrftoken"]
    form = {"username": ADMIN, "password": password, "csrfmiddlewaretoken": token}
    response = session.post(
        f"{base}/login", data=form, headers={"Referer": f"{base}/login"}, timeout=10
    )
    if response.status_code != 200 or "epoch_session" not in session.cookies:
        raise RuntimeError(f"log-in on {base} failed: {response.status_code}")
    return Client(base, session, csrf=True)


def requests_for(endpoint: str, args: argparse.Namespace, tag: str) -> Iterator[tuple[str, Any]]:
    """Endless (path, body) pairs for ``endpoint``; created names carry ``tag``."""
    pages = max(1, args.topologies // PAGE_SIZE)
    for i in itertools.count():
        tid = topology_id((i * 7919) % args.topologies)
        if endpoint == "list":
            yield f"{API}?page={i % pages + 1}&pageSize={PAGE_SIZE}", None
        elif endpoint == "get":
            yield f"{API}/{tid}", None
        elif endpoint == "runs":
            yield f"{API}/{tid}/runs", None
        else:
            yield API, topology_body(f"api-bench-{tag}-{i:06d}")


def topology_body(name: str) -> dict[str, Any]:
    body = copy.deepcopy(examples.FULL_CREATE)
    body["name"] = name
    return body


def measure(client: Client, endpoint: str, args: argparse.Namespace, tag: str) -> list[float]:
    method = "GET" if endpoint != "create" else "POST"
    calls = requests_for(endpoint, args, tag)
    for path, body in itertools.islice(calls, args.warmup):
        client.send(method, path, body)
    return [
        client.send(method, path, body) for path, body in itertools.islice(calls, args.requests)
    ]


def quantiles(samples_ms: Sequence[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return {"p50": round(cuts[49], 2), "p99": round(cuts[98], 2)}


Figures = dict[str, dict[str, dict[str, dict[str, float]]]]  # role -> auth -> endpoint -> p


def measure_all(clients: dict[tuple[str, str], Client], args: argparse.Namespace) -> Figures:
    figures: Figures = {}
    for (role, auth), client in clients.items():
        for endpoint in ENDPOINTS:
            times = measure(client, endpoint, args, f"{role}-{auth}")
            figures.setdefault(role, {}).setdefault(auth, {})[endpoint] = quantiles(times)
            log(f"  {role:8} {auth:7} {endpoint:6} {figures[role][auth][endpoint]}")
    return figures


# --- the run --------------------------------------------------------------------------------------


@dataclass
class Cluster:
    nodes: list[Node]
    password: str
    leader: Node | None = None

    @property
    def follower(self) -> Node:
        return next(node for node in self.nodes if node is not self.leader)


def start_simulator(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with (workdir / "simulator.log").open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "drove_client.simulator", "--port", str(port)],
            cwd=BASE_DIR,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return process, f"http://127.0.0.1:{port}"


def new_cluster(workdir: Path, zk_address: str, drove_url: str) -> Cluster:
    password = "bench-" + os.urandom(6).hex()
    common = {
        "ZK_CONNECTION_STRING": zk_address,
        "DROVE_ENDPOINT": drove_url,
        "DROVE_APP_NAME": "epoch-bench",
        "EPOCH_SECRET_KEY": "api-bench-" + os.urandom(24).hex(),  # shared: sessions span nodes
        "EPOCH_BIND_HOST": "127.0.0.1",
        "ADMIN_PASSWORD": password,
    }
    nodes = [Node(f"node{i}", workdir / f"node{i}", common) for i in range(2)]
    return Cluster(nodes, password)


def start_cluster(cluster: Cluster, expected: tuple[int, int], timings: dict[str, float]) -> None:
    nodes = cluster.nodes
    for node in nodes:
        node.start()
    auth = (ADMIN, cluster.password)
    timings["leader_s"] = wait_until(lambda: leader_of(nodes, auth) is not None, "leader", nodes)
    full = lambda: all(node.mirrored() == expected for node in nodes)  # noqa: E731
    timings["mirrors_s"] = wait_until(full, "both mirrors full", nodes)
    timings["settle_s"] = wait_until(lambda: settled(nodes), "nodes quiet", nodes)
    leader_url = leader_of(nodes, auth)
    cluster.leader = next(node for node in nodes if node.url == leader_url)


def clients_for(cluster: Cluster) -> dict[tuple[str, str], Client]:
    assert cluster.leader is not None
    clients = {}
    for role, node in (("leader", cluster.leader), ("follower", cluster.follower)):
        clients[(role, "basic")] = basic_client(node.url, cluster.password)
        clients[(role, "session")] = session_client(node.url, cluster.password)
    return clients


def run_bench(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    setup_django(workdir / "bench")
    server = BenchZooKeeper(workdir / "zookeeper")
    server.start()
    simulator, drove_url = start_simulator(workdir)
    cluster = new_cluster(workdir, server.address, drove_url)
    timings: dict[str, float] = {}
    try:
        log(f"ZooKeeper on {server.address}, Drove simulator on {drove_url}; data in {workdir}")
        timings["load_s"] = load_store(server.address, args)
        timings["presync_s"] = presync(cluster.nodes)
        log(f"  loaded in {timings['load_s']:.1f} s, mirrors built in {timings['presync_s']:.1f} s")
        expected = (args.topologies, args.topologies * args.runs_per_topology)
        start_cluster(cluster, expected, timings)
        log(f"  leader {cluster.leader.url if cluster.leader else '?'}; {timings}")
        figures = measure_all(clients_for(cluster), args)
    finally:
        for node in cluster.nodes:
            node.stop()
        simulator.terminate()
        simulator.wait(timeout=10)
        server.stop()
    return summary(figures, args, timings)


# --- report ---------------------------------------------------------------------------------------


def overheads(figures: Figures, auth: str) -> dict[str, dict[str, float]]:
    """Per endpoint: follower p50 - leader p50 (ms) and follower p50 / leader p50."""
    out = {}
    for endpoint in ENDPOINTS:
        leader, follower = figures["leader"][auth][endpoint], figures["follower"][auth][endpoint]
        out[endpoint] = {
            "ms": round(follower["p50"] - leader["p50"], 2),
            "ratio": round(follower["p50"] / leader["p50"], 3),
        }
    return out


def summary(
    figures: Figures, args: argparse.Namespace, timings: dict[str, float]
) -> dict[str, Any]:
    forward = overheads(figures, "basic")
    worst = max(ENDPOINTS, key=lambda e: forward[e]["ms"])
    leader = figures["leader"]
    flat = {f"{e}_p99_ms": leader["basic"][e]["p99"] for e in ENDPOINTS}
    flat |= {f"{e}_p50_ms": leader["basic"][e]["p50"] for e in ENDPOINTS}
    flat |= {f"session_{e}_p99_ms": leader["session"][e]["p99"] for e in ENDPOINTS}
    flat |= {f"session_{e}_p50_ms": leader["session"][e]["p50"] for e in ENDPOINTS}
    basic_cost = {
        e: round(leader["basic"][e]["p50"] - leader["session"][e]["p50"], 2) for e in ENDPOINTS
    }
    return {
        **flat,
        "forward_overhead_p50_ms": forward[worst]["ms"],
        "forward_overhead_ratio": forward[worst]["ratio"],
        "forward_overhead_worst_endpoint": worst,
        "forward_overhead": forward,
        "forward_overhead_session": overheads(figures, "session"),
        "basic_auth_cost_p50_ms": basic_cost,
        "figures": figures,
        "topologies": args.topologies,
        "runs_per_topology": args.runs_per_topology,
        "runs": args.topologies * args.runs_per_topology,
        "requests": args.requests,
        "warmup": args.warmup,
        "timings_s": {k: round(v, 1) for k, v in timings.items()},
    }


def print_report(f: dict[str, Any]) -> None:
    log(f"\nAPI benchmark: {f['topologies']} topologies, {f['runs']} runs, two nodes")
    log(f"  {f['requests']} sequential requests per figure after {f['warmup']} warm-up; ms")
    log(f"  {'':8} {'auth':7} " + " ".join(f"{e + ' p50/p99':>17}" for e in ENDPOINTS))
    for role, by_auth in f["figures"].items():
        for auth, by_endpoint in by_auth.items():
            cells = [f"{v['p50']:>8.1f}/{v['p99']:<8.1f}" for v in by_endpoint.values()]
            log(f"  {role:8} {auth:7} " + " ".join(cells))
    reads = max(f["list_p99_ms"], f["get_p99_ms"], f["runs_p99_ms"])
    log(f"  Leader paged-read p99 (Basic)        {reads} ms  (target < {TARGET_P99_MS:.0f} ms)")
    log(
        f"  Forwarding overhead at p50 (Basic)   {f['forward_overhead_p50_ms']} ms, "
        f"x{f['forward_overhead_ratio']} ({f['forward_overhead_worst_endpoint']}; "
        f"target < {TARGET_FORWARD_MS:.0f} ms)"
    )
    log(f"    per endpoint, Basic   {f['forward_overhead']}")
    log(f"    per endpoint, session {f['forward_overhead_session']}")
    log(f"  Basic auth cost (leader p50 Basic - session) {f['basic_auth_cost_p50_ms']} ms")
    log(f"  Set-up times {f['timings_s']} s")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--topologies", type=int, default=10_000)
    parser.add_argument("--runs-per-topology", type=int, default=10)
    parser.add_argument("--requests", type=int, default=300, help="timed requests per figure")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests before them")
    parser.add_argument("--batch", type=int, default=1000, help="runs per create_runs call")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--json", action="store_true", help="end with one line of JSON")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    figures = in_scratch_dir("epoch-api-bench-", args.keep, run_args(run_bench, args))
    print_report(figures)
    if args.json:
        print(json.dumps(figures, separators=(",", ":")))


if __name__ == "__main__":
    main()
