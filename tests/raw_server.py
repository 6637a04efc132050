"""A hostile HTTP server on 127.0.0.1 that speaks raw sockets: it trickles, never
ends a body, or sends a gzip bomb, as scripted per test."""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

Behaviour = Callable[[socket.socket, threading.Event], None]

OK_HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"


class RawServer:
    """Accepts connections and runs ``behaviour(conn, stopping)`` on each, in a thread."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.requests = 0
        self.stopping = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._serve, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/api/v4/"

    def __enter__(self) -> RawServer:
        self._accept.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stopping.set()
        self._accept.join()
        for thread in self._threads:
            thread.join(timeout=5)
        self._sock.close()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._one, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _one(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(0.2)
            data = b""
            while b"\r\n\r\n" not in data and not self.stopping.is_set():
                try:
                    chunk = conn.recv(4096)
                except TimeoutError:
                    continue
                if not chunk:
                    return
                data += chunk
            self.requests += 1
            self.behaviour(conn, self.stopping)


def trickle(data: bytes, interval: float) -> Behaviour:
    """Send ``data`` one byte every ``interval`` seconds."""

    def behave(conn: socket.socket, stopping: threading.Event) -> None:
        for byte in _bytes(data):
            if stopping.wait(interval):
                return
            conn.sendall(byte)

    return behave


def headers_then_trickle(interval: float) -> Behaviour:
    """Proper headers promising a large body, then the body one byte at a time."""
    head = OK_HEADERS + b"Content-Length: 100000\r\n\r\n"

    def behave(conn: socket.socket, stopping: threading.Event) -> None:
        conn.sendall(head)
        trickle(b"[" * 100_000, interval)(conn, stopping)

    return behave


def endless_chunked() -> Behaviour:
    """A chunked body that never ends (64 KiB chunks as fast as the client reads)."""
    chunk = b"%x\r\n%s\r\n" % (65536, b" " * 65536)

    def behave(conn: socket.socket, stopping: threading.Event) -> None:
        conn.sendall(OK_HEADERS + b"Transfer-Encoding: chunked\r\n\r\n")
        while not stopping.is_set():
            conn.sendall(chunk)

    return behave


def gzip_bomb(decoded_size: int) -> Behaviour:
    """A small gzip body that inflates to ``decoded_size`` bytes of spaces."""
    body = gzip.compress(b" " * decoded_size, compresslevel=9)
    head = OK_HEADERS + b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body)

    def behave(conn: socket.socket, stopping: threading.Event) -> None:
        conn.sendall(head + body)

    return behave


def declared(size: int) -> Behaviour:
    """Headers declaring a ``size``-byte body, then nothing."""

    def behave(conn: socket.socket, stopping: threading.Event) -> None:
        conn.sendall(OK_HEADERS + b"Content-Length: %d\r\n\r\n" % size)
        stopping.wait(10)

    return behave


def _bytes(data: bytes) -> Iterator[bytes]:
    for index in range(len(data)):
        yield data[index : index + 1]
