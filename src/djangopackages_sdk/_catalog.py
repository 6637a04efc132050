"""A complete, linked snapshot of the catalogue that works offline."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final

import attrs

from ._convert import get_converter
from ._exceptions import PayloadError
from ._links import ApiRoot
from ._models import Category, Grid, Link, Package, ResourceT
from ._registry import BY_COLLECTION, BY_KIND, as_id, kind_of

__all__ = ["Catalog"]

FORMAT: Final = "djangopackages-sdk-catalog"
VERSION: Final = 1


@attrs.frozen(eq=False)
class Catalog:
    """Every package, grid and category, with every link resolvable locally.

    Build one with ``Client.catalog()`` (or ``AsyncClient.catalog()``); save it
    with `save` and read it back, offline, with `load`. Lookups never
    touch the network.
    """

    base_url: str
    packages: tuple[Package, ...]
    grids: tuple[Grid, ...]
    categories: tuple[Category, ...]
    fetched_at: datetime = attrs.field(factory=lambda: datetime.now(UTC))
    _by_url: dict[str, Package | Grid | Category] = attrs.field(init=False, repr=False)
    _by_slug: dict[tuple[str, str], Package | Grid | Category] = attrs.field(init=False, repr=False)
    _grids_of_package: dict[int, tuple[Grid, ...]] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        root = ApiRoot.parse(self.base_url)
        by_url: dict[str, Package | Grid | Category] = {}
        by_slug: dict[tuple[str, str], Package | Grid | Category] = {}
        for collection, items in (
            ("packages", self.packages),
            ("grids", self.grids),
            ("categories", self.categories),
        ):
            for item in items:
                by_url[root.resource_url(collection, item.id)] = item
                by_slug.setdefault((collection, item.slug), item)
        grids_of: dict[int, list[Grid]] = {}
        for package in self.packages:
            grids_of[package.id] = [
                g for link in package.grids if isinstance(g := by_url.get(link.url), Grid)
            ]
        object.__setattr__(self, "_by_url", by_url)
        object.__setattr__(self, "_by_slug", by_slug)
        object.__setattr__(self, "_grids_of_package", {k: tuple(v) for k, v in grids_of.items()})

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Catalog):
            return NotImplemented
        return (self.base_url, self.packages, self.grids, self.categories, self.fetched_at) == (
            other.base_url,
            other.packages,
            other.grids,
            other.categories,
            other.fetched_at,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        # A cheap repr: asyncio (3.11) formats a finished task's result, and a
        # full attrs repr of thousands of packages takes a noticeable time.
        return (
            f"<Catalog {self.base_url}: {len(self.packages)} packages, {len(self.grids)} grids, "
            f"{len(self.categories)} categories, fetched {self.fetched_at.isoformat()}>"
        )

    def __len__(self) -> int:
        return len(self.packages) + len(self.grids) + len(self.categories)

    # -- lookups -----------------------------------------------------------------------
    def resolve(self, link: Link[ResourceT]) -> ResourceT:
        """The resource a link points to; ``KeyError`` if the snapshot lacks it."""
        found = self._by_url.get(link.url)
        if found is None:
            raise KeyError(f"{link.url} is not in this catalogue")
        return found  # type: ignore[return-value]

    def package(self, key: int | str) -> Package:
        """A package by id or slug."""
        return self._lookup("packages", key, Package)

    def grid(self, key: int | str) -> Grid:
        """A grid by id or slug."""
        return self._lookup("grids", key, Grid)

    def category(self, key: int | str) -> Category:
        """A category by id or slug (the lowest id when several share a slug)."""
        return self._lookup("categories", key, Category)

    def packages_in(self, grid: Grid | Link[Grid]) -> tuple[Package, ...]:
        """The packages of a grid, in the grid's order (links missing here are left out)."""
        if isinstance(grid, Link):
            grid = self.resolve(grid)
        return tuple(
            p for link in grid.packages if isinstance(p := self._by_url.get(link.url), Package)
        )

    def grids_of(self, package: Package | Link[Package]) -> tuple[Grid, ...]:
        """The grids a package belongs to, in the order they were linked."""
        if isinstance(package, Link):
            package = self.resolve(package)
        return self._grids_of_package.get(package.id, ())

    def category_of(self, package: Package) -> Category:
        """The category of a package."""
        return self.resolve(package.category)

    def _lookup(self, collection: str, key: int | str, model: type[ResourceT]) -> ResourceT:
        resource_id = as_id(key)
        if resource_id is not None:
            found = self._by_url.get(
                ApiRoot.parse(self.base_url).resource_url(collection, resource_id)
            )
        elif not BY_COLLECTION[collection].slug_lookup:
            matches = sorted((c for c in self.categories if c.slug == key), key=lambda c: c.id)
            found = matches[0] if matches else None
        else:
            found = self._by_slug.get((collection, str(key)))
        if not isinstance(found, model):
            raise KeyError(f"no {model.__name__} {key!r} in this catalogue")
        return found

    # -- files ---------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the catalogue as JSON Lines: a header line, then one resource a line."""
        with open(path, "w", encoding="utf-8") as stream:
            self.dump(stream)

    def dump(self, stream: IO[str]) -> None:
        """Write the catalogue to an open text stream.

        See [`save`][djangopackages_sdk.Catalog.save].
        """
        convert = get_converter().unstructure
        header = {
            "format": FORMAT,
            "version": VERSION,
            "base_url": self.base_url,
            "fetched_at": self.fetched_at.isoformat(),
        }
        stream.write(json.dumps(header) + "\n")
        for items in (self.categories, self.grids, self.packages):
            for item in items:
                line = {"kind": kind_of(item), "data": convert(item)}
                stream.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> Catalog:
        """Read a catalogue written by [`save`][djangopackages_sdk.Catalog.save]."""
        with open(path, encoding="utf-8") as stream:
            return cls.read(stream, source=str(path))

    @classmethod
    def read(cls, lines: Iterable[str], *, source: str = "<stream>") -> Catalog:
        """Read a catalogue from lines of JSON (see [`save`][djangopackages_sdk.Catalog.save])."""
        convert = get_converter()
        iterator = iter(lines)
        try:
            header = json.loads(next(iterator))
        except (StopIteration, ValueError):
            raise PayloadError(source, "not a catalogue file: no header line") from None
        if (
            not isinstance(header, Mapping)
            or header.get("format") != FORMAT
            or header.get("version") != VERSION
        ):
            raise PayloadError(source, f"not a version {VERSION} catalogue file")
        found: dict[str, list[Any]] = {"package": [], "grid": [], "category": []}
        for number, text in enumerate(iterator, start=2):
            if not text.strip():
                continue
            try:
                line = json.loads(text)
                model = BY_KIND[line["kind"]].model
                data = line["data"]
            except (ValueError, KeyError, TypeError):
                raise PayloadError(
                    source, f"line {number} is not a catalogue record", path=f"line {number}"
                ) from None
            found[line["kind"]].append(
                convert.structure(data, model, url=source, path=f"line {number}")
            )
        try:
            fetched_at = datetime.fromisoformat(header["fetched_at"])
            base_url = str(header["base_url"])
        except (KeyError, TypeError, ValueError):
            raise PayloadError(source, "catalogue header lacks base_url or fetched_at") from None
        return cls(
            base_url,
            tuple(found["package"]),
            tuple(found["grid"]),
            tuple(found["category"]),
            fetched_at=fetched_at,
        )
