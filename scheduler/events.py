"""Epoch's in-process events (epoch-model.md §19), delivered in publication order off the caller's path.

Publishing never blocks on a consumer: one dispatcher thread hands each event to every consumer in
turn, and a failing consumer is logged without affecting the others.
"""

from __future__ import annotations

import enum
import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from topologies.domain import RunInfo

log = logging.getLogger("epoch.events")


class EventType(enum.StrEnum):
    TOPOLOGY_STATE_CHANGED = "TOPOLOGY_STATE_CHANGED"
    TOPOLOGY_UPDATED = "TOPOLOGY_UPDATED"
    TOPOLOGY_RUN_STATE_CHANGED = "TOPOLOGY_RUN_STATE_CHANGED"
    TOPOLOGY_RUN_TASK_STATE_CHANGED = "TOPOLOGY_RUN_TASK_STATE_CHANGED"


class Tag(enum.StrEnum):
    TOPOLOGY_ID = "TOPOLOGY_ID"
    TOPOLOGY_RUN_ID = "TOPOLOGY_RUN_ID"
    TOPOLOGY_RUN_TASK_ID = "TOPOLOGY_RUN_TASK_ID"
    TOPOLOGY_RUN_TYPE = "TOPOLOGY_RUN_TYPE"
    NEW_STATE = "NEW_STATE"
    NEW_TRIGGER = "NEW_TRIGGER"
    ERROR_MESSAGE = "ERROR_MESSAGE"


@dataclass(frozen=True)
class EpochEvent:
    type: EventType
    time: int  # epoch ms
    metadata: Mapping[Tag, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    # The run as its publisher holds it, so that consumers in this process need not read it back.
    run: RunInfo | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type.value,
            "id": self.id,
            "time": self.time,
            "metadata": dict(self.metadata),
        }


Consumer = Callable[[EpochEvent], None]
_STOP = object()


class EventBus:
    def __init__(self) -> None:
        self._consumers: list[Consumer] = [log_event]
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread = threading.Thread(target=self._dispatch, name="epoch-events", daemon=True)
        self._thread.start()

    def subscribe(self, consumer: Consumer) -> None:
        self._consumers.append(consumer)

    def publish(self, event: EpochEvent) -> None:
        self._queue.put(event)

    def drain(self, timeout_s: float = 10.0) -> None:
        """Wait until every event published so far has been delivered (tests, shutdown)."""
        done = threading.Event()
        self._queue.put(done)
        done.wait(timeout_s)

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=10)

    def _dispatch(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if isinstance(item, threading.Event):
                item.set()
            elif isinstance(item, EpochEvent):
                self._deliver(item)

    def _deliver(self, event: EpochEvent) -> None:
        for consumer in list(self._consumers):
            try:
                consumer(event)
            except Exception:
                log.exception("Event consumer %r failed on %s", consumer, event.type)


def log_event(event: EpochEvent) -> None:
    log.info("EPOCH_EVENT: %s", json.dumps(event.to_json(), default=str))


def run_event(run: RunInfo) -> EpochEvent:
    """TOPOLOGY_RUN_STATE_CHANGED for the state the run has now."""
    metadata = {
        Tag.TOPOLOGY_ID: run.topology_id,
        Tag.TOPOLOGY_RUN_ID: run.run_id,
        Tag.TOPOLOGY_RUN_TYPE: run.run_type.value,
        Tag.NEW_STATE: run.state.value,
    }
    return EpochEvent(EventType.TOPOLOGY_RUN_STATE_CHANGED, run.updated, metadata, run=run)
