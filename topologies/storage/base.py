"""The storage interface every part of Epoch uses, whatever holds the data.

Invariants every backend keeps:
* a topology id is created once (``create_topology`` raises ``AlreadyExists``);
* a run id is written once (``create_run`` returns False if it exists), so one fire can never be
  recorded twice;
* updates are compare-and-set: ``change`` sees the current value and returns the new one (or None
  for "no change"); a concurrent writer makes the store re-read and re-apply, never overwrite;
* a failed write leaves nothing half-written and raises ``StoreError``.
Reads of lists come from the local SQL mirror (``topologies.storage.queries``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence

from topologies.domain import RunInfo, TopologyDetails

TopologyChange = Callable[[TopologyDetails], TopologyDetails | None]
RunChange = Callable[[RunInfo], RunInfo | None]

MAX_ATTEMPTS = 4  # one write and three re-applications after version conflicts


class StoreError(Exception):
    """A write that could not complete; nothing was changed."""


class AlreadyExists(StoreError):
    """The id is taken: a topology is created once."""


class NotFound(StoreError):
    """No such topology or run (or a stored DELETED topology, for changes)."""


class NotLeader(StoreError):
    """This node no longer holds leadership; its leader-only writes are refused."""


class Store(ABC):
    @abstractmethod
    def create_topology(self, details: TopologyDetails) -> TopologyDetails: ...

    @abstractmethod
    def get_topology(self, topology_id: str) -> TopologyDetails | None: ...

    @abstractmethod
    def list_topologies(self) -> list[TopologyDetails]: ...

    @abstractmethod
    def update_topology(self, topology_id: str, change: TopologyChange) -> TopologyDetails:
        """Apply ``change`` with compare-and-set; raises ``NotFound`` for an unknown id."""

    @abstractmethod
    def delete_topology(self, topology_id: str) -> bool:
        """Remove the topology and all its runs at once; False if there was nothing to delete."""

    @abstractmethod
    def create_run(self, run: RunInfo) -> bool:
        """Write a new run; False if that run id exists. ``NotFound`` if the topology is gone."""

    def create_runs(self, runs: Sequence[RunInfo]) -> list[bool]:
        """``create_run`` for many runs at once (backends may pipeline); same answers, in order."""
        return [self.create_run(run) for run in runs]

    @abstractmethod
    def get_run(self, topology_id: str, run_id: str) -> RunInfo | None: ...

    @abstractmethod
    def list_runs(self, topology_id: str) -> list[RunInfo]:
        """The topology's runs, newest ``updated`` first."""

    @abstractmethod
    def update_run(self, topology_id: str, run_id: str, change: RunChange) -> RunInfo:
        """Apply ``change`` with compare-and-set; raises ``NotFound`` for an unknown run."""

    @abstractmethod
    def delete_runs(self, topology_id: str, run_ids: Iterable[str]) -> int:
        """Delete these runs (absent ones are ignored); returns how many were deleted."""
