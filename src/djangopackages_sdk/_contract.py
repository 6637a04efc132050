"""Contract check: fetch one of each resource and report how the server drifted from the models.

For maintainers, to run against the live site (or a staging copy)::

    from djangopackages_sdk import check_contract

    report = check_contract()
    print(report)            # "contract OK ..." or one line per finding
    assert report.ok

The check reads the root index, the first packages page (``limit=1``) and that
package's detail, its category, one of its grids (or the first grid) and a
search for its slug. Each body is compared with the models: fields the server
sends that the models do not know (``unknown-field``), model fields the server
left out (``missing-field``), values the strict converter rejects
(``type-mismatch``, with the converter's JSON path), hyperlinks leaving the API
root (``foreign-link``), answers that are errors (``fetch-error``) and a mix of
naive and timezone-aware datetimes (``mixed-datetimes``). The datetime formats
seen (``offset``, ``Z``, ``naive``) are reported as well.

The analysis is written once, as a flow over decoded JSON (see ``_core.py``);
`check_contract` and `acheck_contract` only drive it.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final
from urllib.parse import quote

import attrs

from ._async import AsyncClient
from ._codegen import is_link, is_link_tuple
from ._convert import _kind, get_converter
from ._exceptions import DjangoPackagesError, PayloadError
from ._links import DEFAULT_BASE_URL, ApiRoot, parse_resource_link
from ._models import Category, Grid, Package, SearchResult
from ._protocol import Flow, fetch_one
from ._registry import collection_of
from ._sync import Client

__all__ = ["ContractReport", "Finding", "acheck_contract", "check_contract"]

KINDS: Final = (
    "unknown-field",
    "missing-field",
    "type-mismatch",
    "foreign-link",
    "fetch-error",
    "mixed-datetimes",
)
"""Every ``Finding.kind``, most common first."""

_ROOT_KEYS: Final = ("packages", "search", "grids", "categories")
_PAGE_KEYS: Final = ("count", "next", "previous", "results")
_NEUTRAL_DATETIME: Final = "2000-01-01T00:00:00+00:00"
_MAX_PASSES: Final = 64
_MESSAGE_LIMIT: Final = 300
_FAILED: Final[Any] = object()
"""What a fetch returns to the flow when the server answered with an error."""


@attrs.frozen
class Finding:
    """One way a payload differs from the models.

    ``resource`` names the body (``root``, ``packages page``, ``package``,
    ``category``, ``grid``, ``search``), ``path`` the place in it as a JSON path
    (``$.results[0].repo_forks``), ``kind`` one of `KINDS` and
    ``message`` says what was seen.
    """

    resource: str
    path: str
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.resource} {self.path}: {self.kind}: {self.message}"


@attrs.frozen
class ContractReport:
    """The outcome of a contract check: ``ok`` when no finding was made.

    ``checked`` lists the URLs read, ``datetime_formats`` the datetime styles seen
    (``"offset"``, ``"Z"``, ``"naive"``), for information.
    """

    base_url: str
    findings: tuple[Finding, ...]
    checked: tuple[str, ...]
    datetime_formats: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when the server matches the models exactly."""
        return not self.findings

    def of_kind(self, kind: str) -> tuple[Finding, ...]:
        """The findings of one kind (see `KINDS`)."""
        return tuple(f for f in self.findings if f.kind == kind)

    def __str__(self) -> str:
        formats = ", ".join(self.datetime_formats) or "none"
        head = (
            f"contract {'OK' if self.ok else 'DRIFT'} for {self.base_url}: "
            f"{len(self.checked)} request(s), {len(self.findings)} finding(s), "
            f"datetime formats: {formats}"
        )
        return "\n".join([head, *(f"  - {finding}" for finding in self.findings)])


# -- entry points ----------------------------------------------------------------------
def check_contract(
    client: Client | None = None, *, base_url: str = DEFAULT_BASE_URL
) -> ContractReport:
    """Fetch one of each resource with ``client`` and report drift from the models.

    Without a client, a temporary [`Client`][djangopackages_sdk.Client] on ``base_url`` is used (and
    closed); with one, ``base_url`` is ignored and the client's own root is
    checked. Errors from the server become ``fetch-error`` findings: the check
    itself raises only for misuse.
    """
    if client is not None:
        return client._run(contract_flow(client.root))
    with Client(base_url) as own:
        return own._run(contract_flow(own.root))


async def acheck_contract(
    client: AsyncClient | None = None, *, base_url: str = DEFAULT_BASE_URL
) -> ContractReport:
    """The same check as [`check_contract`][djangopackages_sdk.check_contract].

    With an [`AsyncClient`][djangopackages_sdk.AsyncClient].
    """
    if client is not None:
        return await client._run(contract_flow(client.root))
    async with AsyncClient(base_url) as own:
        return await own._run(contract_flow(own.root))


