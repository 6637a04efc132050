"""An in-memory fake of the Django Packages REST API v4, for tests and offline demos.

:class:`FakeAPI` is a whole server in one pure function, :meth:`FakeAPI.handle`,
that behaves like the real service as recorded in ``tests/fixtures/real-api``
(byte-identical bodies for the recorded exchanges). Plug it into any httpx client::

    from djangopackages_sdk.testing import FakeAPI

    fake = FakeAPI.with_sample_data()
    with httpx.Client(transport=fake.transport) as http:
        http.get("https://djangopackages.org/api/v4/packages/django-otp/").json()
    assert len(fake.requests) == 1

What it reproduces:

* routes ``/``, ``/packages/``, ``/packages/{id|slug}/``, ``/grids/``,
  ``/grids/{id|slug}/``, ``/categories/``, ``/categories/{id}/`` and ``/search/``
  under the path prefix of ``base_url`` (``/api/v4/`` by default);
* lists ordered by ``-id`` with DRF ``LimitOffsetPagination`` (default 20, no
  maximum; invalid, zero or negative ``limit`` -> 20; invalid or negative
  ``offset`` -> 0) and absolute ``next``/``previous`` links rebuilt from the
  request URL exactly as DRF builds them (parameters sorted, ``offset`` dropped
  when it would be 0);
* hyperlinks rendered per request from its scheme (``X-Forwarded-Proto``
  honoured), ``Host`` and the API path prefix, with a request's ``?format=json``
  or ``?format=api`` copied into every hyperlink (the body stays JSON);
* a numeric detail key is always an id (``01867`` finds 1867); slugs are
  case-sensitive; categories are looked up by id only;
* the real errors: 404 ``{"detail":"No Package matches the given query."}``,
  404 ``{"detail":"Not found."}`` for a category slug or an unknown ``format``,
  405 for methods other than GET/HEAD/OPTIONS, 406 for an ``Accept`` that
  excludes JSON and HTML, 301 with a relative ``Location`` for a path without
  its trailing slash, and a 404 HTML page for an unknown route;
* HEAD answers the GET's headers (``Content-Length`` included) without a body;
* compact UTF-8 JSON with ``Content-Type: application/json``, ``Allow`` and
  ``Vary: Accept, Cookie`` headers.

Search is a documented approximation (the real ranking lives in a database
table the API does not expose); see :meth:`FakeAPI.search_results`.

Records are served exactly as given (datetimes keep their original strings and
unknown or odd fields pass through), so a test can also serve unusual data on
purpose. Relations are stored as ids and are not kept symmetric: adding a
package that lists grid 7 does not change grid 7's ``packages``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any, Final, Literal
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx

from ._convert import get_converter
from ._links import DEFAULT_BASE_URL, ApiRoot, parse_resource_link
from ._models import Category, Grid, Package
from ._server import Fault, Hit, LiveServer

__all__ = [
    "FakeAPI",
    "Fault",
    "Hit",
    "LiveServer",
    "Kind",
    "load_sample_data",
    "sample_categories",
    "sample_grids",
    "sample_packages",
]

Kind = Literal["package", "grid", "category"]
"""The three resource kinds the fake stores."""

DEFAULT_LIMIT: Final = 20
"""Page size when a list request carries no valid ``limit``."""
SEARCH_CAP: Final = 20
"""The most results ``/search/`` returns."""

_COLLECTION: Final[dict[str, str]] = {
    "package": "packages",
    "grid": "grids",
    "category": "categories",
}
_KIND_OF: Final[dict[str, Kind]] = {
    "package": "package",
    "packages": "package",
    "grid": "grid",
    "grids": "grid",
    "category": "category",
    "categories": "category",
}
_MODEL_NAME: Final[dict[str, str]] = {"package": "Package", "grid": "Grid", "category": "Category"}
_ALLOWED_METHODS: Final = ("GET", "HEAD", "OPTIONS")
_ALLOW: Final = "GET, HEAD, OPTIONS"
_ACCEPTABLE: Final = frozenset(
    {"", "*/*", "*", "application/*", "application/json", "text/*", "text/html"}
)
_FORMATS: Final = frozenset({"", "json", "api"})
_JSON_HEADERS: Final = (
    ("content-type", "application/json"),
    ("vary", "Accept, Cookie"),
    ("allow", _ALLOW),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("cross-origin-opener-policy", "same-origin"),
)
_HTML_404: Final = (
    b'<!doctype html>\n<html lang="en">\n<head>\n  <title>Not Found</title>\n</head>\n'
    b"<body>\n  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n"
    b"</body>\n</html>\n"
)
_OPTIONS_DESCRIPTION: Final[dict[str, str]] = {
    "root": "The default basic root view for DefaultRouter",
    "packages": "API endpoint that allows packages to be viewed or edited.",
    "grids": "API endpoint that allows grids to be viewed or edited.",
    "categories": "API endpoint that allows categories to be viewed or edited.",
    "search": "API endpoint that allows the search index to be queried.",
}
_OPTIONS_NAME: Final[dict[str, str]] = {
    "root": "Api Root",
    "packages": "Package",
    "grids": "Grid",
    "categories": "Category",
    "search": "Search V2",
}
_PAGE_CACHE_LIMIT: Final = 256
_RENDER_CACHE_LIMIT: Final = 16


def _dumps(value: object) -> str:
    """Compact UTF-8 JSON exactly as DRF's ``JSONRenderer`` writes it."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if "\u2028" in text or "\u2029" in text:
        text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text


