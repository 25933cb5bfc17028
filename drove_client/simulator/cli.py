"""Command-line front of the simulator, shared by ``manage.py drove_simulator`` and
``python -m drove_client.simulator``: options, building the simulator, serving until a signal.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

from drove_client.simulator.server import DroveSimulator
from drove_client.simulator.settings import OUTCOMES, SimSettings, SimUser
from epoch_site.durations import Duration


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=7000, help="port of the first controller")
    parser.add_argument(
        "--controllers", type=int, default=1, help="simulated controllers, on consecutive ports"
    )
    parser.add_argument("--ports", help="comma-separated ports, one per controller")
    parser.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="NAME:PASSWORD[:ROLE]",
        help="turn on Basic auth with this user (repeatable); role defaults to EXTERNAL_ROOT",
    )
    parser.add_argument("--cpus", type=int, default=12, help="cluster cores")
    parser.add_argument("--memory-mb", type=int, default=65536, help="cluster memory")
    parser.add_argument("--numa-cores", type=int, help="cores per NUMA node (default: all)")
    parser.add_argument("--step", default="200ms", help="time between state reports")
    parser.add_argument("--run-duration", default="1s", help="default time a task runs")
    parser.add_argument("--outcome", default="success", choices=OUTCOMES, help="default outcome")
    parser.add_argument(
        "--drove-1-30",
        action="store_true",
        help="Drove 1.30 behaviour: no placementPolicy is accepted, start failures end RUN_COMPLETED",
    )
    parser.add_argument("--deployed-apps", help="comma-separated source apps that survive failover")
    parser.add_argument("--retention-age", default="2d", help="age of finished records swept")
    parser.add_argument("--retention-interval", default="1h", help="retention sweep interval")
    parser.add_argument(
        "--max-logged-requests",
        type=int,
        default=SimSettings.max_logged_requests,
        help="requests kept in the /_sim/requests log (oldest dropped first)",
    )


def settings_from_options(options: Mapping[str, Any]) -> SimSettings:
    legacy = bool(options.get("drove_1_30"))
    deployed = options.get("deployed_apps")
    settings = SimSettings(
        step_s=Duration.parse(options["step"]).seconds,
        run_s=Duration.parse(options["run_duration"]).seconds,
        default_outcome=options["outcome"],
        cpus=options["cpus"],
        memory_mb=options["memory_mb"],
        numa_cores=options.get("numa_cores"),
        placement_required=not legacy,
        run_failed_state=not legacy,
        deployed_apps=None if not deployed else frozenset(deployed.split(",")),
        retention_age_s=Duration.parse(options["retention_age"]).seconds,
        retention_interval_s=Duration.parse(options["retention_interval"]).seconds,
        max_logged_requests=options.get("max_logged_requests") or SimSettings.max_logged_requests,
    )
    settings.add_users(*(SimUser.parse(text) for text in options.get("user") or ()))
    return settings


def simulator_from_options(options: Mapping[str, Any]) -> DroveSimulator:
    if options.get("ports"):
        ports = [int(p) for p in str(options["ports"]).split(",") if p.strip()]
    else:
        first, count = options["port"], options["controllers"]
        ports = [first + i if first else 0 for i in range(count)]
    return DroveSimulator(
        settings_from_options(options), controllers=len(ports), host=options["host"], ports=ports
    )


def run_until_signal(simulator: DroveSimulator, write: Callable[[str], object]) -> int:
    """Serve until SIGTERM or SIGINT, then stop cleanly; returns the exit status (0)."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    simulator.start()
    write(f"Drove simulator listening on {', '.join(simulator.urls)} (leader: {simulator.urls[0]})")
    try:
        stop.wait()
    finally:
        simulator.stop()
    write("Drove simulator stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drove_client.simulator", description=__doc__)
    add_arguments(parser)
    options = vars(parser.parse_args(argv))
    return run_until_signal(simulator_from_options(options), _print)


def _print(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
