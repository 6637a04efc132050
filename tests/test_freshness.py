"""Freshness of a long-lived client: the identity map never answers for data the
server no longer has, and callers control how old an answer may be."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import Harness
from djangopackages_sdk import Link, NotFoundError, Package
from helpers import API_ROOT, many_packages


def _list_rows_requested(harness: Harness) -> int:
    rows = 0
    for request in harness.fake.requests:
        query = parse_qs(urlsplit(str(request.url)).query)
        if "limit" in query:
            rows += int(query["limit"][0])
    return rows


async def test_a_complete_listing_evicts_a_deleted_package(dp: Harness) -> None:
    await dp.run(lambda c: c.packages.get(359))
    await dp.collect(lambda c: c.packages.list())
    size = dp.client.cache_size
    dp.fake.remove("package", 359)
    await dp.collect(lambda c: c.packages.list())
    assert dp.client.cache_size == size - 1
    dp.fake.clear_requests()
    with pytest.raises(NotFoundError):
        await dp.run(lambda c: c.packages.get(359))
    assert len(dp.fake.requests) == 1


async def test_a_complete_listing_reindexes_a_renamed_slug(dp: Harness) -> None:
    otp = await dp.run(lambda c: c.packages.get("django-otp"))
    dp.fake.add(dict(dp.fake.packages[otp.id], slug="django-otp-renamed"))
    await dp.collect(lambda c: c.packages.list())
    dp.fake.clear_requests()
    with pytest.raises(NotFoundError):
        await dp.run(lambda c: c.packages.get("django-otp"))
    assert len(dp.fake.requests) == 1
    renamed = await dp.run(lambda c: c.packages.get("django-otp-renamed"))
    assert renamed.id == otp.id
    assert len(dp.fake.requests) == 1  # answered from the map after the relist


async def test_a_listing_stopped_early_evicts_nothing(dp: Harness) -> None:
    harness = dp.new(fake=many_packages(300))
    try:
        await harness.collect(lambda c: c.packages.list())
        size = harness.client.cache_size
        harness.fake.remove("package", 359)
        await harness.collect(lambda c: c.packages.list(limit=5))
        assert harness.client.cache_size == size
    finally:
        await harness.close()


async def test_a_listing_with_skipped_rows_evicts_nothing(dp: Harness) -> None:
    await dp.collect(lambda c: c.packages.list())
    size = dp.client.cache_size
    first = next(iter(dp.fake.packages))
    dp.fake.add(dict(dp.fake.packages[first], repo_watchers="many"))
    dp.fake.remove("package", 359)
    iterator = dp.client.packages.list(on_error="skip")
    rows = await dp.collect(lambda c: iterator)
    assert iterator.skipped
    assert len(rows) == size - 2
    assert dp.client.cache_size == size


async def test_refresh_always_asks_the_server(dp: Harness) -> None:
    first = await dp.run(lambda c: c.packages.get("django-otp"))
    dp.fake.add(dict(dp.fake.packages[first.id], repo_watchers=first.repo_watchers + 5))
    dp.fake.clear_requests()
    cached = await dp.run(lambda c: c.packages.get("django-otp"))
    assert cached is first
    assert not dp.fake.requests
    fresh = await dp.run(lambda c: c.packages.get("django-otp", refresh=True))
    assert fresh.repo_watchers == first.repo_watchers + 5
    assert len(dp.fake.requests) == 1
    by_id = await dp.run(lambda c: c.packages.get(first.id, refresh=True))
    assert by_id is fresh
    assert len(dp.fake.requests) == 2


async def test_refresh_of_a_category_slug_rereads_the_categories(dp: Harness) -> None:
    categories = await dp.collect(lambda c: c.categories.list())
    dp.fake.clear_requests()
    await dp.run(lambda c: c.categories.get(categories[0].slug))
    assert not dp.fake.requests
    await dp.run(lambda c: c.categories.get(categories[0].slug, refresh=True))
    assert len(dp.fake.requests) == 1


async def test_forget_drops_one_entry_by_model_or_link(dp: Harness) -> None:
    otp = await dp.run(lambda c: c.packages.get("django-otp"))
    other = await dp.run(lambda c: c.packages.get(359))
    size = dp.client.cache_size
    dp.client.forget(otp)
    assert dp.client.cache_size == size - 1
    assert dp.client.cached(Link(f"{API_ROOT}packages/{otp.id}/", otp.id)) is None
    dp.fake.clear_requests()
    await dp.run(lambda c: c.packages.get("django-otp"))
    assert len(dp.fake.requests) == 1
    dp.client.forget(Link(f"{API_ROOT}packages/359/", 359))
    await dp.run(lambda c: c.packages.get(359))
    assert len(dp.fake.requests) == 2
    assert dp.client.cached(Link(f"{API_ROOT}packages/359/", 359)) == other
    dp.client.forget(otp)
    dp.client.forget(otp)  # forgetting what is not held is not an error


def test_forget_rejects_what_is_not_a_resource_or_link() -> None:
    from djangopackages_sdk import Client

    with Client() as client, pytest.raises(TypeError, match="item_or_link"):
        client.forget("django-otp")  # type: ignore[arg-type]


async def test_max_age_refetches_an_old_entry(dp: Harness) -> None:
    harness = dp.new(max_age=0.05)
    try:
        otp = await harness.run(lambda c: c.packages.get("django-otp"))
        harness.fake.clear_requests()
        await harness.run(lambda c: c.packages.get("django-otp"))
        await harness.run(lambda c: c.resolve(Link(f"{API_ROOT}packages/{otp.id}/", otp.id)))
        assert not harness.fake.requests
        await asyncio.sleep(0.1)
        await harness.run(lambda c: c.packages.get(otp.id))
        assert len(harness.fake.requests) == 1
        await asyncio.sleep(0.1)
        await harness.run(lambda c: c.resolve(Link(f"{API_ROOT}packages/{otp.id}/", otp.id)))
        assert len(harness.fake.requests) == 2
        await asyncio.sleep(0.1)
        links = [Link(f"{API_ROOT}packages/{otp.id}/", otp.id)]
        await harness.run(lambda c: c.resolve_many(links))
        assert len(harness.fake.requests) == 3
    finally:
        await harness.close()


@pytest.mark.parametrize("bad", ["10", -1, 0, float("nan")])
def test_max_age_must_be_a_positive_number(bad: object) -> None:
    from djangopackages_sdk import AsyncClient, Client

    for cls in (Client, AsyncClient):
        with pytest.raises((TypeError, ValueError), match="max_age"):
            cls(max_age=bad)  # type: ignore[arg-type]


async def test_the_first_row_reads_only_the_first_page_on_a_client_that_knows_count(
    dp: Harness,
) -> None:
    harness = dp.new(fake=many_packages(1200))
    try:
        await harness.collect(lambda c: c.packages.list())  # now the client knows count
        harness.fake.clear_requests()
        iterator: Any = harness.client.packages.list()
        if harness.is_async:
            first = await anext(aiter(iterator))
        else:
            first = next(iter(iterator))
        assert isinstance(first, Package)
        assert len(harness.fake.requests) == 1
        assert _list_rows_requested(harness) <= 100
    finally:
        await harness.close()


@pytest.mark.parametrize("limit", [1, 7, 100, 101, 450, 1199, 1200, 5000])
async def test_list_limit_reads_at_most_what_it_returns(dp: Harness, limit: int) -> None:
    harness = dp.new(fake=many_packages(1200))
    try:
        rows = await harness.collect(lambda c: c.packages.list(limit=limit))
        everything = sorted(harness.fake.packages, reverse=True)
        assert [row.id for row in rows] == everything[:limit]
        # Each planned slice after the first starts one row early (continuity proof).
        assert _list_rows_requested(harness) <= min(limit, 1200) + len(harness.fake.requests)
    finally:
        await harness.close()


@pytest.mark.parametrize("bad", [0, -3, "5", 2.5, True])
def test_list_limit_is_checked_at_call_time(bad: object) -> None:
    from djangopackages_sdk import Client

    with Client() as client, pytest.raises((TypeError, ValueError), match="limit"):
        client.packages.list(limit=bad)  # type: ignore[arg-type]


async def test_clearing_the_cache_mid_call_never_breaks_resolve(dp: Harness) -> None:
    # Another thread or task clears the map right after each store: the answer must
    # still come from what this call loaded, never a KeyError or a None.
    identity = dp.client._identity
    store = identity.store_many

    def store_then_clear(items):  # type: ignore[no-untyped-def]
        kept = store(items)
        identity.clear()
        return kept

    identity.store_many = store_then_clear  # type: ignore[method-assign]
    ids = sorted(dp.fake.packages)[:3]
    links = [Link(f"{API_ROOT}packages/{i}/", i) for i in ids]
    found = await dp.run(lambda c: c.resolve_many(links))
    assert [item.id for item in found] == ids
    one = await dp.run(lambda c: c.resolve(links[0]))
    assert one.id == ids[0]
    grid_links = [Link(f"{API_ROOT}grids/{i}/", i) for i in sorted(dp.fake.grids)]
    grids = await dp.run(lambda c: c.resolve_many(grid_links))
    assert [g.id for g in grids] == sorted(dp.fake.grids)
