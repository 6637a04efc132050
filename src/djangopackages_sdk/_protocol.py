"""The engine's protocol: actions, flow types, the drivers' contract, and combinators.

Every operation of the SDK is a generator that *describes* its I/O and never
performs it. It yields actions and receives their outcomes:

* `Send` (one HTTP request) and `Sleep` (a pause) come from
  `request_flow` (in `_request.py`), the retry loop of one GET. A driver
  answers a `Send` with the `httpx.Response` or the `httpx.HTTPError` it got, and
  a `Sleep` with None after pausing.
* `Fetch` (decoded JSON for several URLs) comes from the operations
  (`_operations.py`) and the crawl (`_crawl.py`). A driver answers it with one
  result per URL, in order: for URL number ``i``, it runs
  ``request_flow(..., fetch.urls[i], fetch.options_of(i))`` and hands the outcome
  to `settle(fetch, i, outcome)`, which decodes the body and applies the URL's
  parser. It may run the URLs concurrently (at most ``max_in_flight`` requests at
  once) and share one request between callers asking for the same URL.
* `Emit` (a page of a listing for the caller) comes from the crawl; a driver
  hands the value out and answers None.

`Client` and `AsyncClient` only drive these generators: one with blocking calls
and a thread pool, the other with ``await``. The algorithms exist once. `gather`
runs flows side by side and `collect` runs a crawl to its end inside a flow.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import Any, Generic, TypeAlias, TypeVar

import attrs
import httpx

from ._config import NO_OPTIONS, CallOptions
from ._exceptions import DjangoPackagesError
from ._models import ResourceT
from ._pages import Page

__all__ = [
    "BodyParser",
    "CrawlFlow",
    "Emit",
    "Fetch",
    "FetchResult",
    "Flow",
    "Outcome",
    "Parser",
    "RequestFlow",
    "Send",
    "Sleep",
    "collect",
    "fetch_one",
    "gather",
]

T = TypeVar("T")


@attrs.frozen
class Send:
    """Send this request; the flow receives the response or the exception raised.

    ``expires_at`` (a ``time.monotonic()`` instant) bounds the whole attempt:
    waiting for a request slot, sending, the headers and the body. A driver that
    passes it answers with an ``httpx.TimeoutException``; a body over
    ``max_body_bytes`` is answered with the `ResponseTooLargeError` itself.
    """

    request: httpx.Request
    expires_at: float = float("inf")
    max_body_bytes: int | None = None


@attrs.frozen
class Sleep:
    """Pause for this many seconds."""

    seconds: float


Parser: TypeAlias = Callable[[str, Any], Any]


@attrs.frozen
class BodyParser:
    """A parser that may read the raw body itself, before any generic decoding.

    ``from_body(url, body)`` returns the parsed value, or None to leave the body
    to the generic route: decoding, then ``from_json(url, data)``. A list page
    takes the typed route this way (see `Converter.structure_page`).
    """

    from_json: Parser
    from_body: Callable[[str, bytes], Any]

    def __call__(self, url: str, data: Any) -> Any:
        return self.from_json(url, data)


@attrs.frozen
class Fetch:
    """GET each URL (concurrently where possible); the flow receives, in order,
    the decoded JSON or the `DjangoPackagesError` of each.

    ``options`` (retries, deadline) apply to every URL, unless ``per_url_options``
    gives one `CallOptions` per URL (as `gather` does when it merges the fetches
    of flows with different options). ``parsers``, when given (one per URL, or
    None), turn a decoded body into the value the flow receives, as soon as that
    body arrives (while other requests are still in flight); an SDK error a
    parser raises becomes that URL's result.
    """

    urls: tuple[str, ...]
    options: CallOptions = NO_OPTIONS
    parsers: tuple[Parser | None, ...] = ()
    per_url_options: tuple[CallOptions, ...] = ()

    def __attrs_post_init__(self) -> None:
        for name, values in (("parsers", self.parsers), ("per_url_options", self.per_url_options)):
            if values and len(values) != len(self.urls):
                raise ValueError(f"{name} must be empty or hold one value per URL")

    def options_of(self, index: int) -> CallOptions:
        """The options of URL number ``index`` (drivers call this)."""
        return self.per_url_options[index] if self.per_url_options else self.options

    @classmethod
    def parsed(cls, urls: tuple[str, ...], options: CallOptions, parser: Parser) -> Fetch:
        """Fetch ``urls`` and run ``parser(url, json)`` on each body on arrival."""
        return cls(urls, options, (parser,) * len(urls))

    def parser(self, index: int) -> Parser | None:
        """The parser of URL number ``index``, if any."""
        return self.parsers[index] if self.parsers else None

    def finish_body(self, index: int, body: bytes) -> FetchResult | None:
        """The result of URL number ``index`` read straight from its raw ``body`` by its
        `BodyParser`, or None when it has none or leaves the body to `finish`."""
        parser = self.parser(index)
        if not isinstance(parser, BodyParser):
            return None
        try:
            return parser.from_body(self.urls[index], body)
        except DjangoPackagesError as error:
            return error

    def finish(self, index: int, result: FetchResult) -> FetchResult:
        """Apply the parser of URL number ``index`` to its result (drivers call this)."""
        parser = self.parser(index)
        if parser is None or isinstance(result, DjangoPackagesError):
            return result
        try:
            return parser(self.urls[index], result)
        except DjangoPackagesError as error:
            return error


@attrs.frozen
class Emit(Generic[T]):
    """Hand this value to the caller (a page of a listing) before going on."""

    value: T


Outcome: TypeAlias = "httpx.Response | Exception"
"""A response, an ``httpx.HTTPError``, or an SDK error the driver ran into."""
RequestFlow: TypeAlias = Generator["Send | Sleep", "Outcome | None", httpx.Response]
FetchResult: TypeAlias = Any  # decoded JSON, or the DjangoPackagesError of that URL
Flow: TypeAlias = Generator[Fetch, list[FetchResult], T]
"""An operation that fetches and finally returns a value."""


CrawlFlow: TypeAlias = Generator["Fetch | Emit[Page[ResourceT]]", "list[FetchResult] | None", None]
"""A crawl: fetches, and emits pages to hand out, until it ends."""


def fetch_one(url: str, options: CallOptions = NO_OPTIONS) -> Flow[Any]:
    """Fetch one URL and return its JSON, raising its error."""
    (result,) = yield Fetch((url,), options)
    if isinstance(result, DjangoPackagesError):
        raise result
    return result


def gather(flows: Sequence[Flow[Any]]) -> Flow[list[Any]]:
    """Run several flows side by side, merging their fetches into one action per round."""
    results: list[Any] = [None] * len(flows)
    pending: dict[int, Fetch] = {}
    for index, flow in enumerate(flows):
        try:
            pending[index] = flow.send(None)  # type: ignore[arg-type]
        except StopIteration as stop:
            results[index] = stop.value
    while pending:
        order = list(pending.items())
        urls = tuple(url for _, fetch in order for url in fetch.urls)
        parsers = tuple(fetch.parser(i) for _, fetch in order for i in range(len(fetch.urls)))
        # Each URL keeps the options of the flow that asked for it.
        each = tuple(fetch.options_of(i) for _, fetch in order for i in range(len(fetch.urls)))
        if all(options == each[0] for options in each):
            merged = Fetch(urls, each[0], parsers if any(parsers) else ())
        else:
            merged = Fetch(urls, each[0], parsers if any(parsers) else (), each)
        replies = yield merged
        position = 0
        pending = {}
        for index, fetch in order:
            share = replies[position : position + len(fetch.urls)]
            position += len(fetch.urls)
            try:
                pending[index] = flows[index].send(share)
            except StopIteration as stop:
                results[index] = stop.value
    return results


def collect(
    flow: CrawlFlow[Any],
    stop: Callable[[int], bool] | None = None,
    on_page: Callable[[Page[Any]], None] | None = None,
) -> Flow[list[Any]]:
    """Run a crawl (``crawl.run()``) inside a flow and return its rows, in order.

    ``stop(rounds)``, asked before each round of requests after the first
    (``rounds`` counts those already made), ends the crawl early when it says so;
    ``on_page(page)`` sees each page as it arrives (progress bars).
    """
    items: list[Any] = []
    reply: list[FetchResult] | None = None
    rounds = 0
    while True:
        try:
            action = flow.send(reply)
        except StopIteration:
            return items
        if isinstance(action, Emit):
            items.extend(action.value.items)
            if on_page is not None:
                on_page(action.value)
            reply = None
            continue
        if rounds and stop is not None and stop(rounds):
            flow.close()
            return items
        rounds += 1
        reply = yield action
