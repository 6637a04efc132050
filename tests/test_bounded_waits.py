"""Every call is bounded whatever the server does: trickled headers or bodies,
endless bodies, gzip bombs, a full request slot."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from djangopackages_sdk import (
    AsyncClient,
    Client,
    DeadlineExceededError,
    ResponseTooLargeError,
    TransportError,
)
from raw_server import (
    RawServer,
    declared,
    endless_chunked,
    gzip_bomb,
    headers_then_trickle,
    trickle,
)

# Generous bounds that only a hang would pass: the precise figures are in the docs.
HANG = 10.0

TRICKLED_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + b"X-Pad: " + b"a" * 500


TRICKLERS = pytest.mark.parametrize(
    "behaviour",
    [trickle(TRICKLED_HEAD, 0.05), headers_then_trickle(0.05)],
    ids=["headers", "body"],
)
"""A server trickling its headers, and one trickling its body, a byte every 50 ms."""


def _call(mode: str, base_url: str, call: Callable[[Any], Any], **options: Any) -> Any:
    """Run ``call(client)`` on a fresh client of ``mode`` that owns its httpx client."""
    options.setdefault("max_retries", 0)
    if mode == "sync":
        with Client(base_url, **options) as client:
            return call(client)

    async def run() -> Any:
        async with AsyncClient(base_url, **options) as client:
            result = call(client)
            return await result if isinstance(result, Awaitable) else result

    return asyncio.run(run())


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@TRICKLERS
def test_deadline_bounds_a_trickling_server(mode: str, behaviour: Any) -> None:
    with RawServer(behaviour) as server:
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError):
            _call(mode, server.base_url, lambda c: c.packages.get(1, deadline=1.0))
        assert time.monotonic() - started < HANG


@TRICKLERS
def test_attempt_timeout_bounds_each_attempt(mode: str, behaviour: Any) -> None:
    with RawServer(behaviour) as server:
        started = time.monotonic()
        with pytest.raises(TransportError, match="Timeout"):
            _call(
                mode,
                server.base_url,
                lambda c: c.packages.get(1),
                attempt_timeout=0.5,
                max_retries=1,
                retry_backoff=0.01,
            )
        assert time.monotonic() - started < HANG
        assert server.requests == 2  # a timed-out attempt is retried like any timeout


@pytest.mark.parametrize(
    ("behaviour", "what"),
    [
        (endless_chunked(), "received|decoded"),
        (gzip_bomb(64 * 1024 * 1024), "decoded"),
        (declared(10**12), "declares"),
    ],
    ids=["endless", "gzip-bomb", "declared"],
)
def test_a_body_over_the_cap_is_refused_unread(mode: str, behaviour: Any, what: str) -> None:
    with RawServer(behaviour) as server:
        with pytest.raises(ResponseTooLargeError, match=what) as info:
            _call(mode, server.base_url, lambda c: c.packages.get(1), max_body_bytes=1024 * 1024)
        assert "max_body_bytes" in str(info.value)
        assert server.requests == 1  # not retried


def test_deadline_covers_waiting_for_a_request_slot() -> None:
    # One slot, held by a call to a trickling server; a second call with a deadline
    # must give up when its deadline passes, not when the slot comes free.
    with RawServer(trickle(TRICKLED_HEAD, 0.05)) as server:
        with Client(server.base_url, max_in_flight=1, max_retries=0) as client:

            def hold() -> None:
                with pytest.raises(DeadlineExceededError):
                    client.packages.get(1, deadline=4.0)

            holder = threading.Thread(target=hold)
            holder.start()
            _wait_for_a_request(server)
            started = time.monotonic()
            with pytest.raises(DeadlineExceededError):
                client.packages.get(2, deadline=0.5)
            waited = time.monotonic() - started
            holder.join()
        assert waited < 3.0  # the slot came free only after about 4 s


async def test_async_deadline_covers_waiting_for_a_request_slot() -> None:
    with RawServer(trickle(TRICKLED_HEAD, 0.05)) as server:
        async with AsyncClient(server.base_url, max_in_flight=1, max_retries=0) as client:
            holder = asyncio.ensure_future(client.packages.get(1, deadline=4.0))
            await asyncio.to_thread(_wait_for_a_request, server)
            started = time.monotonic()
            with pytest.raises(DeadlineExceededError):
                await client.packages.get(2, deadline=0.5)
            waited = time.monotonic() - started
            with pytest.raises(DeadlineExceededError):
                await holder
        assert waited < 3.0


def _wait_for_a_request(server: RawServer) -> None:
    while server.requests == 0:
        time.sleep(0.01)


def test_the_sync_client_bounds_reads_of_its_own_httpx_client() -> None:
    with Client() as client:
        assert client._bounded_reads  # this httpx keeps its pool where the SDK looks
