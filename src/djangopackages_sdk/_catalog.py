"""A complete, linked snapshot of the catalogue that works offline."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

import attrs

from ._compare import Comparison, compare_in
from ._convert import get_converter
from ._diff import CatalogDiff, diff_catalogs
from ._exceptions import PayloadError
from ._files import reading, write_atomically
from ._links import ApiRoot
from ._lists import ResourceList
from ._models import Category, CollectionName, Grid, Link, Package, ResourceT
from ._overviews import catalog_html
from ._registry import BY_COLLECTION, BY_KIND, KINDS, as_id, kind_of
from ._tables import catalog_frame
from ._words import count_resources

if TYPE_CHECKING:
    import pandas
    import polars

__all__ = ["Catalog"]

FORMAT: Final = "djangopackages-sdk-catalog"
VERSION: Final = 2
"""Version 2 records its counts in the header; version 1 files did not."""
READABLE_VERSIONS: Final = (1, 2)


@attrs.frozen(eq=False)
class Catalog:
    """Every package, grid and category, with every link resolvable locally.

    Build one with ``Client.catalog()`` (or ``AsyncClient.catalog()``); save it
    with `save` and read it back, offline, with `load`. Lookups never
    touch the network. The collections are `ResourceList` tuples: in a notebook
    they show a head table, and the catalogue itself a summary.
    """

    base_url: str
    packages: ResourceList[Package] = attrs.field(converter=ResourceList[Package])
    grids: ResourceList[Grid] = attrs.field(converter=ResourceList[Grid])
    categories: ResourceList[Category] = attrs.field(converter=ResourceList[Category])
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
        counts = {"packages": len(self.packages), "grids": len(self.grids)}
        counts["categories"] = len(self.categories)
        return (
            f"<Catalog {self.base_url}: {count_resources(counts)}, "
            f"fetched {self.fetched_at.isoformat()}>"
        )

    def __len__(self) -> int:
        return len(self.packages) + len(self.grids) + len(self.categories)

    def _repr_html_(self) -> str:
        return catalog_html(self)

    # -- lookups -----------------------------------------------------------------------
    def resolve(self, link: Link[ResourceT]) -> ResourceT:
        """The resource a link points to; ``KeyError`` if the snapshot lacks it."""
        found = self._by_url.get(link.url)
        if found is None:
            raise KeyError(f"{link.url} is not in this catalogue")
        return found  # type: ignore[return-value]

    def package(self, key: int | str) -> Package:
        """A package by id or slug; ``TypeError`` for a key that is neither."""
        return self._lookup("packages", key, Package)

    def grid(self, key: int | str) -> Grid:
        """A grid by id or slug; ``TypeError`` for a key that is neither."""
        return self._lookup("grids", key, Grid)

    def category(self, key: int | str) -> Category:
        """A category by id or slug (the lowest id when several share a slug).

        ``TypeError`` for a key that is neither an int nor a str.
        """
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
        if isinstance(key, bool) or not isinstance(key, int | str):
            raise TypeError(f"key must be an int id or a str slug, not {type(key).__name__}")
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

    # -- tables and the grid comparison (in _tables.py and _compare.py) ----------------
    def to_pandas(self, collection: CollectionName = "packages") -> pandas.DataFrame:
        """One collection as a pandas ``DataFrame``, with related titles and counts.

        ``collection`` is ``"packages"``, ``"grids"`` or ``"categories"``; the
        columns are in the [tables page](tables.md).
        """
        return catalog_frame(self, collection, "pandas")

    def to_polars(self, collection: CollectionName = "packages") -> polars.DataFrame:
        """One collection as a polars ``DataFrame``: the columns of `to_pandas`."""
        return catalog_frame(self, collection, "polars")  # type: ignore[no-any-return]

    def compare(
        self,
        grid: Grid | Link[Grid] | int | str,
        *,
        sort: str = "repo_watchers",
        now: datetime | None = None,
    ) -> Comparison:
        """The packages of ``grid`` (a model, link, id or slug) side by side, sorted.

        ``sort`` names a column (see `Comparison`): counts and dates sort
        descending, text ascending, unknown values last, ties by title. ``now``
        (default: the current time) is the moment ``stale`` is judged at.
        """
        return compare_in(self, grid, sort, now)

    # -- changes ---------------------------------------------------------------------
    def diff(self, newer: Catalog) -> CatalogDiff:
        """What changed from this catalogue to ``newer``: rows added, removed, changed.

        Rows match by collection and id; links compare by the id they point at
        (never by host), datetimes by instant. See
        [`CatalogDiff`][djangopackages_sdk.CatalogDiff].
        """
        if not isinstance(newer, Catalog):
            raise TypeError(f"newer must be a Catalog, not {type(newer).__name__}")
        return diff_catalogs(self, newer)

    # -- files ---------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the catalogue as JSON Lines: a header line, then one resource a line.

        The header records how many packages, grids and categories follow, so
        [`load`][djangopackages_sdk.Catalog.load] can tell a complete file from one
        cut short. The save is atomic: the catalogue is written to a temporary file
        beside ``path``, synced to disk, then renamed over ``path``. If anything fails
        on the way, the temporary file is removed and a previous file at ``path`` is
        left as it was. A symlink at ``path`` is followed; the file it points to is
        replaced and keeps its permission bits. A path ending in ``.gz`` is written
        gzip-compressed (a tenth of the size, or less).
        """
        write_atomically(path, self.dump)

    def dump(self, stream: IO[str]) -> None:
        """Write the catalogue to an open text stream, header (with its counts) first.

        Unlike [`save`][djangopackages_sdk.Catalog.save], this is not atomic: a
        failure leaves what was written so far in the stream.
        """
        convert = get_converter().unstructure
        header = {
            "format": FORMAT,
            "version": VERSION,
            "base_url": self.base_url,
            "fetched_at": self.fetched_at.isoformat(),
            "counts": {
                "packages": len(self.packages),
                "grids": len(self.grids),
                "categories": len(self.categories),
            },
        }
        stream.write(json.dumps(header) + "\n")
        for items in (self.categories, self.grids, self.packages):
            for item in items:
                line = {"kind": kind_of(item), "data": convert(item)}
                stream.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> Catalog:
        """Read a catalogue written by [`save`][djangopackages_sdk.Catalog.save].

        Raises `PayloadError` (its ``url`` is ``path``) naming the line for anything
        that is not a complete catalogue file: an empty file, no header, a line that
        is not UTF-8, not JSON, nested too deeply or not a record, and a file holding
        fewer or more records than its header says (one cut short, say), and a
        gzip file that does not decompress. Files of version 1, which did not record
        their counts, still load, unchecked. A gzip file is recognised by its first
        bytes, whatever its name.
        """
        with reading(path) as stream:
            return cls.read(stream, source=str(path))

    @classmethod
    def read(cls, lines: Iterable[str] | Iterable[bytes], *, source: str = "<stream>") -> Catalog:
        """Read a catalogue from lines of JSON, as text or UTF-8 bytes.

        ``source`` names the input in errors; see
        [`load`][djangopackages_sdk.Catalog.load] for what is checked.
        """
        convert = get_converter()
        numbered = _numbered(lines, source)
        first = next(numbered, None)
        if first is None:
            raise PayloadError(source, "line 1: the file is empty, no catalogue header")
        header = _header(_decode(first[1], 1, source, path="$"), source)
        found: dict[str, list[Any]] = {kind.collection: [] for kind in KINDS}
        last = 1
        for last, text in numbered:
            if not text.strip():
                continue
            where = f"line {last}"
            line = _decode(text, last, source, path=where)
            try:
                kind = BY_KIND[line["kind"]]
                data = line["data"]
            except (KeyError, TypeError):
                raise PayloadError(
                    source, f"{where}: not a catalogue record (no kind or data)", path=where
                ) from None
            found[kind.collection].append(
                convert.structure(data, kind.model, url=source, path=where)
            )
        if header.counts is not None:
            _check_counts(header.counts, found, last, source)
        return cls(
            header.base_url,
            tuple(found["packages"]),
            tuple(found["grids"]),
            tuple(found["categories"]),
            fetched_at=header.fetched_at,
        )


