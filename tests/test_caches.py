"""The converter's process-wide caches: bounded, shared within a catalogue, never seen in results.

The converter keeps one instance of each repeated value it structures (logins,
links, weekly-commit vectors, timezones) for every client of the process. Each
cache has a bound, checked once per page: a whole catalogue fits, so sharing
works, while crawl after crawl of new data never grows them without limit.
Emptying a cache changes no result, since it only ever shares equal values.
"""

from __future__ import annotations

import gc
import tracemalloc
from datetime import timedelta
from typing import Any

import pytest
from cattrs.gen import make_dict_structure_fn

import djangopackages_sdk._convert as convert_module
from conftest import load_body
from djangopackages_sdk import Package
from djangopackages_sdk._convert import Converter, get_converter
from djangopackages_sdk._datetimes import parse_datetime
from helpers import API_ROOT, recorded_packages, varied_packages

MAX_ENTRIES = 50_000
"""No cache may hold more entries than this (the largest bound, on logins)."""


def _sizes(conv: Converter) -> dict[str, int]:
    sizes = {"strings": len(conv._strings), "commits": len(conv._commits)}
    sizes.update({f"links to {name}": len(links) for name, links in conv._links.items()})
    return sizes


def _fresh_page(number: int, size: int) -> list[dict[str, Any]]:
    """``size`` recorded rows with logins, links and commit vectors never seen before."""
    template = load_body("real-api/packages-list-first-page")["results"]
    rows = []
    for index in range(number * size, (number + 1) * size):
        row = template[index % len(template)]
        rows.append(
            dict(
                row,
                id=index,
                category=f"{API_ROOT}categories/{index}/",
                grids=[f"{API_ROOT}grids/{index}/", f"{API_ROOT}grids/{index // 2}/"],
                participants=[
                    f"new-{index}",
                    f"other-{index}",
                    f"third-{index}",
                    *row["participants"],
                ],
                commits_over_52=[(index >> bit) & 1 for bit in range(52)],
            )
        )
    return rows


def test_crawl_after_crawl_of_new_data_never_grows_the_caches_past_their_bounds() -> None:
    """20,000 rows of new logins, links and vectors: no cache passes its bound, and the
    memory they hold stays small."""
    conv = Converter()
    conv.structure_rows(_fresh_page(0, 10), Package)  # generated code, before tracing
    gc.collect()
    tracemalloc.start()
    try:
        floor = tracemalloc.get_traced_memory()[0]
        for number in range(1, 41):
            models, errors = conv.structure_rows(_fresh_page(number, 500), Package)
            assert not errors
            assert len(models) == 500
            assert max(_sizes(conv).values()) <= MAX_ENTRIES, _sizes(conv)
        del models
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - floor
    finally:
        tracemalloc.stop()
    # Each of these four caches at its bound would hold about 18 MB in all; unbounded,
    # they held 23 MB after these 20,000 rows, and grew with every page.
    assert held < 20_000_000


def test_single_structure_calls_are_bounded_too() -> None:
    """`structure` checks the bounds as it enters: one call past them empties the cache."""
    conv = Converter()
    limit = convert_module._STRING_CACHE_LIMIT
    conv._strings.update((f"x{i}", f"x{i}") for i in range(limit + 1))
    row = _fresh_page(1, 1)[0]
    package = conv.structure(row, Package)
    assert set(conv._strings) == {*row["participants"], row["pypi_version"]} - {None}
    assert package == Converter().structure(row, Package)


