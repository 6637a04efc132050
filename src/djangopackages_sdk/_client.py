"""``Client`` and ``AsyncClient``: thin I/O drivers over the shared core.

Each client drives the same flows (``_base.py``, ``_pagination.py``,
``_core.py``): the sync one with blocking calls and a small thread pool for
concurrent fetches, the async one with ``await`` and ``asyncio`` tasks. Neither
holds any logic of its own beyond how to send, sleep and wait.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import (
    AsyncIterator,
    Callable,
    Coroutine,
    Hashable,
    Iterable,
    Iterator,
    Mapping,
)
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, Generic, Self, TypeVar, cast

import attrs
import httpx

from ._base import DEFAULT_MAX_IN_FLIGHT, DEFAULT_ROWS_PER_REQUEST, ClientBase
from ._catalog import Catalog
from ._core import (
    CallOptions,
    Emit,
    Fetch,
    FetchResult,
    Flow,
    RequestFlow,
    RetryEvent,
    Sleep,
    request_flow,
    settle,
    shared_ssl_context,
)
from ._exceptions import DjangoPackagesError
from ._links import DEFAULT_BASE_URL, Collection
from ._models import Category, Grid, Link, Package, SearchResult
from ._pagination import Checkpoint, Crawl, CrawlFlow, OnError, Page, SkippedRows

__all__ = [
    "AsyncClient",
    "AsyncPageIterator",
    "AsyncResource",
    "Client",
    "PageIterator",
    "Resource",
]

T = TypeVar("T")
M = TypeVar("M", Package, Grid, Category)


@attrs.define
class _SharedFetch:
    """One in-flight fetch of the async client and how many callers await it."""

    task: asyncio.Task[FetchResult]
    waiters: int = 0


class _CrawlState(Generic[M]):
    """What both page iterators report about their most recent crawl."""

    def __init__(self, start: Callable[[], Crawl[Any]]) -> None:
        self._start: Callable[[], Crawl[Any]] = start
        self._crawl: Crawl[M] | None = None

    def _new_crawl(self) -> Crawl[M]:
        self._crawl = self._start()
        return self._crawl

    @property
    def count(self) -> int | None:
        """The collection's size from the first page (None before iteration starts)."""
        return self._crawl.count if self._crawl else None

    @property
    def count_changed(self) -> tuple[int, int] | None:
        """``(count at start, latest count)`` if the collection changed size mid-crawl."""
        return self._crawl.count_changed if self._crawl else None

    @property
    def skipped(self) -> tuple[SkippedRows, ...]:
        """Rows the crawl could not read (offsets and errors)."""
        return tuple(self._crawl.skipped) if self._crawl else ()

    @property
    def checkpoint(self) -> Checkpoint | None:
        """Where to resume with ``list(checkpoint=...)`` (None before iteration starts)."""
        return self._crawl.checkpoint if self._crawl else None

    @property
    def requests(self) -> int:
        """List requests the crawl has made so far."""
        return self._crawl.requests if self._crawl else 0


class PageIterator(_CrawlState[M]):
    """Every row of a collection, read lazily; iterate it or its :meth:`pages`.

    Each iteration starts a new crawl; the properties describe the latest one.
    """

    def __init__(self, client: Client, start: Callable[[], Crawl[Any]]) -> None:
        super().__init__(start)
        self._client = client

    def __iter__(self) -> Iterator[M]:
        for page in self.pages():
            yield from page.items

    def pages(self) -> Iterator[Page[M]]:
        """The pages themselves: each has ``items``, ``offset`` and ``count``."""
        return self._client._iterate(self._new_crawl().run())


class AsyncPageIterator(_CrawlState[M]):
    """Every row of a collection, read lazily with ``async for``; or its :meth:`pages`."""

    def __init__(self, client: AsyncClient, start: Callable[[], Crawl[Any]]) -> None:
        super().__init__(start)
        self._client = client

    async def __aiter__(self) -> AsyncIterator[M]:
        async for page in self.pages():
            for item in page.items:
                yield item

    def pages(self) -> AsyncIterator[Page[M]]:
        """The pages themselves: each has ``items``, ``offset`` and ``count``."""
        return self._client._iterate(self._new_crawl().run())