@attrs.frozen
class _Header:
    base_url: str
    fetched_at: datetime
    counts: dict[str, int] | None  # None for version 1 files, which did not record them


def _numbered(lines: Iterable[str] | Iterable[bytes], source: str) -> Iterator[tuple[int, str]]:
    """``(number, text)`` for each line; bytes are decoded as UTF-8, strictly."""
    number = 0
    iterator: Iterator[str | bytes] = iter(lines)
    while True:
        number += 1
        try:
            raw = next(iterator)
        except StopIteration:
            return
        except UnicodeDecodeError as error:  # a text stream that could not decode
            raise PayloadError(
                source,
                f"line {number} or later: not valid UTF-8 ({error.reason}; a text stream "
                "decodes ahead of its lines, read bytes for the exact line)",
                path="$" if number == 1 else f"line {number}",
            ) from None
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise PayloadError(
                    source,
                    f"line {number}: not valid UTF-8 ({error.reason} at byte {error.start})",
                    path="$" if number == 1 else f"line {number}",
                ) from None
        yield number, raw


def _decode(text: str, number: int, source: str, *, path: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        problem = "JSON nested too deeply"
    except json.JSONDecodeError as error:  # its own "line 1" would name the wrong line
        problem = f"not JSON ({error.msg} at column {error.colno})"
    except ValueError as error:  # an integer of more digits than int() takes, say
        problem = f"not JSON this SDK reads ({error})"
    what = "catalogue header" if number == 1 else "catalogue record"
    raise PayloadError(source, f"line {number}: not a {what}: {problem}", path=path)


def _header(header: Any, source: str) -> _Header:
    if not isinstance(header, Mapping) or header.get("format") != FORMAT:
        raise PayloadError(source, f"line 1: not a catalogue file (no {FORMAT} header)")
    version = header.get("version")
    if type(version) is not int or version not in READABLE_VERSIONS:
        raise PayloadError(
            source,
            f"line 1: catalogue file version {version!r} is not one this SDK reads "
            f"({', '.join(map(str, READABLE_VERSIONS))})",
        )
    try:
        fetched_at = datetime.fromisoformat(header["fetched_at"])
        base_url = str(header["base_url"])
    except (KeyError, TypeError, ValueError):
        raise PayloadError(
            source, "line 1: catalogue header lacks base_url or fetched_at"
        ) from None
    if version == 1:
        return _Header(base_url, fetched_at, None)
    counts = header.get("counts")
    names = [kind.collection for kind in KINDS]
    if not isinstance(counts, Mapping) or not all(
        type(counts.get(name)) is int and counts[name] >= 0 for name in names
    ):
        raise PayloadError(
            source,
            f"line 1: a version {version} catalogue header needs its record counts "
            f"(counts: a whole number for each of {', '.join(names)})",
            path="$.counts",
        )
    return _Header(base_url, fetched_at, {name: counts[name] for name in names})


def _check_counts(
    counts: dict[str, int], found: dict[str, list[Any]], last: int, source: str
) -> None:
    wrong = [(name, n, len(found[name])) for name, n in counts.items() if len(found[name]) != n]
    if not wrong:
        return
    if all(got < expected for _, expected, got in wrong):
        problem = f"the file is cut short after line {last}"
    elif all(got > expected for _, expected, got in wrong):
        problem = "the file holds more records than its header says"
    else:
        problem = "the file does not hold the records its header says"
    details = "; ".join(f"header says {n} {name}, found {got}" for name, n, got in wrong)
    raise PayloadError(source, f"{problem}: {details}", path="$.counts")
