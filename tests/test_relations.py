"""Lazy, explicit resolution of links: order, duplicates, the bulk-versus-detail plan,
and coalescing of concurrent fetches of one URL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import httpx
import pytest

from conftest import Harness, load_body
from djangopackages_sdk import (
    AsyncClient,
    Category,
    Client,
    ForeignURLError,
    Grid,
    Link,
    NotFoundError,
    Package,
    PayloadError,
)
from djangopackages_sdk._convert import get_converter
from djangopackages_sdk._slices import staggered_slices
from djangopackages_sdk.testing import FakeAPI
from helpers import API_ROOT as API

SAMPLE_GRIDS = [426, 243, 153, 114, 66, 45, 28, 7]


def grid_link(grid_id: int) -> Link[Grid]:
    return Link(f"{API}grids/{grid_id}/", grid_id)


def paths(fake: FakeAPI) -> list[str]:
    """Path and query of every request, in order."""
    return [request.url.raw_path.decode() for request in fake.requests]


async def test_resolve_one_link_of_each_collection(dp: Harness) -> None:
    otp = await dp.run(lambda c: c.packages.get("django-otp"))
    category = await dp.run(lambda c: c.resolve(otp.category))
    grid = await dp.run(lambda c: c.resolve(otp.grids[0]))
    assert isinstance(category, Category)
    assert isinstance(grid, Grid)
    package = await dp.run(lambda c: c.resolve(grid.packages[0]))
    assert isinstance(package, Package)
    assert package.id == grid.packages[0].id
    assert (category.id, grid.id) == (otp.category.id, otp.grids[0].id)


async def test_nothing_is_fetched_until_resolve(dp: Harness) -> None:
    otp = await dp.run(lambda c: c.packages.get("django-otp"))
    assert len(dp.fake.requests) == 1
    # Attribute access, iteration, comparison and printing never touch the network.
    assert otp.category.id == 1
    assert [link.id for link in otp.grids] == [7, 426]
    assert otp.grids[0] in otp.grids
    assert repr(otp).startswith("Package(")
    assert all(link.collection == "grids" for link in otp.grids)
    assert len(dp.fake.requests) == 1


async def test_resolve_many_keeps_order_and_duplicates(dp: Harness) -> None:
    links = [grid_link(426), grid_link(7), grid_link(426), grid_link(426)]
    grids = await dp.run(lambda c: c.resolve_many(links))
    assert [g.id for g in grids] == [426, 7, 426, 426]
    assert grids[0] is grids[2] is grids[3]
    assert paths(dp.fake) == ["/api/v4/grids/?limit=100"]  # the first page holds both


async def test_resolve_many_mixed_collections_in_order(dp: Harness) -> None:
    otp = await dp.run(lambda c: c.packages.get("django-otp"))
    messages: Link[Package] = Link(f"{API}packages/359/", 359)
    links: list[Link[Any]] = [otp.grids[1], otp.category, messages, otp.grids[0]]
    items = await dp.run(lambda c: c.resolve_many(links))
    assert [(type(i).__name__, i.id) for i in items] == [
        ("Grid", 426),
        ("Category", 1),
        ("Package", 359),
        ("Grid", 7),
    ]
    # Two grids: one listing page; one category and one package: a detail request each.
    assert sorted(paths(dp.fake)[1:]) == [
        "/api/v4/categories/1/",
        "/api/v4/grids/?limit=100",
        "/api/v4/packages/359/",
    ]


async def test_resolve_many_accepts_any_iterable(dp: Harness) -> None:
    grids = await dp.run(lambda c: c.resolve_many(grid_link(i) for i in (7, 28)))
    assert [g.id for g in grids] == [7, 28]
    assert await dp.run(lambda c: c.resolve_many(())) == []
    assert await dp.run(lambda c: c.resolve_many([])) == []
    assert len(dp.fake.requests) == 1


async def test_resolve_many_after_everything_is_loaded_is_free(dp: Harness) -> None:
    await dp.run(lambda c: c.resolve_many([grid_link(i) for i in SAMPLE_GRIDS]))
    before = len(dp.fake.requests)
    again = await dp.run(lambda c: c.resolve_many([grid_link(i) for i in reversed(SAMPLE_GRIDS)]))
    assert [g.id for g in again] == list(reversed(SAMPLE_GRIDS))
    assert len(dp.fake.requests) == before


async def test_foreign_links_are_refused_before_any_request(dp: Harness) -> None:
    evil: Link[Grid] = Link("https://evil.example/api/v4/grids/7/", 7)
    with pytest.raises(ForeignURLError) as info:
        await dp.run(lambda c: c.resolve(evil))
    assert info.value.url == evil.url
    with pytest.raises(ForeignURLError):
        await dp.run(lambda c: c.resolve_many([grid_link(7), evil]))
    other_port: Link[Grid] = Link("https://djangopackages.org:8443/api/v4/grids/7/", 7)
    with pytest.raises(ForeignURLError):
        await dp.run(lambda c: c.resolve(other_port))
    assert dp.fake.requests == []


async def test_links_from_another_host_are_foreign(dp: Harness) -> None:
    """A recording from a local server links to 127.0.0.1: not this client's API."""
    local = get_converter().structure(
        load_body("real-api/packages-detail-by-slug-django-otp"), Package
    )
    with pytest.raises(ForeignURLError):
        await dp.run(lambda c: c.resolve(local.category))
    assert dp.fake.requests == []