class _ResourceBase(Generic[M]):
    def __init__(self, client: ClientBase, collection: Collection) -> None:
        self._base = client
        self.collection = collection

    def _starter(
        self,
        page_size: int | None,
        checkpoint: Checkpoint | dict[str, Any] | None,
        on_error: OnError,
        max_retries: int | None,
        deadline: float | None,
    ) -> Callable[[], Crawl[M]]:
        if isinstance(checkpoint, dict):
            checkpoint = Checkpoint.from_dict(checkpoint)
        options = CallOptions.make(max_retries, None)

        def start() -> Crawl[M]:
            call = options if deadline is None else CallOptions.make(max_retries, deadline)
            return self._base._crawl(
                self.collection,
                page_size=page_size,
                checkpoint=checkpoint,
                on_error=on_error,
                options=call,
            )

        start()  # check the arguments now, not at first iteration
        return start

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._base.root.collection_url(self.collection)}>"


class Resource(_ResourceBase[M]):
    """One collection (``client.packages``, ``client.grids``, ``client.categories``)."""

    def __init__(self, client: Client, collection: Collection) -> None:
        super().__init__(client, collection)
        self._client = client

    def get(
        self, key: int | str, *, max_retries: int | None = None, deadline: float | None = None
    ) -> M:
        """One resource by id (``1867``, ``"1867"``) or slug (``"django-otp"``).

        Categories are found by id only; a category slug is looked up in the
        (short) category list. Answers from the identity map when it can.
        """
        flow = self._client._get_op(self.collection, key, CallOptions.make(max_retries, deadline))
        return cast(M, self._client._run(flow))

    def list(
        self,
        *,
        page_size: int | None = None,
        checkpoint: Checkpoint | dict[str, Any] | None = None,
        on_error: OnError = "raise",
        max_retries: int | None = None,
        deadline: float | None = None,
    ) -> PageIterator[M]:
        """Every row, newest first, read lazily in planned concurrent pages.

        ``page_size`` fixes the rows per request (default: a small first page,
        then a few large slices); ``checkpoint`` resumes an earlier crawl;
        ``on_error="skip"`` records unreadable rows in ``.skipped`` instead of
        raising :class:`IncompleteCrawlError` at the end.
        """
        return PageIterator(
            self._client, self._starter(page_size, checkpoint, on_error, max_retries, deadline)
        )


class AsyncResource(_ResourceBase[M]):
    """One collection of an :class:`AsyncClient`; the same surface, awaited."""

    def __init__(self, client: AsyncClient, collection: Collection) -> None:
        super().__init__(client, collection)
        self._client = client

    async def get(
        self, key: int | str, *, max_retries: int | None = None, deadline: float | None = None
    ) -> M:
        """One resource by id or slug (see :meth:`Resource.get`)."""
        flow = self._client._get_op(self.collection, key, CallOptions.make(max_retries, deadline))
        return cast(M, await self._client._run(flow))

    def list(
        self,
        *,
        page_size: int | None = None,
        checkpoint: Checkpoint | dict[str, Any] | None = None,
        on_error: OnError = "raise",
        max_retries: int | None = None,
        deadline: float | None = None,
    ) -> AsyncPageIterator[M]:
        """Every row, newest first, with ``async for`` (see :meth:`Resource.list`)."""
        return AsyncPageIterator(
            self._client, self._starter(page_size, checkpoint, on_error, max_retries, deadline)
        )


