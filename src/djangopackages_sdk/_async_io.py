"""The asyncio I/O of `AsyncClient`: how it sends, sleeps and waits.

`AsyncDriver` drives the flows of `_operations.py`, `_relations.py` and
`_crawl.py` with ``await`` and ``asyncio`` tasks; it holds no logic of its own
beyond that (see `_protocol.py` for the contract). Its httpx client and its
request slots belong to the event loop they first ran on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import httpx

from ._config import CallOptions, Settings
from ._driver import Driver, adrive, aiterate
from ._exceptions import DjangoPackagesError
from ._guard import AsyncSharedCalls
from ._protocol import Fetch, FetchResult, Flow, Outcome, RequestFlow, Send, Sleep
from ._request import BodyReader, request_flow, settle
from ._watch import Blocking, Driven

__all__ = ["AsyncDriver"]

T = TypeVar("T")


class AsyncDriver(Driver):
    """`Driver` with asyncio I/O: the base of `AsyncClient`, which adds the public surface."""

    def __init__(
        self,
        base_url: str,
        settings: Settings,
        *,
        strict: bool,
        http_client: httpx.AsyncClient | None,
    ) -> None:
        super().__init__(base_url, settings, strict=strict)
        self._owns_http = http_client is None
        self._http = http_client or self._new_http(httpx.AsyncClient)
        self._http_loop: asyncio.AbstractEventLoop | None = None
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        self._inflight: AsyncSharedCalls[FetchResult] = AsyncSharedCalls()

    async def _close_http(self) -> None:
        # An owned httpx client that served another, finished event loop cannot be
        # closed from this one: its connections ended with their loop.
        if self._owns_http and self._http_loop in (None, asyncio.get_running_loop()):
            await self._http.aclose()

    async def _run(self, flow: Flow[T]) -> T:
        return await adrive(self._guarded(flow), self._fetch_all)

    def _iterate(self, flow: Driven[T]) -> AsyncIterator[T]:
        return aiterate(self._guarded(flow), self._perform)

    async def _perform(self, action: Fetch | Sleep | Blocking) -> Any:
        if isinstance(action, Sleep):
            await asyncio.sleep(action.seconds)
            return None
        if isinstance(action, Blocking):
            return await asyncio.to_thread(action.function)
        return await self._fetch_all(action)

    async def _fetch_all(self, fetch: Fetch) -> list[FetchResult]:
        calls = (self._fetch_and_finish(fetch, i) for i in range(len(fetch.urls)))
        return list(await asyncio.gather(*calls))

    async def _fetch_and_finish(self, fetch: Fetch, index: int) -> FetchResult:
        # Two levels of sharing: callers of one URL share its request; callers that
        # also share the parser share the parsing, and wait until it is complete.
        url, parser = fetch.urls[index], fetch.parser(index)

        async def fetch_and_parse() -> FetchResult:
            outcome = await self._inflight(
                url, lambda: self._fetch_now(url, fetch.options_of(index))
            )
            return settle(fetch, index, outcome)

        return await self._inflight((url, parser), fetch_and_parse)

    async def _fetch_now(
        self, url: str, options: CallOptions
    ) -> httpx.Response | DjangoPackagesError:
        try:
            return await self._send(request_flow(self._http, self._settings, url, options))
        except DjangoPackagesError as error:
            return error

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self._settings.max_in_flight))
        return self._slots[1]

    async def _send(self, flow: RequestFlow) -> httpx.Response:
        async def perform(action: Send | Sleep) -> Outcome | None:
            if isinstance(action, Sleep):
                await asyncio.sleep(action.seconds)
                return None
            return await self._attempt(action)

        return await adrive(flow, perform)

    async def _attempt(self, send: Send) -> Outcome:
        """One attempt: a request slot, the request, its body, all within the bound."""
        self._check_open()
        http = self._http_for_this_loop()
        try:
            async with asyncio.timeout(send.expires_at - time.monotonic()):
                async with self._semaphore():
                    response = await http.send(send.request, stream=True)
                    try:
                        reader = BodyReader(str(send.request.url), send, response)
                        async for chunk in response.aiter_bytes():
                            reader.take(chunk)
                        return reader.response()
                    finally:
                        await response.aclose()
        except TimeoutError:
            return httpx.ReadTimeout(
                "the attempt ran past its wall-clock bound (attempt_timeout or deadline)",
                request=send.request,
            )
        except (httpx.HTTPError, DjangoPackagesError) as exc:
            return exc
        except RuntimeError:
            self._check_open()  # closed meanwhile: say so, not httpx's words
            raise

    def _http_for_this_loop(self) -> httpx.AsyncClient:
        """The httpx client, which belongs to the event loop it first ran on."""
        loop = asyncio.get_running_loop()
        if self._http_loop is None:
            self._http_loop = loop
        elif self._http_loop is not loop:
            raise RuntimeError(
                "this AsyncClient belongs to another event loop (an earlier asyncio.run?): "
                "its connections live and die with that loop; make one client per loop"
            )
        return self._http
