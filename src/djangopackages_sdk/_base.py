"""What ``Client`` and ``AsyncClient`` share: configuration, the identity map and
every operation (lookup, search, resolution planning, catalogue), written once
as fetch-yielding flows (see ``_core.py``). The clients add only the I/O."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, TypeVar, cast
from urllib.parse import quote

import httpx

from ._catalog import Catalog
from ._convert import Converter, get_converter
from ._core import (
    DEFAULT_TIMEOUT,
    CallOptions,
    Emit,
    Fetch,
    FetchResult,
    Flow,
    RateLimiter,
    RetryEvent,
    RetryPolicy,
    Settings,
    default_user_agent,
    fetch_one,
    gather,
)
from ._exceptions import DjangoPackagesError, NotFoundError, PayloadError
from ._links import COLLECTIONS, DEFAULT_BASE_URL, ApiRoot, Collection
from ._models import Category, Grid, Link, Package, SearchResult
from ._pagination import Checkpoint, Crawl, OnError

M = TypeVar("M", Package, Grid, Category)
Resource = Package | Grid | Category

MODEL_OF: Final[dict[str, type[Package] | type[Grid] | type[Category]]] = {
    "packages": Package,
    "grids": Grid,
    "categories": Category,
}
DEFAULT_MAX_IN_FLIGHT: Final = 4
DEFAULT_ROWS_PER_REQUEST: Final = 250


class ClientBase:
    """Configuration, identity map and operations shared by both clients."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
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
        http_timeout: httpx.Timeout | None = None,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        if bulk_rows_per_request < 1:
            raise ValueError("bulk_rows_per_request must be at least 1")
        self.root = ApiRoot.parse(base_url)
        self.converter: Converter = get_converter(strict)
        if timeout is None:
            resolved_timeout = http_timeout if http_timeout is not None else DEFAULT_TIMEOUT
        else:
            resolved_timeout = (
                timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
            )
        all_headers = {"Accept": "application/json", "User-Agent": default_user_agent(user_agent)}
        all_headers.update(headers or {})
        self._settings = Settings(
            retry=RetryPolicy(max_retries, retry_backoff, retry_backoff_cap, retry_after_cap),
            max_in_flight=max_in_flight,
            limiter=RateLimiter(requests_per_second) if requests_per_second else None,
            on_retry=on_retry,
            headers=all_headers,
            timeout=resolved_timeout,
        )
        self.bulk_rows_per_request = bulk_rows_per_request
        self._identity: dict[str, Resource] = {}
        self._slugs: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}
        self._identity_lock = threading.Lock()

    @property
    def base_url(self) -> str:
        """The API root every request stays inside."""
        return self.root.url

    @property
    def timeout(self) -> httpx.Timeout:
        """The timeout applied to each request (connect 5 s, read 30 s by default)."""
        return self._settings.timeout

    @property
    def user_agent(self) -> str:
        """The ``User-Agent`` header sent with each request."""
        return self._settings.headers["User-Agent"]

    # -- the identity map --------------------------------------------------------------
    def cached(self, link: Link[M]) -> M | None:
        """The resource behind ``link`` if this client already loaded it, else None."""
        return cast("M | None", self._identity.get(link.url))

    @property
    def cache_size(self) -> int:
        """How many resources the identity map holds."""
        return len(self._identity)

    def clear_cache(self) -> None:
        """Forget every loaded resource, so the next lookups fetch fresh data."""
        with self._identity_lock:
            self._identity.clear()
            self._slugs.clear()
            self._counts.clear()

    def _store(self, item: Any) -> Any:
        """Put a loaded resource in the identity map and return the instance to use."""
        (kept,) = self._store_many([item])
        return kept

    def _store_many(self, items: list[Any]) -> list[Any]:
        """Put loaded resources (of one collection) in the identity map.

        Returns the instances to use: an equal instance already there is kept (so
        callers that raced for the same URL share one object); a changed one is
        replaced (fresher data wins).
        """
        if not items:
            return items
        collection = _collection_of(items[0])
        prefix = self.root.collection_url(collection)
        identity = self._identity
        slugs = None if collection == "categories" else self._slugs
        kept = []
        with self._identity_lock:
            for item in items:
                url = f"{prefix}{item.id}/"
                known = identity.get(url)
                if known is not None and known == item:
                    kept.append(known)
                    continue
                identity[url] = item
                if slugs is not None:
                    slugs[(collection, item.slug)] = url
                kept.append(item)
        return kept

    def _note_count(self, collection: str) -> Callable[[int], None]:
        def note(count: int) -> None:
            self._counts[collection] = count

        return note

    # -- operations ----------------------------------------------------------------------
    def _crawl(
        self,
        collection: Collection,
        *,
        page_size: int | None,
        checkpoint: Checkpoint | None,
        on_error: OnError,
        options: CallOptions,
        expected_rows: int | None = None,
    ) -> Crawl[Any]:
        if expected_rows is None:
            # A count this client read before is a good guess of the size: the
            # crawl then reads every row in its first round.
            expected_rows = self._counts.get(collection, 0)
        return Crawl(
            root=self.root,
            collection=collection,
            model=MODEL_OF[collection],
            converter=self.converter,
            store=self._store_many,
            max_in_flight=self._settings.max_in_flight,
            page_size=page_size,
            checkpoint=checkpoint,
            on_error=on_error,
            options=options,
            on_count=self._note_count(collection),
            default_retries=self._settings.retry.max_retries,
            expected_rows=expected_rows,
        )

    def _get_op(self, collection: Collection, key: int | str, options: CallOptions) -> Flow[Any]:
        if isinstance(key, bool) or not isinstance(key, int | str):
            raise TypeError(f"look up by int id or str slug, not {type(key).__name__}")
        if isinstance(key, str) and not key:
            raise ValueError("an empty slug matches nothing")
        resource_id = _as_id(key)
        if resource_id is not None:
            url = self.root.resource_url(collection, resource_id)
            hit = self._identity.get(url)
            if hit is not None:
                return hit
            return (yield from self._load(url, options))
        if collection == "categories":
            # The API finds categories by id only: look the slug up in the short list,
            # or in the identity map when it already holds every category.
            local = self._category_by_slug(str(key))
            if local is not None:
                return local
            items = yield from collect(
                self._crawl(
                    collection, page_size=None, checkpoint=None, on_error="raise", options=options
                )
            )
            matches = sorted((c for c in items if c.slug == key), key=lambda c: c.id)
            if not matches:
                raise NotFoundError(
                    self.root.collection_url(collection), f"no category with slug {key!r}"
                )
            return matches[0]
        known = self._slugs.get((collection, str(key)))
        if known is not None and known in self._identity:
            return self._identity[known]
        return (yield from self._load(self.root.detail_url(collection, key), options))

    def _category_by_slug(self, slug: str) -> Category | None:
        prefix = self.root.collection_url("categories")
        known = [item for url, item in list(self._identity.items()) if url.startswith(prefix)]
        if len(known) != self._counts.get("categories"):
            return None
        matches = sorted((c for c in known if c.slug == slug), key=lambda c: c.id)
        return matches[0] if matches else None  # type: ignore[return-value]

    def _load(self, url: str, options: CallOptions) -> Flow[Any]:
        (item,) = yield from self._load_many([url], options)
        return item

    def _search_op(self, query: str, options: CallOptions) -> Flow[list[SearchResult]]:
        if not isinstance(query, str):
            raise TypeError("search takes a str query")
        url = f"{self.root.url}search/?q={quote(query, safe='')}"
        data = yield from fetch_one(url, options)
        if type(data) is not list:
            raise PayloadError(url, "search must answer a JSON array", path="$")
        structure = self.converter.structure
        return [
            structure(item, SearchResult, url=url, path=f"$[{i}]") for i, item in enumerate(data)
        ]

    def _resolve_op(self, link: Link[M], options: CallOptions) -> Flow[M]:
        (item,) = yield from self._resolve_many_op([link], options)
        return item

    def _resolve_many_op(self, links: Iterable[Link[M]], options: CallOptions) -> Flow[list[M]]:
        wanted = list(links)
        missing: dict[str, dict[str, Link[Any]]] = {}
        checked: set[str] = set()
        for link in wanted:
            if not isinstance(link, Link):
                raise TypeError(f"resolve takes Link values, not {type(link).__name__}")
            if link.url in checked:
                continue
            checked.add(link.url)
            self.root.check(link.url)  # no request leaves for a foreign link
            if link.url not in self._identity:
                missing.setdefault(link.collection, {})[link.url] = link
        if missing:
            yield from self._fill(missing, options)
        return [cast("M", self._identity[link.url]) for link in wanted]

    def plan(self, collection: str, missing: int) -> str:
        """How ``resolve_many`` fetches ``missing`` unloaded links of one collection.

        * ``"bulk"``: list the whole collection (which also fills the identity
          map) when one detail request per link would cost more than listing:
          ``missing >= 2`` and ``missing > 1 + count / bulk_rows_per_request``, a
          detail request being worth about ``bulk_rows_per_request`` listed rows
          (250: 50 ms of latency against 0.2 ms of server time per row).
        * ``"detail"``: one detail request per link (concurrent), when that is
          cheaper, and for a single link whose collection size is unknown.
        * ``"list-first"``: the collection's size is unknown and several links
          are missing: read the listing's first page, which reveals ``count``
          and may hold them all, then plan again for the rest.
        """
        count = self._counts.get(collection)
        if count is None:
            return "list-first" if missing >= 2 else "detail"
        return (
            "bulk"
            if missing >= 2 and missing > 1 + count / self.bulk_rows_per_request
            else "detail"
        )

    def _fill(self, missing: dict[str, dict[str, Link[Any]]], options: CallOptions) -> Flow[None]:
        yield from gather(
            [
                self._fetch_links(collection, list(urls), options)
                for collection, urls in missing.items()
            ]
        )
        # A listing can miss a link (deleted since, or a row it skipped): fetch those directly.
        leftovers = [url for urls in missing.values() for url in urls if url not in self._identity]
        if leftovers:
            yield from self._load_many(leftovers, options)

    def _fetch_links(self, collection: str, urls: list[str], options: CallOptions) -> Flow[None]:
        """Load the resources behind ``urls`` (one collection) by the plan of :meth:`plan`."""
        decision = self.plan(collection, len(urls))
        if decision == "detail":
            yield from self._load_many(urls, options)
            return
        # A row the listing cannot read only matters if it is one of the links:
        # those are fetched again one by one afterwards, and raise there. The first
        # round reads, along with the first page, as many rows as a count read
        # earlier says there are, or else twice as many as there are distinct links
        # (linked rows are spread over the collection; slices past its end come
        # back empty at no cost), so that most collections take one round.
        crawl = self._crawl(
            cast(Collection, collection),
            page_size=None,
            checkpoint=None,
            on_error="skip",
            options=options,
            expected_rows=self._counts.get(collection) or 2 * len(urls),
        )
        by_detail: list[str] = []

        def replan(rounds: int) -> bool:
            # After the first round `count` is known: plan again for the links left.
            if decision != "list-first" or rounds != 1:
                return False
            still = [url for url in urls if url not in self._identity]
            if still and self.plan(collection, len(still)) == "bulk":
                return False
            by_detail.extend(still)
            return True

        yield from collect(crawl, stop=replan)
        if by_detail:
            yield from self._load_many(by_detail, options)

    def _load_many(self, urls: list[str], options: CallOptions) -> Flow[list[Any]]:
        """Fetch detail URLs concurrently; each is structured and stored on arrival."""
        results = yield Fetch.parsed(tuple(urls), options, self._parse_resource)
        for result in results:
            if isinstance(result, DjangoPackagesError):
                raise result
        return results

    def _parse_resource(self, url: str, data: Any) -> Any:
        """Structure a detail body and store it (runs inside the shared fetch, so that
        callers coalesced on one URL never see it missing from the identity map)."""
        collection, key = url.rstrip("/").rsplit("/", 2)[-2:]
        item = self.converter.structure(data, MODEL_OF[collection], url=url)
        if _as_id(key) not in (None, item.id):
            raise PayloadError(url, f"asked for {url} but got id {item.id}", path="$.id")
        return self._store(item)

    def _catalog_op(self, options: CallOptions) -> Flow[Catalog]:
        crawls = [
            self._crawl(c, page_size=None, checkpoint=None, on_error="raise", options=options)
            for c in COLLECTIONS
        ]
        packages, grids, categories = yield from gather([collect(c) for c in crawls])
        return Catalog(self.root.url, tuple(packages), tuple(grids), tuple(categories))


def collect(crawl: Crawl[Any], stop: Callable[[int], bool] | None = None) -> Flow[list[Any]]:
    """Run a crawl and return its rows, in order.

    ``stop(rounds)``, asked before each round of requests after the first
    (``rounds`` counts those already made), ends the crawl early when it says so.
    """
    flow = crawl.run()
    items: list[Any] = []
    reply: list[FetchResult] | None = None
    rounds = 0
    while True:
        try:
            action = flow.send(reply)
        except StopIteration:
            return items
        if isinstance(action, Emit):
            items.extend(action.value.items)
            reply = None
            continue
        if rounds and stop is not None and stop(rounds):
            flow.close()
            return items
        rounds += 1
        reply = yield action


def _as_id(key: int | str) -> int | None:
    if isinstance(key, int):
        return key
    return int(key) if key.isascii() and key.isdigit() else None


def _collection_of(item: Resource) -> str:
    if isinstance(item, Package):
        return "packages"
    if isinstance(item, Grid):
        return "grids"
    return "categories"
