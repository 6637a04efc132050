"""A real HTTP server on 127.0.0.1 in front of a `FakeAPI`.

`LiveServer` answers through the fake over genuine sockets, so a client
under test goes through its whole network stack (connection pool, keep-alive,
timeouts, resets). It models a small production site: a network round trip
(``latency``), a bounded pool of server workers (``workers``), a fixed cost of
serving any request (``request_cost``) and a per-row cost of rendering it
(``row_cost``, one figure or one per collection). A ``fault`` callable may replace the answer to
any request with a `Fault` (an error status, a hostile body, a reset
connection, a slow answer, a change to the data)::

    from djangopackages_sdk import Client
    from djangopackages_sdk.testing import FakeAPI, Fault, LiveServer

    def flaky(hit):
        return Fault.status(503, retry_after=1) if hit.number == 1 else None

    with LiveServer(FakeAPI.with_sample_data(), fault=flaky) as server:
        with Client(server.base_url) as dp:
            dp.packages.get(1867)
        assert len(server.hits) == 2
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

import httpx

from .._registry import COLLECTIONS
from ._fake import FakeAPI
from ._faults import Fault, Hit, _positive

_COUNT_PREFIX: Final = re.compile(rb'\s*\{\s*"count"\s*:\s*(\d+)\s*,')
_HOP_BY_HOP: Final = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})
_STATUS_ONLY_BODIES: Final = frozenset({204, 304})


class _Server(ThreadingHTTPServer):
    """The socket server: tracks handler threads and connections so it can stop them."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, live: LiveServer, address: tuple[str, int]) -> None:
        self.live = live
        self.threads: set[threading.Thread] = set()
        self.connections: set[socket.socket] = set()
        self.track = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_one,
            args=(request, client_address),
            name=f"LiveServer-{client_address[1]}",
            daemon=True,
        )
        with self.track:
            self.threads.add(thread)
            self.connections.add(request)
        with self.live._lock:
            self.live.connections += 1
        thread.start()

    def _serve_one(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self.track:
                self.connections.discard(request)
                self.threads.discard(threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet about connection trouble; keep anything else in ``LiveServer.errors``."""
        # Clients time out, cancel and reset on purpose in fault tests: an
        # OSError (broken pipe, reset) is expected. Anything else is a bug.
        error = sys.exc_info()[1]
        if error is not None and not isinstance(error, OSError):
            self.live.errors.append(error)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall per keep-alive request
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr."""

    def do_GET(self) -> None:
        self.server.live._serve(self)

    do_HEAD = do_GET
    do_OPTIONS = do_GET
    do_POST = do_GET
    do_PUT = do_GET
    do_PATCH = do_GET
    do_DELETE = do_GET

    def send_bytes(
        self, status: int, headers: Iterable[tuple[str, str]], body: bytes, length: int
    ) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        if status not in _STATUS_ONLY_BODIES:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        if body and self.command != "HEAD" and status not in _STATUS_ONLY_BODIES:
            self.wfile.write(body)
        self.wfile.flush()

    def reset(self) -> None:
        """Abort the connection: a TCP RST, nothing answered."""
        self.close_connection = True
        sock = self.connection
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            # Close the descriptor now (the RST) while the handler's file objects
            # stay usable: they see a detached socket, never someone else's fd.
            os.close(sock.detach())


def _row_cost(row_cost: float | Mapping[str, float], hit: Hit) -> float:
    """Seconds per row of the collection ``hit`` reads (a list page or a detail)."""
    if not isinstance(row_cost, Mapping):
        return row_cost
    parts = [part for part in hit.route.split("/") if part]
    for part in parts[-2:]:
        if part in row_cost:
            return row_cost[part]
    return 0.0


def _rows_of(response: httpx.Response, hit: Hit) -> int:
    """How many rows an answer carries, for ``row_cost``."""
    rows = response.extensions.get("rows")
    if isinstance(rows, int):
        return rows
    if response.status_code == 200 and hit.is_list():
        match = _COUNT_PREFIX.match(response.content[:64])
        if match is not None:
            window = hit.window()
            return max(0, min(window.stop, int(match.group(1))) - window.start)
    return 1


class LiveServer:
    """Serve a `FakeAPI` over real HTTP on 127.0.0.1.

    A background thread accepts connections; each connection gets a thread
    (HTTP/1.1 keep-alive, ``Content-Length`` on every answer). Every request
    first waits ``latency`` seconds (the network round trip, holding nothing),
    then takes one of ``workers`` slots, computes the fake's answer, spends
    ``request_cost`` seconds plus ``row_cost`` seconds per row of that answer
    while holding the slot (rows: ``response.extensions["rows"]`` if the fake
    sets it, else the number of results of a list page, else 1), releases the
    slot and writes the answer. ``row_cost`` may differ per collection:
    ``{"packages": 0.00044, "grids": 0.001}`` (a collection left out costs
    nothing per row; a detail is one row of its collection).

    ``fault(hit)``, called as each request arrives, may return a `Fault`
    to replace the normal answer; it may also change the fake itself before
    returning None. If it raises, the request is answered 500 and the exception
    kept in `errors`.

    Use it as a context manager, or call `start` and `stop`::

        with LiveServer(FakeAPI.with_sample_data(), latency=0.01) as server:
            httpx.get(server.base_url + "packages/")
            assert server.hits[0].path == "/api/v4/packages/"

    Args:
        fake: the fake answering the requests.
        port: the TCP port; 0 picks a free one.
        latency: seconds every request waits before it is served.
        request_cost: seconds of work per request, holding a worker.
        row_cost: seconds of work per row in an answer, holding a worker; a
            number, or a mapping from collection name to its figure.
        workers: how many requests are computed at once (a semaphore).
        fault: a callable deciding, per request, whether to misbehave.
    """

    def __init__(
        self,
        fake: FakeAPI,
        *,
        port: int = 0,
        latency: float = 0.0,
        row_cost: float | Mapping[str, float] = 0.0,
        workers: int = 8,
        fault: Callable[[Hit], Fault | None] | None = None,
        request_cost: float = 0.0,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        costs = dict(row_cost) if isinstance(row_cost, Mapping) else {}
        if unknown := sorted(set(costs) - set(COLLECTIONS)):
            raise ValueError(f"row_cost: unknown collection(s) {unknown}, not in {COLLECTIONS}")
        each = costs.values() if isinstance(row_cost, Mapping) else (row_cost,)
        if latency < 0 or request_cost < 0 or min(each, default=0.0) < 0:
            raise ValueError("latency, request_cost and row_cost must not be negative")
        self.fake = fake
        """The fake answering the requests."""
        self.latency = latency
        """Seconds every request waits before it is served."""
        self.request_cost = request_cost
        """Seconds of work per request."""
        self.row_cost = row_cost
        """Seconds of work per row of an answer (or a mapping: collection to seconds)."""
        self.workers = workers
        """How many requests are computed at once."""
        self.fault = fault
        """The fault callable (may be replaced while the server runs)."""
        self.hits: list[Hit] = []
        """Every request received, in arrival order."""
        self.errors: list[BaseException] = []
        """Exceptions raised by the fault callable or the fake while serving."""
        self.max_concurrency = 0
        """The most requests in progress at once (from arrival to answer), observed."""
        self.max_busy_workers = 0
        """The most worker slots held at once, observed (never above ``workers``)."""
        self.connections = 0
        """How many TCP connections the server accepted (keep-alive reuses one)."""
        self._busy = 0
        self._port = port
        self._bound_port: int | None = None
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(workers)
        self._active = 0
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------
    def start(self) -> LiveServer:
        """Bind 127.0.0.1 and serve in a background thread; returns ``self``."""
        if self._server is not None:
            raise RuntimeError("LiveServer already started")
        self._stopping.clear()
        server = _Server(self, ("127.0.0.1", self._port))
        self._server = server
        self._bound_port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},  # stop() waits at most this long
            name="LiveServer",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: close the listening socket and every connection, join every thread.

        Requests still waiting (``latency``, `Fault.delay`) are cut short.
        Safe to call twice.
        """
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        server.shutdown()
        thread.join()
        server.server_close()
        with server.track:
            connections = list(server.connections)
            threads = list(server.threads)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for handler in threads:
            handler.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- addresses ----------------------------------------------------------------
    @property
    def port(self) -> int:
        """The TCP port the server listens (or, once stopped, listened) on."""
        if self._bound_port is None:
            raise RuntimeError("LiveServer not started")
        return self._bound_port

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The API root on this server: ``http://127.0.0.1:<port>/api/v4/``."""
        return self.origin + self.fake.prefix

    @property
    def running(self) -> bool:
        """Whether the server has been started and not stopped."""
        return self._server is not None

    # -- serving --------------------------------------------------------------------
    def _serve(self, handler: _Handler) -> None:
        with self._lock:
            hit = Hit(handler.command, handler.path, len(self.hits) + 1, time.monotonic())
            self.hits.append(hit)
            self._active += 1
            self.max_concurrency = max(self.max_concurrency, self._active)
        active = True

        def done() -> None:
            nonlocal active
            if active:
                active = False
                with self._lock:
                    self._active -= 1

        try:
            length = _positive(handler.headers.get("Content-Length")) or 0
            body = handler.rfile.read(length) if length else b""
            fault: Fault | None = None
            try:
                if self.fault is not None:
                    fault = self.fault(hit)
                if fault is not None and fault.action is not None:
                    fault.action(self.fake)
            except Exception as exc:
                self.errors.append(exc)
                done()
                message = f"LiveServer fault callable failed: {exc!r}".encode()
                handler.send_bytes(500, [("Content-Type", "text/plain")], message, len(message))
                return
            if self.latency and self._stopping.wait(self.latency):
                done()
                handler.reset()
                return
            if fault is not None and fault.wait and self._stopping.wait(fault.wait):
                done()
                handler.reset()
                return
            if fault is not None and fault.reset_connection:
                done()
                handler.reset()
                return
            status, headers, content, length = self._answer(handler, hit, fault, body)
            done()  # before writing: a client never sees its answer while it still counts
            handler.send_bytes(status, headers, content, length)
        finally:
            done()

    def _answer(
        self, handler: _Handler, hit: Hit, fault: Fault | None, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes, int]:
        """Compute one answer while holding a worker slot."""
        with self._slots:
            with self._lock:
                self._busy += 1
                self.max_busy_workers = max(self.max_busy_workers, self._busy)
            try:
                return self._compute(handler, hit, fault, body)
            finally:
                with self._lock:
                    self._busy -= 1

    def _compute(
        self, handler: _Handler, hit: Hit, fault: Fault | None, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes, int]:
        """The answer to one request (the fake's or the fault's), paying ``row_cost``."""
        if fault is not None and fault.status_code is not None:
            rows = 1
            status, headers = fault.status_code, list(fault.headers)
            content = fault.content
            length = len(content)
        else:
            host = handler.headers.get("Host") or f"127.0.0.1:{self.port}"
            request = httpx.Request(
                handler.command,
                f"http://{host}{handler.path}",
                headers=list(handler.headers.items()),
                content=body,
            )
            try:
                response = self.fake.handle(request)
                response.read()
            except Exception as exc:
                self.errors.append(exc)
                message = f"FakeAPI failed: {exc!r}".encode()
                return 500, [("Content-Type", "text/plain")], message, len(message)
            rows = _rows_of(response, hit)
            status, headers = response.status_code, list(response.headers.multi_items())
            content = response.content
            if handler.command == "HEAD":
                length = _positive(response.headers.get("Content-Length")) or 0
            else:
                length = len(content)
            if fault is not None:
                headers.extend(fault.headers)
                if fault.truncate_at is not None:
                    content = content[: max(0, fault.truncate_at)]
                    length = len(content)
        cost = self.request_cost + _row_cost(self.row_cost, hit) * rows
        if cost:
            self._stopping.wait(cost)
        return status, headers, content, length
