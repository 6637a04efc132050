"""The sans-I/O core: request building, retries, decoding and the action protocol.

Every operation of the SDK is a generator that *describes* its I/O and never
performs it. It yields actions and receives their outcomes:

* :class:`Send` (one HTTP request) and :class:`Sleep` (a pause) come from
  :func:`request_flow`, the retry loop of one GET;
* :class:`Fetch` (decoded JSON for several URLs, fetched concurrently where the
  client can) and :class:`Emit` (a page of results for the caller) come from the
  higher-level operations in ``_operations.py`` and ``_pagination.py``.

``Client`` and ``AsyncClient`` only drive these generators: one with blocking
calls and a thread pool, the other with ``await``. The algorithms exist once.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import gc
import json
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any, Final, Generic, TypeAlias, TypeVar

import attrs
import httpx

from ._exceptions import (
    DeadlineExceededError,
    DjangoPackagesError,
    HTTPStatusError,
    NotFoundError,
    NotJSONError,
    RateLimitedError,
    TransportError,
)
from ._version import __version__

try:  # an optional, faster JSON parser (the ``fast`` extra)
    import orjson

    _loads: Callable[[bytes], Any] = orjson.loads
except ImportError:  # pragma: no cover - depends on the environment
    _loads = json.loads

logger: Final = logging.getLogger("djangopackages_sdk")

T = TypeVar("T")

DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=5.0)
RETRY_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504, *range(520, 531)})
_RETRY_EXCEPTIONS: Final = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
_SNIPPET: Final = 200


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One verifying SSL context for every client the SDK creates.

    Loading the CA bundle costs about 0.1 s; building it once per process keeps
    short-lived clients (a notebook cell, a bot command) cheap.
    """
    return httpx.create_ssl_context()


def default_user_agent(extra: str | None = None) -> str:
    """``djangopackages-sdk/<version> python-httpx/<version>``, plus the caller's contact."""
    agent = f"djangopackages-sdk/{__version__} python-httpx/{httpx.__version__}"
    return f"{agent} {extra}" if extra else agent


@attrs.frozen
class RetryEvent:
    """What ``on_retry`` callbacks receive before each pause."""

    url: str
    attempt: int
    """The attempt that failed, counted from 1."""
    delay: float
    """Seconds the client will wait before the next attempt."""
    status: int | None
    """The status that caused the retry, or None for a transport failure."""
    error: str
    """What went wrong, in words."""


