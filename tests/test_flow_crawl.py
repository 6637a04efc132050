"""``Crawl.run()`` driven by a scripted driver: no client, no transport, no I/O.

The driver answers each ``Fetch`` from an in-memory list of category rows
(ordered by ``-id``, like the API), shaped as the API's pages, and collects
each ``Emit``. Tests mutate the rows between rounds to simulate a collection
that changes mid-crawl, and name offsets where the server fails (a 500, as
the API does when a row cannot be serialised).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from djangopackages_sdk._config import NO_OPTIONS, CallOptions
from djangopackages_sdk._convert import get_converter
from djangopackages_sdk._crawl import Crawl, OnError
from djangopackages_sdk._exceptions import (
    HTTPStatusError,
    IncompleteCrawlError,
    NotFoundError,
    PayloadError,
)
from djangopackages_sdk._links import DEFAULT_BASE_URL, ApiRoot, page_window
from djangopackages_sdk._models import Category
from djangopackages_sdk._pages import Checkpoint, Page
from djangopackages_sdk._protocol import Emit, Fetch, FetchResult, Flow, collect
from djangopackages_sdk._slices import staggered_slices

ROOT = ApiRoot.parse(DEFAULT_BASE_URL)
CONVERTER = get_converter(False)


def row(resource_id: int) -> dict[str, Any]:
    """A valid category row as the API lists it."""
    return {
        "id": resource_id,
        "title": f"Category {resource_id}",
        "slug": f"category-{resource_id}",
        "description": "",
        "title_plural": f"Categories {resource_id}",
        "show_pypi": True,
        "created": "2010-08-14T18:47:52-04:00",
        "modified": "2022-03-04T16:48:41.249944-05:00",
    }


def rows(n: int, top: int = 100_000) -> list[dict[str, Any]]:
    """``n`` rows with ids decreasing from ``top``."""
    return [row(top - i) for i in range(n)]


def url(offset: int, limit: int) -> str:
    return ROOT.list_url("categories", limit=limit, offset=offset)


def windows(fetch: Fetch) -> list[tuple[int, int]]:
    """``(offset, limit)`` of each URL of a fetch."""
    out = []
    for address in fetch.urls:
        window = page_window(address)
        assert window is not None
        limit, offset = window
        out.append((offset, limit))
    return out


# -- the scripted driver -------------------------------------------------------------
class Server:
    """Answers list URLs from ``rows`` as decoded API pages.

    ``crash`` holds offsets whose row the server cannot serialise: any page
    covering one answers a 500 (as an :class:`HTTPStatusError`). ``between``
    runs after each round of fetches with the round number (from 1), to change
    the rows mid-crawl.
    """

    def __init__(
        self,
        data: list[dict[str, Any]],
        *,
        crash: frozenset[int] = frozenset(),
        between: Callable[[int, list[dict[str, Any]]], None] | None = None,
    ) -> None:
        self.rows = data
        self.crash = crash
        self.between = between
        self.fetches: list[Fetch] = []
        self.pages: list[Page[Category]] = []

    def answer(self, address: str) -> FetchResult:
        window = page_window(address)
        assert window is not None
        limit, offset = window
        if any(offset <= bad < offset + limit for bad in self.crash):
            return HTTPStatusError(address, "HTTP 500 Internal Server Error", status=500)
        count = len(self.rows)
        return {
            "count": count,
            "next": url(offset + limit, limit) if offset + limit < count else None,
            "previous": None,
            "results": self.rows[offset : offset + limit],
        }

    def drive(self, crawl: Crawl[Category], *, stop_after_pages: int | None = None) -> None:
        """Run the crawl to its end (or close it after that many pages), answering fetches."""
        flow = crawl.run()
        reply: list[FetchResult] | None = None
        while True:
            try:
                action = flow.send(reply)
            except StopIteration:
                return
            if isinstance(action, Emit):
                self.pages.append(action.value)
                reply = None
                if stop_after_pages is not None and len(self.pages) >= stop_after_pages:
                    flow.close()
                    return
                continue
            assert isinstance(action, Fetch)
            self.fetches.append(action)
            reply = [action.finish(i, self.answer(u)) for i, u in enumerate(action.urls)]
            if self.between is not None:
                self.between(len(self.fetches), self.rows)

    @property
    def ids(self) -> list[int]:
        return [item.id for page in self.pages for item in page]

    @property
    def asked(self) -> list[list[tuple[int, int]]]:
        return [windows(fetch) for fetch in self.fetches]


def crawl(
    *,
    max_in_flight: int = 4,
    page_size: int | None = None,
    checkpoint: Checkpoint | None = None,
    on_error: OnError = "raise",
    options: CallOptions = NO_OPTIONS,
    expected_rows: int = 0,
) -> Crawl[Category]:
    """A crawl of ``categories`` built as ``ClientBase._crawl`` builds it."""
    return Crawl(
        root=ROOT,
        collection="categories",
        model=Category,
        converter=CONVERTER,
        store=lambda items: items,
        max_in_flight=max_in_flight,
        page_size=page_size,
        checkpoint=checkpoint,
        on_error=on_error,
        options=options,
        default_retries=3,
        expected_rows=expected_rows,
    )


def ids_of(data: list[dict[str, Any]]) -> list[int]:
    return [item["id"] for item in data]


# -- planning ------------------------------------------------------------------------
def test_first_page_then_staggered_slices_each_one_row_early() -> None:
    data = rows(1000)
    server = Server(data)
    server.drive(crawl(max_in_flight=4))
    _, plan = staggered_slices(100, 1000, 4)
    assert len(plan) == 4
    assert server.asked == [[(0, 100)], [(o - 1, n + 1) for o, n in plan]]
    assert server.ids == ids_of(data)
    assert [page.offset for page in server.pages] == [0] + [o for o, _ in plan]
    assert [len(page) for page in server.pages] == [100] + [n for _, n in plan]
    assert {page.count for page in server.pages} == {1000}


def test_planned_slices_go_out_max_in_flight_per_round() -> None:
    data = rows(10_000)
    server = Server(data)
    server.drive(crawl(max_in_flight=2))
    _, plan = staggered_slices(100, 10_000, 2)
    assert len(plan) == 5  # 9,900 rows in slices of at most MAX_SLICE
    early = [(o - 1, n + 1) for o, n in plan]
    assert server.asked == [[(0, 100)], early[0:2], early[2:4], early[4:5]]
    assert server.ids == ids_of(data)


def test_fixed_page_size_plans_equal_pages_two_rounds_ahead_per_slot() -> None:
    data = rows(100)
    server = Server(data)
    server.drive(crawl(max_in_flight=2, page_size=30))
    assert server.asked == [[(0, 30)], [(29, 31), (59, 31), (89, 31)]]
    assert [page.offset for page in server.pages] == [0, 30, 60, 90]
    assert server.ids == ids_of(data)


def test_expected_rows_are_requested_with_the_first_page() -> None:
    data = rows(500)
    server = Server(data)
    server.drive(crawl(max_in_flight=4, expected_rows=500))
    _, plan = staggered_slices(100, 500, 3)
    assert server.asked == [[(0, 100)] + [(o - 1, n + 1) for o, n in plan]]
    assert server.ids == ids_of(data)


def test_short_collection_takes_one_request() -> None:
    server = Server(rows(7))
    server.drive(crawl())
    assert server.asked == [[(0, 100)]]
    assert [(page.offset, len(page), page.count) for page in server.pages] == [(0, 7, 7)]


# -- count drift ---------------------------------------------------------------------
def test_insertions_mid_crawl_are_reported_and_rows_pushed_past_the_end_read() -> None:
    """New rows at the top shift the rest forward: duplicates are dropped, the tail read."""
    data = rows(300)
    original = ids_of(data)

    def insert(round_number: int, current: list[dict[str, Any]]) -> None:
        if round_number == 1:
            current[0:0] = [row(200_000 + i) for i in range(3)]

    server = Server(data, between=insert)
    reader = crawl(max_in_flight=2)
    server.drive(reader)
    assert server.ids == original  # each once, in order; the new rows sit above the start
    assert reader.count_changed == (300, 303)
    assert (reader.count, reader.latest_count) == (300, 303)
    _, plan = staggered_slices(100, 300, 2)
    assert server.asked[1] == [(o - 1, n + 1) for o, n in plan]
    # Past the planned end `next` said there is more: one more slice, one row early.
    assert server.asked[2:] == [[(299, 101)]]


def test_deletions_mid_crawl_trigger_a_re_read_from_further_back() -> None:
    """Rows deleted behind the crawl shift the rest back: a slice whose first id is
    below the last id read is read again from further back, so no row is missed."""
    data = rows(300)
    original = ids_of(data)

    def delete(round_number: int, current: list[dict[str, Any]]) -> None:
        if round_number == 1:
            del current[10:15]

    server = Server(data, between=delete)
    reader = crawl(max_in_flight=2)
    server.drive(reader)
    assert server.ids == original  # the five deleted rows had been read already
    assert len(set(server.ids)) == 300
    assert reader.count_changed == (300, 295)
    _, plan = staggered_slices(100, 300, 2)
    assert plan == [(100, 92), (192, 108)]
    # The slice asked from 99 (93 rows) came back 5 rows shifted: it is planned again
    # from 99 - (5 + 1) = 93 to its end (99 rows) and, like any slice after the first,
    # asked one row early. The next slice then overlaps it: no further re-read.
    assert server.asked == [[(0, 100)], [(99, 93), (191, 109)], [(92, 100)]]


def test_unchanged_collection_reports_no_count_change() -> None:
    reader = crawl(max_in_flight=2)
    Server(rows(300)).drive(reader)
    assert reader.count_changed is None


# -- failing pages: bisection --------------------------------------------------------
def test_failing_page_is_bisected_until_the_bad_row_is_isolated() -> None:
    data = rows(16)
    server = Server(data, crash=frozenset({5}))
    reader = crawl(page_size=16, on_error="skip")
    server.drive(reader)
    assert server.asked == [
        [(0, 16)],
        [(16, 1)],  # is the server answering at all? (one row past the window)
        [(0, 8), (8, 8)],
        [(0, 4), (4, 4)],
        [(4, 2), (6, 2)],
        [(4, 1), (5, 1)],
    ]
    assert [(s.offset, s.limit) for s in reader.skipped] == [(5, 1)]
    assert isinstance(reader.skipped[0].error, HTTPStatusError)
    assert server.ids == ids_of(data[:5] + data[6:])
    assert [(page.offset, len(page), page.count) for page in server.pages] == [(0, 15, 16)]


def test_bisection_probes_halves_with_at_most_one_retry() -> None:
    server = Server(rows(16), crash=frozenset({5}))
    server.drive(crawl(page_size=16, on_error="skip", options=CallOptions(max_retries=4)))
    assert server.fetches[0].options == CallOptions(max_retries=4)
    halves = [fetch for fetch in server.fetches if len(fetch.urls) == 2]
    assert halves
    assert {fetch.options for fetch in halves} == {CallOptions(max_retries=1)}


def test_failing_page_with_on_error_raise_ends_with_incomplete_crawl() -> None:
    data = rows(16)
    server = Server(data, crash=frozenset({5}))
    with pytest.raises(IncompleteCrawlError) as caught:
        server.drive(crawl(page_size=16, on_error="raise"))
    assert [(s.offset, s.limit) for s in caught.value.skipped] == [(5, 1)]
    assert "1 row(s) could not be read at offset(s) 5" in caught.value.message
    assert server.ids == ids_of(data[:5] + data[6:])  # healthy rows were handed out first


def test_failing_page_of_a_dead_server_raises_without_bisecting() -> None:
    """The probe one row past the window fails too: the server is down, not one row."""
    server = Server(rows(16), crash=frozenset({5, 16}))
    with pytest.raises(HTTPStatusError) as caught:
        server.drive(crawl(page_size=16, on_error="skip"))
    assert caught.value.status == 500
    assert server.asked == [[(0, 16)], [(16, 1)]]
    assert server.pages == []


def test_client_error_page_is_raised_not_bisected() -> None:
    server = Server(rows(16))
    server.answer = lambda address: NotFoundError(address, "not found")  # type: ignore[method-assign]
    with pytest.raises(NotFoundError):
        server.drive(crawl(page_size=16, on_error="skip"))
    assert len(server.fetches) == 1


def test_malformed_row_in_a_healthy_page_is_skipped_without_bisection() -> None:
    """A page that parses but holds one bad row: that row is skipped, no extra request."""
    data = rows(16)
    data[7] = {**data[7], "title": 5}
    server = Server(data)
    reader = crawl(page_size=16, on_error="skip")
    server.drive(reader)
    assert server.asked == [[(0, 16)]]
    assert [(s.offset, s.limit) for s in reader.skipped] == [(7, 1)]
    assert isinstance(reader.skipped[0].error, PayloadError)
    assert reader.skipped[0].error.path == "$.results[7].title"
    assert server.ids == ids_of(data[:7] + data[8:])


def test_malformed_row_with_on_error_raise_ends_with_incomplete_crawl() -> None:
    data = rows(16)
    data[7] = {**data[7], "created": "yesterday"}
    server = Server(data)
    with pytest.raises(IncompleteCrawlError) as caught:
        server.drive(crawl(page_size=16, on_error="raise"))
    assert [s.offset for s in caught.value.skipped] == [7]
    assert len(server.ids) == 15


# -- checkpoints ---------------------------------------------------------------------
def test_checkpoint_resumes_after_the_last_page_handed_out() -> None:
    data = rows(300)
    first = Server(data)
    reader = crawl(max_in_flight=1, page_size=100)
    first.drive(reader, stop_after_pages=1)
    saved = reader.checkpoint
    assert saved == Checkpoint("categories", 100, 100, data[99]["id"], 100)
    restored = Checkpoint.from_dict(saved.to_dict())
    assert restored == saved

    second = Server(data)
    resumed = crawl(max_in_flight=1, checkpoint=restored)
    second.drive(resumed)
    # Resumed slices also start one row early, to prove continuity with the last id.
    assert second.asked[0] == [(99, 101)]
    assert first.ids + second.ids == ids_of(data)
    assert resumed.checkpoint == Checkpoint("categories", 300, 100, data[-1]["id"], 300)


def test_checkpoint_resume_skips_rows_that_moved_forward() -> None:
    """Rows inserted before a resume push read rows past the checkpoint: not yielded again."""
    data = rows(200)
    first = Server(data)
    reader = crawl(max_in_flight=1, page_size=100)
    first.drive(reader, stop_after_pages=1)
    data[0:0] = [row(300_000 + i) for i in range(4)]
    second = Server(data)
    second.drive(crawl(max_in_flight=1, checkpoint=reader.checkpoint))
    assert first.ids + second.ids == ids_of(data[4:])


# -- collect -------------------------------------------------------------------------
def drive_fetches(server: Server, flow: Flow[list[Any]]) -> list[Any]:
    """Answer a fetch-only flow (``collect`` hides the crawl's ``Emit``) from ``server``."""
    reply: list[FetchResult] | None = None
    while True:
        try:
            action = flow.send(reply)  # type: ignore[arg-type]
        except StopIteration as stop:
            items: list[Any] = stop.value
            return items
        server.fetches.append(action)
        reply = [action.finish(i, server.answer(u)) for i, u in enumerate(action.urls)]


def test_collect_returns_every_row_in_order() -> None:
    data = rows(1000)
    server = Server(data)
    items = drive_fetches(server, collect(crawl(max_in_flight=4).run()))
    assert [item.id for item in items] == ids_of(data)
    assert len(server.fetches) == 2


def test_collect_stop_ends_the_crawl_before_the_next_round() -> None:
    asked: list[int] = []

    def stop(rounds: int) -> bool:
        asked.append(rounds)
        return True

    server = Server(rows(1000))
    items = drive_fetches(server, collect(crawl(max_in_flight=4).run(), stop=stop))
    assert asked == [1]
    assert server.asked == [[(0, 100)]]
    assert [item.id for item in items] == ids_of(server.rows[:100])
