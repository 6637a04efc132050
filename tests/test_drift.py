"""Pagination under drift and hostile pages, against a real HTTP server, for both clients.

Rows change while a crawl runs, one row makes every page containing it fail,
``next`` links loop, go back or leave the API, and a crawl is stopped and
resumed from a JSON checkpoint. Each test asserts what the crawl yields and how
many requests the server received.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any, TypeVar, cast

import httpx
import pytest

from conftest import Mode
from djangopackages_sdk import (
    DjangoPackagesError,
    HTTPStatusError,
    IncompleteCrawlError,
    Package,
    Page,
    PaginationError,
)
from djangopackages_sdk.testing import FakeAPI, Fault, Hit, LiveServer
from helpers import many_packages
from helpers import package_row as new_row
from live import FaultFn, client_for, serving

T = TypeVar("T")
LOGGER = "djangopackages_sdk"


# -- helpers -------------------------------------------------------------------------
async def drain(iterator: Any, into: list[T]) -> None:
    """Append every row of a sync or async iterator to ``into`` (kept if it raises)."""
    if hasattr(iterator, "__aiter__"):
        async for item in iterator:
            into.append(item)
    else:
        for item in iterator:
            into.append(item)


async def first_pages(iterator: Any, n: int) -> list[Page[Package]]:
    """The first ``n`` pages of a crawl, then stop it (closing its generator)."""
    pages: list[Page[Package]] = []
    source = iterator.pages()
    if hasattr(source, "__aiter__"):
        agen = cast(AsyncGenerator[Page[Package], None], source)
        async for page in agen:
            pages.append(page)
            if len(pages) == n:
                break
        await agen.aclose()
    else:
        gen = cast(Generator[Page[Package], None, None], source)
        for page in gen:
            pages.append(page)
            if len(pages) == n:
                break
        gen.close()
    return pages


def ids_of(rows: list[Package]) -> list[int]:
    return [row.id for row in rows]


def size_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == LOGGER and r.levelno == logging.WARNING and "changed size" in r.message
    ]


def list_hits(server: LiveServer) -> list[Hit]:
    return [hit for hit in server.hits if hit.is_list("packages")]


# -- count changing mid-crawl --------------------------------------------------------
@pytest.mark.parametrize(("rows", "page_size"), [(60, 10), (250, None), (47, 3)])
async def test_rows_inserted_mid_crawl(
    mode: Mode, caplog: pytest.LogCaptureFixture, rows: int, page_size: int | None
) -> None:
    fake = many_packages(rows)
    existing = list(fake.packages)

    def insert_newer(hit: Hit) -> Fault | None:
        if hit.number == 2:  # right after the first page told the client the count
            return Fault.mutate(lambda f: f.add(*(new_row(f, 9000 + i) for i in range(7))))
        return None

    with serving(fake, insert_newer) as server:
        async with client_for(mode, server) as live:
            crawl = live.packages(page_size=page_size)
            got: list[Package] = []
            await drain(crawl, got)
    ids = ids_of(got)
    assert len(ids) == len(set(ids)), "an id was yielded twice"
    assert set(existing) <= set(ids), "a row that existed at the start was lost"
    assert ids == sorted(ids, reverse=True)  # still newest first
    assert crawl.count == rows
    assert crawl.count_changed == (rows, rows + 7)
    warnings = size_warnings(caplog)
    assert len(warnings) == 1
    assert f"{rows} -> {rows + 7}" in warnings[0].message
    # Every request was a planned page or the tail pushed past the planned end.
    assert len(server.hits) == crawl.requests
    step = page_size or 100
    assert len(server.hits) <= math.ceil((rows + 7) / step) + 2


async def test_rows_inserted_on_every_request(mode: Mode) -> None:
    fake = many_packages(40)
    existing = list(fake.packages)
    counter = iter(range(10_000, 20_000))

    def churn(hit: Hit) -> Fault | None:
        if hit.number > 1:
            fake.add(new_row(fake, next(counter)), new_row(fake, next(counter)))
        return None

    with serving(fake, churn) as server:
        async with client_for(mode, server) as live:
            crawl = live.packages(page_size=4)
            got: list[Package] = []
            await drain(crawl, got)
    ids = ids_of(got)
    assert len(ids) == len(set(ids))
    assert set(existing) <= set(ids)
    changed = crawl.count_changed
    assert changed is not None
    assert changed[0] == 40
    assert changed[1] > 40
    assert len(server.hits) == crawl.requests
    # Each request reads more rows than the two inserted meanwhile, so the
    # tail-chasing crawl ends; never one request per row.
    assert len(server.hits) < 40


@pytest.mark.parametrize(("rows", "page_size"), [(60, 10), (250, None), (47, 3)])
async def test_rows_deleted_mid_crawl(
    mode: Mode, caplog: pytest.LogCaptureFixture, rows: int, page_size: int | None
) -> None:
    fake = many_packages(rows)
    existing = list(fake.packages)
    # Rows already read (the newest) and rows not read yet (the middle).
    doomed = existing[:4] + existing[rows // 2 : rows // 2 + 3]

    def delete(hit: Hit) -> Fault | None:
        if hit.number == 2:
            for resource_id in doomed:
                fake.remove("package", resource_id)
        return None

    with serving(fake, delete) as server:
        async with client_for(mode, server) as live:
            crawl = live.packages(page_size=page_size)
            got: list[Package] = []
            await drain(crawl, got)
    ids = ids_of(got)
    survivors = set(existing) - set(doomed)
    assert len(ids) == len(set(ids)), "an id was yielded twice"
    assert survivors <= set(ids), "a row that still exists was lost"
    assert set(ids) <= set(existing)
    assert crawl.count_changed == (rows, rows - len(doomed))
    assert len(size_warnings(caplog)) == 1
    # Rows moved back: some slices are re-read from further back, a bounded few.
    step = page_size or 100
    assert crawl.requests <= len(server.hits) <= math.ceil(rows / step) + 4


# -- one bad row ------------------------------------------------------------------------
def poison(offset: int) -> FaultFn:
    """500 for any packages page whose window contains ``offset`` (a broken row)."""

    def fault(hit: Hit) -> Fault | None:
        if hit.is_list("packages") and offset in hit.window():
            return Fault.status(500, "<h1>Server Error (500)</h1>")
        return None

    return fault


def bisect_bound(first_limit: int, tries: int) -> int:
    """Requests to isolate one row from a failing page of ``first_limit`` rows.

    The page itself (``tries`` times), a probe of the server, then per halving
    one failing half (tried twice) and one healthy half.
    """
    return tries + 1 + 3 * math.ceil(math.log2(first_limit))


@pytest.mark.parametrize(
    ("page_size", "bad"),
    [
        (None, 23),
        (None, 59),  # the last row, inside the first page
        (None, 0),  # the newest row
        (10, 23),
        (10, 55),
        (10, 0),
        (10, 19),  # the row two concurrent slices overlap on: both bisect, one report
        (10, 59),  # the last row of the last slice
    ],
)
async def test_one_bad_row_raises_after_yielding_every_healthy_row(
    mode: Mode, caplog: pytest.LogCaptureFixture, page_size: int | None, bad: int
) -> None:
    fake = many_packages(60)
    order = list(fake.packages)
    with serving(fake, poison(bad)) as server:
        async with client_for(mode, server, max_retries=1) as live:
            crawl = live.packages(page_size=page_size)
            got: list[Package] = []
            with pytest.raises(IncompleteCrawlError) as caught:
                await drain(crawl, got)
    assert ids_of(got) == [rid for i, rid in enumerate(order) if i != bad]
    (skipped,) = crawl.skipped
    assert (skipped.offset, skipped.limit) == (bad, 1)
    assert isinstance(skipped.error, HTTPStatusError)
    assert skipped.error.status == 500
    assert caught.value.skipped == crawl.skipped
    assert str(bad) in str(caught.value)
    assert any(r.levelno == logging.WARNING and "skipping row" in r.message for r in caplog.records)
    # Bisection, not one request per row (a row under an overlap sits in two
    # concurrently fetched slices, so it may be isolated twice).
    page_requests = math.ceil(60 / (page_size or 100))
    assert len(server.hits) <= page_requests + 2 * bisect_bound(page_size or 100, 2)
    assert len(server.hits) < 60


async def test_one_bad_row_with_on_error_skip_only_records(mode: Mode) -> None:
    fake = many_packages(60)
    order = list(fake.packages)
    with serving(fake, poison(41)) as server:
        async with client_for(mode, server, max_retries=1) as live:
            crawl = live.packages(page_size=None, on_error="skip")
            got: list[Package] = []
            await drain(crawl, got)
    assert ids_of(got) == order[:41] + order[42:]
    assert [(s.offset, s.limit) for s in crawl.skipped] == [(41, 1)]
    assert len(server.hits) <= bisect_bound(100, 2)


async def test_bad_rows_on_every_page_stop_the_crawl_when_nothing_answers(mode: Mode) -> None:
    # Not a bad row: every list request fails. The crawl must not bisect forever.
    fake = many_packages(60)
    fault = Fault.status(500, "<h1>Server Error (500)</h1>")
    with serving(fake, lambda hit: fault if hit.is_list() else None) as server:
        async with client_for(mode, server, max_retries=1) as live:
            crawl = live.packages(page_size=10)
            got: list[Package] = []
            with pytest.raises(HTTPStatusError) as caught:
                await drain(crawl, got)
    assert got == []
    assert caught.value.status == 500
    assert len(server.hits) == 4  # the page twice, then a probe past its window twice


@pytest.mark.parametrize(
    "where",
    ["call", "client"],
)
async def test_bisection_honours_max_retries_zero(mode: Mode, where: str) -> None:
    fake = many_packages(60)
    client_options = {"max_retries": 0} if where == "client" else {}
    call_options = {"max_retries": 0} if where == "call" else {}
    with serving(fake, poison(23)) as server:
        async with client_for(mode, server, **client_options) as live:
            crawl = live.packages(page_size=None, on_error="skip", **call_options)
            got: list[Package] = []
            await drain(crawl, got)
    assert len(got) == 59
    # No retries at all: the page, a probe, then two requests per halving.
    assert len(server.hits) <= 1 + 1 + 2 * math.ceil(math.log2(100))


# -- hostile next links -----------------------------------------------------------------
def rewrite_next(at_offset: int, make_next: Callable[[LiveServer, Hit], str]) -> FaultFn:
    """Serve the real page at ``at_offset`` with its ``next`` replaced."""
    holder: dict[str, LiveServer] = {}

    def fault(hit: Hit) -> Fault | None:
        if not hit.is_list("packages") or hit.window().start != at_offset:
            return None
        server = holder["server"]
        real = server.fake.handle(httpx.Request("GET", server.origin + hit.path))
        page = json.loads(real.content)
        page["next"] = make_next(server, hit)
        return Fault.body(page)

    fault.holder = holder  # type: ignore[attr-defined]
    return fault


def page_url(server: LiveServer, limit: int, offset: int) -> str:
    return server.base_url + f"packages/?limit={limit}&offset={offset}"


@pytest.mark.parametrize(
    ("at_offset", "make_next", "words"),
    [
        # The first page's next is itself.
        (0, lambda s, h: s.origin + h.path, "repeats"),
        # A later page (read from offset 1, overlapping) points to itself.
        (1, lambda s, h: page_url(s, 3, 1), "repeats"),
        # A later page points back to the start.
        (3, lambda s, h: page_url(s, 2, 0), "backwards"),
        # A page points at another collection of the same API.
        (0, lambda s, h: s.base_url + "grids/?limit=2&offset=2", "leaves"),
        # A page points off the API: another server.
        (1, lambda s, h: "http://127.0.0.1:9/api/v4/packages/?limit=2&offset=4", "leaves"),
        # No usable window at all.
        (0, lambda s, h: s.base_url + "packages/?page=2", "no valid limit"),
    ],
)
async def test_hostile_next_link_is_a_pagination_error(
    mode: Mode, at_offset: int, make_next: Callable[[LiveServer, Hit], str], words: str
) -> None:
    fault = rewrite_next(at_offset, make_next)
    with serving(FakeAPI.with_sample_data(), fault) as server:
        fault.holder["server"] = server  # type: ignore[attr-defined]
        async with client_for(mode, server) as live:
            crawl = live.packages(page_size=2)
            got: list[Package] = []
            with pytest.raises(PaginationError) as caught:
                await drain(crawl, got)
    assert words in str(caught.value)
    assert len(got) < 5
    # The first page, then at most the one planned batch: nothing followed the bad link.
    assert 1 <= len(server.hits) <= 3
    assert all(hit.route == "/api/v4/packages/" for hit in server.hits)


async def test_next_link_off_api_sends_nothing_there(mode: Mode) -> None:
    with serving(FakeAPI.with_sample_data()) as elsewhere:
        fault = rewrite_next(0, lambda s, h: elsewhere.base_url + "packages/?limit=2&offset=2")
        with serving(FakeAPI.with_sample_data(), fault) as server:
            fault.holder["server"] = server  # type: ignore[attr-defined]
            async with client_for(mode, server) as live:
                with pytest.raises(PaginationError):
                    await drain(live.packages(page_size=2), [])
    assert len(server.hits) == 1
    assert elsewhere.hits == []


async def test_next_forever_past_the_end_cannot_loop(mode: Mode) -> None:
    # Every page claims there is more, even past the last row.
    holder: dict[str, LiveServer] = {}

    def endless(hit: Hit) -> Fault | None:
        if not hit.is_list("packages"):
            return None
        server = holder["server"]
        page = json.loads(
            server.fake.handle(httpx.Request("GET", server.origin + hit.path)).content
        )
        window = hit.window()
        page["next"] = page_url(server, len(window), window.stop)
        return Fault.body(page)

    with serving(FakeAPI.with_sample_data(), endless) as server:
        holder["server"] = server
        async with client_for(mode, server) as live:
            crawl = live.packages(page_size=2)
            got: list[Package] = []
            with pytest.raises(PaginationError) as caught:
                await drain(crawl, got)
    assert sorted(ids_of(got), reverse=True) == list(server.fake.packages)
    assert "sends none" in str(caught.value)
    assert len(server.hits) <= 5


# -- checkpoints -------------------------------------------------------------------------
@pytest.mark.parametrize("between", ["nothing", "insert", "delete"])
async def test_checkpoint_resume_reads_every_row_exactly_once(mode: Mode, between: str) -> None:
    fake = many_packages(30)
    order = list(fake.packages)
    with serving(fake) as server:
        async with client_for(mode, server) as live:
            crawl = live.packages(page_size=5)
            pages = await first_pages(crawl, 2)
            checkpoint = crawl.checkpoint
            assert checkpoint is not None
            saved = json.dumps(checkpoint.to_dict())
        first_ids = [item.id for page in pages for item in page]
        assert first_ids == order[:10]
        stopped_after = len(server.hits)

        if between == "insert":  # newer rows push the rest further down
            fake.add(*(new_row(fake, 9000 + i) for i in range(6)))
        elif between == "delete":  # rows already read disappear: the rest move back
            for resource_id in order[2:5]:
                fake.remove("package", resource_id)

        async with client_for(mode, server) as live:  # a brand-new client
            resumed = live.packages(checkpoint=json.loads(saved))
            rest: list[Package] = []
            await drain(resumed, rest)
    all_ids = first_ids + ids_of(rest)
    assert len(all_ids) == len(set(all_ids)) == 30
    assert set(all_ids) == set(order)
    assert ids_of(rest) == order[10:]
    final = resumed.checkpoint
    assert final is not None
    assert final.seen == 30
    # The resumed crawl did not start over from the first row.
    resumed_hits = server.hits[stopped_after:]
    assert resumed_hits
    assert all(hit.window().start >= 4 for hit in resumed_hits)
    assert len(resumed_hits) <= math.ceil(20 / 5) + 3


def test_checkpoint_from_dict_rejects_garbage() -> None:
    from djangopackages_sdk import Checkpoint

    with pytest.raises(ValueError, match="checkpoint"):
        Checkpoint.from_dict({"offset": "x"})


async def test_errors_are_sdk_errors(mode: Mode) -> None:
    # A page whose body is not even an object: a PayloadError, never a KeyError.
    fake = FakeAPI.with_sample_data()
    with serving(fake, lambda hit: Fault.body([1, 2, 3]) if hit.is_list() else None) as server:
        async with client_for(mode, server) as live:
            with pytest.raises(DjangoPackagesError):
                await drain(live.packages(), [])
    assert len(server.hits) <= 3