class Client(ClientBase):
    """A synchronous client for the Django Packages API v4; safe to share between threads.

    Args:
        base_url: The API root every request stays inside; default
            ``https://djangopackages.org/api/v4/``.
        http_client: Your own ``httpx.Client`` (proxies, transports, event hooks). The SDK
            never closes it, and takes its timeout unless ``timeout`` is given.
        timeout: Seconds, or an ``httpx.Timeout``, for each request; default
            connect 5 s, read 30 s.
        headers: Extra headers sent with every request.
        user_agent: Appended to the SDK's ``User-Agent`` (your bot's contact, say).
        max_retries: Retries per request after the first attempt (default 3).
        retry_backoff: Base of the exponential backoff, in seconds (default 0.5).
        retry_backoff_cap: Longest pause between two attempts, in seconds (default 8).
        retry_after_cap: Longest ``Retry-After`` honoured, in seconds (default 60);
            a longer one raises ``RateLimitedError`` at once.
        on_retry: Called with a ``RetryEvent`` before each pause.
        max_in_flight: Requests under way at once (default 4).
        requests_per_second: A ceiling on the request rate; default none.
        strict: Treat fields the models do not know as payload errors.
        bulk_rows_per_request: The bulk-versus-detail rule of ``resolve_many``:
            rows one extra request is worth (default 250).
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        http_client: httpx.Client | None = None,
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
    ) -> None:
        super().__init__(
            base_url,
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
            strict=strict,
            bulk_rows_per_request=bulk_rows_per_request,
            http_timeout=http_client.timeout if http_client else None,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            timeout=self.timeout, follow_redirects=False, verify=shared_ssl_context()
        )
        self._slots = threading.BoundedSemaphore(self._settings.max_in_flight)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._inflight: dict[Hashable, Future[FetchResult]] = {}
        self._inflight_lock = threading.Lock()
        self.packages: Resource[Package] = Resource(self, "packages")
        self.grids: Resource[Grid] = Resource(self, "grids")
        self.categories: Resource[Category] = Resource(self, "categories")

    # -- public surface --------------------------------------------------------------
    def search(
        self, query: str, *, max_retries: int | None = None, deadline: float | None = None
    ) -> list[SearchResult]:
        """At most 20 packages and grids matching ``query``, best first."""
        return self._run(self._search_op(query, CallOptions.make(max_retries, deadline)))

    def resolve(
        self, link: Link[M], *, max_retries: int | None = None, deadline: float | None = None
    ) -> M:
        """The resource behind a link: from the identity map, or fetched once."""
        return self._run(self._resolve_op(link, CallOptions.make(max_retries, deadline)))

    def resolve_many(
        self,
        links: Iterable[Link[M]],
        *,
        max_retries: int | None = None,
        deadline: float | None = None,
    ) -> list[M]:
        """The resources behind several links, in the same order, fetched in the cheapest plan."""
        return self._run(self._resolve_many_op(links, CallOptions.make(max_retries, deadline)))

    def catalog(self, *, max_retries: int | None = None, deadline: float | None = None) -> Catalog:
        """Every package, grid and category, read concurrently, linked offline."""
        return self._run(self._catalog_op(CallOptions.make(max_retries, deadline)))

    def close(self) -> None:
        """Release the connection pool (unless the httpx client was passed in), the
        thread pool and the identity map; loaded models stay valid."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._owns_http:
            self._http.close()
        # The client and its resources reference each other: without this, a closed
        # client's whole identity map would wait for a full garbage collection.
        self.clear_cache()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Client {self.base_url}>"

    # -- the driver --------------------------------------------------------------------
    def _run(self, flow: Flow[T]) -> T:
        reply: list[FetchResult] | None = None
        while True:
            try:
                fetch = flow.send(reply)  # type: ignore[arg-type]
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            reply = self._fetch_all(fetch)

    def _iterate(self, flow: CrawlFlow[M]) -> Iterator[Page[M]]:
        reply: list[FetchResult] | None = None
        while True:
            try:
                action = flow.send(reply)
            except StopIteration:
                return
            if isinstance(action, Emit):
                reply = None
                yield action.value
            else:
                reply = self._fetch_all(action)

    def _fetch_all(self, fetch: Fetch) -> list[FetchResult]:
        if len(fetch.urls) == 1:
            return [self._fetch_and_finish(fetch, 0)]
        pool = self._executor()
        futures = [pool.submit(self._fetch_and_finish, fetch, i) for i in range(len(fetch.urls))]
        return [future.result() for future in futures]

    def _fetch_and_finish(self, fetch: Fetch, index: int) -> FetchResult:
        # Two levels of sharing: callers of one URL share its request; callers that
        # also share the parser share the parsing, and wait until it is complete.
        url, parser = fetch.urls[index], fetch.parser(index)
        return self._shared(
            (url, parser),
            lambda: settle(
                fetch, index, self._shared(url, lambda: self._fetch_now(url, fetch.options))
            ),
        )

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    self._settings.max_in_flight, thread_name_prefix="djangopackages-sdk"
                )
            return self._pool

    def _shared(self, key: Hashable, compute: Callable[[], FetchResult]) -> FetchResult:
        """Run ``compute`` once for every thread asking for ``key`` meanwhile."""
        with self._inflight_lock:
            shared = self._inflight.get(key)
            if shared is None:
                mine: Future[FetchResult] = Future()
                self._inflight[key] = mine
        if shared is not None:
            return shared.result()
        try:
            result = compute()
        except BaseException as exc:
            mine.set_exception(exc)
            raise
        else:
            mine.set_result(result)
        finally:
            with self._inflight_lock:
                del self._inflight[key]
        return result

    def _fetch_now(self, url: str, options: CallOptions) -> httpx.Response | DjangoPackagesError:
        try:
            return self._send(request_flow(self._http, self._settings, url, options))
        except DjangoPackagesError as error:
            return error

    def _send(self, flow: RequestFlow) -> httpx.Response:
        outcome: httpx.Response | Exception | None = None
        while True:
            try:
                action = flow.send(outcome)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            if isinstance(action, Sleep):
                time.sleep(action.seconds)
                outcome = None
                continue
            try:
                with self._slots:
                    outcome = self._http.send(action.request)
            except httpx.HTTPError as exc:
                outcome = exc


