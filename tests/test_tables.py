"""Data frames: exact dtypes, the models' values, links as ids, catalogue extras, errors."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import httpx
import pandas as pd
import polars as pl
import pytest

from djangopackages_sdk import (
    Catalog,
    Client,
    CollectionName,
    Grid,
    Package,
    SearchResult,
    to_pandas,
    to_polars,
)
from djangopackages_sdk._convert import get_converter
from djangopackages_sdk._tables import micros
from djangopackages_sdk.testing import (
    FakeAPI,
    sample_categories,
    sample_grids,
    sample_packages,
)
from helpers import API_ROOT as API

STR, INT, BOOL, TIME, LIST = "string", "int64", "bool", "datetime64[us, UTC]", "object"
PANDAS_PACKAGE = {
    "id": INT,
    "title": STR,
    "slug": STR,
    "category_id": INT,
    "grid_ids": LIST,
    "last_updated": TIME,
    "last_fetched": TIME,
    "repo_url": STR,
    "pypi_version": STR,
    "created": TIME,
    "modified": TIME,
    "repo_forks": INT,
    "repo_description": STR,
    "pypi_url": STR,
    "documentation_url": STR,
    "repo_watchers": INT,
    "commits_over_52": LIST,
    "participants": LIST,
}
PANDAS_GRID = {
    "id": INT,
    "title": STR,
    "slug": STR,
    "description": STR,
    "is_locked": BOOL,
    "package_ids": LIST,
    "header": BOOL,
    "created": TIME,
    "modified": TIME,
}
PANDAS_CATEGORY = {
    "id": INT,
    "title": STR,
    "slug": STR,
    "description": STR,
    "title_plural": STR,
    "show_pypi": BOOL,
    "created": TIME,
    "modified": TIME,
}
PANDAS_SEARCH = {
    "title": STR,
    "slug": STR,
    "description": STR,
    "title_no_prefix": STR,
    "slug_no_prefix": STR,
    "clean_title": STR,
    "absolute_url": STR,
    "created": TIME,
    "modified": TIME,
    "weight": INT,
    "item_type": STR,
    "category": STR,
    "repo_watchers": INT,
    "repo_forks": INT,
    "pypi_downloads": INT,
    "score": INT,
    "usage": INT,
    "participants": STR,
    "last_committed": TIME,
    "last_released": TIME,
}
POLARS_OF = {
    STR: pl.String,
    INT: pl.Int64,
    BOOL: pl.Boolean,
    TIME: pl.Datetime("us", "UTC"),
}


def _with(columns: dict[str, str], after: str, name: str, dtype: str) -> dict[str, str]:
    items = list(columns.items())
    at = [n for n, _ in items].index(after) + 1
    return dict([*items[:at], (name, dtype), *items[at:]])


CATALOG_PACKAGE = _with(
    _with(PANDAS_PACKAGE, "category_id", "category", STR), "grid_ids", "grid_count", INT
)
CATALOG_GRID = _with(PANDAS_GRID, "package_ids", "package_count", INT)
CATALOG_CATEGORY = {**PANDAS_CATEGORY, "package_count": INT}
LISTS = {
    "grid_ids": pl.List(pl.Int64),
    "package_ids": pl.List(pl.Int64),
    "commits_over_52": pl.List(pl.Int64),
    "participants": pl.List(pl.String),
}


def _polars_schema(columns: dict[str, str]) -> dict[str, Any]:
    return {
        name: LISTS[name] if kind == LIST else POLARS_OF[kind] for name, kind in columns.items()
    }


def _search_results() -> list[SearchResult]:
    fake = FakeAPI.with_sample_data()
    convert = get_converter()
    return [convert.structure(row, SearchResult) for row in fake.search_results("django")]


@pytest.fixture
def catalog() -> Catalog:
    return Catalog(API, sample_packages(), sample_grids(), sample_categories())


def _dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return {name: str(dtype) for name, dtype in frame.dtypes.items()}


CASES: list[tuple[Callable[[], list[Any]], dict[str, str]]] = [
    (lambda: list(sample_packages()), PANDAS_PACKAGE),
    (lambda: list(sample_grids()), PANDAS_GRID),
    (lambda: list(sample_categories()), PANDAS_CATEGORY),
    (_search_results, PANDAS_SEARCH),
]


@pytest.mark.parametrize(("items", "columns"), CASES)
def test_pandas_columns_and_dtypes_are_exact(
    items: Callable[[], list[Any]], columns: dict[str, str]
) -> None:
    rows = items()
    assert rows
    frame = to_pandas(rows)
    assert _dtypes(frame) == columns
    assert len(frame) == len(rows)
    for name, kind in columns.items():
        if kind == STR:  # the same nullable string dtype on pandas 2.2 and 3.x
            assert frame[name].dtype == pd.StringDtype("python")
            assert frame[name].dtype.na_value is pd.NA
    # An empty input with its model names the same columns, with the same dtypes.
    assert _dtypes(to_pandas([], model=type(rows[0]))) == columns


@pytest.mark.parametrize(("items", "columns"), CASES)
def test_polars_schema_is_exact(items: Callable[[], list[Any]], columns: dict[str, str]) -> None:
    rows = items()
    frame = to_polars(iter(rows))  # any iterable, not only lists
    assert dict(frame.schema) == _polars_schema(columns)
    assert frame.height == len(rows)
    assert dict(to_polars((), model=type(rows[0])).schema) == _polars_schema(columns)


def _same(value: Any, expected: Any) -> bool:
    if expected is None:
        return value is None or value is pd.NA or value is pd.NaT
    if isinstance(expected, tuple):
        return tuple(value) == expected
    return bool(value == expected)


def _expected(package: Package) -> dict[str, Any]:
    row = attrs.asdict(package, recurse=False)
    row["category_id"] = package.category.id
    row["grid_ids"] = tuple(link.id for link in package.grids)
    del row["category"], row["grids"]
    return row


@pytest.mark.parametrize("library", ["pandas", "polars"])
def test_values_are_the_models_values(library: str) -> None:
    packages = sample_packages()
    if library == "pandas":
        records = to_pandas(packages).to_dict("records")
    else:
        records = to_polars(packages).to_dicts()
    assert [r["id"] for r in records] == [p.id for p in packages]
    for record, package in zip(records, packages, strict=True):
        expected = _expected(package)
        assert set(record) == set(expected)
        for name, value in expected.items():
            assert _same(record[name], value), (package.slug, name, record[name], value)
    # The instants are those the API sent, whatever their offset (-04:00 and -05:00).
    offsets = {p.last_updated.utcoffset() for p in packages if p.last_updated is not None}
    assert offsets == {timedelta(hours=-4), timedelta(hours=-5)}
    session = next(r for r in records if r["id"] == 1306)
    assert session["last_updated"] == datetime(2024, 4, 12, 9, 41, 11, tzinfo=UTC)


def test_nulls_become_missing_values() -> None:
    package = attrs.evolve(
        sample_packages()[0], last_updated=None, pypi_version=None, documentation_url=None
    )
    frame = to_pandas([package])
    assert frame["last_updated"].isna().all()
    assert frame["pypi_version"].isna().all()
    assert frame["pypi_version"].dtype == "string"
    assert frame["documentation_url"].isna().all()
    polars = to_polars([package])
    assert polars["last_updated"].to_list() == [None]
    assert polars["pypi_version"].to_list() == [None]


def test_grid_links_become_package_ids() -> None:
    grids = sample_grids()
    frame = to_polars(grids)
    assert frame["package_ids"].to_list() == [[link.id for link in g.packages] for g in grids]
    assert list(to_pandas(grids)["package_ids"]) == [
        tuple(link.id for link in g.packages) for g in grids
    ]


def test_catalog_tables_add_titles_and_counts(catalog: Catalog) -> None:
    packages = catalog.to_pandas()
    assert _dtypes(packages) == CATALOG_PACKAGE
    assert list(packages["category"]) == ["App"] * 5
    assert list(packages["grid_count"]) == [len(p.grids) for p in catalog.packages]
    grids = catalog.to_pandas("grids")
    assert _dtypes(grids) == CATALOG_GRID
    assert list(grids["package_count"]) == [len(g.packages) for g in catalog.grids]
    assert dict(zip(grids["slug"], grids["package_count"], strict=True))["authentication"] == 2
    categories = catalog.to_pandas("categories")
    assert _dtypes(categories) == CATALOG_CATEGORY
    assert list(categories["package_count"]) == [5]
    assert dict(catalog.to_polars().schema) == _polars_schema(CATALOG_PACKAGE)
    assert dict(catalog.to_polars("grids").schema) == _polars_schema(CATALOG_GRID)
    assert dict(catalog.to_polars("categories").schema) == _polars_schema(CATALOG_CATEGORY)


def test_a_category_missing_from_the_catalogue_has_no_title(catalog: Catalog) -> None:
    partial = Catalog(API, catalog.packages, catalog.grids, ())
    assert partial.to_pandas()["category"].isna().all()
    assert partial.to_polars()["category"].to_list() == [None] * 5
    assert partial.to_polars("categories").height == 0


@pytest.mark.parametrize("collection", ["packages", "grids", "categories"])
def test_an_empty_catalogue_gives_empty_tables_with_every_column(
    collection: CollectionName,
) -> None:
    empty = Catalog(API, (), (), ())
    expected = {
        "packages": CATALOG_PACKAGE,
        "grids": CATALOG_GRID,
        "categories": CATALOG_CATEGORY,
    }[collection]
    frame = empty.to_pandas(collection)
    assert len(frame) == 0
    assert _dtypes(frame) == expected
    assert dict(empty.to_polars(collection).schema) == _polars_schema(expected)


def test_empty_input_without_a_model_has_no_columns() -> None:
    assert to_pandas([]).shape == (0, 0)
    assert to_polars([]).shape == (0, 0)


def test_misuse_names_the_parameter(catalog: Catalog) -> None:
    mixed: list[Any] = [sample_packages()[0], sample_grids()[0]]
    with pytest.raises(TypeError, match=r"items must hold one model type .*found Grid, Package"):
        to_pandas(mixed)
    with pytest.raises(TypeError, match=r"items must hold one model type.*found dict"):
        to_polars([{"id": 1}])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"items must be an iterable .*not Package"):
        to_pandas(sample_packages()[0])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"items must be an iterable .*not str"):
        to_pandas("django-otp")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="model must be Package, Grid, Category or SearchResult"):
        to_pandas([], model=dict)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="found Grid, Package"):
        to_pandas(sample_packages(), model=Grid)
    with pytest.raises(ValueError, match="collection must be 'packages', 'grids' or 'categ"):
        catalog.to_pandas("package")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="collection must be a str, not int"):
        catalog.to_polars(1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("library", "call"),
    [
        ("pandas", lambda: to_pandas(sample_packages())),
        ("pandas", lambda: Catalog(API, (), (), ()).to_pandas()),
        ("polars", lambda: to_polars(sample_packages())),
        ("polars", lambda: Catalog(API, (), (), ()).to_polars("grids")),
    ],
)
def test_without_the_library_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, library: str, call: Callable[[], Any]
) -> None:
    monkeypatch.setitem(sys.modules, library, None)  # ``import`` now fails
    with pytest.raises(ImportError, match=rf"pip install 'djangopackages-sdk\[{library}\]'"):
        call()


def test_without_numpy_pandas_cannot_work_either(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "numpy", None)
    with pytest.raises(ImportError, match=r"pip install 'djangopackages-sdk\[pandas\]'"):
        to_pandas(sample_packages())


def test_micros_keeps_every_instant_and_reads_naive_values_as_utc() -> None:
    new_york = ZoneInfo("America/New_York")
    moments = [
        datetime(2024, 7, 1, 12, tzinfo=new_york),  # a zone with rules: -04:00 in summer
        datetime(2024, 1, 1, 12, tzinfo=new_york),  # and -05:00 in winter
        datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=-5))),
        datetime(2024, 1, 1, 17, 0, 0, 1, tzinfo=UTC),
        datetime(2024, 1, 1, 17),  # naive: read as UTC
        None,
    ]
    expected = [
        datetime(2024, 7, 1, 16, tzinfo=UTC),
        datetime(2024, 1, 1, 17, tzinfo=UTC),
        datetime(2024, 1, 1, 17, tzinfo=UTC),
        datetime(2024, 1, 1, 17, 0, 0, 1, tzinfo=UTC),
        datetime(2024, 1, 1, 17, tzinfo=UTC),
    ]
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert micros(moments)[:-1] == [(e - epoch) // timedelta(microseconds=1) for e in expected]
    assert micros(moments)[-1] == -(2**63)
    packages = [
        attrs.evolve(sample_packages()[0], last_updated=m, id=i) for i, m in enumerate(moments)
    ]
    assert list(to_pandas(packages)["last_updated"])[:-1] == expected
    assert to_polars(packages)["last_updated"].to_list() == [*expected, None]


def test_search_results_keep_their_fields() -> None:
    results = _search_results()
    frame = to_polars(results)
    assert frame["slug"].to_list() == [r.slug for r in results]
    assert frame["participants"].to_list() == [r.participants for r in results]
    assert frame["last_committed"].to_list() == [r.last_committed for r in results]


DOCS = Path(__file__).resolve().parents[1] / "docs" / "tables.md"


@pytest.mark.parametrize(
    ("section", "columns"),
    [
        ("### Packages", CATALOG_PACKAGE),
        ("### Grids", CATALOG_GRID),
        ("### Categories", CATALOG_CATEGORY),
        ("### Search results", PANDAS_SEARCH),
    ],
)
def test_every_column_is_documented_in_order(section: str, columns: dict[str, str]) -> None:
    text = DOCS.read_text(encoding="utf-8").split(section + "\n", 1)[1].split("\n#", 1)[0]
    documented = re.findall(r"^\| `(\w+)` \|", text, flags=re.M)
    assert documented == list(columns)


def test_every_comparison_column_is_documented() -> None:
    text = (
        DOCS.read_text(encoding="utf-8").split("with the columns", 1)[1].split("**Markdown", 1)[0]
    )
    catalog = Catalog(API, sample_packages(), sample_grids(), sample_categories())
    names = list(catalog.compare("authentication").to_pandas().columns)
    assert re.findall(r"`(\w+)`", text) == names


def test_a_sync_listing_goes_straight_in() -> None:
    fake = FakeAPI.with_sample_data()
    with httpx.Client(transport=fake.transport) as http, Client(http_client=http) as dp:
        frame = to_polars(dp.packages.list())
    assert frame["id"].to_list() == [1867, 1672, 1412, 1306, 359]
    assert len(fake.requests) == 1
