"""The store of an embedded single node: SQL is the only store, with the same guarantees.

Compare-and-set uses the row's ``version`` counter; the database serialises writers (SQLite's
IMMEDIATE transactions, row locks elsewhere), so two processes of the node never lose an update.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from topologies import models
from topologies.domain import RunInfo, TopologyDetails
from topologies.storage import sql
from topologies.storage.base import (
    MAX_ATTEMPTS,
    AlreadyExists,
    NotFound,
    RunChange,
    Store,
    StoreError,
    TopologyChange,
)


class SqlStore(Store):
    def create_topology(self, details: TopologyDetails) -> TopologyDetails:
        with transaction.atomic():
            if models.Topology.objects.filter(id=details.id).exists():
                raise AlreadyExists(details.id)
            models.Topology.objects.create(
                id=details.id, version=1, **sql.topology_columns(details)
            )
        return details

    def get_topology(self, topology_id: str) -> TopologyDetails | None:
        row = models.Topology.objects.filter(id=topology_id).first()
        return sql.details_from_row(row) if row else None

    def list_topologies(self) -> list[TopologyDetails]:
        return [sql.details_from_row(row) for row in models.Topology.objects.order_by("id")]

    def update_topology(self, topology_id: str, change: TopologyChange) -> TopologyDetails:
        for _ in range(MAX_ATTEMPTS):
            row = models.Topology.objects.filter(id=topology_id).first()
            if row is None:
                raise NotFound(topology_id)
            current = sql.details_from_row(row)
            new = change(current)
            if new is None:
                return current
            rows = models.Topology.objects.filter(id=topology_id, version=row.version)
            if rows.update(version=row.version + 1, **sql.topology_columns(new)):
                return new
        raise StoreError(f"topology {topology_id} kept changing; update abandoned")

    def delete_topology(self, topology_id: str) -> bool:
        with transaction.atomic():
            runs = sql.unmirror_runs(topology_id)
            return sql.unmirror_topology(topology_id) or runs > 0

    def create_run(self, run: RunInfo) -> bool:
        with transaction.atomic():
            if not models.Topology.objects.filter(id=run.topology_id).exists():
                raise NotFound(run.topology_id)
            if sql.runs_query(run.topology_id).filter(run_id=run.run_id).exists():
                return False
            return sql.mirror_run(run, version=1)

    def get_run(self, topology_id: str, run_id: str) -> RunInfo | None:
        row = sql.runs_query(topology_id).filter(run_id=run_id).first()
        return sql.run_from_row(row) if row else None

    def list_runs(self, topology_id: str) -> list[RunInfo]:
        return [sql.run_from_row(row) for row in sql.runs_query(topology_id).order_by("-updated")]

    def update_run(self, topology_id: str, run_id: str, change: RunChange) -> RunInfo:
        for _ in range(MAX_ATTEMPTS):
            row = sql.runs_query(topology_id).filter(run_id=run_id).first()
            if row is None:
                raise NotFound(f"{topology_id}/{run_id}")
            current = sql.run_from_row(row)
            new = change(current)
            if new is None:
                return current
            if sql.replace_run(new, expected_version=row.version):
                return new
        raise StoreError(f"run {topology_id}/{run_id} kept changing; update abandoned")

    def delete_runs(self, topology_id: str, run_ids: Iterable[str]) -> int:
        with transaction.atomic():
            return sql.unmirror_runs(topology_id, run_ids)