def _ref(value: object, collection: str, where: str) -> int | None:
    """A relation given as a link URL (any host, any query) or an id, as an id."""
    if value is None:
        return None
    if type(value) is int:
        return value
    if isinstance(value, str):
        try:
            return parse_resource_link(value, collection)[1]
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    raise TypeError(f"{where}: expected a {collection} URL or id, got {type(value).__name__}")


def _detect_kind(data: Mapping[str, Any]) -> Kind:
    if "repo_url" in data or "grids" in data or "category" in data:
        return "package"
    if "packages" in data or "is_locked" in data:
        return "grid"
    if "show_pypi" in data or "title_plural" in data:
        return "category"
    raise ValueError(f"cannot tell the kind of {sorted(data)!r}: pass kind=")


# GitHub shortcodes the real search expands (it shows ``✨`` where the package
# endpoint says ``:sparkles:``); unknown ones, such as ``:couple:`` in the
# recordings, stay as they are.
_SHORTCODES: Final[dict[str, str]] = {
    "sparkles": "\u2728",
    "rocket": "\U0001f680",
    "tada": "\U0001f389",
    "zap": "\u26a1",
    "fire": "\U0001f525",
    "star": "\u2b50",
    "heart": "\u2764\ufe0f",
    "snake": "\U0001f40d",
    "package": "\U0001f4e6",
    "lock": "\U0001f512",
    "key": "\U0001f511",
    "closed_lock_with_key": "\U0001f510",
    "bug": "\U0001f41b",
    "wrench": "\U0001f527",
    "hammer": "\U0001f528",
    "memo": "\U0001f4dd",
    "books": "\U0001f4da",
    "warning": "\u26a0\ufe0f",
    "white_check_mark": "\u2705",
    "construction": "\U0001f6a7",
    "art": "\U0001f3a8",
    "globe_with_meridians": "\U0001f310",
    "lipstick": "\U0001f484",
    "unicorn": "\U0001f984",
}
_SHORTCODE = re.compile(r":([a-z0-9_+-]+):")


def _expand_shortcodes(text: str) -> str:
    """Replace the known ``:shortcode:`` emoji names, as the search index does."""
    if ":" not in text:
        return text
    return _SHORTCODE.sub(lambda m: _SHORTCODES.get(m.group(1), m.group(0)), text)


def _as_int(value: object) -> int:
    return value if type(value) is int else 0


def _as_str(value: object) -> str:
    return value if isinstance(value, str) else ""


