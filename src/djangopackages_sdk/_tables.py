"""Data frames of the models: one row per resource, one typed column per field.

`to_pandas` and `to_polars` turn any iterable of one model type (packages,
grids, categories or search results) into a table whose dtypes are fixed here,
not guessed by the library: integers ``int64``, booleans ``bool``, text a
nullable string, datetimes UTC-aware (``datetime64[us, UTC]`` /
``Datetime("us", "UTC")``) holding the instants the API sent, links as ids and
lists as list columns. `catalog_frame` adds what only a `Catalog` knows (a
package's category title, counts). pandas and polars are optional: each is
imported inside the call that needs it. The columns are documented in
``docs/tables.md``.
"""

from __future__ import annotations

import operator
import typing
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

import attrs

from ._models import CatalogView, Category, Grid, Package, SearchResult

if TYPE_CHECKING:
    import pandas
    import polars

__all__ = ["to_pandas", "to_polars"]

Kind: TypeAlias = Literal["int", "bool", "nbool", "str", "datetime", "ints", "strs"]
"""A column's type: int64, bool, nullable bool, nullable string, UTC datetime, list of
int64, list of strings."""
Library: TypeAlias = Literal["pandas", "polars"]
Row: TypeAlias = Package | Grid | Category | SearchResult
"""What a table's rows can be made of (one model type per table)."""
Column: TypeAlias = tuple[str, Kind, list[Any]]
"""One column of a table: its name, its kind and its values (one per row)."""
Getter: TypeAlias = Callable[[Sequence[Any]], list[Any]]
Spec: TypeAlias = tuple[tuple[str, Kind, Getter], ...]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH: Final = datetime(1970, 1, 1)
_MICROSECOND: Final = timedelta(microseconds=1)
_NAT: Final = -(2**63)  # numpy's NaT as an int64
_INSTALL: Final = "pip install 'djangopackages-sdk[{extra}]'"


def _field(name: str) -> Getter:
    get = operator.attrgetter(name)
    return lambda items: list(map(get, items))


def _link_ids(name: str) -> Getter:
    get = operator.attrgetter(name)
    return lambda items: [tuple([link.id for link in get(item)]) for item in items]


_KINDS: Final[dict[Any, Kind]] = {
    int: "int",
    bool: "bool",
    str: "str",
    str | None: "str",
    datetime: "datetime",
    datetime | None: "datetime",
    tuple[int, ...]: "ints",
    tuple[str, ...]: "strs",
}


def _spec(model: type[Any], *, links: dict[str, tuple[str, Kind, Getter]]) -> Spec:
    """``id``, ``title`` and ``slug`` first, then the other fields in the API's order,
    links replaced by their ids (a field of any other type is a programming error)."""
    hints = typing.get_type_hints(model)
    names = [f.name for f in attrs.fields(model)]
    first = [name for name in ("id", "title", "slug") if name in names]
    names = first + [name for name in names if name not in first]
    return tuple(links.get(name) or (name, _KINDS[hints[name]], _field(name)) for name in names)


SPECS: Final[dict[type[Any], Spec]] = {
    Package: _spec(
        Package,
        links={
            "category": ("category_id", "int", lambda ps: [p.category.id for p in ps]),
            "grids": ("grid_ids", "ints", _link_ids("grids")),
        },
    ),
    Grid: _spec(Grid, links={"packages": ("package_ids", "ints", _link_ids("packages"))}),
    Category: _spec(Category, links={}),
    SearchResult: _spec(SearchResult, links={}),
}
"""The columns of each model's table, in order."""


def to_pandas(items: Iterable[Row], *, model: type[Row] | None = None) -> pandas.DataFrame:
    """A pandas ``DataFrame`` of packages, grids, categories or search results.

    One row per item, in order; the columns and dtypes are listed in the
    [tables page](tables.md). ``items`` must hold one model type; ``model``
    names it for an empty input (which otherwise gives a frame without columns).
    Needs ``pip install 'djangopackages-sdk[pandas]'``.
    """
    return build("pandas", _columns(items, model))


def to_polars(items: Iterable[Row], *, model: type[Row] | None = None) -> polars.DataFrame:
    """A polars ``DataFrame`` of packages, grids, categories or search results.

    The same columns as [`to_pandas`][djangopackages_sdk.to_pandas], as polars
    types. Needs ``pip install 'djangopackages-sdk[polars]'``.
    """
    return build("polars", _columns(items, model))  # type: ignore[no-any-return]


def catalog_frame(catalog: CatalogView, collection: str, library: Library) -> Any:
    """The table of one collection of a catalogue, with its related titles and counts."""
    if not isinstance(collection, str):
        raise TypeError(f"collection must be a str, not {type(collection).__name__}")
    if collection == "packages":
        columns = _columns(catalog.packages, Package)
        titles = {c.id: c.title for c in catalog.categories}
        _after(columns, "category_id", "category", "str", lambda ids: [titles.get(i) for i in ids])
        _after(columns, "grid_ids", "grid_count", "int", lambda ids: list(map(len, ids)))
    elif collection == "grids":
        columns = _columns(catalog.grids, Grid)
        _after(columns, "package_ids", "package_count", "int", lambda ids: list(map(len, ids)))
    elif collection == "categories":
        columns = _columns(catalog.categories, Category)
        per: dict[int, int] = {}
        for package in catalog.packages:
            per[package.category.id] = per.get(package.category.id, 0) + 1
        columns.append(("package_count", "int", [per.get(i, 0) for i in columns[0][2]]))
    else:
        raise ValueError(
            f"collection must be 'packages', 'grids' or 'categories', not {collection!r}"
        )
    return build(library, columns)


