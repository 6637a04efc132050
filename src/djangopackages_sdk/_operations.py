"""The core of both clients, written once as fetch-yielding flows.

`Operations` holds a client's configuration, its identity map and the flows
of lookup, search and the catalogue. `Relations` (`_relations.py`) adds relation
resolution (with its request plan) and the comparison, `Driver` (`_driver.py`)
what the two drivers share; `Client` and `AsyncClient` inherit that and add only
the I/O that drives the flows (see `_protocol.py`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator
from typing import Any, TypeVar, cast
from urllib.parse import quote

import httpx

from ._catalog import Catalog
from ._config import (
    CallOptions,
    Settings,
)
from ._convert import Converter, get_converter
from ._crawl import Crawl, OnError
from ._exceptions import DjangoPackagesError, NotFoundError, PayloadError
from ._identity import IdentityMap
from ._links import ApiRoot
from ._lists import SearchResults
from ._models import (
    Category,
    CollectionName,
    Grid,
    Link,
    Package,
    Resource,
    ResourceT,
    SearchResult,
)
from ._pages import Checkpoint, Page
from ._protocol import Emit, Fetch, Flow, collect, fetch_one, gather
from ._registry import BY_COLLECTION, COLLECTIONS, as_id, collection_of, model_of

__all__ = ["OnPage", "Operations"]

T = TypeVar("T")
OnPage = Callable[[CollectionName, Page[Any]], None]
"""``catalog(on_page=...)``: called with each page of each collection as it arrives."""


class Operations:
    """Configuration, identity map and operations shared by both clients."""

    def __init__(self, base_url: str, settings: Settings, *, strict: bool) -> None:
        self._settings = settings
        self.root = ApiRoot.parse(base_url)
        self.converter: Converter = get_converter(strict)
        self._identity = IdentityMap(settings.max_age)
        self._answered = False
        """Has a call of this client succeeded yet? (Until then, a payload of the
        wrong shape more likely means a wrong base_url than a broken server.)"""
        self._closed = False

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

    @property
    def bulk_rows_per_request(self) -> int:
        """Rows one extra request is worth, in `plan`'s bulk-versus-detail rule."""
        return self._settings.bulk_rows_per_request

    # -- the identity map --------------------------------------------------------------
    def cached(self, link: Link[ResourceT]) -> ResourceT | None:
        """The resource behind ``link`` if this client already loaded it, else None."""
        if not self.root.contains(link.url):
            return None
        return cast("ResourceT | None", self._identity.get(link.collection, link.id))

    @property
    def cache_size(self) -> int:
        """How many resources the identity map holds."""
        return len(self._identity)

    def clear_cache(self) -> None:
        """Forget every loaded resource, so the next lookups fetch fresh data."""
        self._identity.clear()

    def forget(self, item_or_link: Resource | Link[Any]) -> None:
        """Drop one resource from the identity map, so its next lookup asks the server.

        Takes the resource itself or a link to it; forgetting what the map does not
        hold does nothing.
        """
        if isinstance(item_or_link, Link):
            self._identity.forget(item_or_link.collection, item_or_link.id)
        elif isinstance(item_or_link, Package | Grid | Category):
            self._identity.forget(collection_of(item_or_link), item_or_link.id)
        else:
            raise TypeError(
                "item_or_link must be a Package, Grid, Category or Link, "
                f"not {type(item_or_link).__name__}"
            )

    # -- what every call goes through -------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"this {type(self).__name__} is closed; make a new one")

    def _guarded(self, flow: Generator[Any, Any, T]) -> Generator[Any, Any, T]:
        """Run ``flow`` for a caller: on a client that has not answered yet, a payload
        of the wrong shape says that ``base_url`` may be wrong."""
        self._check_open()
        reply: Any = None
        while True:
            try:
                action = flow.send(reply)
            except StopIteration as stop:
                self._answered = True
                return stop.value  # type: ignore[no-any-return]
            except PayloadError as error:
                if not self._answered and "base_url" not in error.message:
                    error.message += (
                        f" (the first answer of this client: is base_url {self.root.url!r} "
                        "the API v4 root, such as https://djangopackages.org/api/v4/?)"
                    )
                raise
            if isinstance(action, Emit):
                self._answered = True
            reply = yield action

    # -- operations ----------------------------------------------------------------------
    def _crawl(
        self,
        collection: CollectionName,
        *,
        page_size: int | None,
        checkpoint: Checkpoint | None,
        on_error: OnError,
        options: CallOptions,
        expected_rows: int = 0,
        limit: int | None = None,
    ) -> Crawl[Any]:
        return Crawl(
            root=self.root,
            collection=collection,
            model=model_of(collection),
            converter=self.converter,
            store=self._identity.store_many,
            max_in_flight=self._settings.max_in_flight,
            page_size=page_size,
            checkpoint=checkpoint,
            on_error=on_error,
            options=options,
            on_count=functools.partial(self._identity.note_count, collection),
            default_retries=self._settings.retry.max_retries,
            expected_rows=expected_rows,
            limit=limit,
            # What a complete listing did not see is gone from the server.
            on_complete=functools.partial(self._identity.retain, collection),
        )

    def _get_op(
        self, collection: CollectionName, key: int | str, options: CallOptions, refresh: bool
    ) -> Flow[Any]:
        if isinstance(key, bool) or not isinstance(key, int | str):
            raise TypeError(f"key must be an int id or a str slug, not {type(key).__name__}")
        if isinstance(key, str) and not key:
            raise ValueError("key: an empty slug matches nothing")
        if not isinstance(refresh, bool):
            raise TypeError(f"refresh must be a bool, not {type(refresh).__name__}")
        resource_id = as_id(key)
        if resource_id is not None:
            hit = None if refresh else self._identity.fresh(collection, resource_id)
            if hit is not None:
                return hit
            return (yield from self._load(self.root.resource_url(collection, resource_id), options))
        if not BY_COLLECTION[collection].slug_lookup:
            # The API finds categories by id only: look the slug up in the short list,
            # or in the identity map when it already holds every category.
            local = None if refresh else self._category_by_slug(str(key))
            if local is not None:
                return local
            items = yield from collect(
                self._crawl(
                    collection, page_size=None, checkpoint=None, on_error="raise", options=options
                ).run()
            )
            matches = sorted((c for c in items if c.slug == key), key=lambda c: c.id)
            if not matches:
                raise NotFoundError(
                    self.root.collection_url(collection), f"no category with slug {key!r}"
                )
            return matches[0]
        known = None if refresh else self._identity.by_slug(collection, str(key))
        if known is not None:
            return known
        return (yield from self._load(self.root.detail_url(collection, key), options))

    def _category_by_slug(self, slug: str) -> Category | None:
        known = cast("list[Category]", self._identity.rows("categories"))
        if len(known) != self._identity.count("categories"):
            return None
        if any(self._identity.fresh("categories", c.id) is None for c in known):
            return None
        matches = sorted((c for c in known if c.slug == slug), key=lambda c: c.id)
        return matches[0] if matches else None

    def _load(self, url: str, options: CallOptions) -> Flow[Any]:
        (item,) = yield from self._load_many([url], options)
        return item

    def _search_op(self, query: str, options: CallOptions) -> Flow[SearchResults]:
        if not isinstance(query, str):
            raise TypeError("search takes a str query")
        url = f"{self.root.url}search/?q={quote(query, safe='')}"
        data = yield from fetch_one(url, options)
        if type(data) is not list:
            raise PayloadError(url, "search must answer a JSON array", path="$")
        structure = self.converter.structure
        return SearchResults(
            structure(item, SearchResult, url=url, path=f"$[{i}]") for i, item in enumerate(data)
        )

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
        item = self.converter.structure(data, model_of(collection), url=url)
        if as_id(key) not in (None, item.id):
            raise PayloadError(url, f"asked for {url} but got id {item.id}", path="$.id")
        (kept,) = self._identity.store_many([item])
        return kept

    def _catalog_op(self, options: CallOptions, on_page: OnPage | None = None) -> Flow[Catalog]:
        # A count this client read before is a good guess of each size: the crawls
        # then read every row in their first round.
        crawls = [
            self._crawl(
                c,
                page_size=None,
                checkpoint=None,
                on_error="raise",
                options=options,
                expected_rows=self._identity.count(c) or 0,
            )
            for c in COLLECTIONS
        ]
        seen = [None if on_page is None else functools.partial(on_page, c) for c in COLLECTIONS]
        packages, grids, categories = yield from gather(
            [collect(crawl.run(), on_page=hook) for crawl, hook in zip(crawls, seen, strict=True)]
        )
        return Catalog(self.root.url, tuple(packages), tuple(grids), tuple(categories))