class _Table:
    """One collection: rows keyed by id plus lazily built, invalidated caches."""

    __slots__ = ("_order", "_pages", "_search", "_slugs", "_texts", "collection", "kind", "rows")

    def __init__(self, kind: Kind) -> None:
        self.kind: Kind = kind
        self.collection = _COLLECTION[kind]
        self.rows: dict[int, dict[str, Any]] = {}
        self._order: list[int] | None = None
        self._slugs: dict[str, int] | None = None
        self._texts: dict[tuple[str, str], dict[int, str]] = {}
        self._pages: dict[str, bytes] = {}
        self._search: list[tuple[str, str, str, int]] | None = None

    def invalidate(self) -> None:
        self._order = None
        self._slugs = None
        self._texts.clear()
        self._pages.clear()
        self._search = None

    def order(self) -> list[int]:
        """Ids newest first (``-id``), as every list endpoint orders them."""
        if self._order is None:
            self._order = sorted(self.rows, reverse=True)
        return self._order

    def by_slug(self, slug: str) -> int | None:
        if self._slugs is None:
            slugs: dict[str, int] = {}
            for resource_id in sorted(self.rows):  # the lowest id wins a duplicate slug
                value = self.rows[resource_id].get("slug")
                if isinstance(value, str):
                    slugs.setdefault(value, resource_id)
            self._slugs = slugs
        return self._slugs.get(slug)

    def texts(self, base: str, suffix: str) -> dict[int, str]:
        """The per-row JSON text cache for one ``(API root, format suffix)``."""
        key = (base, suffix)
        texts = self._texts.get(key)
        if texts is None:
            if len(self._texts) >= _RENDER_CACHE_LIMIT:
                self._texts.clear()
            texts = self._texts[key] = {}
        return texts

    def render(self, resource_id: int, base: str, suffix: str) -> str:
        texts = self.texts(base, suffix)
        text = texts.get(resource_id)
        if text is None:
            text = texts[resource_id] = _dumps(
                _render_row(self.kind, self.rows[resource_id], base, suffix)
            )
        return text

    def page(self, key: str) -> bytes | None:
        return self._pages.get(key)

    def store_page(self, key: str, body: bytes) -> None:
        if len(self._pages) >= _PAGE_CACHE_LIMIT:
            self._pages.clear()
        self._pages[key] = body

    def haystacks(self) -> list[tuple[str, str, str, int]]:
        """``(lower title, lower slug, lower description, id)`` for every row, for search."""
        if self._search is None:
            description = "repo_description" if self.kind == "package" else "description"
            self._search = [
                (
                    _expand_shortcodes(_as_str(row.get("title"))).lower(),
                    _as_str(row.get("slug")).lower(),
                    _expand_shortcodes(_as_str(row.get(description))).lower(),
                    resource_id,
                )
                for resource_id, row in self.rows.items()
            ]
        return self._search


def _render_row(kind: Kind, row: dict[str, Any], base: str, suffix: str) -> dict[str, Any]:
    """A stored row as API JSON: relation ids become absolute hyperlinks."""
    if kind == "category":
        return row
    out = dict(row)  # assigning existing keys keeps the API's key order
    if kind == "package":
        if "category" in out:
            category = out["category"]
            out["category"] = None if category is None else f"{base}categories/{category}/{suffix}"
        if "grids" in out:
            out["grids"] = [f"{base}grids/{gid}/{suffix}" for gid in out["grids"]]
    elif "packages" in out:
        out["packages"] = [f"{base}packages/{pid}/{suffix}" for pid in out["packages"]]
    return out


def _replace_query_param(url: str, key: str, value: object) -> str:
    """DRF's ``replace_query_param``: set one parameter, sort them all."""
    scheme, netloc, path, query, fragment = urlsplit(url)
    params = parse_qs(query, keep_blank_values=True)
    params[key] = [str(value)]
    return urlunsplit(
        (scheme, netloc, path, urlencode(sorted(params.items()), doseq=True), fragment)
    )


def _remove_query_param(url: str, key: str) -> str:
    """DRF's ``remove_query_param``: drop one parameter, sort the rest."""
    scheme, netloc, path, query, fragment = urlsplit(url)
    params = parse_qs(query, keep_blank_values=True)
    params.pop(key, None)
    return urlunsplit(
        (scheme, netloc, path, urlencode(sorted(params.items()), doseq=True), fragment)
    )


