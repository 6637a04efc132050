"""``catalog()``: the whole API read at once, linked offline, saved and loaded exactly."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import Harness
from djangopackages_sdk import Catalog, Category, Grid, Link, Package, PayloadError
from djangopackages_sdk.testing import sample_categories, sample_grids, sample_packages
from helpers import API_ROOT as API


async def _catalog(dp: Harness) -> Catalog:
    catalog = await dp.run(lambda c: c.catalog())
    assert isinstance(catalog, Catalog)
    return catalog


async def test_catalog_reads_everything_in_three_requests(dp: Harness) -> None:
    catalog = await _catalog(dp)
    assert len(dp.fake.requests) == 3
    assert sorted(r.url.path for r in dp.fake.requests) == [
        "/api/v4/categories/",
        "/api/v4/grids/",
        "/api/v4/packages/",
    ]
    assert [p.id for p in catalog.packages] == [1867, 1672, 1412, 1306, 359]
    assert [g.id for g in catalog.grids] == [426, 243, 153, 114, 66, 45, 28, 7]
    assert [c.id for c in catalog.categories] == [1]
    assert len(catalog) == 14
    assert catalog.base_url == API
    assert catalog.fetched_at.tzinfo is not None
    # It fed the client's identity map too.
    assert dp.client.cache_size == 14


async def test_catalog_matches_the_sample(dp: Harness) -> None:
    catalog = await _catalog(dp)
    assert set(catalog.packages) == set(sample_packages())
    assert set(catalog.grids) == set(sample_grids())
    assert set(catalog.categories) == set(sample_categories())


async def test_every_link_resolves_locally(dp: Harness) -> None:
    catalog = await _catalog(dp)
    count = len(dp.fake.requests)
    for package in catalog.packages:
        category = catalog.resolve(package.category)
        assert isinstance(category, Category)
        assert catalog.category_of(package) is category
        for link in package.grids:
            grid = catalog.resolve(link)
            assert isinstance(grid, Grid)
            assert grid.id == link.id
    for grid in catalog.grids:
        for package_link in grid.packages:
            assert catalog.resolve(package_link).id == package_link.id
    assert len(dp.fake.requests) == count


async def test_packages_in_and_grids_of(dp: Harness) -> None:
    catalog = await _catalog(dp)
    for grid in catalog.grids:
        members = catalog.packages_in(grid)
        assert [p.id for p in members] == [link.id for link in grid.packages]
        assert catalog.packages_in(Link(f"{API}grids/{grid.id}/", grid.id)) == members
    otp = catalog.package("django-otp")
    grids = catalog.grids_of(otp)
    assert [g.id for g in grids] == [link.id for link in otp.grids] == [7, 426]
    assert catalog.grids_of(Link(f"{API}packages/1867/", 1867)) == grids
    for package in catalog.packages:
        for grid in catalog.grids_of(package):
            assert package in catalog.packages_in(grid)


@pytest.mark.parametrize(
    ("method", "key", "expected_id"),
    [
        ("package", 1867, 1867),
        ("package", "1867", 1867),
        ("package", "django-otp", 1867),
        ("grid", 7, 7),
        ("grid", "7", 7),
        ("grid", "two-factor-authentication", 426),
        ("category", 1, 1),
        ("category", "apps", 1),
    ],
)
async def test_lookups(dp: Harness, method: str, key: int | str, expected_id: int) -> None:
    catalog = await _catalog(dp)
    assert getattr(catalog, method)(key).id == expected_id


@pytest.mark.parametrize(
    ("method", "key"),
    [
        ("package", 1),
        ("package", "nope"),
        ("grid", 1867),
        ("grid", "django-otp"),  # a package slug is not a grid
        ("category", 2),
        ("category", "frameworks"),
    ],
)
async def test_missing_lookups_raise_key_error(dp: Harness, method: str, key: int | str) -> None:
    catalog = await _catalog(dp)
    with pytest.raises(KeyError):
        getattr(catalog, method)(key)


async def test_resolve_missing_link(dp: Harness) -> None:
    catalog = await _catalog(dp)
    with pytest.raises(KeyError, match="not in this catalogue"):
        catalog.resolve(Link(f"{API}grids/99999/", 99999))


async def test_save_load_round_trip(dp: Harness, tmp_path: Path) -> None:
    catalog = await _catalog(dp)
    path = tmp_path / "catalog.jsonl"
    catalog.save(path)
    loaded = Catalog.load(path)
    assert loaded == catalog
    assert loaded.packages == catalog.packages
    assert loaded.grids == catalog.grids
    assert loaded.categories == catalog.categories
    assert loaded.fetched_at == catalog.fetched_at
    assert loaded.base_url == catalog.base_url
    # Lookups work offline on the loaded copy.
    assert loaded.grids_of(loaded.package("django-otp")) == catalog.grids_of(
        catalog.package("django-otp")
    )
    # Saving the loaded copy writes the same bytes.
    again = tmp_path / "again.jsonl"
    loaded.save(again)
    assert again.read_bytes() == path.read_bytes()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + len(catalog)
    header = json.loads(lines[0])
    assert header["format"] == "djangopackages-sdk-catalog"
    assert header["version"] == 2
    assert header["counts"] == {"packages": 5, "grids": 8, "categories": 1}
    assert [json.loads(line)["kind"] for line in lines[1:]] == (
        ["category"] * 1 + ["grid"] * 8 + ["package"] * 5
    )


def test_dump_read_stream_and_unicode() -> None:
    grid = next(g for g in sample_grids() if g.id == 426)
    catalog = Catalog(API, (), (grid,), (), fetched_at=datetime(2026, 1, 1, tzinfo=UTC))
    stream = io.StringIO()
    catalog.dump(stream)
    assert any(ord(ch) > 0xFFFF for ch in stream.getvalue())  # emoji written as is
    lines = stream.getvalue().splitlines()
    lines.insert(1, "")  # blank lines are tolerated
    assert Catalog.read(lines) == catalog


def test_catalog_equality_and_hash() -> None:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    one = Catalog(API, sample_packages(), sample_grids(), sample_categories(), fetched_at=when)
    two = Catalog(API, sample_packages(), sample_grids(), sample_categories(), fetched_at=when)
    assert one == two
    assert one != Catalog(API, sample_packages(), (), sample_categories(), fetched_at=when)
    assert one != "catalog"
    with pytest.raises(TypeError):
        hash(one)


def test_dangling_links_are_left_out() -> None:
    otp = next(p for p in sample_packages() if p.slug == "django-otp")
    grids = tuple(g for g in sample_grids() if g.id == 7)
    catalog = Catalog(API, (otp,), grids, ())
    assert [g.id for g in catalog.grids_of(otp)] == [7]  # grid 426 is not in it
    assert catalog.packages_in(grids[0]) == (otp,)
    with pytest.raises(KeyError):
        catalog.category_of(otp)


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("", "$"),
        ("not json\n", "$"),
        ('{"format": "other", "version": 1}\n', "$"),
        ('{"format": "djangopackages-sdk-catalog", "version": 3}\n', "$"),
        ("[]\n", "$"),
    ],
)
def test_read_rejects_other_files(text: str, path: str) -> None:
    with pytest.raises(PayloadError) as info:
        Catalog.read(io.StringIO(text), source="x.jsonl")
    assert info.value.path == path
    assert info.value.url == "x.jsonl"


HEADER = json.dumps(
    {
        "format": "djangopackages-sdk-catalog",
        "version": 1,
        "base_url": API,
        "fetched_at": "2026-01-01T00:00:00+00:00",
    }
)


@pytest.mark.parametrize(
    ("line", "path"),
    [
        ("not json", "line 2"),
        ('{"kind": "widget", "data": {}}', "line 2"),
        ('{"data": {}}', "line 2"),
        ('{"kind": "grid"}', "line 2"),
        ('{"kind": "category", "data": {"id": "1"}}', "line 2.id"),
    ],
)
def test_read_rejects_bad_lines(line: str, path: str) -> None:
    with pytest.raises(PayloadError) as info:
        Catalog.read([HEADER, line])
    assert info.value.path == path


def test_read_rejects_header_without_fields() -> None:
    header = json.dumps({"format": "djangopackages-sdk-catalog", "version": 1})
    with pytest.raises(PayloadError, match="base_url"):
        Catalog.read([header])


def test_models_in_catalog_are_the_sdk_models() -> None:
    catalog = Catalog(API, sample_packages(), sample_grids(), sample_categories())
    assert all(isinstance(p, Package) for p in catalog.packages)
    # A short summary, never the repr of thousands of packages.
    assert repr(catalog) == (
        f"<Catalog {API}: 5 packages, 8 grids, 1 category, "
        f"fetched {catalog.fetched_at.isoformat()}>"
    )
