"""The fake's storage: one table of rows per resource kind, and the rows' stored form.

A row is API JSON with its relations kept as ids; `_Table` caches what is
derived from the rows (order, slugs, rendered JSON, list pages, the search
haystack) and drops it all on `_Table.invalidate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .._convert import get_converter
from .._links import parse_resource_link
from .._models import Category, Grid, Package
from .._registry import BY_KIND, KINDS, KindName
from ._drf import _dumps

Kind = KindName
"""The three resource kinds the fake stores."""

# A kind's singular or plural name -> the kind, from the SDK's one registry.
_KIND_OF: Final[dict[str, Kind]] = {
    **{k.kind: k.kind for k in KINDS},
    **{k.collection: k.kind for k in KINDS},
}
_PAGE_CACHE_LIMIT: Final = 256
_RENDER_CACHE_LIMIT: Final = 16


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


class _Table:
    """One collection: rows keyed by id plus lazily built, invalidated caches."""

    __slots__ = ("_order", "_pages", "_slugs", "_texts", "collection", "haystack", "kind", "rows")

    def __init__(self, kind: Kind) -> None:
        self.kind: Kind = kind
        self.collection = BY_KIND[kind].collection
        self.rows: dict[int, dict[str, Any]] = {}
        self._order: list[int] | None = None
        self._slugs: dict[str, int] | None = None
        self._texts: dict[tuple[str, str], dict[int, str]] = {}
        self._pages: dict[str, bytes] = {}
        self.haystack: list[tuple[str, str, str, int]] | None = None
        """The search haystack (see `_search._haystacks`), built on demand."""

    def invalidate(self) -> None:
        self._order = None
        self._slugs = None
        self._texts.clear()
        self._pages.clear()
        self.haystack = None

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


def _parse_kind(kind: str) -> Kind:
    """A kind name, singular or plural, as a `Kind`."""
    try:
        return _KIND_OF[kind]
    except KeyError:
        raise ValueError(f"unknown kind {kind!r}: use 'package', 'grid' or 'category'") from None


def _model_kind(obj: Package | Grid | Category) -> Kind:
    if isinstance(obj, Package):
        return "package"
    return "grid" if isinstance(obj, Grid) else "category"


def _normalise(obj: object, forced: Kind | None) -> tuple[Kind, dict[str, Any]]:
    """Copy a resource into storage form: API JSON with relations as ids."""
    kind: Kind
    data: Mapping[str, Any]
    if isinstance(obj, Package | Grid | Category):
        kind = _model_kind(obj)
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
        raise TypeError(f"expected a Package, Grid, Category or mapping, got {type(obj).__name__}")
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
