"""Basic pagination through both clients: many pages, page views, empty lists, laziness.

(Drift, faults and resumption are covered in their own suite.)
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import httpx
import pytest
import respx

from conftest import Harness, load_body, load_exchange
from djangopackages_sdk import AsyncPageIterator, Package, Page, PageIterator
from djangopackages_sdk._slices import MAX_SLICE, STAGGER, staggered_slices
from djangopackages_sdk.testing import FakeAPI

LOCAL = "http://127.0.0.1:8765/api/v4/"
SAMPLE_IDS = [1867, 1672, 1412, 1306, 359]


def _many_packages(n: int) -> FakeAPI:
    """A fake holding ``n`` packages built from recorded list rows (ids kept unique)."""
    template = load_body("real-api/packages-list-first-page")["results"]
    rows = []
    for i in range(n):
        row = dict(template[i % len(template)])
        row.update(id=100_000 + i, slug=f"generated-{i}", title=f"generated {i}")
        rows.append(row)
    category = load_body("real-api/categories-detail-by-id-1")
    return FakeAPI(packages=rows, categories=[category])


@pytest.mark.parametrize("page_size", [1, 2, 5, 20, None])
async def test_every_sample_row_once_in_order(dp: Harness, page_size: int | None) -> None:
    items = await dp.collect(lambda c: c.packages.list(page_size=page_size))
    assert [p.id for p in items] == SAMPLE_IDS
    assert all(isinstance(p, Package) for p in items)


@pytest.mark.parametrize("page_size", [7, 20, 100])
async def test_many_pages(dp: Harness, page_size: int) -> None:
    h = dp.new(fake=_many_packages(450))
    try:
        iterator: Any = h.client.packages.list(page_size=page_size)
        items = await h.collect(lambda c: iterator)
    finally:
        await h.close()
    ids = [p.id for p in items]
    assert ids == sorted(range(100_000, 100_450), reverse=True)  # every id once, newest first
    assert iterator.count == 450
    pages = -(-450 // page_size)
    assert iterator.requests == pages
    assert len(h.fake.requests) == pages
    for request in h.fake.requests:
        assert request.url.path == "/api/v4/packages/"
        assert int(request.url.params["limit"]) in (page_size, page_size + 1)
    assert iterator.count_changed is None
    assert iterator.skipped == ()


async def test_default_page_size_reads_everything(dp: Harness) -> None:
    h = dp.new(fake=_many_packages(450))
    try:
        iterator: Any = h.client.packages.list()
        items = await h.collect(lambda c: iterator)
    finally:
        await h.close()
    assert [p.id for p in items] == sorted(range(100_000, 100_450), reverse=True)
    assert iterator.count == 450
    assert len(h.fake.requests) == iterator.requests < 450 // 20  # far fewer than 20-row pages


async def test_pages_view_with_count(dp: Harness) -> None:
    h = dp.new(fake=_many_packages(45))
    try:
        iterator: Any = h.client.packages.list(page_size=10)
        assert iterator.checkpoint is None  # nothing read yet
        pages = await h.collect(lambda c: iterator.pages())
    finally:
        await h.close()
    assert all(isinstance(page, Page) for page in pages)
    assert len(pages) == 5
    assert [len(page) for page in pages] == [10, 10, 10, 10, 5]
    assert all(page.count == 45 for page in pages)
    assert iterator.count == 45
    flat = [p.id for page in pages for p in page]
    assert flat == [p.id for page in pages for p in page.items]
    assert flat == sorted(range(100_000, 100_045), reverse=True)
    assert pages[0].offset == 0
    assert [page.offset for page in pages] == sorted(page.offset for page in pages)
    # a progress bar: rows so far against the count
    done = 0
    for page in pages:
        done += len(page)
        assert done <= page.count
    assert done == iterator.count


async def test_empty_list(dp: Harness) -> None:
    h = dp.new(fake=FakeAPI())
    try:
        iterator: Any = h.client.grids.list(page_size=5)
        assert await h.collect(lambda c: iterator) == []
        assert iterator.count == 0
        pages = await h.collect(lambda c: iterator.pages())
        assert [(len(p), p.count) for p in pages] == [(0, 0)]
        assert await h.collect(lambda c: c.packages.list()) == []
        assert await h.collect(lambda c: c.categories.list()) == []
    finally:
        await h.close()
    assert len(h.fake.requests) == 4


async def test_listing_is_lazy(dp: Harness) -> None:
    iterator: Any = dp.client.packages.list(page_size=2)
    kind = AsyncPageIterator if dp.is_async else PageIterator
    assert isinstance(dp.client.packages.list(page_size=2), kind)
    assert dp.fake.requests == []
    assert iterator.count is None
    assert iterator.requests == 0
    assert iterator.checkpoint is None
    assert iterator.count_changed is None
    assert iterator.skipped == ()
    await dp.collect(lambda c: iterator)
    assert len(dp.fake.requests) == iterator.requests == 3


async def test_each_iteration_is_a_new_crawl(dp: Harness) -> None:
    iterator: Any = dp.client.packages.list(page_size=3)
    first = await dp.collect(lambda c: iterator)
    dp.fake.remove("package", 359)
    second = await dp.collect(lambda c: iterator)
    assert [p.id for p in first] == SAMPLE_IDS
    assert [p.id for p in second] == SAMPLE_IDS[:-1]
    assert iterator.count == 4


async def test_listing_fills_the_identity_map(dp: Harness) -> None:
    items = await dp.collect(lambda c: c.grids.list(page_size=3))
    assert dp.client.cache_size == len(items) == 8
    for grid in items:
        slug = grid.slug
        assert await dp.run(lambda c: c.grids.get(slug)) is grid  # noqa: B023 - awaited at once


async def test_checkpoint_after_a_full_crawl(dp: Harness) -> None:
    iterator: Any = dp.client.packages.list(page_size=2)
    await dp.collect(lambda c: iterator)
    checkpoint = iterator.checkpoint
    assert checkpoint is not None
    assert checkpoint.collection == "packages"
    assert checkpoint.seen == 5
    assert checkpoint.last_id == 359
    assert checkpoint.page_size == 2


@pytest.mark.parametrize(
    "options", [{"page_size": 0}, {"page_size": -1}, {"on_error": "ignore"}, {"max_retries": -1}]
)
async def test_bad_list_arguments_fail_at_once(dp: Harness, options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - messages differ per argument
        dp.client.packages.list(**options)
    assert dp.fake.requests == []


async def test_recorded_list_replayed_with_respx(dp: Harness) -> None:
    body = load_exchange("real-api/categories-list")["response"]["body"]
    with respx.mock(assert_all_called=True) as router:
        route = router.get(f"{LOCAL}categories/").respond(200, content=body.encode())
        h = Harness(
            dp.mode,
            transport=httpx.AsyncHTTPTransport() if dp.is_async else httpx.HTTPTransport(),
            base_url=LOCAL,
        )
        try:
            iterator: Any = h.client.categories.list()
            categories = await h.collect(lambda c: iterator)
        finally:
            await h.close()
    assert route.call_count == 1
    assert iterator.count == load_body("real-api/categories-list")["count"]
    assert [c.id for c in categories] == [
        row["id"] for row in load_body("real-api/categories-list")["results"]
    ]


async def test_resume_from_a_checkpoint_dict(dp: Harness) -> None:
    first: Any = dp.client.packages.list(page_size=2)
    pages: Any = first.pages()
    if dp.is_async:
        page = await anext(pages)
        await pages.aclose()
    else:
        page = next(pages)
        pages.close()
    assert [p.id for p in page] == SAMPLE_IDS[:2]
    saved = first.checkpoint.to_dict()
    assert saved == {
        "collection": "packages",
        "offset": 2,
        "page_size": 2,
        "last_id": SAMPLE_IDS[1],
        "seen": 2,
    }
    rest = await dp.collect(lambda c: c.packages.list(checkpoint=saved))
    assert [p.id for p in rest] == SAMPLE_IDS[2:]


@pytest.mark.parametrize(
    "checkpoint",
    [
        {"offset": 2},
        {"collection": "packages", "offset": "two"},
        {"collection": "grids", "offset": 0, "page_size": None, "last_id": None, "seen": 0},
    ],
)
async def test_bad_checkpoints(dp: Harness, checkpoint: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="checkpoint"):
        dp.client.packages.list(checkpoint=checkpoint)
    assert dp.fake.requests == []


@pytest.mark.parametrize(
    ("start", "end", "parallel"),
    [(100, 5_400, 4), (100, 380, 4), (0, 50, 4), (100, 20_000, 4), (7, 8, 1), (100, 101, 4)],
)
def test_staggered_slices_cover_the_range_once(start: int, end: int, parallel: int) -> None:
    step, plan = staggered_slices(start, end, parallel)
    assert plan[0][0] == start
    for (offset, size), (next_offset, _) in itertools.pairwise(plan):
        assert size >= 1
        assert offset + size == next_offset  # contiguous, no overlap
    assert plan[-1][0] + plan[-1][1] == end
    assert len(plan) == math.ceil((end - start) / step)
    assert all(size <= MAX_SLICE * (1 + STAGGER) + 1 for _, size in plan)


def test_staggered_slices_grow_by_offset() -> None:
    step, plan = staggered_slices(100, 5_400, 4)
    sizes = [size for _, size in plan]
    assert len(plan) == 4
    assert sizes == sorted(sizes)
    assert sizes[0] < step < sizes[-1]
    assert sizes[-1] / sizes[0] == pytest.approx((1 + STAGGER) / (1 - STAGGER), rel=0.01)


def test_staggered_slices_of_nothing() -> None:
    assert staggered_slices(10, 10, 4)[1] == []


async def test_a_known_count_plans_the_whole_catalog_crawl_in_one_round(dp: Harness) -> None:
    h = dp.new(fake=_many_packages(450), max_in_flight=4)
    try:
        first = await h.run(lambda c: c.catalog())
        h.fake.clear_requests()
        second = await h.run(lambda c: c.catalog())
    finally:
        await h.close()
    assert second.packages == first.packages
    # The client read count 450 before: the first page and slices over every row
    # go out together, where a fresh client needs a second round after the first page.
    ahead = staggered_slices(100, 450, 3)[1]
    listed = [r for r in h.fake.requests if r.url.path.endswith("/packages/")]
    assert len(listed) == 1 + len(ahead)
    # (The sync client sends the slices from its thread pool: in any order.)
    assert sorted(int(r.url.params["offset"]) for r in listed[1:] if "offset" in r.url.params) == [
        offset - 1 for offset, _ in ahead
    ]


async def test_a_known_count_does_not_front_load_a_listing(dp: Harness) -> None:
    h = dp.new(fake=_many_packages(450), max_in_flight=4)
    try:
        first = await h.collect(lambda c: c.packages.list())
        h.fake.clear_requests()
        again: Any = h.client.packages.list()
        second = await h.collect(lambda c: again)
    finally:
        await h.close()
    assert [p.id for p in second] == [p.id for p in first]
    # The caller may stop after the first page: it goes out alone, as on a fresh client.
    assert h.fake.requests[0].url.params["limit"] == "100"
    assert again.requests == len(h.fake.requests) == 1 + len(staggered_slices(100, 450, 4)[1])