def _positive_int(value: str | None, *, strict: bool) -> int | None:
    """DRF's ``_positive_int``: ``int()`` of the text, None when invalid."""
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    if number < 0 or (number == 0 and strict):
        return None
    return number


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


class _Routed:
    """A request that matched a route: what it asks for and how to render links."""

    __slots__ = ("base", "collection", "key", "params", "suffix", "url")

    def __init__(
        self,
        collection: str,
        key: str | None,
        params: dict[str, list[str]],
        base: str,
        suffix: str,
        url: str,
    ) -> None:
        self.collection = collection
        self.key = key
        self.params = params
        self.base = base
        self.suffix = suffix
        self.url = url

    def last(self, name: str) -> str | None:
        """The last value of a query parameter (Django's ``QueryDict.__getitem__``)."""
        values = self.params.get(name)
        return values[-1] if values else None


class FakeAPI:
    """In-memory fake of the Django Packages API v4.

    Give it resources as models or as API JSON (relations as hyperlinks on any
    host, or as plain ids) and hand :attr:`transport` to an ``httpx.Client`` or
    ``httpx.AsyncClient``. Every request it answers is appended to
    :attr:`requests`. The fake is thread-safe, so it can also sit behind a real
    HTTP server (one call to :meth:`handle` per request).

    Args:
        packages: packages to serve (``Package`` models or API JSON mappings).
        grids: grids to serve.
        categories: categories to serve.
        base_url: the API root the fake answers under; only its path prefix
            (``/api/v4/``) matters for routing, since hyperlinks take scheme,
            host and port from each request. It also builds the canonical links
            of the :attr:`packages`, :attr:`grids` and :attr:`categories` views.
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
        """Every request :meth:`handle` answered, oldest first."""
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
                row_kind, row = self._normalise(obj, kind)
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
        forced = self._kind(kind) if kind is not None else None
        rows = [self._normalise(obj, forced) for obj in objects]  # all or nothing
        with self._lock:
            touched: set[Kind] = set()
            for row_kind, row in rows:
                self._tables[row_kind].rows[row["id"]] = row
                touched.add(row_kind)
            for row_kind in touched:
                self._tables[row_kind].invalidate()

    def remove(self, kind: str, resource_id: int) -> None:
        """Delete one resource (``kind`` as in :meth:`add`); links to it then answer 404.

        Raises:
            KeyError: no such resource.
        """
        table = self._tables[self._kind(kind)]
        with self._lock:
            if resource_id not in table.rows:
                raise KeyError(f"no {table.kind} with id {resource_id}")
            del table.rows[resource_id]
            table.invalidate()

    def clear_requests(self) -> None:
        """Forget the recorded :attr:`requests`."""
        with self._lock:
            self.requests.clear()

    # -- serving ---------------------------------------------------------------------
    @property
    def transport(self) -> httpx.MockTransport:
        """An httpx transport answering through :meth:`handle` (sync and async clients)."""
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
        words = query.lower().split()
        if not words:
            return []
        phrase = " ".join(words)
        with self._lock:
            ranked: list[tuple[int, int, int, int, Kind]] = []
            for kind in ("package", "grid"):
                table = self._tables[kind]
                for title, slug, description, resource_id in table.haystacks():
                    if not all(w in title or w in slug or w in description for w in words):
                        continue
                    if phrase in (slug, title):
                        tier = 0
                    elif all(w in title or w in slug for w in words):
                        tier = 1
                    else:
                        tier = 2
                    row = table.rows[resource_id]
                    watchers = _as_int(row.get("repo_watchers")) if kind == "package" else 0
                    ranked.append(
                        (tier, -watchers, 0 if kind == "package" else 1, resource_id, kind)
                    )
            ranked.sort()
            return [
                self._search_result(kind, resource_id)
                for *_, resource_id, kind in ranked[:SEARCH_CAP]
            ]

    # -- internals -------------------------------------------------------------------
    @staticmethod
    def _kind(kind: str) -> Kind:
        try:
            return _KIND_OF[kind]
        except KeyError:
            raise ValueError(
                f"unknown kind {kind!r}: use 'package', 'grid' or 'category'"
            ) from None

    @staticmethod
    def _model_kind(obj: Package | Grid | Category) -> Kind:
        if isinstance(obj, Package):
            return "package"
        return "grid" if isinstance(obj, Grid) else "category"

    def _normalise(self, obj: object, forced: Kind | None) -> tuple[Kind, dict[str, Any]]:
        """Copy a resource into storage form: API JSON with relations as ids."""
        kind: Kind
        data: Mapping[str, Any]
        if isinstance(obj, Package | Grid | Category):
            kind = self._model_kind(obj)
            data = dict(get_converter().unstructure(obj))
            # Relations straight from the model's links, whatever shape the
            # converter gives them.
            if isinstance(obj, Package):
                data["category"] = obj.category.id
                data["grids"] = [link.id for link in obj.grids]
            elif isinstance(obj, Grid):
                data["packages"] = [link.id for link in obj.packages]
        elif isinstance(obj, Mapping):
            data = obj
            kind = forced if forced is not None else _detect_kind(obj)
        else:
            raise TypeError(
                f"expected a Package, Grid, Category or mapping, got {type(obj).__name__}"
            )
        row = {
            key: list(value) if isinstance(value, list | tuple) else value
            for key, value in data.items()
        }
        resource_id = row.get("id")
        if type(resource_id) is not int:
            raise ValueError(f"a {kind} needs an integer 'id', got {resource_id!r}")
        where = f"{kind} {resource_id}"
        if kind == "package":
            if "category" in row:
                row["category"] = _ref(row["category"], "categories", f"{where}.category")
            if "grids" in row:
                row["grids"] = [_ref(v, "grids", f"{where}.grids") for v in row["grids"]]
        elif kind == "grid" and "packages" in row:
            row["packages"] = [_ref(v, "packages", f"{where}.packages") for v in row["packages"]]
        return kind, row

    def _search_result(self, kind: Kind, resource_id: int) -> dict[str, Any]:
        row = self._tables[kind].rows[resource_id]
        title = _expand_shortcodes(_as_str(row.get("title")))
        slug = _as_str(row.get("slug"))
        if kind == "grid":
            packages = row.get("packages")
            count = len(packages) if isinstance(packages, list) else 0
            return {
                "description": _expand_shortcodes(_as_str(row.get("description"))),
                "title": title,
                "title_no_prefix": title,
                "slug_no_prefix": slug,
                "clean_title": title,
                "absolute_url": f"/grids/g/{slug}/",
                "created": row.get("created"),
                "modified": row.get("modified"),
                "weight": min(100, 10 * count),
                "item_type": "grid",
                "slug": slug,
                "category": "",
                "repo_watchers": 0,
                "repo_forks": 0,
                "pypi_downloads": 0,
                "score": 0,
                "usage": 0,
                "participants": "",
                "last_committed": None,
                "last_released": None,
            }
        grids = row.get("grids")
        usage = len(grids) if isinstance(grids, list) else 0
        watchers = _as_int(row.get("repo_watchers"))
        forks = _as_int(row.get("repo_forks"))
        commits = row.get("commits_over_52")
        activity = sum(_as_int(c) for c in commits) if isinstance(commits, list) else 0
        category_id = row.get("category")
        category = (
            self._tables["category"].rows.get(category_id) if type(category_id) is int else None
        )
        participants = row.get("participants")
        return {
            "description": _expand_shortcodes(_as_str(row.get("repo_description"))),
            "title": title,
            "title_no_prefix": title,
            "slug_no_prefix": slug,
            "clean_title": title,
            "absolute_url": f"/packages/p/{slug}/",
            "created": row.get("created"),
            "modified": row.get("modified"),
            "weight": min(100, 10 * usage + min(50, watchers // 20) + min(40, activity)),
            "item_type": "package",
            "slug": slug,
            "category": _as_str(category.get("title")) if category is not None else "",
            "repo_watchers": watchers,
            "repo_forks": forks,
            "pypi_downloads": 0,
            "score": watchers + forks,
            "usage": usage,
            "participants": ",".join(p for p in participants if isinstance(p, str))
            if isinstance(participants, list)
            else "",
            "last_committed": row.get("last_updated"),
            "last_released": None,
        }

    def _route(self, path: str) -> tuple[str, str | None] | None:
        """``(collection or "root"/"search", detail key)`` for a routed path, else None."""
        if not path.startswith(self.prefix):
            return None
        rest = path[len(self.prefix) :]
        if rest == "":
            return "root", None
        if not rest.endswith("/"):
            return None
        parts = rest[:-1].split("/")
        if len(parts) == 1 and parts[0] in ("packages", "grids", "categories", "search"):
            return parts[0], None
        if len(parts) == 2 and parts[0] in ("packages", "grids", "categories"):
            key = parts[1]
            # DRF's router matches a lookup with [^/.]+
            if key and "." not in key:
                return parts[0], key
        return None

    def _dispatch(self, request: httpx.Request) -> httpx.Response:
        method = request.method.upper()
        path = request.url.path
        raw_path, _, raw_query = request.url.raw_path.decode("latin-1").partition("?")
        route = self._route(path)
        if route is None:
            if not path.endswith("/") and self._route(path + "/") is not None:
                location = raw_path + "/" + ("?" + raw_query if raw_query else "")
                return _response(
                    request,
                    301,
                    b"",
                    (("content-type", "text/html; charset=utf-8"), ("location", location)),
                )
            return _response(
                request, 404, _HTML_404, (("content-type", "text/html; charset=utf-8"),)
            )

        params = parse_qs(raw_query, keep_blank_values=True)
        scheme = request.url.scheme
        forwarded = request.headers.get("x-forwarded-proto")
        if forwarded:
            scheme = forwarded.split(",")[0].strip().lower() or scheme
        host = request.headers.get("host") or request.url.netloc.decode("ascii")
        origin = f"{scheme}://{host}"
        suffix = ""
        if "format" in params:
            suffix = "?" + urlencode({"format": params["format"][-1]})
        routed = _Routed(
            route[0],
            route[1],
            params,
            origin + self.prefix,
            suffix,
            origin + raw_path + ("?" + raw_query if raw_query else ""),
        )

        accept = request.headers.get("accept", "")
        if accept and not any(
            part.split(";", 1)[0].strip().lower() in _ACCEPTABLE for part in accept.split(",")
        ):
            return _json(request, 406, {"detail": "Could not satisfy the request Accept header."})
        if routed.last("format") not in (None, *_FORMATS):
            return _json(request, 404, {"detail": "Not found."})
        if method not in _ALLOWED_METHODS:
            return _json(request, 405, {"detail": f'Method "{method}" not allowed.'})
        if method == "OPTIONS":
            return _json(request, 200, _options(routed))

        status, body = self._get(routed)
        if method == "HEAD":
            return _response(request, status, b"", _JSON_HEADERS, content_length=len(body))
        response = _response(request, status, body, _JSON_HEADERS)
        # How many rows the answer carries: a served fake (LiveServer) charges per row.
        response.extensions["rows"] = self._rows(routed) if status == 200 else 0
        return response

    def _rows(self, routed: _Routed) -> int:
        if routed.collection in ("root", "search") or routed.key is not None:
            return 1
        count = len(self._tables[_KIND_OF[routed.collection]].order())
        limit = _positive_int(routed.last("limit"), strict=True) or DEFAULT_LIMIT
        offset = _positive_int(routed.last("offset"), strict=False) or 0
        return max(0, min(limit, count - offset))

    def _get(self, routed: _Routed) -> tuple[int, bytes]:
        collection, key, base, suffix = routed.collection, routed.key, routed.base, routed.suffix
        if collection == "root":
            index = {
                name: f"{base}{name}/{suffix}"
                for name in ("packages", "search", "grids", "categories")
            }
            return 200, _dumps(index).encode()
        if collection == "search":
            return 200, _dumps(self.search_results(routed.last("q") or "")).encode()
        table = self._tables[_KIND_OF[collection]]
        if key is None:
            return 200, self._list(table, routed)
        if key.isascii() and key.isdigit():
            resource_id: int | None = int(key)
        elif table.kind == "category":
            return 404, b'{"detail":"Not found."}'
        else:
            resource_id = table.by_slug(key)
        if resource_id is None or resource_id not in table.rows:
            detail = f"No {_MODEL_NAME[table.kind]} matches the given query."
            return 404, _dumps({"detail": detail}).encode()
        return 200, table.render(resource_id, base, suffix).encode()

    def _list(self, table: _Table, routed: _Routed) -> bytes:
        cached = table.page(routed.url)
        if cached is not None:
            return cached
        limit = _positive_int(routed.last("limit"), strict=True) or DEFAULT_LIMIT
        offset = _positive_int(routed.last("offset"), strict=False) or 0
        order = table.order()
        count = len(order)
        next_url: str | None = None
        previous_url: str | None = None
        if offset + limit < count:
            next_url = _replace_query_param(
                _replace_query_param(routed.url, "limit", limit), "offset", offset + limit
            )
        if offset > 0:
            url = _replace_query_param(routed.url, "limit", limit)
            previous_url = (
                _remove_query_param(url, "offset")
                if offset - limit <= 0
                else _replace_query_param(url, "offset", offset - limit)
            )
        render = table.render
        base, suffix = routed.base, routed.suffix
        rows = ",".join(render(rid, base, suffix) for rid in order[offset : offset + limit])
        body = (
            f'{{"count":{count},"next":{_dumps(next_url)},"previous":{_dumps(previous_url)},'
            f'"results":[{rows}]}}'
        ).encode()
        table.store_page(routed.url, body)
        return body


def _options(routed: _Routed) -> dict[str, Any]:
    """The OPTIONS metadata DRF's ``SimpleMetadata`` gives a read-only view."""
    collection = routed.collection
    name = _OPTIONS_NAME[collection]
    if collection != "root":
        name += " Instance" if routed.key is not None else " List"
    return {
        "name": name,
        "description": _OPTIONS_DESCRIPTION[collection],
        "renders": ["application/json", "text/html"],
        "parses": ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"],
    }


