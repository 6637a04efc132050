"""What both clients' collections and page iterators share (the I/O-free part)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic

from ._config import CallOptions
from ._crawl import Crawl, OnError
from ._exceptions import SkippedRows
from ._models import CollectionName, ResourceT
from ._operations import Operations
from ._overviews import crawl_html
from ._pages import Checkpoint
from ._protocol import Flow

__all__ = ["CollectionBase", "CrawlState"]


class CrawlState(Generic[ResourceT]):
    """What both page iterators report about their most recent crawl.

    In a notebook an iterator shows what its latest crawl has read so far, from
    these properties alone: displaying it never makes a request.
    """

    def __init__(self, start: Callable[[], Crawl[Any]]) -> None:
        self._start: Callable[[], Crawl[Any]] = start
        self._crawl: Crawl[ResourceT] | None = None
        # A first, unused crawl checks the arguments now and names the listing.
        self._url = start().url

    def _new_crawl(self) -> Crawl[ResourceT]:
        self._crawl = self._start()
        return self._crawl

    @property
    def count(self) -> int | None:
        """The collection's size from the first page (None before iteration starts)."""
        return self._crawl.count if self._crawl else None

    @property
    def count_changed(self) -> tuple[int, int] | None:
        """``(count at start, latest count)`` if the collection changed size mid-crawl."""
        return self._crawl.count_changed if self._crawl else None

    @property
    def skipped(self) -> tuple[SkippedRows, ...]:
        """Rows the crawl could not read (offsets and errors)."""
        return tuple(self._crawl.skipped) if self._crawl else ()

    @property
    def checkpoint(self) -> Checkpoint | None:
        """Where to resume with ``list(checkpoint=...)`` (None before iteration starts)."""
        return self._crawl.checkpoint if self._crawl else None

    @property
    def requests(self) -> int:
        """List requests the crawl has made so far."""
        return self._crawl.requests if self._crawl else 0

    def __repr__(self) -> str:
        point = self.checkpoint
        read = f"{point.seen} rows read" if point else "not started"
        return f"<{type(self).__name__} {self._url}: {read}>"

    def _repr_html_(self) -> str:
        return crawl_html(self, self._url, type(self).__name__)


class CollectionBase(Generic[ResourceT]):
    """A collection of a client: starts its crawls; the subclasses add the I/O."""

    def __init__(self, client: Operations, collection: CollectionName) -> None:
        self._base = client
        self.collection = collection

    def _get(
        self, key: int | str, refresh: bool, max_retries: int | None, deadline: float | None
    ) -> Flow[Any]:
        """The flow of ``get``: one resource by id or slug."""
        options = CallOptions.make(max_retries, deadline)
        return self._base._get_op(self.collection, key, options, refresh)

    def _starter(
        self,
        page_size: int | None,
        checkpoint: Checkpoint | dict[str, Any] | None,
        on_error: OnError,
        max_retries: int | None,
        deadline: float | None,
        limit: int | None = None,
    ) -> Callable[[], Crawl[ResourceT]]:
        self._base._check_open()
        if isinstance(checkpoint, dict):
            checkpoint = Checkpoint.from_dict(checkpoint)
        elif checkpoint is not None and not isinstance(checkpoint, Checkpoint):
            raise TypeError(
                f"checkpoint must be a Checkpoint or its dict, not {type(checkpoint).__name__}"
            )
        options = CallOptions.make(max_retries, deadline)

        def start() -> Crawl[ResourceT]:
            call = options if deadline is None else CallOptions.make(max_retries, deadline)
            return self._base._crawl(
                self.collection,
                page_size=page_size,
                checkpoint=checkpoint,
                on_error=on_error,
                options=call,
                limit=limit,
            )

        return start  # the iterator's first call checks the arguments

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._base.root.collection_url(self.collection)}>"
