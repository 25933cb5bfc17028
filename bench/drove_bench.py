"""What Epoch's Drove client costs Drove, against baselines measured in the same run.

Run from the repository root (prints figures; never a CI gate)::

    .venv/bin/python -m bench.drove_bench [--runs 200] [--calls 2000] [--json]

It starts the Drove simulator as a child process (``python -m drove_client.simulator``, so the
simulator and the measured client do not share a GIL) on a free loopback port and measures:

1. **Drove calls per run life cycle.** N single-task runs are followed the way a scheduler should
   follow them: one CREATE per run, then per poll tick ONE ``active_tasks()`` call shared by all
   runs, and one ``task_status()`` per task only when it left the active list (its final read).
   Calls are counted by the simulator (its request log), so every request that reached Drove is
   seen. The headline ``drove_calls_per_run`` counts the per-run calls (CREATE + final read +
   any extra reads); the shared active-list calls are shown apart, in total and amortised per
   run. For comparison, ``naive_calls_per_run`` is what one ``task_status()`` per run per tick
   would have cost over the same ticks.
2. **Throughput against bare requests.** ``client.task_status()`` of an existing task, and a bare
   ``requests.Session().get(url).json()`` loop on the same URL, in alternating rounds (same
   simulator, same moment, same connection reuse). Headline: client calls/s over requests
   calls/s. The bare loop is also shown with ``trust_env = False`` (what the client sets), to
   separate that setting's saving from the client's own overhead.

Absolute times depend on the machine and are informative; compare the ratios and counts.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from drove_client.client import DroveClient
from drove_client.states import TaskState
from epoch_site.config import DroveConfig
from epoch_site.durations import Duration

ROOT = Path(__file__).resolve().parent.parent
APP = "epoch-bench"
FOLLOW_LIMIT_S = 90.0
UNLISTED_GRACE_TICKS = 3


def main() -> int:
    options = _arguments()
    with _simulator(options) as base:
        config = _config(base)
        with DroveClient(config) as client:
            life = follow_runs(client, base, options.runs, options.tick_s)
            throughput = measure_throughput(client, base, options.calls, options.rounds)
    report = {**life.figures(options.runs), **throughput}
    _print_report(report, options)
    if options.json:
        print(json.dumps(report, sort_keys=True))
    return 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="runs followed at once")
    parser.add_argument("--tick-s", type=float, default=0.1, help="poll interval of the follower")
    parser.add_argument("--run-duration", default="500ms", help="simulated run time of each task")
    parser.add_argument("--calls", type=int, default=2000, help="calls per side for throughput")
    parser.add_argument("--rounds", type=int, default=5, help="alternating throughput rounds")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of figures")
    return parser.parse_args()


def _config(base: str) -> DroveConfig:
    return DroveConfig(
        endpoints=(base,),
        app_name=APP,
        connection_timeout=Duration(2, "seconds"),
        operation_timeout=Duration(5, "seconds"),
        rpc_retry_interval=Duration(50, "milliseconds"),
    )


# --- 1. calls per run life cycle ---------------------------------------------------------------


@dataclass
class LifeCycle:
    calls: Counter[str] = field(default_factory=Counter)  # by kind, as the simulator saw them
    ticks: int = 0
    naive_reads: int = 0  # task_status calls a per-run poller would have made over the same ticks
    outcomes: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def figures(self, runs: int) -> dict[str, Any]:
        per_run = self.calls["create"] + self.calls["read"]
        return {
            "runs": runs,
            "drove_calls_per_run": round(per_run / runs, 3),
            "creates_per_run": round(self.calls["create"] / runs, 3),
            "final_reads_per_run": round(self.calls["read"] / runs, 3),
            "shared_active_calls": self.calls["active"],
            "shared_active_calls_per_run": round(self.calls["active"] / runs, 3),
            "pings": self.calls["ping"],
            "ticks": self.ticks,
            "naive_calls_per_run": round((self.calls["create"] + self.naive_reads) / runs, 3),
            "runs_completed": self.outcomes[TaskState.COMPLETED.value],
            "lifecycle_seconds": round(self.seconds, 2),
        }


@dataclass
class Watch:
    """What the follower remembers about one task between ticks."""

    listed: bool = False  # seen in the active list at least once
    absent_ticks: int = 0  # ticks without being listed, before it ever was


def follow_runs(client: DroveClient, base: str, runs: int, tick_s: float) -> LifeCycle:
    """Start ``runs`` tasks and follow them to their end with batched polling."""
    _control(base, "DELETE", "requests")
    life = LifeCycle()
    started = time.monotonic()
    following: dict[str, Watch] = {}
    for index in range(runs):
        task_id = f"bench-EIR-2024-10-18-10-15-30-{index:03d}-docker-task"
        outcome = client.start_task(task_id, _task())
        if outcome.state.is_terminal:
            life.outcomes[outcome.state.value] += 1
        else:
            following[task_id] = Watch()
    while following:
        if time.monotonic() - started > FOLLOW_LIMIT_S:
            raise RuntimeError(f"{len(following)} runs did not end within {FOLLOW_LIMIT_S}s")
        time.sleep(tick_s)
        life.ticks += 1
        life.naive_reads += len(following)
        _tick(client, following, life)
    life.seconds = time.monotonic() - started
    life.calls = _calls_seen(base)
    return life


def _tick(client: DroveClient, following: dict[str, Watch], life: LifeCycle) -> None:
    active = client.active_tasks()
    for task_id, watch in list(following.items()):
        if task_id in active:
            watch.listed = True
            continue
        if not watch.listed:
            # Not reported yet, or already over before any tick saw it: read only after a grace
            # of ticks, so a freshly created task does not cost a wasted read every tick.
            watch.absent_ticks += 1
            if watch.absent_ticks < UNLISTED_GRACE_TICKS:
                continue
            watch.absent_ticks = 0
        status = client.task_status(task_id)
        if status.state.is_terminal:
            life.outcomes[status.state.value] += 1
            del following[task_id]


def _task() -> dict[str, Any]:
    return {
        "type": "CONTAINER_EXECUTION",
        "taskName": "docker-task",
        "executable": {"url": "ghcr.io/acme/report-job:1.4.2", "dockerPullTimeout": "120 seconds"},
        "resources": [{"type": "CPU", "count": 1}, {"type": "MEMORY", "sizeInMB": 128}],
    }


def _calls_seen(base: str) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for request in _control(base, "GET", "requests")["requests"]:
        kinds[_kind(request["method"], request["path"])] += 1
    return kinds


def _kind(method: str, path: str) -> str:
    if path == "/apis/v1/ping":
        return "ping"
    if path == "/apis/v1/tasks":
        return "active"
    if path == "/apis/v1/tasks/operations":
        return "create"
    return "read" if method == "GET" else method.lower()


# --- 2. throughput ------------------------------------------------------------------------------


def measure_throughput(client: DroveClient, base: str, calls: int, rounds: int) -> dict[str, Any]:
    task_id = "bench-throughput"
    client.start_task(task_id, _task())
    _wait_recorded(client, task_id)
    url = f"{base}{client.task_path(task_id)}"
    bare, bare_no_env = requests.Session(), requests.Session()
    bare_no_env.trust_env = False
    timings: dict[str, float] = {"client": 0.0, "requests": 0.0, "requests_no_env": 0.0}
    per_round = max(1, calls // rounds)
    for _ in range(rounds):
        timings["client"] += _timed(per_round, lambda: _client_read(client, task_id))
        timings["requests"] += _timed(per_round, lambda: _bare_read(bare, url))
        timings["requests_no_env"] += _timed(per_round, lambda: _bare_read(bare_no_env, url))
    total = per_round * rounds
    rates = {name: total / seconds for name, seconds in timings.items()}
    return {
        "client_calls_per_s": round(rates["client"]),
        "requests_calls_per_s": round(rates["requests"]),
        "requests_no_env_calls_per_s": round(rates["requests_no_env"]),
        "throughput_ratio_vs_requests": round(rates["client"] / rates["requests"], 3),
        "throughput_ratio_vs_requests_no_env": round(rates["client"] / rates["requests_no_env"], 3),
        "throughput_calls_per_side": total,
    }


def _client_read(client: DroveClient, task_id: str) -> None:
    if not client.task_status(task_id).answered:
        raise RuntimeError("the simulator stopped answering")


def _bare_read(session: requests.Session, url: str) -> None:
    response = session.get(url, timeout=5)
    if response.json()["status"] != "SUCCESS":
        raise RuntimeError("the simulator stopped answering")


def _timed(count: int, call: Callable[[], None]) -> float:
    started = time.perf_counter()
    for _ in range(count):
        call()
    return time.perf_counter() - started


def _wait_recorded(client: DroveClient, task_id: str) -> None:
    deadline = time.monotonic() + 10
    while not client.task_status(task_id).answered:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{task_id} never appeared on the simulator")
        time.sleep(0.01)


# --- the simulator child process ----------------------------------------------------------------


@contextmanager
def _simulator(options: argparse.Namespace) -> Iterator[str]:
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "drove_client.simulator",
        "--port",
        str(port),
        "--step",
        "20ms",
        "--run-duration",
        options.run_duration,
        "--cpus",
        str(max(12, options.runs + 1)),
        "--memory-mb",
        str(max(65536, 128 * (options.runs + 1))),
    ]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_listening(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_listening(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            requests.get(f"{base}/apis/v1/ping", timeout=1)
            return
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Drove simulator did not start") from None
            time.sleep(0.05)


def _control(base: str, method: str, path: str) -> Any:
    response = requests.request(method, f"{base}/_sim/{path}", timeout=10)
    response.raise_for_status()
    return response.json()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _print_report(report: dict[str, Any], options: argparse.Namespace) -> None:
    print(f"Drove calls per run life cycle ({report['runs']} runs, tick {options.tick_s}s)")
    print(
        f"  per-run calls            {report['drove_calls_per_run']:>8}  (target 2: CREATE + final read)"
    )
    print(f"    CREATE                 {report['creates_per_run']:>8}")
    print(f"    final read             {report['final_reads_per_run']:>8}")
    print(
        f"  shared active-list calls {report['shared_active_calls']:>8}  over {report['ticks']} ticks"
    )
    print(f"    amortised per run      {report['shared_active_calls_per_run']:>8}")
    print(f"  pings                    {report['pings']:>8}  (single endpoint: never pinged)")
    print(f"  naive per-run polling    {report['naive_calls_per_run']:>8}  calls per run")
    print(
        f"  runs completed           {report['runs_completed']:>8}  in {report['lifecycle_seconds']}s"
    )
    print(
        f"Throughput, task_status vs bare requests ({report['throughput_calls_per_side']} calls each)"
    )
    print(f"  client                   {report['client_calls_per_s']:>8}  calls/s")
    print(f"  bare requests            {report['requests_calls_per_s']:>8}  calls/s")
    print(f"  bare, trust_env=False    {report['requests_no_env_calls_per_s']:>8}  calls/s")
    print(f"  ratio vs requests        {report['throughput_ratio_vs_requests']:>8}")
    print(f"  ratio vs no-env requests {report['throughput_ratio_vs_requests_no_env']:>8}")


if __name__ == "__main__":
    sys.exit(main())