def _after(
    columns: list[Column],
    source: str,
    name: str,
    kind: Kind,
    derive: Callable[[list[Any]], list[Any]],
) -> None:
    """Insert column ``name``, derived from the values of ``source``, right after it."""
    at = [column[0] for column in columns].index(source)
    columns.insert(at + 1, (name, kind, derive(columns[at][2])))


def _columns(items: Iterable[Any], model: type[Any] | None) -> list[Column]:  # unchecked input
    if model is not None and model not in SPECS:
        raise TypeError(
            "model must be Package, Grid, Category or SearchResult, not "
            f"{getattr(model, '__name__', model)!r}"
        )
    if isinstance(items, str | bytes | dict) or not isinstance(items, Iterable):
        raise TypeError(
            "items must be an iterable of packages, grids, categories or search results, "
            f"not {type(items).__name__} (for one item, pass [item])"
        )
    rows = items if isinstance(items, tuple | list) else list(items)
    kinds = {type(item) for item in rows}
    if model is not None:
        kinds.add(model)
    if len(kinds) > 1 or not kinds <= SPECS.keys():
        names = ", ".join(sorted(kind.__name__ for kind in kinds))
        raise TypeError(
            "items must hold one model type (Package, Grid, Category or SearchResult), "
            f"found {names}"
        )
    if not kinds:
        return []
    return [(name, kind, get(rows)) for name, kind, get in SPECS[kinds.pop()]]


def micros(values: Sequence[datetime | None]) -> list[int]:
    """Microseconds since the Unix epoch (UTC) of each value; NaT's int64 for None.

    Aware values keep their instant whatever their offset; naive values are
    read as UTC (the one documented assumption, see ``docs/tables.md``).
    """
    # A value minus an epoch of the same fixed-offset zone object is plain arithmetic
    # (Python skips utcoffset() when both share their tzinfo): three times faster.
    epochs: dict[tzinfo | None, datetime | None] = {None: _NAIVE_EPOCH}
    out: list[int] = []
    append = out.append
    for value in values:
        if value is None:
            append(_NAT)
            continue
        zone = value.tzinfo
        epoch = epochs.get(zone, _EPOCH)
        if epoch is _EPOCH and zone not in epochs:
            epoch = epochs[zone] = _EPOCH.astimezone(zone) if type(zone) is timezone else None
        if epoch is None:  # a zone with rules (DST) or no offset: the general way
            epoch = _EPOCH if value.utcoffset() is not None else _NAIVE_EPOCH
            value = value if epoch is _EPOCH else value.replace(tzinfo=None)
        append((value - epoch) // _MICROSECOND)
    return out


def build(library: Library, columns: list[Column]) -> Any:
    """A pandas or polars frame of ``columns``, each with its fixed dtype."""
    if library == "pandas":
        return _pandas_frame(columns)
    return _polars_frame(columns)


def _require(module: str, extra: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"this needs {extra}, which is not installed: {_INSTALL.format(extra=extra)}"
        ) from error


def _pandas_frame(columns: list[Column]) -> Any:
    pd = _require("pandas", "pandas")
    np = _require("numpy", "pandas")
    text = pd.StringDtype("python")  # the same dtype on pandas 2.2 and 3.x
    data: dict[str, Any] = {}
    for name, kind, values in columns:
        if kind == "int":
            data[name] = np.array(values, dtype=np.int64)
        elif kind == "bool":
            data[name] = np.array(values, dtype=np.bool_)
        elif kind == "nbool":
            data[name] = pd.array(values, dtype="boolean")
        elif kind == "str":
            data[name] = pd.array(values, dtype=text)
        elif kind == "datetime":
            stamps = np.array(micros(values), dtype=np.int64).view("datetime64[us]")
            data[name] = pd.Series(stamps, copy=False).dt.tz_localize("UTC").array
        else:  # lists: pandas has no list dtype without pyarrow; tuples, as in the models
            cells = np.empty(len(values), dtype=object)
            for index, value in enumerate(values):
                cells[index] = value
            data[name] = cells
    return pd.DataFrame(data, copy=False)


def _polars_frame(columns: list[Column]) -> Any:
    pl = _require("polars", "polars")
    types = {
        "int": pl.Int64,
        "bool": pl.Boolean,
        "nbool": pl.Boolean,
        "str": pl.String,
        "ints": pl.List(pl.Int64),
        "strs": pl.List(pl.String),
    }
    series = []
    for name, kind, values in columns:
        if kind == "datetime":
            stamps = [None if m == _NAT else m for m in micros(values)]
            series.append(pl.Series(name, stamps, dtype=pl.Int64).cast(pl.Datetime("us", "UTC")))
        else:
            series.append(pl.Series(name, values, dtype=types[kind]))
    return pl.DataFrame(series)
