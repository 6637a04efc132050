"""`FakeAPI`: the whole fake server, its storage and its views put together."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import httpx

from .._links import DEFAULT_BASE_URL, ApiRoot
from .._models import Category, Grid, Package
from .._registry import BY_KIND, as_id
from ._drf import (
    _JSON_HEADERS,
    _api_root,
    _dumps,
    _list_page,
    _negotiate,
    _response,
    _Routed,
    _window,
)
from ._sample import load_sample_data
from ._search import _search
from ._store import _KIND_OF, Kind, _normalise, _parse_kind, _Table


class _View(Mapping[int, dict[str, Any]]):
    """Read-only ``id -> API JSON`` view of one collection, newest id first.

    Each lookup returns a fresh dict with canonical hyperlinks (built from the
    fake's ``base_url``): mutating it changes nothing in the fake.
    """

    __slots__ = ("_fake", "_table")

    def __init__(self, fake: FakeAPI, table: _Table) -> None:
        self._fake = fake
        self._table = table

    def __getitem__(self, resource_id: int) -> dict[str, Any]:
        with self._fake._lock:
            if resource_id not in self._table.rows:
                raise KeyError(resource_id)
            text = self._table.render(resource_id, self._fake.base_url, "")
        value: dict[str, Any] = json.loads(text)
        return value

    def __iter__(self) -> Iterator[int]:
        with self._fake._lock:
            return iter(list(self._table.order()))

    def __len__(self) -> int:
        return len(self._table.rows)

    def __contains__(self, resource_id: object) -> bool:
        return resource_id in self._table.rows

    def __repr__(self) -> str:
        return f"<{self._table.collection}: {len(self)} rows>"


class FakeAPI:
    """In-memory fake of the Django Packages API v4.

    Give it resources as models or as API JSON (relations as hyperlinks on any
    host, or as plain ids) and hand `transport` to an ``httpx.Client`` or
    ``httpx.AsyncClient``. Every request it answers is appended to
    `requests`. The fake is thread-safe, so it can also sit behind a real
    HTTP server (one call to `handle` per request).

    Args:
        packages: packages to serve (``Package`` models or API JSON mappings).
        grids: grids to serve.
        categories: categories to serve.
        base_url: the API root the fake answers under; only its path prefix
            (``/api/v4/``) matters for routing, since hyperlinks take scheme,
            host and port from each request. It also builds the canonical links
            of the `packages`, `grids` and `categories` views.
    """

    def __init__(
        self,
        *,
        packages: Iterable[Package | Mapping[str, Any]] = (),
        grids: Iterable[Grid | Mapping[str, Any]] = (),
        categories: Iterable[Category | Mapping[str, Any]] = (),
        base_url: str = DEFAULT_BASE_URL,
    ) -> None:
        root = ApiRoot.parse(base_url)
        self.base_url: str = root.url
        """The canonical API root, normalised (``https://djangopackages.org/api/v4/``)."""
        self.prefix: str = root.path
        """The path prefix every route lives under (``/api/v4/``)."""
        self.requests: list[httpx.Request] = []
        """Every request `handle` answered, oldest first."""
        self._lock = threading.RLock()
        self._tables: dict[Kind, _Table] = {
            kind: _Table(kind) for kind in ("package", "grid", "category")
        }
        self._transport: httpx.MockTransport | None = None
        given: tuple[tuple[Kind, Iterable[object]], ...] = (
            ("category", categories),
            ("grid", grids),
            ("package", packages),
        )
        for kind, objects in given:
            for obj in objects:
                row_kind, row = _normalise(obj, kind)
                self._tables[row_kind].rows[row["id"]] = row

    @classmethod
    def with_sample_data(cls, *, base_url: str = DEFAULT_BASE_URL) -> FakeAPI:
        """A fake serving the bundled sample: five live packages, their category and grids.

        The packages are django-messages (359), django-session-security (1306),
        django-organizations (1412), django-stronghold (1672) and django-otp
        (1867); category 1 ("App"); grids 7, 28, 45, 66, 114, 153, 243 and 426,
        each listing only the sample packages, so every hyperlink resolves.
        """
        data = load_sample_data()
        return cls(
            packages=data["packages"],
            grids=data["grids"],
            categories=data["categories"],
            base_url=base_url,
        )

    # -- content ---------------------------------------------------------------------
    @property
    def packages(self) -> Mapping[int, dict[str, Any]]:
        """Read-only view of the packages: ``id -> API JSON``, newest id first."""
        return _View(self, self._tables["package"])

    @property
    def grids(self) -> Mapping[int, dict[str, Any]]:
        """Read-only view of the grids: ``id -> API JSON``, newest id first."""
        return _View(self, self._tables["grid"])

    @property
    def categories(self) -> Mapping[int, dict[str, Any]]:
        """Read-only view of the categories: ``id -> API JSON``, newest id first."""
        return _View(self, self._tables["category"])

    def add(
        self, *objects: Package | Grid | Category | Mapping[str, Any], kind: str | None = None
    ) -> None:
        """Insert resources, or replace those with the same kind and id.

        Models are converted with the SDK's converter. A mapping is API JSON; its
        kind is detected from its keys (``repo_url``/``grids``/``category`` make a
        package, ``packages``/``is_locked`` a grid, ``show_pypi``/``title_plural``
        a category) unless ``kind`` (``"package"``, ``"grid"``, ``"category"`` or
        the plural) says otherwise. Relations may be hyperlinks on any host
        (``?format=api`` included) or plain ids. The mapping is copied.

        Raises:
            ValueError: an unknown ``kind``, undetectable kind, a missing or
                non-integer ``id`` or a malformed relation link.
        """
        forced = _parse_kind(kind) if kind is not None else None
        rows = [_normalise(obj, forced) for obj in objects]  # all or nothing
        with self._lock:
            touched: set[Kind] = set()
            for row_kind, row in rows:
                self._tables[row_kind].rows[row["id"]] = row
                touched.add(row_kind)
            for row_kind in touched:
                self._tables[row_kind].invalidate()

    def remove(self, kind: str, resource_id: int) -> None:
        """Delete one resource (``kind`` as in `add`); links to it then answer 404.

        Raises:
            KeyError: no such resource.
        """
        table = self._tables[_parse_kind(kind)]
        with self._lock:
            if resource_id not in table.rows:
                raise KeyError(f"no {table.kind} with id {resource_id}")
            del table.rows[resource_id]
            table.invalidate()

    def clear_requests(self) -> None:
        """Forget the recorded `requests`."""
        with self._lock:
            self.requests.clear()

    # -- serving ---------------------------------------------------------------------
    @property
    def transport(self) -> httpx.MockTransport:
        """An httpx transport answering through `handle` (sync and async clients)."""
        if self._transport is None:
            self._transport = httpx.MockTransport(self.handle)
        return self._transport

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request as the real API would; the whole server.

        Never raises for a well-formed ``httpx.Request``: every outcome is an
        HTTP response (see the module documentation for the behaviours).
        """
        with self._lock:
            self.requests.append(request)
            return self._dispatch(request)

    def search_results(self, query: str) -> list[dict[str, Any]]:
        """What ``/search/?q=query`` answers: at most 20 SearchResult dicts, best first.

        A package or grid matches when every whitespace-separated word of
        ``query`` occurs, case-insensitively, in its title, slug or description
        (a package's ``repo_description``). Ranking, deterministic: exact slug or
        title match first, then every word in the title or slug, then the rest;
        within a tier, more ``repo_watchers`` first (grids have none), packages
        before grids, then lower id. An empty query finds nothing.

        Like the real index, titles and descriptions have common GitHub emoji
        shortcodes expanded (``:sparkles:`` becomes ``✨``), both for matching
        and in the results; the other endpoints serve the raw text.

        Fields the API does not expose are derived: ``usage`` is the number of
        grids listing the package, ``score`` is ``repo_watchers + repo_forks``,
        ``weight`` is ``min(100, 10 * usage + min(50, repo_watchers // 20) +
        min(40, sum(commits_over_52)))`` (for a grid ``min(100, 10 * packages)``),
        ``pypi_downloads`` is 0 and ``last_released`` null; ``last_committed`` is
        the package's ``last_updated``.
        """
        with self._lock:
            return _search(self._tables, query)

    # -- internals -------------------------------------------------------------------
    def _dispatch(self, request: httpx.Request) -> httpx.Response:
        routed = _negotiate(request, self.prefix)
        if isinstance(routed, httpx.Response):
            return routed
        status, body = self._get(routed)
        if request.method.upper() == "HEAD":
            return _response(request, status, b"", _JSON_HEADERS, content_length=len(body))
        response = _response(request, status, body, _JSON_HEADERS)
        # How many rows the answer carries: a served fake (LiveServer) charges per row.
        response.extensions["rows"] = self._rows(routed) if status == 200 else 0
        return response

    def _rows(self, routed: _Routed) -> int:
        if routed.collection in ("root", "search") or routed.key is not None:
            return 1
        count = len(self._tables[_KIND_OF[routed.collection]].order())
        limit, offset = _window(routed)
        return max(0, min(limit, count - offset))

    def _get(self, routed: _Routed) -> tuple[int, bytes]:
        collection, key, base, suffix = routed.collection, routed.key, routed.base, routed.suffix
        if collection == "root":
            return 200, _api_root(routed)
        if collection == "search":
            return 200, _dumps(self.search_results(routed.last("q") or "")).encode()
        table = self._tables[_KIND_OF[collection]]
        if key is None:
            return 200, self._list(table, routed)
        resource_id = as_id(key)
        if resource_id is None:
            if not BY_KIND[table.kind].slug_lookup:
                return 404, b'{"detail":"Not found."}'
            resource_id = table.by_slug(key)
        if resource_id is None or resource_id not in table.rows:
            detail = f"No {BY_KIND[table.kind].title} matches the given query."
            return 404, _dumps({"detail": detail}).encode()
        return 200, table.render(resource_id, base, suffix).encode()

    def _list(self, table: _Table, routed: _Routed) -> bytes:
        cached = table.page(routed.url)
        if cached is not None:
            return cached
        body = _list_page(routed, table.order(), table.render)
        table.store_page(routed.url, body)
        return body