class AsyncClient(ClientBase):
    """An asyncio client for the Django Packages API v4: the same surface as `Client`, awaited.

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
            a longer one raises ``RateLimitedError`` at once.
        on_retry: Called with a ``RetryEvent`` before each pause.
        max_in_flight: Requests under way at once (default 4).
        requests_per_second: A ceiling on the request rate; default none.
        strict: Treat fields the models do not know as payload errors.
        bulk_rows_per_request: The bulk-versus-detail rule of ``resolve_many``:
            rows one extra request is worth (default 250).
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
    ) -> None:
        super().__init__(
            base_url,
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
            strict=strict,
            bulk_rows_per_request=bulk_rows_per_request,
            http_timeout=http_client.timeout if http_client else None,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=self.timeout, follow_redirects=False, verify=shared_ssl_context()
        )
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        self._inflight: dict[Hashable, _SharedFetch] = {}
        self.packages: AsyncResource[Package] = AsyncResource(self, "packages")
        self.grids: AsyncResource[Grid] = AsyncResource(self, "grids")
        self.categories: AsyncResource[Category] = AsyncResource(self, "categories")

    # -- public surface --------------------------------------------------------------
    async def search(
        self, query: str, *, max_retries: int | None = None, deadline: float | None = None
    ) -> list[SearchResult]:
        """At most 20 packages and grids matching ``query``, best first."""
        return await self._run(self._search_op(query, CallOptions.make(max_retries, deadline)))

    async def resolve(
        self, link: Link[M], *, max_retries: int | None = None, deadline: float | None = None
    ) -> M:
        """The resource behind a link: from the identity map, or fetched once."""
        return await self._run(self._resolve_op(link, CallOptions.make(max_retries, deadline)))

    async def resolve_many(
        self,
        links: Iterable[Link[M]],
        *,
        max_retries: int | None = None,
        deadline: float | None = None,
    ) -> list[M]:
        """The resources behind several links, in order, fetched concurrently."""
        return await self._run(
            self._resolve_many_op(links, CallOptions.make(max_retries, deadline))
        )

    async def catalog(
        self, *, max_retries: int | None = None, deadline: float | None = None
    ) -> Catalog:
        """Every package, grid and category, read concurrently, linked offline."""
        return await self._run(self._catalog_op(CallOptions.make(max_retries, deadline)))

    async def aclose(self) -> None:
        """Release the connection pool (unless the httpx client was passed in) and the
        identity map; loaded models stay valid."""
        if self._owns_http:
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
        reply: list[FetchResult] | None = None
        while True:
            try:
                fetch = flow.send(reply)  # type: ignore[arg-type]
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            reply = await self._fetch_all(fetch)

    async def _iterate(self, flow: CrawlFlow[M]) -> AsyncIterator[Page[M]]:
        reply: list[FetchResult] | None = None
        while True:
            try:
                action = flow.send(reply)
            except StopIteration:
                return
            if isinstance(action, Emit):
                reply = None
                yield action.value
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
            outcome = await self._shared(url, lambda: self._fetch_now(url, fetch.options))
            return settle(fetch, index, outcome)

        return await self._shared((url, parser), fetch_and_parse)

    async def _shared(
        self, key: Hashable, start: Callable[[], Coroutine[Any, Any, FetchResult]]
    ) -> FetchResult:
        """Await one task for every caller asking for ``key`` meanwhile.

        A caller cancelled mid-request leaves the task to the others; when the last
        one leaves, the task is cancelled too, so neither a connection nor an
        in-flight slot is held for nobody.
        """
        shared = self._inflight.get(key)
        if shared is None or shared.task.get_loop() is not asyncio.get_running_loop():
            task = asyncio.ensure_future(start())
            shared = self._inflight[key] = _SharedFetch(task)
            task.add_done_callback(lambda done: self._forget(key, done))
        shared.waiters += 1
        try:
            return await asyncio.shield(shared.task)
        except asyncio.CancelledError:
            if shared.waiters == 1 and not shared.task.done():
                shared.task.cancel()
                if self._inflight.get(key) is shared:
                    del self._inflight[key]
            raise
        finally:
            shared.waiters -= 1

    def _forget(self, key: Hashable, task: asyncio.Task[FetchResult]) -> None:
        shared = self._inflight.get(key)
        if shared is not None and shared.task is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # mark it retrieved even if every awaiter was cancelled

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
        outcome: httpx.Response | Exception | None = None
        while True:
            try:
                action = flow.send(outcome)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            if isinstance(action, Sleep):
                await asyncio.sleep(action.seconds)
                outcome = None
                continue
            try:
                async with self._semaphore():
                    outcome = await self._http.send(action.request)
            except httpx.HTTPError as exc:
                outcome = exc
