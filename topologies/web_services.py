"""The services of this web process: its store, its event bus, the clock, Drove."""

from __future__ import annotations

import threading
from zoneinfo import ZoneInfo

from django.conf import settings

from scheduler.core.clock import SystemClock
from scheduler.events import EventBus
from topologies.services import DroveOps, Services
from topologies.storage.factory import node_store

_lock = threading.Lock()
_bus: EventBus | None = None


def process_bus() -> EventBus:
    global _bus
    with _lock:
        if _bus is None:
            _bus = EventBus()
        return _bus


def web_services() -> Services:
    return Services(
        store=node_store(),
        bus=process_bus(),
        clock=SystemClock(),
        zone=ZoneInfo(settings.EPOCH.options.time_zone),
        drove_factory=_drove_ops,
    )


def _drove_ops() -> DroveOps:
    from scheduler.drove_gateway import node_gateway

    return node_gateway()