def _response(
    request: httpx.Request,
    status: int,
    body: bytes,
    headers: Iterable[tuple[str, str]],
    *,
    content_length: int | None = None,
) -> httpx.Response:
    length = len(body) if content_length is None else content_length
    return httpx.Response(
        status,
        headers=[*headers, ("content-length", str(length))],
        content=body,
        request=request,
    )


def _json(request: httpx.Request, status: int, value: object) -> httpx.Response:
    body = _dumps(value).encode()
    if request.method.upper() == "HEAD":
        return _response(request, status, b"", _JSON_HEADERS, content_length=len(body))
    return _response(request, status, body, _JSON_HEADERS)


# -- the bundled sample --------------------------------------------------------------
@cache
def _sample_text() -> str:
    return (
        resources.files("djangopackages_sdk")
        .joinpath("_sample_data.json")
        .read_text(encoding="utf-8")
    )


def load_sample_data() -> dict[str, list[dict[str, Any]]]:
    """The bundled sample as API JSON: ``{"categories": [...], "grids": [...], "packages": [...]}``.

    Links point at ``https://djangopackages.org/api/v4/``. Each call returns a
    fresh copy.
    """
    data: dict[str, list[dict[str, Any]]] = json.loads(_sample_text())
    return data


def sample_packages() -> tuple[Package, ...]:
    """The bundled sample's five packages as models, by id."""
    converter = get_converter()
    return tuple(converter.structure(row, Package) for row in load_sample_data()["packages"])


def sample_grids() -> tuple[Grid, ...]:
    """The bundled sample's grids as models, by id."""
    converter = get_converter()
    return tuple(converter.structure(row, Grid) for row in load_sample_data()["grids"])


def sample_categories() -> tuple[Category, ...]:
    """The bundled sample's categories as models, by id."""
    converter = get_converter()
    return tuple(converter.structure(row, Category) for row in load_sample_data()["categories"])
