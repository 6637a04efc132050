"""Crawling a paginated collection: planned, concurrent, drift-proof and resumable.

The API pages with ``limit``/``offset`` over rows ordered by ``-id``. A crawl:

1. reads a first page, which reveals ``count``;
2. plans the remaining rows as slices that can be fetched concurrently, each
   starting one row early so that it must overlap the slice before it;
3. checks every boundary: since ids only decrease along the list, a slice whose
   first id is *below* the previous slice's last id may have skipped rows
   (deletions shifted them back), so the crawl re-reads it from further back;
4. drops ids it has already yielded (insertions shift rows forward into the
   next slice) and keeps reading past the planned end while the server still
   reports a ``next`` page (rows pushed past the end by insertions);
5. isolates rows that make a page fail by bisecting the page, yields every
   healthy row and reports the rest in `Crawl.skipped`.

Everything here is pure: I/O happens in the client that drives `Crawl.run`.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Generator, Iterator
from typing import Any, Final, Generic, Literal
from urllib.parse import urlsplit

import attrs

from ._config import NO_OPTIONS, CallOptions
from ._convert import Converter
from ._exceptions import (
    DjangoPackagesError,
    HTTPStatusError,
    IncompleteCrawlError,
    PaginationError,
    PayloadError,
    SkippedRows,
)
from ._links import ApiRoot, page_window
from ._models import ResourceT
from ._pages import Checkpoint, Page
from ._protocol import CrawlFlow, Emit, Fetch, FetchResult
from ._request import bulk_allocation
from ._slices import DEFAULT_FIRST_PAGE, staggered_slices

__all__ = ["Crawl", "OnError"]

logger: Final = logging.getLogger("djangopackages_sdk")

MAX_BISECT_FAILURES: Final = 64
_MAX_REPAIRS: Final = 8

OnError = Literal["raise", "skip"]


@attrs.frozen
class _Fatal:
    """A page error that ends the crawl (carried through the driver as a value)."""

    error: DjangoPackagesError


@attrs.define
class _Slice(Generic[ResourceT]):
    offset: int
    count: int
    next: str | None
    ids: list[int | None]
    models: list[ResourceT | None]
    bisected: bool = False
    """Assembled from bisected parts: its rows may have gaps by design."""


class Crawl(Generic[ResourceT]):
    """The pure state machine of one listing; drive `run` to read it."""

    def __init__(
        self,
        *,
        root: ApiRoot,
        collection: str,
        model: type[ResourceT],
        converter: Converter,
        store: Callable[[list[ResourceT]], list[ResourceT]],
        max_in_flight: int,
        page_size: int | None = None,
        checkpoint: Checkpoint | None = None,
        on_error: OnError = "raise",
        options: CallOptions = NO_OPTIONS,
        on_count: Callable[[int], None] | None = None,
        default_retries: int = 3,
        expected_rows: int = 0,
    ) -> None:
        if page_size is not None and page_size < 1:
            raise ValueError("page_size must be at least 1")
        if on_error not in ("raise", "skip"):
            raise ValueError("on_error must be 'raise' or 'skip'")
        if checkpoint is not None and checkpoint.collection != collection:
            raise ValueError(f"checkpoint is for {checkpoint.collection}, not {collection}")
        self.root = root
        self.collection = collection
        self.model: type[ResourceT] = model
        self.converter = converter
        self.store: Callable[[list[ResourceT]], list[ResourceT]] = store
        self.max_in_flight = max(1, max_in_flight)
        self.page_size = (
            page_size if page_size is not None else (checkpoint.page_size if checkpoint else None)
        )
        self.on_error: OnError = on_error
        self.options = options
        self.on_count = on_count
        self.default_retries = default_retries
        self.expected_rows = expected_rows
        """Rows the caller knows exist (say, distinct links into the collection): a
        crawl without ``page_size`` requests them along with its first page."""
        self.url = root.collection_url(collection)
        self.count: int | None = None
        """``count`` as the first page reported it (None before the first page)."""
        self.latest_count: int | None = None
        self.skipped: list[SkippedRows] = []
        """Rows that could not be read, with their offsets and errors."""
        self.requests = 0
        self._seen: set[int] = set()
        self._seen_before = checkpoint.seen if checkpoint else 0
        self._position = checkpoint.offset if checkpoint else 0
        self._last_id = checkpoint.last_id if checkpoint else None
        self._alive = False
        self._bisect_failures = 0

    # -- what a page iterator exposes ------------------------------------------------
    @property
    def count_changed(self) -> tuple[int, int] | None:
        """``(count at start, latest count)`` when the collection changed size mid-crawl."""
        if self.count is None or self.latest_count is None or self.count == self.latest_count:
            return None
        return (self.count, self.latest_count)

    @property
    def checkpoint(self) -> Checkpoint:
        """Where to resume this crawl with ``list(checkpoint=...)``."""
        return Checkpoint(
            self.collection,
            self._position,
            self.page_size,
            self._last_id,
            self._seen_before + len(self._seen),
        )

    # -- the algorithm ---------------------------------------------------------------
    def run(self) -> CrawlFlow[ResourceT]:
        """Yield fetches and pages until the collection is read."""
        first_limit = self.page_size or DEFAULT_FIRST_PAGE
        planned = [(self._position, first_limit)]
        ahead = self.expected_rows - (self._position + first_limit)
        if not self.page_size and ahead > 0:
            # Rows known to exist need no count: read them with the first page.
            parallel = max(1, self.max_in_flight - 1)
            planned += staggered_slices(self._position + first_limit, self.expected_rows, parallel)[
                1
            ]
        for piece in (yield from self._read_many(planned, starting=True)):
            last = yield from self._emit(piece)
            if last.next is None:
                break
        planned_end = self.count if self.count is not None else 0
        if self.page_size:
            step = self.page_size
            upcoming: Iterator[tuple[int, int]] = (
                (o, step) for o in range(self._position, planned_end, step)
            )
            window = self.max_in_flight * 2
        else:
            step, plan = staggered_slices(self._position, planned_end, self.max_in_flight)
            upcoming = iter(plan)
            window = self.max_in_flight
        while last.next is not None:
            planned = list(itertools.islice(upcoming, window))
            tail = not planned
            if tail:
                # Past the planned end but the server says there is more:
                # insertions pushed rows further, keep reading them.
                planned = [(self._position, step)]
            before = self._position
            slices = yield from self._read_many(planned)
            for piece in slices:
                last = yield from self._emit(piece)
                if last.next is None:
                    break
            if tail and self._position <= before:
                raise PaginationError(
                    self.url, f"the server reports more rows past offset {before} but sends none"
                )
        self.skipped.sort(key=lambda skipped: skipped.offset)  # pages may be parsed out of order
        if self.skipped and self.on_error == "raise":
            offsets_text = ", ".join(
                f"{s.offset}" + (f"+{s.limit}" if s.limit > 1 else "") for s in self.skipped
            )
            raise IncompleteCrawlError(
                self.url,
                f"{sum(s.limit for s in self.skipped)} row(s) could not be read "
                f"at offset(s) {offsets_text}",
                skipped=self.skipped,
            )

    def _request_window(self, offset: int, limit: int, starting: bool) -> tuple[int, int]:
        # Every slice but a fresh crawl's first starts one row early to prove continuity.
        if offset > 0 and (not starting or self._last_id is not None):
            return offset - 1, limit + 1
        return offset, limit

    def _read_many(
        self, planned: list[tuple[int, int]], *, starting: bool = False
    ) -> Generator[Fetch, list[FetchResult], list[_Slice[ResourceT]]]:
        windows = [
            self._request_window(offset, limit, starting and index == 0)
            for index, (offset, limit) in enumerate(planned)
        ]
        urls = tuple(self._url(o, n) for o, n in windows)
        results = yield Fetch.parsed(urls, self.options, self._parse_page)
        self.requests += len(windows)
        slices = []
        for (offset, limit), result in zip(windows, results, strict=True):
            if isinstance(result, _Fatal):
                raise result.error
            if isinstance(result, DjangoPackagesError):
                slices.append((yield from self._recover(offset, limit, result)))
            else:
                self._alive = True
                slices.append(result)
        return slices

    def _parse_page(self, url: str, data: Any) -> _Slice[ResourceT] | _Fatal:
        """Structure a page as soon as it arrives (see `Fetch.parsers`)."""
        window = page_window(url)
        assert window is not None  # the crawl built this URL
        limit, offset = window
        try:
            return self._parse(url, offset, limit, data)
        except (PaginationError, PayloadError) as error:
            # A broken envelope or `next` is the server's pagination failing,
            # not one bad row: stop instead of bisecting.
            return _Fatal(error)

    def _url(self, offset: int, limit: int) -> str:
        return self.root.list_url(self.collection, limit=limit, offset=offset)

    def _emit(
        self, piece: _Slice[ResourceT]
    ) -> Generator[Fetch | Emit[Page[ResourceT]], Any, _Slice[ResourceT]]:
        piece = yield from self._repair(piece)
        self._note_count(piece.count)
        fresh: list[ResourceT] = []
        seen = self._seen
        last_id = self._last_id
        first_new: int | None = None
        for index, (resource_id, model) in enumerate(zip(piece.ids, piece.models, strict=True)):
            if resource_id is not None:
                if resource_id in seen or (last_id is not None and resource_id >= last_id):
                    continue
                seen.add(resource_id)
            if first_new is None:
                first_new = index
            if model is not None:
                fresh.append(model)
        fresh = self.store(fresh)
        known = [i for i in piece.ids if i is not None]
        if known:
            self._last_id = known[-1] if self._last_id is None else min(self._last_id, known[-1])
        self._position = max(self._position, piece.offset + len(piece.ids))
        start = piece.offset + (len(piece.ids) if first_new is None else first_new)
        yield Emit(Page(tuple(fresh), start, piece.count))
        return piece

    def _repair(
        self, piece: _Slice[ResourceT]
    ) -> Generator[Fetch, list[FetchResult], _Slice[ResourceT]]:
        """Re-read a slice from further back until it overlaps what came before."""
        step = 1
        for _ in range(_MAX_REPAIRS):
            first = next((i for i in piece.ids if i is not None), None)
            if piece.bisected or (
                self._last_id is None
                or first is None
                or first >= self._last_id
                or piece.offset == 0
            ):
                return piece
            shrink = (self.count or 0) - piece.count
            step = max(step * 2, shrink + 1)
            offset = max(0, piece.offset - step)
            logger.info("re-reading %s from offset %d: rows moved back mid-crawl", self.url, offset)
            (piece,) = yield from self._read_many(
                [(offset, piece.offset - offset + len(piece.ids))]
            )
        return piece  # pragma: no cover - eight repairs reach offset 0 on any real list

    def _note_count(self, count: int) -> None:
        if self.count is None:
            self.count = count
            if self.on_count is not None:
                self.on_count(count)
        elif count != (self.latest_count if self.latest_count is not None else self.count):
            logger.warning("%s changed size mid-crawl: count %d -> %d", self.url, self.count, count)
        self.latest_count = count

    # -- failures --------------------------------------------------------------------
    def _recover(
        self, offset: int, limit: int, error: DjangoPackagesError
    ) -> Generator[Fetch, list[FetchResult], _Slice[ResourceT]]:
        """Bisect a failing page to isolate the rows that make it fail."""
        if not _is_row_failure(error):
            raise error
        if not self._alive:
            # Is the server answering at all? One row just past the failing window
            # tells (an empty page past the end counts: the server answered).
            (probe,) = yield Fetch((self._url(offset + limit, 1),), self.options)
            if isinstance(probe, DjangoPackagesError):
                raise error
            self._alive = True
        parts = yield from self._bisect(offset, limit, error)
        ids: list[int | None] = []
        models: list[ResourceT | None] = []
        for part in parts:
            if part is None:  # one skipped row: keep its place so positions stay right
                ids.append(None)
                models.append(None)
            else:
                ids.extend(part.ids)
                models.extend(part.models)
        counts = [part.count for part in parts if part is not None]
        count = counts[-1] if counts else (self.latest_count or 0)
        # Whether more rows follow is a property of the whole window, not of its last
        # healthy part (whose `next` points back inside the window).
        has_more = self._url(offset + limit, limit) if offset + limit < count else None
        return _Slice(offset, count, has_more, ids, models, bisected=True)

    def _bisect(
        self, offset: int, limit: int, error: DjangoPackagesError
    ) -> Generator[Fetch, list[FetchResult], list[_Slice[ResourceT] | None]]:
        self._bisect_failures += 1
        if self._bisect_failures > MAX_BISECT_FAILURES:
            raise error
        if limit == 1:
            # The row under the one-row overlap of two slices fails both: count it once.
            if all(skipped.offset != offset for skipped in self.skipped):
                logger.warning("skipping row %d of %s: %s", offset, self.url, error)
                self.skipped.append(SkippedRows(offset, 1, error))
            return [None]
        half = limit // 2
        parts = [(offset, half), (offset + half, limit - half)]
        # The page already failed after retries: probe its halves with one retry each.
        configured = self.options.max_retries
        if configured is None:
            configured = self.default_retries
        options = attrs.evolve(self.options, max_retries=min(1, configured))
        results = yield Fetch(tuple(self._url(o, n) for o, n in parts), options)
        self.requests += 2
        out: list[_Slice[ResourceT] | None] = []
        for (o, n), result in zip(parts, results, strict=True):
            if isinstance(result, DjangoPackagesError):
                if not _is_row_failure(result):
                    raise result
                out.extend((yield from self._bisect(o, n, result)))
            else:
                out.append(self._parse(self._url(o, n), o, n, result))
        return out

    # -- parsing ---------------------------------------------------------------------
    def _parse(self, url: str, offset: int, limit: int, data: Any) -> _Slice[ResourceT]:
        count, next_url, rows = _envelope(url, data)
        self._check_next(url, offset, next_url)
        with bulk_allocation(len(rows) * 256):
            models, errors = self.converter.structure_rows(
                rows, self.model, url=url, path="$.results"
            )
        if errors:
            for index, error in errors:
                logger.warning("skipping row %d of %s: %s", offset + index, self.url, error)
                self.skipped.append(SkippedRows(offset + index, 1, error))
            ids = [_row_id(row) for row in rows]
        else:
            ids = [item.id for item in models]  # type: ignore[union-attr]
        return _Slice(offset, count, next_url, ids, models)

    def _check_next(self, url: str, offset: int, next_url: str | None) -> None:
        if next_url is None:
            return
        if not self.root.contains(next_url) or urlsplit(next_url).path != urlsplit(self.url).path:
            raise PaginationError(url, f"'next' leaves the collection: {next_url[:200]!r}")
        window = page_window(next_url)
        if window is None:
            raise PaginationError(url, f"'next' has no valid limit/offset: {next_url[:200]!r}")
        if window[1] <= offset:
            verb = "repeats this page" if window[1] == offset else "goes backwards"
            raise PaginationError(
                url, f"'next' {verb} (offset {window[1]} after {offset}): {next_url[:200]!r}"
            )


def _row_id(row: Any) -> int | None:
    resource_id = row.get("id") if type(row) is dict else None
    return resource_id if type(resource_id) is int else None


def _is_row_failure(error: DjangoPackagesError) -> bool:
    """Errors a bad row can cause: a server error or a body that does not parse."""
    if isinstance(error, HTTPStatusError):
        return error.status >= 500
    return isinstance(error, PayloadError)


def _envelope(url: str, data: Any) -> tuple[int, str | None, list[Any]]:
    if type(data) is not dict:
        raise PayloadError(url, "expected a page object with count/next/results", path="$")
    count = data.get("count")
    next_url = data.get("next")
    rows = data.get("results")
    if type(count) is not int or count < 0:
        raise PayloadError(url, "page 'count' must be a non-negative integer", path="$.count")
    if next_url is not None and type(next_url) is not str:
        raise PayloadError(url, "page 'next' must be a URL or null", path="$.next")
    if type(rows) is not list:
        raise PayloadError(url, "page 'results' must be an array", path="$.results")
    return count, next_url, rows
