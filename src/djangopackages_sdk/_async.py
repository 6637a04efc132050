"""``AsyncClient``: the asyncio client's public surface.

Each method builds a shared flow (`_operations.py`, `_relations.py`, `_crawl.py`)
and hands it to `AsyncDriver` (`_async_io.py`), which performs its I/O with
``await`` and ``asyncio`` tasks; nothing here holds logic of its own (see
`_protocol.py` for the contract).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, Self, cast

import httpx

from ._accessors import CollectionBase, CrawlState
from ._async_io import AsyncDriver
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
)
from ._crawl import Crawl, OnError
from ._diff import CatalogDiff
from ._links import DEFAULT_BASE_URL
from ._lists import SearchResults
from ._models import Category, CollectionName, Grid, Link, Package, ResourceT
from ._operations import OnPage
from ._pages import Checkpoint, Page
from ._watch import watch_flow

__all__ = ["AsyncClient", "AsyncCollection", "AsyncPageIterator"]


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
        flow = self._get(key, refresh, max_retries, deadline)
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


class AsyncClient(AsyncDriver):
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
        super().__init__(base_url, settings, strict=strict, http_client=http_client)

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
        self._closing()
        await self._close_http()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
