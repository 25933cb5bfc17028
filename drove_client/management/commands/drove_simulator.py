"""``manage.py drove_simulator --port 7000``: run the Drove simulator until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand

from drove_client.simulator.cli import add_arguments, run_until_signal, simulator_from_options


class Command(BaseCommand):  # type: ignore[misc]  # Django ships no type information
    help = "Run a simulated Drove cluster (task API plus the /_sim control interface)."
    requires_system_checks: list[str] = []  # needs neither the database nor the other apps

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        run_until_signal(simulator_from_options(options), self.stdout.write)