async def test_resolving_a_deleted_resource(dp: Harness) -> None:
    dp.fake.remove("grid", 426)
    with pytest.raises(NotFoundError) as info:
        await dp.run(lambda c: c.resolve(grid_link(426)))
    assert info.value.detail == "No Grid matches the given query."
    assert info.value.url == f"{API}grids/426/"


# -- the plan: detail requests, one listing, or a probe first ----------------------------
@pytest.mark.parametrize(
    ("count", "rows", "missing", "plan"),
    [
        (None, 250, 1, "detail"),
        (None, 250, 2, "list-first"),
        (None, 250, 50, "list-first"),
        (8, 250, 1, "detail"),
        (8, 250, 2, "bulk"),
        (1000, 250, 5, "detail"),
        (1000, 250, 6, "bulk"),
        (8, 1, 9, "detail"),
        (8, 1, 10, "bulk"),
    ],
)
def test_plan(count: int | None, rows: int, missing: int, plan: str) -> None:
    with Client(bulk_rows_per_request=rows) as client:
        if count is not None:
            client._identity.note_count("grids", count)
        assert client.plan("grids", missing) == plan
        assert client.plan("packages", 1) == "detail"


async def test_one_missing_link_of_unknown_collection_size_is_a_detail_request(
    dp: Harness,
) -> None:
    otp = await dp.run(lambda c: c.packages.get("django-otp"))
    dp.fake.clear_requests()
    await dp.run(lambda c: c.resolve(otp.grids[1]))
    assert paths(dp.fake) == ["/api/v4/grids/426/"]


async def test_unknown_count_with_several_missing_reads_the_first_page(dp: Harness) -> None:
    links = [grid_link(i) for i in (7, 28, 45, 66)]
    grids = await dp.run(lambda c: c.resolve_many(links))
    assert [g.id for g in grids] == [7, 28, 45, 66]
    assert paths(dp.fake) == ["/api/v4/grids/?limit=100"]
    # The page loaded every grid: the others are free now.
    others = await dp.run(lambda c: c.resolve_many([grid_link(i) for i in SAMPLE_GRIDS]))
    assert [g.id for g in others] == SAMPLE_GRIDS
    assert len(dp.fake.requests) == 1


def _deep_packages(n: int) -> FakeAPI:
    template = load_body("real-api/packages-detail-by-id-1867-django-otp")
    rows = [dict(template, id=i, slug=f"pkg-{i}", grids=[]) for i in range(1, n + 1)]
    return FakeAPI(packages=rows)