# -- the flow: what to fetch ----------------------------------------------------------
def contract_flow(root: ApiRoot) -> Flow[ContractReport]:
    """Fetch one of each resource and analyse them; the I/O is left to the driver."""
    checker = _Checker(root)

    def fetch(resource: str, url: str) -> Flow[Any]:
        checker.checked.append(url)
        try:
            return (yield from fetch_one(url))
        except DjangoPackagesError as error:
            checker.add(resource, "$", "fetch-error", str(error))
            return _FAILED

    index = yield from fetch("root", root.url)
    checker.check_root(index)

    page = yield from fetch("packages page", root.list_url("packages", limit=1, offset=0))
    row = checker.check_page("packages page", page, Package)
    package = None
    package_id = _int_field(row, "id")
    if package_id is not None:
        url = root.resource_url("packages", package_id)
        package = yield from fetch("package", url)
        checker.check_model("package", package, Package)
    source = package if isinstance(package, dict) else row

    for collection, resource, model, link in (
        ("categories", "category", Category, _first_link(source, "category")),
        ("grids", "grid", Grid, _first_link(source, "grids")),
    ):
        target = checker.follow(link, collection)
        if target is None:
            listing = yield from fetch(
                f"{collection} page", root.list_url(collection, limit=1, offset=0)
            )
            first = checker.check_page(f"{collection} page", listing, model)
            first_id = _int_field(first, "id")
            target = None if first_id is None else root.resource_url(collection, first_id)
        if target is not None:
            data = yield from fetch(resource, target)
            checker.check_model(resource, data, model)

    slug = source.get("slug") if isinstance(source, dict) else None
    query = slug if isinstance(slug, str) and slug else "django"
    results = yield from fetch("search", f"{root.url}search/?q={quote(query, safe='')}")
    checker.check_search(results)
    return checker.report()


