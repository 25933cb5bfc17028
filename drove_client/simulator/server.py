"""The simulated Drove cluster: one or more controllers (HTTP servers) sharing one task store.

``DroveSimulator`` needs no Django: tests start it in-process on port 0 and read ``urls``; the
``drove_simulator`` command and ``python -m drove_client.simulator`` run it until a signal.

Every controller serves the same paths:
* ``/apis/...``: Drove's API (``DroveApi``), after the injected faults; only the leader answers;
* ``/_sim/...``: the control interface (``control.py``), never subject to faults or auth;
* ``/tasks/<app>/<id>``: a small HTML page standing in for Drove's task page (the log link).

Invariants: exactly one controller (or none, "election underway") is the leader at a time; a
refusing controller has closed its listening socket and every open connection, so clients see
real connection errors; every ``/apis`` request is logged before it is answered.
"""

from __future__ import annotations

import collections
import html
import json
import logging
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote

from drove_client.simulator import wire
from drove_client.simulator.api import DroveApi, Request
from drove_client.simulator.control import Control
from drove_client.simulator.faults import Fault, FaultBook
from drove_client.simulator.settings import SimSettings
from drove_client.simulator.store import TaskStore
from drove_client.simulator.timers import TimerThread
from drove_client.simulator.wire import Answer

log = logging.getLogger(__name__)

IDLE_CONNECTION_TIMEOUT_S = 30.0
SUMMARY_MAX_BYTES = 4096  # answers logged with their body; larger ones with status only


