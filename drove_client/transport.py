"""One HTTP exchange with the Drove leader, and the back-off between retried exchanges.

``Transport.send`` either returns a ``Reply`` (Drove answered, whatever it said) or raises
``DroveUnreachable`` (no answer); no HTTP library exception escapes. It owns the one urllib3
connection pool: headers, Basic auth, time-outs and TLS verification are set once there, so every
request - pings included - carries them. (urllib3 rather than requests: a leader sends two calls
per run, and requests' per-call session machinery doubled their CPU cost.)

Invariants:
* a connection error or a 400 "This node is not the leader controller" makes the leader tracker
  probe again before the next request;
* ``send`` never retries by itself; callers decide what is safe to repeat (``Backoff``).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ReadTimeoutError,
)

from drove_client.errors import NOT_LEADER, DroveUnreachable
from drove_client.leader import LeaderTracker
from epoch_site.config import DroveConfig

log = logging.getLogger(__name__)

PING_PATH = "/apis/v1/ping"
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


@dataclass(frozen=True)
class Reply:
    """What Drove answered to one request; ``envelope`` is the JSON body when it is an object."""

    call: str  # "<METHOD> <url>", for messages
    status: int
    body: str
    envelope: Mapping[str, Any] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, call: str, status: int, body: str) -> Reply:
        return cls(call, status, body, _json_object(body))

    @property
    def succeeded(self) -> bool:
        """Drove's success test: HTTP 200 and ``status: SUCCESS``."""
        return self.status == 200 and self.field("status") == "SUCCESS"

    @property
    def message(self) -> str:
        return str(self.field("message") or "")

    @property
    def data(self) -> Any:
        return self.field("data")

    @property
    def errors(self) -> list[str]:
        """``data.validationErrors`` (400) and ``errors`` (422 from some Drove builds)."""
        found: list[str] = []
        data = self.data
        if isinstance(data, Mapping) and isinstance(data.get("validationErrors"), list):
            found.extend(str(e) for e in data["validationErrors"])
        if isinstance(self.field("errors"), list):
            found.extend(str(e) for e in self.field("errors"))
        return found

    @property
    def from_non_leader(self) -> bool:
        return self.status == 400 and self.message == NOT_LEADER

    def field(self, name: str) -> Any:
        return None if self.envelope is None else self.envelope.get(name)

    def describe(self) -> str:
        return f"{self.call} answered [{self.status}] {self.body}"


def _json_object(body: str) -> Mapping[str, Any] | None:
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return parsed if isinstance(parsed, Mapping) else None


@dataclass(frozen=True)
class Backoff:
    """Capped exponential delays between retries, within the budget ``count`` x ``interval_s``.

    Delays are ``interval_s``, ``2 * interval_s``, ``4 * interval_s`` ... each at most
    ``cap_factor * interval_s``; at most ``count`` of them, and their sum never exceeds the
    budget (the last one is shortened to fit), so a start never waits longer than the original
    Epoch's ``rpcRetryCount`` x ``rpcRetryInterval``.
    """

    count: int
    interval_s: float
    cap_factor: int = 8

    def delays(self) -> Iterator[float]:
        budget = self.count * self.interval_s
        for attempt in range(self.count):
            delay = min(self.interval_s * 2**attempt, self.interval_s * self.cap_factor, budget)
            if delay <= 0:
                return
            budget -= delay
            yield delay


class Transport:
    """Sends requests to the current Drove leader over one connection pool."""

    def __init__(self, config: DroveConfig, *, pool_size: int = 16) -> None:
        self.verify = _verify(config, os.environ)
        self.timeout = (config.connection_timeout.seconds, config.operation_timeout.seconds)
        self.pool = _pool(config, pool_size, self.verify, self.timeout)
        endpoints = tuple(e.rstrip("/") for e in config.endpoints)
        self.leader = LeaderTracker(endpoints, self._answers_ping, config.check_interval.seconds)

    def send(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Reply:
        """One request to the leader; raises ``DroveUnreachable`` when there is no answer."""
        leader = self.leader.current()
        if leader is None:
            endpoints = ", ".join(self.leader.endpoints)
            raise DroveUnreachable(
                f"{method} {path}", f"no Drove leader among {endpoints}", kind="no-leader"
            )
        reply = self._exchange(leader, method, path, body)
        if reply.from_non_leader:
            self.leader.forget(leader)
        return reply

    def get(self, url: str) -> urllib3.BaseHTTPResponse:
        """A plain GET with this transport's credentials and time-outs (log pages, pings)."""
        return self.pool.request("GET", url)

    def close(self) -> None:
        self.pool.clear()

    def _exchange(
        self, endpoint: str, method: str, path: str, body: Mapping[str, Any] | None
    ) -> Reply:
        url = endpoint + path
        call = f"{method} {url}"
        data = None if body is None else json.dumps(body).encode()
        try:
            response = self.pool.request(method, url, body=data)
        except HTTPError as error:
            if not isinstance(error, ReadTimeoutError):
                self.leader.forget(endpoint)  # no connection: look for the leader again
            raise DroveUnreachable(call, f"no response ({error})", kind=_kind(error)) from error
        # Drove always answers UTF-8 JSON; guessing the charset of every body would be slow.
        return Reply.of(call, response.status, response.data.decode("utf-8", "replace"))

    def _answers_ping(self, endpoint: str) -> bool:
        try:
            response = self.get(endpoint + PING_PATH)
        except HTTPError as error:
            log.warning("Drove controller %s did not answer ping: %s", endpoint, error)
            return False
        if response.status not in (200, 400):  # 400: a follower; anything else is odd
            log.warning("Drove controller %s answered ping with %d", endpoint, response.status)
        return response.status == 200


def _pool(
    config: DroveConfig, size: int, verify: bool | str, timeout: tuple[float, float]
) -> urllib3.PoolManager:
    # Like the original's Java client: no proxies or .netrc from the environment, so the
    # configured credentials are the only ones sent.
    headers = dict(JSON_HEADERS)
    if config.username and config.password:
        credentials = f"{config.username}:{config.password}"
        # Spelled as the original's client sent it (urllib3 names it in lower case).
        headers["Authorization"] = urllib3.make_headers(basic_auth=credentials)["authorization"]
    tls: dict[str, Any] = {"cert_reqs": "CERT_REQUIRED" if verify else "CERT_NONE"}
    if isinstance(verify, str):
        tls["ca_certs"] = verify
    return urllib3.PoolManager(
        num_pools=max(4, len(config.endpoints)),
        maxsize=size,
        headers=headers,
        retries=False,  # callers decide what is safe to repeat
        timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]),
        **tls,
    )


def _verify(config: DroveConfig, environ: Mapping[str, str]) -> bool | str:
    """TLS verification: off when ``insecure``; else a CA bundle named in the environment (the
    names requests reads), or the system's trust store."""
    if config.insecure:
        return False
    return environ.get("REQUESTS_CA_BUNDLE") or environ.get("CURL_CA_BUNDLE") or True


def _kind(error: HTTPError) -> str:
    """Classify a transport failure for ``DroveUnreachable.kind``."""
    if isinstance(error, NewConnectionError | ConnectTimeoutError):
        return "refused"  # the connection was never established
    if isinstance(error, ReadTimeoutError):
        return "timeout"
    return "broken"