# -- the analysis: pure functions over decoded JSON ------------------------------------
class _Checker:
    """Collects findings about decoded bodies; knows nothing about I/O."""

    def __init__(self, root: ApiRoot) -> None:
        self.root = root
        self.converter = get_converter(strict=True)
        self.findings: list[Finding] = []
        self.checked: list[str] = []
        self.formats: set[str] = set()
        self._seen: set[tuple[str, str, str]] = set()

    def add(self, resource: str, path: str, kind: str, message: str) -> None:
        """Record a finding once per resource, kind and path (list indices folded)."""
        key = (resource, kind, re.sub(r"\[\d+\]", "[*]", path))
        if key in self._seen:
            return
        self._seen.add(key)
        if len(message) > _MESSAGE_LIMIT:
            message = message[:_MESSAGE_LIMIT] + "..."
        self.findings.append(Finding(resource, path, kind, message))

    def report(self) -> ContractReport:
        """The report of everything checked so far."""
        if "naive" in self.formats and self.formats & {"offset", "Z"}:
            self.add(
                "datetimes",
                "$",
                "mixed-datetimes",
                "naive and timezone-aware datetimes both seen: comparing them raises TypeError",
            )
        return ContractReport(
            self.root.url,
            tuple(self.findings),
            tuple(self.checked),
            tuple(sorted(self.formats)),
        )

    # -- bodies ------------------------------------------------------------------------
    def check_root(self, data: Any) -> None:
        """The index: an object mapping each collection (and search) to its URL."""
        if data is _FAILED:
            return
        if not isinstance(data, dict):
            self.add("root", "$", "type-mismatch", f"expected object, got {_kind(data)}")
            return
        self._keys("root", "$", data, _ROOT_KEYS)
        for key in _ROOT_KEYS:
            value = data.get(key)
            if key not in data:
                continue
            if not isinstance(value, str):
                self.add("root", f"$.{key}", "type-mismatch", f"expected URL, got {_kind(value)}")
            else:
                self._link("root", f"$.{key}", value)

    def check_page(self, resource: str, data: Any, model: type) -> dict[str, Any] | None:
        """A list page: the envelope, its links and its first row; returns that row."""
        if data is _FAILED:
            return None
        if not isinstance(data, dict):
            self.add(resource, "$", "type-mismatch", f"expected object, got {_kind(data)}")
            return None
        self._keys(resource, "$", data, _PAGE_KEYS)
        count = data.get("count")
        if "count" in data and (type(count) is not int or count < 0):
            self.add(
                resource, "$.count", "type-mismatch", f"expected count >= 0, got {_kind(count)}"
            )
        for key in ("next", "previous"):
            value = data.get(key)
            if value is None:
                continue
            if not isinstance(value, str):
                self.add(
                    resource,
                    f"$.{key}",
                    "type-mismatch",
                    f"expected URL or null, got {_kind(value)}",
                )
            else:
                self._link(resource, f"$.{key}", value)
        rows = data.get("results")
        if "results" in data and not isinstance(rows, list):
            self.add(resource, "$.results", "type-mismatch", f"expected array, got {_kind(rows)}")
            return None
        if not rows:
            return None
        self.check_model(resource, rows[0], model, "$.results[0]")
        return rows[0] if isinstance(rows[0], dict) else None

    def check_search(self, data: Any) -> None:
        """The search answer: an array of search results."""
        if data is _FAILED:
            return
        if not isinstance(data, list):
            self.add("search", "$", "type-mismatch", f"expected array, got {_kind(data)}")
            return
        for index, item in enumerate(data):
            self.check_model("search", item, SearchResult, f"$[{index}]")

    def check_model(self, resource: str, data: Any, model: type, path: str = "$") -> None:
        """Compare one object with a model: field names, types, links and datetimes."""
        if data is _FAILED:
            return  # a fetch error, already reported
        if not isinstance(data, dict):
            self.add(resource, path, "type-mismatch", f"expected object, got {_kind(data)}")
            return
        hints = _field_types(model)
        self._keys(resource, path, data, tuple(hints))
        # Structure a copy with the strict converter; each failure names one field,
        # which is reported and replaced by a neutral value until the copy converts.
        probe = {name: data[name] for name in hints if name in data}
        for name, tp in hints.items():
            probe.setdefault(name, self._neutral(tp))
        for _ in range(_MAX_PASSES):
            try:
                self.converter.structure(probe, model, path=path)
                break
            except PayloadError as error:
                self.add(resource, error.path, "type-mismatch", error.message)
                bad = _field_of(error.path, path)
                if bad is None or bad not in hints:
                    break  # pragma: no cover - every field is present in the probe
                probe[bad] = self._neutral(hints[bad])
        for name, tp in hints.items():
            if name in data:
                self._values(resource, f"{path}.{name}", data[name], tp)

    # -- helpers -------------------------------------------------------------------------
    def follow(self, raw: str | None, collection: str) -> str | None:
        """The URL to fetch for a payload link, or None when it cannot be followed."""
        if raw is None:
            return None
        try:
            url, _ = parse_resource_link(raw, collection)
        except ValueError:
            return None  # reported as a type mismatch
        return url if self.root.contains(url) else None

    def _keys(
        self, resource: str, path: str, data: Mapping[str, Any], known: tuple[str, ...]
    ) -> None:
        for key in data:
            if key not in known:
                self.add(
                    resource,
                    f"{path}.{key}",
                    "unknown-field",
                    f"the server sends {key!r} ({_kind(data[key])}), unknown to the model",
                )
        for key in known:
            if key not in data:
                self.add(resource, f"{path}.{key}", "missing-field", f"{key!r} is not sent")

    def _link(self, resource: str, path: str, url: str) -> None:
        if not self.root.contains(url):
            self.add(resource, path, "foreign-link", f"{url[:200]!r} lies outside {self.root.url}")

    def _values(self, resource: str, path: str, value: Any, tp: Any) -> None:
        """Links inside the root, datetime formats noted."""
        if is_link(tp) and isinstance(value, str):
            self._link(resource, path, value)
        elif is_link_tuple(tp) and isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, str):
                    self._link(resource, f"{path}[{index}]", item)
        elif _is_datetime(tp) and isinstance(value, str):
            style = _datetime_style(value)
            if style is not None:
                self.formats.add(style)

    def _neutral(self, tp: Any) -> Any:
        """A value the strict converter accepts for a field of type ``tp``."""
        if type(None) in typing.get_args(tp):
            return None
        if is_link(tp):
            return self.root.resource_url(collection_of(typing.get_args(tp)[0]), 1)
        if typing.get_origin(tp) is tuple:
            return []
        return _NEUTRAL_OF[tp]


_NEUTRAL_OF: Final[dict[Any, Any]] = {
    int: 0,
    str: "",
    bool: False,
    datetime: _NEUTRAL_DATETIME,
}
_TYPES_CACHE: dict[type, dict[str, Any]] = {}


def _field_types(model: type) -> dict[str, Any]:
    """The resolved type of each field of ``model``, in field order."""
    cached = _TYPES_CACHE.get(model)
    if cached is None:
        hints = typing.get_type_hints(model)
        cached = {field.name: hints[field.name] for field in attrs.fields(model)}
        _TYPES_CACHE[model] = cached
    return cached


def _field_of(error_path: str, base: str) -> str | None:
    """The top-level field a converter error path points into (``$.grids[2]`` -> ``grids``)."""
    if not error_path.startswith(base + "."):
        return None
    return re.split(r"[.\[]", error_path[len(base) + 1 :], maxsplit=1)[0]


def _is_datetime(tp: Any) -> bool:
    return tp is datetime or datetime in typing.get_args(tp)


def _datetime_style(value: str) -> str | None:
    """``"Z"``, ``"offset"`` or ``"naive"`` for a valid ISO 8601 datetime, else None."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return "naive"
    return "Z" if value.endswith(("Z", "z")) else "offset"


def _first_link(data: Any, key: str) -> str | None:
    """The first URL under ``key`` (a URL or a list of URLs) of a decoded object."""
    if not isinstance(data, dict):
        return None
    value = data.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) else None


def _int_field(data: Any, key: str) -> int | None:
    value = data.get(key) if isinstance(data, dict) else None
    return value if type(value) is int else None