@attrs.frozen
class RetryPolicy:
    """When and how long to wait before repeating an idempotent GET."""

    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    retry_after_cap: float = 60.0

    def __attrs_post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be 0 or more")

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter for the given 0-based attempt."""
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))


class RateLimiter:
    """A requests-per-second ceiling shared by every request of one client (thread-safe)."""

    def __init__(self, per_second: float) -> None:
        if per_second <= 0:
            raise ValueError("requests_per_second must be positive")
        self.interval = 1.0 / per_second
        self._next = 0.0
        self._lock = threading.Lock()

    def reserve(self, now: float) -> float:
        """Book the next slot; return how long to wait for it."""
        with self._lock:
            slot = max(now, self._next)
            self._next = slot + self.interval
            return slot - now


@attrs.frozen
class Settings:
    """Everything a client was configured with that the core needs."""

    retry: RetryPolicy
    max_in_flight: int
    limiter: RateLimiter | None
    on_retry: Callable[[RetryEvent], None] | None
    headers: dict[str, str]
    timeout: httpx.Timeout


@attrs.frozen
class CallOptions:
    """Per-call overrides: retries and an overall deadline (``time.monotonic`` based)."""

    max_retries: int | None = None
    deadline_at: float | None = None

    @classmethod
    def make(cls, max_retries: int | None, deadline: float | None) -> CallOptions:
        """Options for a call starting now; ``deadline`` is in seconds from now."""
        if max_retries is not None and max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        if deadline is not None and deadline <= 0:
            raise ValueError("deadline must be positive")
        return cls(max_retries, None if deadline is None else time.monotonic() + deadline)


NO_OPTIONS: Final = CallOptions()


# -- actions -----------------------------------------------------------------------
@attrs.frozen
class Send:
    """Send this request; the flow receives the response or the exception raised."""

    request: httpx.Request


@attrs.frozen
class Sleep:
    """Pause for this many seconds."""

    seconds: float


Parser: TypeAlias = Callable[[str, Any], Any]


@attrs.frozen
class Fetch:
    """GET each URL (concurrently where possible); the flow receives, in order,
    the decoded JSON or the :class:`DjangoPackagesError` of each.

    ``parsers``, when given (one per URL, or None), turn a decoded body into the
    value the flow receives, as soon as that body arrives (while other requests
    are still in flight); an SDK error a parser raises becomes that URL's result.
    """

    urls: tuple[str, ...]
    options: CallOptions = NO_OPTIONS
    parsers: tuple[Parser | None, ...] = ()

    @classmethod
    def parsed(cls, urls: tuple[str, ...], options: CallOptions, parser: Parser) -> Fetch:
        """Fetch ``urls`` and run ``parser(url, json)`` on each body on arrival."""
        return cls(urls, options, (parser,) * len(urls))

    def parser(self, index: int) -> Parser | None:
        """The parser of URL number ``index``, if any."""
        return self.parsers[index] if self.parsers else None

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
RequestFlow: TypeAlias = Generator["Send | Sleep", "Outcome | None", httpx.Response]
FetchResult: TypeAlias = Any  # decoded JSON, or the DjangoPackagesError of that URL
Flow: TypeAlias = Generator[Fetch, list[FetchResult], T]
"""An operation that fetches and finally returns a value."""


def request_flow(
    http: httpx.Client | httpx.AsyncClient, settings: Settings, url: str, options: CallOptions
) -> RequestFlow:
    """One GET with retries, backoff, ``Retry-After``, rate limit and deadline."""
    policy = settings.retry
    max_retries = policy.max_retries if options.max_retries is None else options.max_retries
    deadline = options.deadline_at
    attempt = 0
    while True:
        if settings.limiter is not None:
            wait = settings.limiter.reserve(time.monotonic())
            if wait > 0:
                _check_deadline(url, deadline, wait)
                yield Sleep(wait)
        timeout = settings.timeout
        if deadline is not None:
            remaining = _check_deadline(url, deadline, 0.0)
            timeout = _shorten(timeout, remaining)
        request = http.build_request("GET", url, headers=settings.headers, timeout=timeout)
        outcome = yield Send(request)
        status: int | None = None
        if isinstance(outcome, httpx.Response):
            status = outcome.status_code
            if status not in RETRY_STATUSES:
                return outcome
            retry_after = parse_retry_after(outcome.headers.get("retry-after"))
            if retry_after is not None and retry_after > policy.retry_after_cap:
                raise _rate_limited(outcome, url, retry_after)
            if attempt >= max_retries:
                return outcome
            delay = retry_after if retry_after is not None else policy.backoff(attempt)
            error = f"HTTP {status}"
        elif isinstance(outcome, httpx.HTTPError):
            if (
                isinstance(outcome, httpx.TimeoutException)
                and deadline is not None
                and time.monotonic() >= deadline
            ):
                raise DeadlineExceededError(
                    url, "the call's deadline ran out during the request"
                ) from outcome
            if not isinstance(outcome, _RETRY_EXCEPTIONS) or attempt >= max_retries:
                raise TransportError(
                    url, f"{type(outcome).__name__}: {outcome or 'no detail'}"
                ) from outcome
            delay = policy.backoff(attempt)
            error = f"{type(outcome).__name__}: {outcome}"
        else:  # pragma: no cover - drivers only send responses or httpx errors
            raise TypeError(f"unexpected outcome {outcome!r}")
        _check_deadline(url, deadline, delay)
        attempt += 1
        logger.info(
            "retrying %s in %.2fs after %s (attempt %d of %d)",
            url,
            delay,
            error,
            attempt,
            max_retries,
        )
        if settings.on_retry is not None:
            settings.on_retry(RetryEvent(url, attempt, delay, status, error))
        yield Sleep(delay)


def _check_deadline(url: str, deadline: float | None, wait: float) -> float:
    if deadline is None:
        return float("inf")
    remaining = deadline - time.monotonic()
    if remaining <= wait:
        raise DeadlineExceededError(url, "the call's deadline would pass before the next attempt")
    return remaining


def _shorten(timeout: httpx.Timeout, remaining: float) -> httpx.Timeout:
    def cap(value: float | None) -> float:
        return remaining if value is None else min(value, remaining)

    return httpx.Timeout(
        connect=cap(timeout.connect),
        read=cap(timeout.read),
        write=cap(timeout.write),
        pool=cap(timeout.pool),
    )


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _snippet(response: httpx.Response) -> str:
    return response.content[:_SNIPPET].decode("utf-8", "replace")


def _rate_limited(
    response: httpx.Response, url: str, retry_after: float | None
) -> RateLimitedError:
    wait = "" if retry_after is None else f" (Retry-After: {retry_after:.0f}s)"
    return RateLimitedError(
        url,
        f"the server asks to slow down{wait}",
        status=response.status_code,
        body_snippet=_snippet(response),
        retry_after=retry_after,
    )


_BULK_BYTES: Final = 256 * 1024


@contextlib.contextmanager
def bulk_allocation(size: int) -> Iterator[None]:
    """Pause the cyclic garbage collector while a large body becomes objects.

    Decoding and structuring a page of thousands of rows allocates hundreds of
    thousands of acyclic containers; each allocation burst would otherwise
    trigger collections that find nothing (about 15% of the parse time). Only
    the caller that paused the collector resumes it, so nesting and threads are
    safe, and a collector the application disabled stays disabled.
    """
    if size < _BULK_BYTES or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def decode(response: httpx.Response, url: str) -> Any:
    """The decoded JSON of a successful response, or the matching error."""
    status = response.status_code
    if status != 200:
        raise status_error(response, url)
    content_type = response.headers.get("content-type", "")
    body = response.content
    try:
        if "html" in content_type:
            raise ValueError("HTML")
        return _loads(body)
    except (ValueError, RecursionError, UnicodeDecodeError):
        head = body[:80].decode("utf-8", "replace")
        kind = (
            "an HTML page"
            if "html" in content_type or head.lstrip().startswith("<")
            else "invalid JSON"
        )
        raise NotJSONError(
            url,
            f"expected JSON, got {kind} ({content_type or 'no content type'}, "
            f"{len(body)} bytes): {head!r}",
            status=status,
            content_type=content_type,
            head=head,
        ) from None


def settle(fetch: Fetch, index: int, outcome: httpx.Response | DjangoPackagesError) -> FetchResult:
    """What the flow receives for URL number ``index``: decoded and parsed, or the error.

    The collector stays paused from decoding to the end of parsing: resumed in
    between, its first young-generation pass would walk the whole decoded JSON
    tree (a quarter of a million objects for a 5,400-row page) just before the
    parser drops it.
    """
    if isinstance(outcome, DjangoPackagesError):
        return outcome
    with bulk_allocation(len(outcome.content)):
        try:
            data = decode(outcome, fetch.urls[index])
        except DjangoPackagesError as error:
            return error
        return fetch.finish(index, data)


def status_error(response: httpx.Response, url: str) -> HTTPStatusError:
    """The error for a non-200 response."""
    status = response.status_code
    if status == 404:
        detail = None
        try:
            data = json.loads(response.content)
            if isinstance(data, dict) and isinstance(data.get("detail"), str):
                detail = data["detail"]
        except (ValueError, RecursionError):
            pass
        return NotFoundError(
            url, detail or "not found", body_snippet=_snippet(response), detail=detail
        )
    if status == 429:
        return _rate_limited(response, url, parse_retry_after(response.headers.get("retry-after")))
    reason = response.reason_phrase or "error"
    return HTTPStatusError(
        url, f"HTTP {status} {reason}", status=status, body_snippet=_snippet(response)
    )


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
        options = order[0][1].options
        urls = tuple(url for _, fetch in order for url in fetch.urls)
        parsers = tuple(
            fetch.parsers[i] if fetch.parsers else None
            for _, fetch in order
            for i in range(len(fetch.urls))
        )
        replies = yield Fetch(urls, options, parsers if any(parsers) else ())
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