def test_the_bounds_are_checked_once_per_page(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every page ends with each cache within its bound, whatever the bound."""
    monkeypatch.setattr(convert_module, "_STRING_CACHE_LIMIT", 100)
    monkeypatch.setattr(convert_module, "_LINK_CACHE_LIMIT", 30)
    monkeypatch.setattr(convert_module, "_COMMIT_CACHE_LIMIT", 10)
    conv = Converter()
    for number in range(10):
        conv.structure_rows(_fresh_page(number, 40), Package)
        sizes = _sizes(conv)
        assert sizes.pop("strings") <= 100
        assert sizes.pop("commits") <= 10
        assert max(sizes.values()) <= 30


def test_clearing_the_caches_never_changes_a_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """A converter whose caches empty on every page gives what an unbounded one gives."""
    roomy = Converter()
    monkeypatch.setattr(convert_module, "_STRING_CACHE_LIMIT", 0)
    monkeypatch.setattr(convert_module, "_LINK_CACHE_LIMIT", 0)
    monkeypatch.setattr(convert_module, "_COMMIT_CACHE_LIMIT", 0)
    tiny = Converter()
    recorded = load_body("real-api/packages-list-first-page")["results"]
    for number in range(5):
        page = _fresh_page(number % 3, 30) + recorded  # new rows, then rows seen before
        kept, errors = roomy.structure_rows(page, Package)
        cleared, more_errors = tiny.structure_rows(page, Package)
        assert not errors
        assert not more_errors
        assert cleared == kept
        assert tiny.unstructure(cleared) == page
        assert [tiny.structure(row, Package) for row in page] == kept
    assert max(_sizes(tiny).values()) <= 200  # emptied at the end of each page


def test_a_whole_catalogue_fits_so_its_values_stay_shared() -> None:
    """5,405 packages with some 9,000 logins: no cache is emptied while they are structured."""
    rows = list(varied_packages(5405).packages.values())
    conv = Converter()
    packages: list[Any] = []
    for start in range(0, len(rows), 500):
        models, errors = conv.structure_rows(rows[start : start + 500], Package)
        assert not errors
        packages.extend(models)
    logins = {login for row in rows for login in row["participants"]}
    held = {id(login) for package in packages for login in package.participants}
    assert len(held) == len(logins)  # one object per login, from the first page to the last
    vectors = {tuple(row["commits_over_52"]) for row in rows}
    assert len({id(package.commits_over_52) for package in packages}) == len(vectors)
    grid_links = {id(link) for package in packages for link in package.grids}
    assert len(grid_links) == len({url for row in rows for url in row["grids"]})


def test_versions_and_slugs_are_kept_once_with_the_values_of_the_detailed_path() -> None:
    """Repeated versions are one string each, a slug equal to its title is the title's
    string, and the models equal those of cattrs' detailed path, which shares neither."""
    conv = Converter()
    detailed = make_dict_structure_fn(Package, conv._cattrs)
    rows = recorded_packages()
    packages = [conv.structure(row, Package) for row in rows]
    assert packages == [detailed(row, Package) for row in rows]
    titled = [package for package in packages if package.slug == package.title]
    assert titled
    assert all(package.slug is package.title for package in titled)
    versions: dict[str, str] = {}
    for package in packages:
        if package.pypi_version is not None:
            assert versions.setdefault(package.pypi_version, package.pypi_version) is (
                package.pypi_version
            )
    assert len(versions) < len(packages)  # some versions do repeat


def test_get_converter_is_shared_per_strictness() -> None:
    """However strictness is spelled, one converter per value: one set of caches."""
    assert get_converter() is get_converter() is get_converter(False)
    assert get_converter() is get_converter(strict=False)
    assert get_converter(strict=True) is get_converter(True)
    assert get_converter() is not get_converter(strict=True)
    assert isinstance(get_converter(), Converter)
    assert get_converter(strict=True).strict
    assert not get_converter().strict


def test_links_are_canonical_and_shared() -> None:
    conv = get_converter()
    row = load_body("real-api/packages-detail-by-id-1867-django-otp")
    one = conv.structure(row, Package)
    two = conv.structure(dict(row), Package)
    assert one == two
    assert one.category is two.category  # one shared Link per distinct URL
    assert one.category.url == "http://127.0.0.1:8765/api/v4/categories/1/"
    assert [g.id for g in one.grids] == [7, 426]


def test_datetimes_with_one_offset_share_one_timezone_object() -> None:
    first = parse_datetime("2013-06-11T06:45:04.825389-04:00")
    second = parse_datetime("2020-01-02T03:04:05-04:00")
    other = parse_datetime("2020-01-02T03:04:05-05:00")
    assert first.tzinfo is second.tzinfo  # one shared object per offset, not one per value
    assert other.tzinfo is not first.tzinfo
    assert other.utcoffset() == timedelta(hours=-5)
    package = get_converter().structure(
        load_body("real-api/packages-detail-by-id-1867-django-otp"), Package
    )
    assert package.created.tzinfo is parse_datetime("2013-06-11T06:45:04-04:00").tzinfo
