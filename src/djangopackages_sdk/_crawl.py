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

from ._config import NO_OPTIONS, CallOptions, check_count
from ._convert import Converter
from ._exceptions import (
    DjangoPackagesError,
    IncompleteCrawlError,
    PaginationError,
    PayloadError,
    SkippedRows,
)
from ._links import ApiRoot, page_window
from ._models import ResourceT
from ._pages import Checkpoint, Page
from ._protocol import BodyParser, CrawlFlow, Emit, Fetch, FetchResult
from ._request import bulk_allocation
from ._slices import (
    DEFAULT_FIRST_PAGE,
    Fatal,
    Slice,
    envelope,
    is_row_failure,
    plan_slices,
    row_id,
)

__all__ = ["Crawl", "OnError"]

logger: Final = logging.getLogger("djangopackages_sdk")

MAX_BISECT_FAILURES: Final = 64
_MAX_REPAIRS: Final = 8

OnError = Literal["raise", "skip"]


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
        limit: int | None = None,
        on_complete: Callable[[set[int]], object] | None = None,
    ) -> None:
        if page_size is not None:
            check_count("page_size", page_size, minimum=1)
        if limit is not None:
            check_count("limit", limit, minimum=1)
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
        self.expected_rows = expected_rows if limit is None else min(expected_rows, limit)
        """Rows the caller knows exist (say, distinct links into the collection): a
        crawl without ``page_size`` requests them along with its first page."""
        self.limit = limit
        """Rows to hand out at most (None: every row)."""
        self.on_complete = on_complete
        """Called with every id seen when the crawl read the whole collection from
        its start without skipping a row (the identity map drops the others)."""
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
        self._from_start = checkpoint is None or checkpoint.offset == 0
        self._handed_out = 0
        self._exhausted = False
        """A planned slice came back empty: the rows end before ``count`` says."""

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
        """Yield fetches and pages until the collection (or ``limit`` rows) is read."""
        first_limit = self.page_size or DEFAULT_FIRST_PAGE
        if self.limit is not None:
            first_limit = min(first_limit, self.limit)
        planned = [(self._position, first_limit)]
        if not self.page_size and self.expected_rows > self._position + first_limit:
            # Rows known to exist need no count: read them with the first page.
            parallel = max(1, self.max_in_flight - 1)
            ahead = plan_slices(self._position + first_limit, self.expected_rows, parallel)[1]
            planned += itertools.islice(ahead, parallel)
        for piece in (yield from self._read_many(planned, starting=True)):
            last = yield from self._emit(piece)
            if last.next is None or self._done:
                break
        planned_end = max(self.count or 0, self._position)
        if self.limit is not None:
            planned_end = min(planned_end, self._position + self.limit - self._handed_out)
        if self.page_size:
            step = self.page_size
            upcoming: Iterator[tuple[int, int]] = (
                (o, step) for o in range(self._position, planned_end, step)
            )
            window = self.max_in_flight * 2
        else:
            step, upcoming = plan_slices(self._position, planned_end, self.max_in_flight)
            window = self.max_in_flight
        while last.next is not None and not self._done:
            planned = list(itertools.islice(upcoming, window))
            tail = not planned
            if tail:
                # Past the planned end but the server says there is more:
                # insertions pushed rows further, keep reading them.
                wanted = step if self.limit is None else self.limit - self._handed_out
                planned = [(self._position, min(step, wanted))]
            before = self._position
            slices = yield from self._read_many(planned)
            for piece in slices:
                last = yield from self._emit(piece)
                if last.next is None or self._done:
                    break
            if tail and self._position <= before and not self._done:
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
        reached_end = last.next is None or self._exhausted
        if self.on_complete is not None and reached_end and self._from_start and not self.skipped:
            self.on_complete(self._seen)

    @property
    def _done(self) -> bool:
        """The crawl handed out ``limit`` rows, or found the real end of the rows."""
        return self._exhausted or (self.limit is not None and self._handed_out >= self.limit)

    def _request_window(self, offset: int, limit: int, starting: bool) -> tuple[int, int]:
        # Every slice but a fresh crawl's first starts one row early to prove continuity.
        if offset > 0 and (not starting or self._last_id is not None):
            return offset - 1, limit + 1
        return offset, limit

    def _read_many(
        self, planned: list[tuple[int, int]], *, starting: bool = False
    ) -> Generator[Fetch, list[FetchResult], list[Slice[ResourceT]]]:
        windows = [
            self._request_window(offset, limit, starting and index == 0)
            for index, (offset, limit) in enumerate(planned)
        ]
        urls = tuple(self._url(o, n) for o, n in windows)
        parser = BodyParser(self._parse_page, self._parse_body)
        results = yield Fetch.parsed(urls, self.options, parser)
        self.requests += len(windows)
        slices = []
        for (offset, limit), result in zip(windows, results, strict=True):
            if isinstance(result, Fatal):
                raise result.error
            if isinstance(result, DjangoPackagesError):
                slices.append((yield from self._recover(offset, limit, result)))
            else:
                self._alive = True
                slices.append(result)
        return slices

    def _parse_page(self, url: str, data: Any) -> Slice[ResourceT] | Fatal:
        """Structure a page as soon as it arrives (see `Fetch.parsers`)."""
        window = page_window(url)
        assert window is not None  # the crawl built this URL
        limit, offset = window
        try:
            if type(data) is tuple:  # (count, next, models) from the typed route
                count, next_url, models = data
                self._check_next(url, offset, next_url)
                return Slice(offset, count, next_url, [m.id for m in models], models)
            return self._parse(url, offset, limit, data)
        except (PaginationError, PayloadError) as error:
            # A broken envelope or `next` is the server's pagination failing,
            # not one bad row: stop instead of bisecting.
            return Fatal(error)

    def _parse_body(self, url: str, body: bytes) -> Slice[ResourceT] | Fatal | None:
        """A page read straight from its body (the ``fast`` extra), or None to decode it."""
        page = self.converter.structure_page(body, self.model)
        return None if page is None else self._parse_page(url, page)

    def _url(self, offset: int, limit: int) -> str:
        return self.root.list_url(self.collection, limit=limit, offset=offset)

    def _emit(
        self, piece: Slice[ResourceT]
    ) -> Generator[Fetch | Emit[Page[ResourceT]], Any, Slice[ResourceT]]:
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
        if self.limit is not None:
            fresh = fresh[: self.limit - self._handed_out]
        self._handed_out += len(fresh)
        if not piece.ids and piece.offset > 0 and not piece.bisected:
            # A planned slice past the real end: the rows stop here whatever
            # `count` claims (a server reporting a huge count must not be
            # crawled to it).
            if piece.next is not None:
                logger.warning(
                    "%s reports %d rows but sends none from offset %d: stopping there",
                    self.url,
                    piece.count,
                    piece.offset,
                )
            self._exhausted = True
        fresh = self.store(fresh)
        known = [i for i in piece.ids if i is not None]
        if known:
            self._last_id = known[-1] if self._last_id is None else min(self._last_id, known[-1])
        self._position = max(self._position, piece.offset + len(piece.ids))
        start = piece.offset + (len(piece.ids) if first_new is None else first_new)
        yield Emit(Page(tuple(fresh), start, piece.count))
        return piece

    def _repair(
        self, piece: Slice[ResourceT]
    ) -> Generator[Fetch, list[FetchResult], Slice[ResourceT]]:
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
    ) -> Generator[Fetch, list[FetchResult], Slice[ResourceT]]:
        """Bisect a failing page to isolate the rows that make it fail."""
        if not is_row_failure(error):
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
        return Slice(offset, count, has_more, ids, models, bisected=True)

    def _bisect(
        self, offset: int, limit: int, error: DjangoPackagesError
    ) -> Generator[Fetch, list[FetchResult], list[Slice[ResourceT] | None]]:
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
        out: list[Slice[ResourceT] | None] = []
        for (o, n), result in zip(parts, results, strict=True):
            if isinstance(result, DjangoPackagesError):
                if not is_row_failure(result):
                    raise result
                out.extend((yield from self._bisect(o, n, result)))
            else:
                out.append(self._parse(self._url(o, n), o, n, result))
        return out

    # -- parsing ---------------------------------------------------------------------
    def _parse(self, url: str, offset: int, limit: int, data: Any) -> Slice[ResourceT]:
        count, next_url, rows = envelope(url, data)
        self._check_next(url, offset, next_url)
        with bulk_allocation(len(rows) * 256):
            models, errors = self.converter.structure_rows(
                rows, self.model, url=url, path="$.results"
            )
        if errors:
            for index, error in errors:
                logger.warning("skipping row %d of %s: %s", offset + index, self.url, error)
                self.skipped.append(SkippedRows(offset + index, 1, error))
            ids = [row_id(row) for row in rows]
        else:
            ids = [item.id for item in models]  # type: ignore[union-attr]
        return Slice(offset, count, next_url, ids, models)

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