def package_link(package_id: int) -> Link[Package]:
    return Link(f"{API}packages/{package_id}/", package_id)


async def test_first_page_then_detail_for_the_few_left(dp: Harness) -> None:
    h = dp.new(fake=_deep_packages(450))  # ids 450..1, newest first
    try:
        links = [package_link(i) for i in (400, 2, 1)]  # 400 is on the first page
        packages = await h.run(lambda c: c.resolve_many(links))
    finally:
        await h.close()
    assert [p.id for p in packages] == [400, 2, 1]
    # count 450 / 250 rows per request: two detail requests are cheaper than listing.
    assert paths(h.fake)[0] == "/api/v4/packages/?limit=100"
    assert sorted(paths(h.fake)[1:]) == ["/api/v4/packages/1/", "/api/v4/packages/2/"]


async def test_first_page_then_the_rest_of_the_listing_for_many_left(dp: Harness) -> None:
    h = dp.new(fake=_deep_packages(450))
    try:
        links = [package_link(i) for i in (400, 5, 4, 3, 2, 1)]
        packages = await h.run(lambda c: c.resolve_many(links))
        assert h.client.cache_size == 450
    finally:
        await h.close()
    assert [p.id for p in packages] == [400, 5, 4, 3, 2, 1]
    requested = paths(h.fake)
    assert requested[0] == "/api/v4/packages/?limit=100"
    assert all(path.startswith("/api/v4/packages/?") for path in requested)  # no detail
    assert h.client.cache_size == 0  # closing releases the identity map


async def _learn_grid_count(dp: Harness) -> None:
    """Read one page of a one-row listing: the count becomes known, one grid is loaded."""
    pages: Any = dp.client.grids.list(page_size=1).pages()
    if dp.is_async:
        first = await anext(pages)
        await pages.aclose()
    else:
        first = next(pages)
        pages.close()
    assert first.count == 8
    assert [g.id for g in first.items] == [426]


async def test_known_count_with_many_missing_makes_one_listing(dp: Harness) -> None:
    await _learn_grid_count(dp)
    dp.fake.clear_requests()
    grids = await dp.run(lambda c: c.resolve_many([grid_link(i) for i in (7, 28, 45)]))
    assert [g.id for g in grids] == [7, 28, 45]
    assert paths(dp.fake) == ["/api/v4/grids/?limit=100"]


async def test_known_count_with_few_missing_makes_detail_requests(dp: Harness) -> None:
    h = dp.new(bulk_rows_per_request=1)  # a detail request is worth one listed row
    try:
        await _learn_grid_count(h)
        h.fake.clear_requests()
        links = [grid_link(i) for i in (7, 28, 45)]
        grids = await h.run(lambda c: c.resolve_many(links))
    finally:
        await h.close()
    assert [g.id for g in grids] == [7, 28, 45]
    assert sorted(paths(h.fake)) == ["/api/v4/grids/28/", "/api/v4/grids/45/", "/api/v4/grids/7/"]


async def test_listing_that_misses_a_link_falls_back_to_detail(dp: Harness) -> None:
    dp.fake.remove("grid", 426)
    links = [grid_link(i) for i in (7, 28, 45, 426)]
    with pytest.raises(NotFoundError) as info:
        await dp.run(lambda c: c.resolve_many(links))
    assert info.value.url == f"{API}grids/426/"
    assert paths(dp.fake) == ["/api/v4/grids/?limit=100", "/api/v4/grids/426/"]
    # What the listing did load stays loaded.
    assert dp.client.cached(grid_link(7)) is not None


