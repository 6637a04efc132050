"""Helpers for tests against a real LiveServer on 127.0.0.1 (faults and drift)."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

from conftest import Mode
from djangopackages_sdk import AsyncClient, Client
from djangopackages_sdk.testing import FakeAPI, Fault, Hit, LiveServer

T = TypeVar("T")
FaultFn = Callable[[Hit], Fault | None]


class Live:
    """A real SDK client (sync or async) pointed at a LiveServer, with its own httpx client."""

    def __init__(self, mode: Mode, server: LiveServer, **options: Any) -> None:
        options.setdefault("retry_backoff", 0.001)
        self.mode = mode
        self.server = server
        self.client: Client | AsyncClient = (
            Client(server.base_url, **options)
            if mode == "sync"
            else AsyncClient(server.base_url, **options)
        )

    async def run(self, call: Callable[[Any], T | Awaitable[T]]) -> T:
        """``call(client)``, awaited when the client is async."""
        result = call(self.client)
        if inspect.isawaitable(result):
            return await result
        return result

    def packages(self, **options: Any) -> Any:
        """``client.packages.list(**options)``: a PageIterator or AsyncPageIterator."""
        return self.client.packages.list(**options)

    async def close(self) -> None:
        if isinstance(self.client, Client):
            self.client.close()
        else:
            await self.client.aclose()


@contextmanager
def serving(
    fake: FakeAPI | None = None, fault: FaultFn | None = None, **options: Any
) -> Iterator[LiveServer]:
    """A LiveServer over ``fake`` (the sample by default) that must end without errors."""
    with LiveServer(fake or FakeAPI.with_sample_data(), fault=fault, **options) as server:
        yield server
    assert server.errors == []  # no bug in the server or a fault callable


@asynccontextmanager
async def client_for(mode: Mode, server: LiveServer, **options: Any) -> AsyncIterator[Live]:
    """A :class:`Live` client for ``server``, closed afterwards."""
    live = Live(mode, server, **options)
    try:
        yield live
    finally:
        await live.close()
