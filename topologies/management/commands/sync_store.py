from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from topologies.storage.connection import shared_client
from topologies.storage.mirror import ZkMirror
from topologies.storage.paths import Paths


class Command(BaseCommand):
    help = "Rebuild this node's SQL mirror from ZooKeeper and report what changed."

    def handle(self, *args: Any, **options: Any) -> None:
        config = settings.EPOCH
        if config.embedded:
            raise CommandError("embedded mode has no ZooKeeper: the SQL database is the store")
        mirror = ZkMirror(
            shared_client(config.zookeeper), Paths(config.zookeeper.namespace), watch=False
        )
        report = mirror.resync()
        self.stdout.write(
            f"topologies: {report.topologies_added} added, {report.topologies_updated} updated, "
            f"{report.topologies_removed} removed\n"
            f"runs: {report.runs_added} added, {report.runs_updated} updated, "
            f"{report.runs_removed} removed"
        )
        for path in report.unreadable:
            self.stderr.write(f"unreadable record skipped: {path}")