class DroveSimulator:
    """A simulated Drove cluster; use as a context manager or call ``start()``/``stop()``."""

    def __init__(
        self,
        settings: SimSettings | None = None,
        *,
        controllers: int = 1,
        host: str = "127.0.0.1",
        ports: Sequence[int] | None = None,
    ) -> None:
        if controllers < 1:
            raise ValueError("a simulated cluster needs at least one controller")
        ports = list(ports) if ports is not None else [0] * controllers
        if len(ports) != controllers:
            raise ValueError(f"{controllers} controllers need {controllers} ports, got {ports}")
        self.settings = settings or SimSettings()
        self.timers = TimerThread()
        self.store = TaskStore(self.settings, self.timers)
        self.faults = FaultBook()
        self.api = DroveApi(self.store, self.settings, self)
        self.control = Control(self)
        self.controllers = [SimController(self, i, host, port) for i, port in enumerate(ports)]
        self._leader: int | None = 0
        self._log: collections.deque[dict[str, Any]] = collections.deque(
            maxlen=self.settings.max_logged_requests
        )
        self._log_lock = threading.Lock()
        self._sequence = 0

    def __enter__(self) -> DroveSimulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> DroveSimulator:
        self.timers.start()
        for controller in self.controllers:
            controller.listen()
        self._plan_retention()
        log.info("Drove simulator serving on %s", ", ".join(self.urls))
        return self

    def stop(self) -> None:
        for controller in self.controllers:
            controller.close()
        self.timers.stop()

    @property
    def urls(self) -> list[str]:
        return [controller.url for controller in self.controllers]

    @property
    def url(self) -> str:
        return self.controllers[0].url

    # --- leadership -----------------------------------------------------------------------------

    @property
    def leader(self) -> int | None:
        return self._leader

    def set_leader(self, index: int | None) -> None:
        """Make controller ``index`` the leader (None: election underway, nobody leads)."""
        if index is not None and not 0 <= index < len(self.controllers):
            raise ValueError(f"no controller {index}; there are {len(self.controllers)}")
        changed = index != self._leader
        self._leader = index
        if changed and index is not None:
            self.store.on_leader_change()

    def is_leader(self, controller: int) -> bool:
        return controller == self._leader

    def leader_address(self) -> str | None:
        if self._leader is None:
            return None
        controller = self.controllers[self._leader]
        return f"{controller.host}:{controller.port}"

    # --- faults ---------------------------------------------------------------------------------

    def add_fault(self, fault: Fault) -> None:
        self.faults.add(fault)

    def refuse(
        self,
        controller: int | None = None,
        *,
        for_s: float | None = None,
        keep: socket.socket | None = None,
    ) -> None:
        """Close the listening socket(s): connections are refused until ``restore`` (or ``for_s``)."""
        targets = self._targets(controller)
        for target in targets:
            target.close(keep=keep)
        if for_s is not None:
            self.timers.call_later(for_s, lambda: self.restore(controller))

    def restore(self, controller: int | None = None) -> None:
        for target in self._targets(controller):
            target.listen()

    def _targets(self, controller: int | None) -> list[SimController]:
        return self.controllers if controller is None else [self.controllers[controller]]

    # --- request log ----------------------------------------------------------------------------

    def requests(self, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        """Logged ``/apis`` requests, oldest first; ``path`` matches a substring."""
        with self._log_lock:
            entries = list(self._log)
        return [
            e
            for e in entries
            if (method is None or e["method"] == method) and (path is None or path in e["path"])
        ]

    def clear_requests(self) -> int:
        with self._log_lock:
            count = len(self._log)
            self._log.clear()
            return count

    def _record(self, request: Request, query: str, fault: Fault | None) -> dict[str, Any]:
        """Log a request as it arrives; its ``answer`` is filled in once it has one."""
        entry = {
            "seq": 0,
            "time": int(time.time() * 1000),
            "controller": request.controller,
            "method": request.method,
            "path": request.path,
            "query": query,
            "headers": dict(request.headers),
            "body": _readable(request.body),
            "fault": None if fault is None else fault.mode,
            "answer": None,
        }
        with self._log_lock:
            self._sequence += 1
            entry["seq"] = self._sequence
            self._log.append(entry)
        return entry

    # --- serving --------------------------------------------------------------------------------

    def answer_api(self, request: Request, query: str) -> Answer | None:
        """Drove's answer after the faults; None: drop the connection without answering."""
        fault = self.faults.take(request.controller, request.method, request.path)
        entry = self._record(request, query, fault)
        answer = self.api.answer(request) if fault is None else self._faulty_answer(request, fault)
        entry["answer"] = None if answer is None else _summary(answer)
        return answer

    def _faulty_answer(self, request: Request, fault: Fault) -> Answer | None:
        if fault.mode == "delay-before":
            time.sleep(fault.delay_s)
        if fault.mode == "drop":
            return None
        if fault.mode == "status":
            return wire.injected_status(fault.status, fault.message, fault.body)
        if fault.mode == "not-leader":
            return wire.not_leader()
        answer = self.api.answer(request)
        if fault.mode == "delay":
            time.sleep(fault.delay_s)
        return answer

    def task_page(self, path: str) -> Answer:
        parts = [unquote(p) for p in path.split("/")[2:]]
        if len(parts) != 2:
            return wire.empty(404)
        app, task_id = parts
        record = self.store.record(app, task_id) or {}
        state = html.escape(str(record.get("state", "no such task")))
        title = html.escape(f"{app}/{task_id}")
        page = (
            f"<!doctype html><html><head><title>Task {title}</title></head><body>"
            f"<h1>Task {title}</h1><p>State: <b>{state}</b></p>"
            f"<p>{html.escape(str(record.get('errorMessage', '')))}</p></body></html>"
        )
        return Answer(200, page.encode(), "text/html; charset=utf-8")

    def _plan_retention(self) -> None:
        def sweep() -> None:
            removed = self.store.sweep()
            if removed:
                log.info("Retention removed %d finished task records", removed)
            self._plan_retention()

        self.timers.call_later(self.settings.retention_interval_s, sweep)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 resets connections when a scheduler opens dozens at
    # once; a real controller (Jetty) queues far more.
    request_queue_size = 1024
    block_on_close = False  # keep-alive connections must not hold up a close

    def __init__(self, address: tuple[str, int], controller: SimController) -> None:
        self.controller = controller
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = (
            str(self.server_address[0]),
            int(self.server_address[1]),
        )

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Connections cut by a refuse fault or a departed client are expected; say so quietly.
        log.debug("Connection from %s ended abruptly: %r", client_address, sys.exc_info()[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)


class SimController:
    """One simulated controller: a listening HTTP server that can be closed and reopened."""

    def __init__(self, simulator: DroveSimulator, index: int, host: str, port: int) -> None:
        self.simulator = simulator
        self.index = index
        self.host = host
        self.port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def listening(self) -> bool:
        return self._server is not None

    def listen(self) -> None:
        with self._lock:
            if self._server is not None:
                return
            server = _Server((self.host, self.port), self)
            self.port = server.server_address[1]
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"drove-sim-controller-{self.index}",
                daemon=True,
            )
            self._thread.start()

    def close(self, keep: socket.socket | None = None) -> None:
        """Stop listening and cut every open connection except ``keep`` (the caller's own)."""
        with self._lock:
            server, self._server = self._server, None
            if server is None:
                return
            server.shutdown()
            server.server_close()
            with server.connections_lock:
                connections = [c for c in server.connections if c is not keep]
            for connection in connections:
                _cut(connection)


def _cut(connection: socket.socket) -> None:
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        log.debug("Connection already closed")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = IDLE_CONNECTION_TIMEOUT_S
    wbufsize = -1  # buffer the answer: status, headers and body leave in one write

    def setup(self) -> None:
        super().setup()
        # Without this, Nagle's algorithm and the client's delayed ACK stall every keep-alive
        # exchange by ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # http.server dispatches on these names; every method takes the same path.
    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _handle(self) -> None:
        controller = self.server.controller
        simulator = controller.simulator
        path, _, query = self.path.partition("?")
        body = self._read_body()
        if path == "/_sim" or path.startswith("/_sim/"):
            answer: Answer | None = simulator.control.answer(
                self.command, path, parse_qs(query), body, controller.index, self.connection
            )
        elif path.startswith("/apis/"):
            headers = {k: v for k, v in self.headers.items()}
            request = Request(controller.index, self.command, path, headers, body)
            answer = simulator.answer_api(request, query)
        elif path.startswith("/tasks/"):
            answer = simulator.task_page(path)
        else:
            answer = wire.empty(404)
        if answer is None:
            self.close_connection = True
            return
        self._send(answer)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, answer: Answer) -> None:
        try:
            self.send_response(answer.status)
            if answer.content_type is not None:
                self.send_header("Content-Type", answer.content_type)
            for name, value in answer.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (its time-out is shorter than an injected delay).
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # http.server's signature
        log.debug("%s %s", self.address_string(), format % args)


def _summary(answer: wire.Answer) -> dict[str, Any]:
    """What the log keeps of an answer: its status and, when small, its body. Bodies such as the
    active-task list are large and the log keeps thousands of entries, so a large body is neither
    kept nor parsed (``body`` None)."""
    small = len(answer.body) <= SUMMARY_MAX_BYTES
    return {"status": answer.status, "body": _readable(answer.body) if small else None}


def _readable(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")
