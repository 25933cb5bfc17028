"""The original's ZooKeeper layout (epoch-model.md §16.1) below the namespace root."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Paths:
    namespace: str = "epoch"

    @property
    def root(self) -> str:
        return f"/{self.namespace}"

    @property
    def topologies(self) -> str:
        return f"{self.root}/topologies"

    @property
    def runs(self) -> str:
        return f"{self.root}/runs"

    @property
    def leader_selection(self) -> str:
        return f"{self.root}/leader-selection"

    def topology(self, topology_id: str) -> str:
        return f"{self.topologies}/{topology_id}"

    def runs_of(self, topology_id: str) -> str:
        return f"{self.runs}/{topology_id}"

    def run(self, topology_id: str, run_id: str) -> str:
        return f"{self.runs_of(topology_id)}/{run_id}"
