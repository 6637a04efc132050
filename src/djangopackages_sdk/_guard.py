"""The sync client's thread machinery: wall-clock bounds and prompt aborts for its
blocking reads, cancellable rounds of requests, and requests shared between threads.

httpx's timeouts bound each network read, not an attempt: a server trickling one
byte a second holds a blocking request for ever. When the SDK creates the httpx
client itself, its connection pool gets a network backend whose streams cap
every read and write at what is left of the current attempt (`Attempt`, set per
thread with `running`), and whose socket `Attempt.abort` can shut from another
thread (Ctrl-C in the caller stops the pool threads' requests at once). The
async client needs none of this: it cancels; it only shares requests between
tasks (`AsyncSharedCalls`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Hashable, Iterable, Iterator
from concurrent.futures import Future
from typing import Any, Final, Generic, TypeVar

import attrs
import httpcore
import httpx

T = TypeVar("T")

__all__ = [
    "Abandoned",
    "AsyncSharedCalls",
    "Attempt",
    "Call",
    "SharedCalls",
    "install",
    "running",
]

_CURRENT: Final[contextvars.ContextVar[Attempt | None]] = contextvars.ContextVar(
    "djangopackages_sdk_attempt", default=None
)


class Attempt:
    """One attempt of a request: when it must end, and the stream it reads."""

    def __init__(self, expires_at: float) -> None:
        self.expires_at = expires_at
        self.aborted = False
        self._stream: _BoundedStream | None = None
        self._lock = threading.Lock()

    def remaining(self, timeout: float | None) -> float | None:
        """``timeout`` capped at what is left; raise once nothing is left."""
        left = self.expires_at - time.monotonic()
        if self.aborted or left <= 0:
            raise httpcore.ReadTimeout("the attempt ran past its wall-clock bound")
        return left if timeout is None else min(timeout, left)

    def using(self, stream: _BoundedStream) -> None:
        with self._lock:
            self._stream = stream
            if self.aborted:
                stream.shutdown()

    def abort(self) -> None:
        """Stop this attempt from another thread: its socket is shut at once."""
        with self._lock:
            self.aborted = True
            if self._stream is not None:
                self._stream.shutdown()


@contextlib.contextmanager
def running(attempt: Attempt) -> Iterator[None]:
    """Make ``attempt`` the one this thread's reads and writes belong to."""
    token = _CURRENT.set(attempt)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def _bounded(timeout: float | None, stream: _BoundedStream | None = None) -> float | None:
    attempt = _CURRENT.get()
    if attempt is None:
        return timeout
    if stream is not None:
        attempt.using(stream)
    return attempt.remaining(timeout)


class _BoundedStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, self))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, self))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout, self))
        return _BoundedStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)

    def shutdown(self) -> None:
        sock = self._inner.get_extra_info("socket")
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _BoundedBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, _bounded(timeout), local_address, socket_options
        )
        return _BoundedStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return _BoundedStream(
            self._inner.connect_unix_socket(path, _bounded(timeout), socket_options)
        )

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def install(http: httpx.Client) -> bool:
    """Give the connection pools of ``http`` (its transport and any proxy mounts from
    the environment) the bounded backend; False if this httpx keeps them elsewhere
    (an attempt is then bounded between body chunks only)."""
    transports = [getattr(http, "_transport", None), *getattr(http, "_mounts", {}).values()]
    installed = False
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, httpcore.NetworkBackend):
            pool._network_backend = _BoundedBackend(backend)  # type: ignore[union-attr]
            installed = True
    return installed


class Abandoned(BaseException):
    """A request given up because its call was interrupted (never shown to users)."""


class Call:
    """One round of a sync call: its attempts under way, and whether it was cancelled.

    `cancel` (the caller was interrupted) makes every later `check` and `sleep`
    raise `Abandoned` and aborts the attempts under way.
    """

    def __init__(self) -> None:
        self._attempts: set[Attempt] = set()
        self._lock = threading.Lock()
        self._cancelled = threading.Event()

    def check(self) -> None:
        if self._cancelled.is_set():
            raise Abandoned

    def sleep(self, seconds: float) -> None:
        if self._cancelled.wait(seconds):
            raise Abandoned

    def track(self, attempt: Attempt) -> None:
        with self._lock:
            self._attempts.add(attempt)
        if self._cancelled.is_set():
            attempt.abort()

    def untrack(self, attempt: Attempt) -> None:
        with self._lock:
            self._attempts.discard(attempt)

    def cancel(self) -> None:
        self._cancelled.set()
        with self._lock:
            attempts = list(self._attempts)
        for attempt in attempts:
            attempt.abort()


class SharedCalls(Generic[T]):
    """Callers asking for the same key meanwhile share one computation (thread-safe)."""

    def __init__(self) -> None:
        self._running: dict[Hashable, Future[T]] = {}
        self._lock = threading.Lock()

    def __call__(self, key: Hashable, compute: Callable[[], T]) -> T:
        """Run ``compute`` once for every thread asking for ``key`` meanwhile.

        When the thread computing it is interrupted (Ctrl-C, a cancelled call), the
        others do not inherit the interruption: each computes again for itself.
        """
        while True:
            with self._lock:
                shared = self._running.get(key)
                if shared is None:
                    mine: Future[T] = Future()
                    self._running[key] = mine
            if shared is None:
                break
            try:
                return shared.result()
            except Abandoned:
                continue
        try:
            result = compute()
        except Exception as exc:
            mine.set_exception(exc)
            raise
        except BaseException:
            mine.set_exception(Abandoned())
            raise
        else:
            mine.set_result(result)
        finally:
            with self._lock:
                del self._running[key]
        return result


@attrs.define
class SharedTask(Generic[T]):
    """One in-flight computation of the async client and how many callers await it."""

    task: asyncio.Task[T]
    waiters: int = 0


class AsyncSharedCalls(Generic[T]):
    """Tasks asking for the same key meanwhile await one task (the async `SharedCalls`)."""

    def __init__(self) -> None:
        self.running: dict[Hashable, SharedTask[T]] = {}

    async def __call__(self, key: Hashable, start: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Await one task for every caller asking for ``key`` meanwhile.

        A caller cancelled mid-request leaves the task to the others; when the last
        one leaves, the task is cancelled too, so neither a connection nor an
        in-flight slot is held for nobody.
        """
        shared = self.running.get(key)
        if shared is None or shared.task.get_loop() is not asyncio.get_running_loop():
            task = asyncio.ensure_future(start())
            shared = self.running[key] = SharedTask(task)
            task.add_done_callback(lambda done: self._forget(key, done))
        shared.waiters += 1
        try:
            return await asyncio.shield(shared.task)
        except asyncio.CancelledError:
            if shared.waiters == 1 and not shared.task.done():
                shared.task.cancel()
                if self.running.get(key) is shared:
                    del self.running[key]
            raise
        finally:
            shared.waiters -= 1

    def _forget(self, key: Hashable, task: asyncio.Task[T]) -> None:
        shared = self.running.get(key)
        if shared is not None and shared.task is task:
            del self.running[key]
        if not task.cancelled():
            task.exception()  # mark it retrieved even if every awaiter was cancelled
