"""``AsyncClient``: the asyncio driver of the shared operations.

It drives the flows of `_operations.py` and `_crawl.py` with ``await`` and
``asyncio`` tasks; it holds no logic of its own beyond how to send, sleep and
wait (see `_protocol.py` for the contract).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar, cast

import httpx

from ._accessors import CollectionBase, CrawlState
from ._catalog import Catalog
from ._compare import Comparison
from ._config import (
    DEFAULT_ATTEMPT_TIMEOUT,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_IN_FLIGHT,
    DEFAULT_ROWS_PER_REQUEST,
    CallOptions,
    RetryEvent,
    Settings,
    shared_ssl_context,
)
from ._crawl import Crawl, OnError
from ._diff import CatalogDiff
from ._exceptions import DjangoPackagesError
from ._guard import AsyncSharedCalls
from ._links import DEFAULT_BASE_URL
from ._lists import SearchResults
from ._models import Category, CollectionName, Grid, Link, Package, ResourceT
from ._operations import OnPage, Operations
from ._pages import Checkpoint, Page
from ._protocol import Emit, Fetch, FetchResult, Flow, Outcome, RequestFlow, Send, Sleep
from ._request import BodyReader, request_flow, settle
from ._watch import Blocking, Driven, watch_flow

__all__ = ["AsyncClient", "AsyncCollection", "AsyncPageIterator"]

T = TypeVar("T")


class AsyncPageIterator(CrawlState[ResourceT]):
    """Every row of a collection, read lazily with ``async for``; or its `pages`."""

    def __init__(self, client: AsyncClient, start: Callable[[], Crawl[Any]]) -> None:
        super().__init__(start)
        self._client = client

    async def __aiter__(self) -> AsyncIterator[ResourceT]:
        async for page in self.pages():
            for item in page.items:
                yield item

    def pages(self) -> AsyncIterator[Page[ResourceT]]:
        """The pages themselves: each has ``items``, ``offset`` and ``count``."""
        return self._client._iterate(self._new_crawl().run())


class AsyncCollection(CollectionBase[ResourceT]):
    """One collection of an `AsyncClient`; the same surface, awaited."""

    def __init__(self, client: AsyncClient, collection: CollectionName) -> None:
        super().__init__(client, collection)
        self._client = client

    async def get(
        self,
        key: int | str,
        *,
        refresh: bool = False,
        max_retries: int | None = None,
        deadline: float | None = None,
    ) -> ResourceT:
        """One resource by id or slug.

        See [`Collection.get`][djangopackages_sdk.Collection.get].
        """
        flow = self._client._get_op(
            self.collection, key, CallOptions.make(max_retries, deadline), refresh
        )
        return cast(ResourceT, await self._client._run(flow))

    def list(
        self,
        *,
        page_size: int | None = None,
        checkpoint: Checkpoint | dict[str, Any] | None = None,
        on_error: OnError = "raise",
        limit: int | None = None,
        max_retries: int | None = None,
        deadline: float | None = None,
    ) -> AsyncPageIterator[ResourceT]:
        """Every row, newest first, with ``async for``.

        See [`Collection.list`][djangopackages_sdk.Collection.list].
        """
        return AsyncPageIterator(
            self._client,
            self._starter(page_size, checkpoint, on_error, max_retries, deadline, limit),
        )


class AsyncClient(Operations):
    """An asyncio client for the Django Packages API v4.

    The same surface as [`Client`][djangopackages_sdk.Client], awaited.

    Args:
        base_url: The API root every request stays inside; default
            ``https://djangopackages.org/api/v4/``.
        http_client: Your own ``httpx.AsyncClient`` (proxies, transports, event hooks). The SDK
            never closes it, and takes its timeout unless ``timeout`` is given.
        timeout: Seconds, or an ``httpx.Timeout``, for each request; default
            connect 5 s, read 30 s.
        headers: Extra headers sent with every request.
        user_agent: Appended to the SDK's ``User-Agent`` (your bot's contact, say).
        max_retries: Retries per request after the first attempt (default 3).
        retry_backoff: Base of the exponential backoff, in seconds (default 0.5).
        retry_backoff_cap: Longest pause between two attempts, in seconds (default 8).
        retry_after_cap: Longest ``Retry-After`` honoured, in seconds (default 60);
            a longer one raises [`RateLimitedError`][djangopackages_sdk.RateLimitedError] at once.
        on_retry: Called with a [`RetryEvent`][djangopackages_sdk.RetryEvent] before each pause.
        max_in_flight: Requests under way at once (default 4).
        requests_per_second: A ceiling on the request rate; default none.
        strict: Treat fields the models do not know as payload errors.
        bulk_rows_per_request: The bulk-versus-detail rule of ``resolve_many``:
            rows one extra request is worth (default 250).
        max_age: Seconds a loaded resource keeps answering ``get``, ``resolve`` and
            ``resolve_many`` from the identity map before it is fetched again;
            default None (for ever). Set it when one client lives for hours (a bot,
            a service) and answers should not be older than that.
        max_body_bytes: Largest response body accepted, counted both as sent and
            decompressed (default 64 MiB; a one-page listing of the whole catalogue
            is about 5 MB). A larger body raises
            [`ResponseTooLargeError`][djangopackages_sdk.ResponseTooLargeError]
            without being read further.
        attempt_timeout: Longest wall-clock time, in seconds, one attempt of a request
            may take from sending to the last byte of the body (default 60), whatever
            the server does; ``timeout`` bounds each network read only. A ``deadline``
            bounds the whole call, retries and waits included.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        http_client: httpx.AsyncClient | None = None,
        timeout: httpx.Timeout | float | None = None,
        headers: Mapping[str, str] | None = None,
        user_agent: str | None = None,
        max_retries: int = 3,
        retry_backoff: float = 0.5,
        retry_backoff_cap: float = 8.0,
        retry_after_cap: float = 60.0,
        on_retry: Callable[[RetryEvent], None] | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        requests_per_second: float | None = None,
        strict: bool = False,
        bulk_rows_per_request: int = DEFAULT_ROWS_PER_REQUEST,
        max_age: float | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        attempt_timeout: float = DEFAULT_ATTEMPT_TIMEOUT,
    ) -> None:
        settings = Settings.build(
            timeout=timeout,
            headers=headers,
            user_agent=user_agent,
            max_retries=max_retries,
            retry_backoff=retry_backoff,
            retry_backoff_cap=retry_backoff_cap,
            retry_after_cap=retry_after_cap,
            on_retry=on_retry,
            max_in_flight=max_in_flight,
            requests_per_second=requests_per_second,
            bulk_rows_per_request=bulk_rows_per_request,
            max_age=max_age,
            max_body_bytes=max_body_bytes,
            attempt_timeout=attempt_timeout,
            base_url=base_url,
            strict=strict,
            http_client=http_client,
            http_type=httpx.AsyncClient,
        )
        super().__init__(base_url, settings, strict=strict)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=self.timeout, follow_redirects=False, verify=shared_ssl_context()
        )
        self._http_loop: asyncio.AbstractEventLoop | None = None
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        self._inflight: AsyncSharedCalls[FetchResult] = AsyncSharedCalls()

    # -- public surface --------------------------------------------------------------
    # (Made on access: a client that held its collections, which hold it, would
    # wait for the garbage collector to free its connections once dropped.)
    @property
    def packages(self) -> AsyncCollection[Package]:
        """The packages: ``get`` one by id or slug, ``list`` them all."""
        return AsyncCollection(self, "packages")

    @property
    def grids(self) -> AsyncCollection[Grid]:
        """The grids: ``get`` one by id or slug, ``list`` them all."""
        return AsyncCollection(self, "grids")

    @property
    def categories(self) -> AsyncCollection[Category]:
        """The categories: ``get`` one by id (or slug, from the list), ``list`` them all."""
        return AsyncCollection(self, "categories")

    async def search(
        self, query: str, *, max_retries: int | None = None, deadline: float | None = None
    ) -> SearchResults:
        """At most 20 packages and grids matching ``query``, best first (a list)."""
        return await self._run(self._search_op(query, CallOptions.make(max_retries, deadline)))

    async def resolve(
        self,
        link: Link[ResourceT],
        *,
        max_retries: int | None = None,
        deadline: float | None = None,
    ) -> ResourceT:
        """The resource behind a link: from the identity map, or fetched once."""
        return await self._run(self._resolve_op(link, CallOptions.make(max_retries, deadline)))

    async def resolve_many(
        self,
        links: Iterable[Link[ResourceT]],
        *,
        max_retries: int | None = None,
        deadline: float | None = None,
    ) -> list[ResourceT]:
        """The resources behind several links, in order, fetched concurrently."""
        return await self._run(
            self._resolve_many_op(links, CallOptions.make(max_retries, deadline))
        )

    async def catalog(
        self,
        *,
        max_retries: int | None = None,
        deadline: float | None = None,
        on_page: OnPage | None = None,
    ) -> Catalog:
        """Every package, grid and category, read concurrently, linked offline.
        ``on_page(collection, page)`` sees each page as it arrives (progress bars)."""
        return await self._run(self._catalog_op(CallOptions.make(max_retries, deadline), on_page))

    async def compare(
        self,
        grid: Grid | Link[Grid] | int | str,
        *,
        sort: str = "repo_watchers",
        now: datetime | None = None,
        max_retries: int | None = None,
        deadline: float | None = None,
    ) -> Comparison:
        """A grid's packages side by side, as ``Catalog.compare`` (three rounds of requests)."""
        return await self._run(
            self._compare_op(grid, sort, now, CallOptions.make(max_retries, deadline))
        )

    def watch(
        self,
        every: float,
        state: str | os.PathLike[str] | None = None,
        *,
        max_polls: int | None = None,
    ) -> AsyncIterator[CatalogDiff]:
        """``async for`` each change: `Client.watch` for asyncio (same arguments)."""
        return self._iterate(watch_flow(self, every, state, max_polls))

    async def aclose(self) -> None:
        """Release the connection pool (unless the httpx client was passed in) and the
        identity map; loaded models stay valid. Using the client afterwards raises
        ``RuntimeError``."""
        self._closed = True
        # An owned httpx client that served another, finished event loop cannot be
        # closed from this one: its connections ended with their loop.
        if self._owns_http and self._http_loop in (None, asyncio.get_running_loop()):
            await self._http.aclose()
        # The client and its resources reference each other: without this, a closed
        # client's whole identity map would wait for a full garbage collection.
        self.clear_cache()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<AsyncClient {self.base_url}>"

    # -- the driver --------------------------------------------------------------------
    async def _run(self, flow: Flow[T]) -> T:
        flow = self._guarded(flow)
        reply: list[FetchResult] | None = None
        while True:
            try:
                fetch = flow.send(reply)  # type: ignore[arg-type]
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            reply = await self._fetch_all(fetch)

    async def _iterate(self, flow: Driven[T]) -> AsyncIterator[T]:
        flow = self._guarded(flow)
        reply: Any = None
        while True:
            try:
                action = flow.send(reply)
            except StopIteration:
                return
            reply = None
            if isinstance(action, Emit):
                yield action.value
            elif isinstance(action, Sleep):
                await asyncio.sleep(action.seconds)
            elif isinstance(action, Blocking):
                reply = await asyncio.to_thread(action.function)
            else:
                reply = await self._fetch_all(action)

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
        outcome: Outcome | None = None
        while True:
            try:
                action = flow.send(outcome)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            if isinstance(action, Sleep):
                await asyncio.sleep(action.seconds)
                outcome = None
            else:
                outcome = await self._attempt(action)

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