async def test_first_page_without_a_count_is_a_payload_error(dp: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v4/grids/":
            return httpx.Response(200, json={"results": []})
        return dp.fake.handle(request)

    h = dp.new(transport=httpx.MockTransport(handler))
    try:
        with pytest.raises(PayloadError) as info:
            await h.run(lambda c: c.resolve_many([grid_link(i) for i in (7, 28, 45)]))
    finally:
        await h.close()
    assert info.value.path == "$.count"


async def test_detail_answering_another_id_is_a_payload_error(dp: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v4/grids/7/":
            return dp.fake.handle(httpx.Request("GET", f"{API}grids/28/"))
        return dp.fake.handle(request)

    h = dp.new(transport=httpx.MockTransport(handler))
    try:
        with pytest.raises(PayloadError) as info:
            await h.run(lambda c: c.resolve(grid_link(7)))
    finally:
        await h.close()
    assert info.value.path == "$.id"
    assert info.value.url == f"{API}grids/7/"
    assert h.client.cached(grid_link(7)) is None


# -- coalescing concurrent fetches in the async client ------------------------------------
class GatedTransport(httpx.AsyncBaseTransport):
    """Holds every request until released, so that concurrent callers overlap."""

    def __init__(self, fake: FakeAPI) -> None:
        self.fake = fake
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()
        self.sent: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(str(request.url))
        self.arrived.set()
        await self.release.wait()
        return self.fake.handle(request)


async def _overlap(gate: GatedTransport, *calls: Awaitable[Any]) -> list[Any]:
    tasks = [asyncio.ensure_future(call) for call in calls]
    await gate.arrived.wait()
    for _ in range(20):  # let every other caller reach its await (no timing involved)
        await asyncio.sleep(0)
    gate.release.set()
    return list(await asyncio.gather(*tasks))


async def test_concurrent_resolutions_of_one_link_make_one_request() -> None:
    gate = GatedTransport(FakeAPI.with_sample_data())
    h = Harness("async", fake=gate.fake, transport=gate)
    client = h.client
    assert isinstance(client, AsyncClient)
    try:
        one, two = await _overlap(gate, client.resolve(grid_link(7)), client.resolve(grid_link(7)))
        cached = client.cached(grid_link(7))
    finally:
        await h.close()
    assert one.id == 7
    assert cached is one
    assert gate.sent == [f"{API}grids/7/"]
    # An identity map hands every caller the one object it holds for a URL.
    assert one is two


async def test_resolve_and_get_of_one_resource_share_the_request() -> None:
    gate = GatedTransport(FakeAPI.with_sample_data())
    h = Harness("async", fake=gate.fake, transport=gate)
    client = h.client
    assert isinstance(client, AsyncClient)
    link: Link[Package] = Link(f"{API}packages/1867/", 1867)
    try:
        results = await _overlap(
            gate,
            client.resolve(link),
            client.packages.get(1867),
            client.resolve_many([link, link]),
        )
    finally:
        await h.close()
    assert results[0] is results[1] is results[2][0] is results[2][1]
    assert gate.sent == [f"{API}packages/1867/"]


async def test_a_cancelled_caller_does_not_cancel_the_shared_fetch() -> None:
    gate = GatedTransport(FakeAPI.with_sample_data())
    h = Harness("async", fake=gate.fake, transport=gate)
    client = h.client
    assert isinstance(client, AsyncClient)
    try:
        first = asyncio.ensure_future(client.resolve(grid_link(28)))
        second = asyncio.ensure_future(client.resolve(grid_link(28)))
        await gate.arrived.wait()
        for _ in range(20):
            await asyncio.sleep(0)
        first.cancel()
        gate.release.set()
        grid = await second
        with pytest.raises(asyncio.CancelledError):
            await first
        assert client.cached(grid_link(28)) is grid
    finally:
        await h.close()
    assert grid.id == 28
    assert gate.sent == [f"{API}grids/28/"]


async def test_async_resolve_many_fetches_concurrently() -> None:
    """All missing links are in flight at once (bounded by max_in_flight)."""
    gate = GatedTransport(FakeAPI.with_sample_data())
    h = Harness("async", fake=gate.fake, transport=gate, max_in_flight=4)
    client = h.client
    assert isinstance(client, AsyncClient)
    seen_together: list[int] = []

    async def watch() -> None:
        await gate.arrived.wait()
        for _ in range(20):
            await asyncio.sleep(0)
        seen_together.append(len(gate.sent))
        gate.release.set()

    try:
        links: list[Link[Any]] = [grid_link(7), Link(f"{API}categories/1/", 1), package_link(359)]
        items, _ = await asyncio.gather(client.resolve_many(links), watch())
    finally:
        await h.close()
    assert [i.id for i in items] == [7, 1, 359]
    assert seen_together == [3]


async def test_a_bad_row_in_a_bulk_listing_only_fails_its_own_link(dp: Harness) -> None:
    fake = _deep_packages(450)
    fake.add({**fake.packages[300], "repo_forks": "many"})  # one unreadable row
    h = dp.new(fake=fake)
    try:
        healthy = [package_link(i) for i in (400, 200, 100, 5, 4, 3, 2, 1)]
        packages = await h.run(lambda c: c.resolve_many(healthy))
        assert [p.id for p in packages] == [400, 200, 100, 5, 4, 3, 2, 1]
        listed = [path for path in paths(h.fake) if path.startswith("/api/v4/packages/?")]
        assert len(listed) == len(h.fake.requests) > 1  # first page, then the bulk rest
        with pytest.raises(PayloadError) as caught:
            await h.run(lambda c: c.resolve_many([package_link(300), package_link(1)]))
    finally:
        await h.close()
    assert caught.value.path == "$.repo_forks"
    assert paths(h.fake)[-1] == "/api/v4/packages/300/"  # fetched alone, and it raised


async def test_links_read_with_the_first_page_when_the_count_is_unknown(dp: Harness) -> None:
    """300 distinct links: the first round reads twice that many rows with the first page."""
    h = dp.new(fake=_deep_packages(450), max_in_flight=4)
    try:
        links = [package_link(i) for i in range(450, 150, -1)]  # the newest 300
        packages = await h.run(lambda c: c.resolve_many(links))
    finally:
        await h.close()
    assert [p.id for p in packages] == list(range(450, 150, -1))
    requested = paths(h.fake)
    # The first page and slices up to row 600, all requested together (past the end
    # of the 450 rows they come back short or empty): one round reads everything.
    ahead = staggered_slices(100, 600, 3)[1]  # max_in_flight - 1 beside the first page
    assert len(requested) == 1 + len(ahead) == 4
    assert requested[0] == "/api/v4/packages/?limit=100"
    # Each slice starts one row early, to prove it meets the one before (the sync
    # client sends them from its thread pool: in any order).
    assert sorted(requested[1:]) == sorted(
        f"/api/v4/packages/?limit={size + 1}&offset={offset - 1}" for offset, size in ahead
    )


async def test_bulk_listing_with_a_known_count_is_one_round(dp: Harness) -> None:
    h = dp.new(fake=_deep_packages(450), max_in_flight=4)
    try:
        await h.run(lambda c: c.packages.get(1))  # a detail: the count stays unknown
        pages: Any = h.client.packages.list(page_size=1).pages()
        if h.is_async:
            await anext(pages)
            await pages.aclose()
        else:
            next(pages)
            pages.close()
        assert h.client.plan("packages", 40) == "bulk"  # 40 > 1 + 450 / 250
        h.fake.clear_requests()
        links = [package_link(i) for i in range(2, 42)]  # the oldest 40: the last rows
        packages = await h.run(lambda c: c.resolve_many(links))
    finally:
        await h.close()
    assert [p.id for p in packages] == list(range(2, 42))
    # count 450 was known: the first page and slices over every row, in one round.
    requested = paths(h.fake)
    assert len(requested) == 1 + len(staggered_slices(100, 450, 3)[1])
    assert all(path.startswith("/api/v4/packages/?limit=") for path in requested)
