"""The retrying request: one GET with retries, backoff, ``Retry-After``, rate limit
and deadline, and what turns its outcome into JSON or an SDK error.
"""

from __future__ import annotations

import contextlib
import email.utils
import gc
import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, Final

import httpx

from ._config import CallOptions, RetryEvent, Settings
from ._exceptions import (
    BaseURLError,
    DeadlineExceededError,
    DjangoPackagesError,
    HTTPStatusError,
    NotFoundError,
    NotJSONError,
    RateLimitedError,
    ResponseTooLargeError,
    TransportError,
)
from ._protocol import Fetch, FetchResult, RequestFlow, Send, Sleep

__all__ = [
    "RETRY_STATUSES",
    "BodyReader",
    "bulk_allocation",
    "decode",
    "parse_retry_after",
    "request_flow",
    "settle",
    "status_error",
]

try:  # an optional, faster JSON parser (the ``fast`` extra)
    import msgspec

    _loads: Callable[[bytes], Any] = msgspec.json.decode
except ImportError:  # pragma: no cover - depends on the environment
    _loads = json.loads

logger: Final = logging.getLogger("djangopackages_sdk")

RETRY_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504, *range(520, 531)})
_RETRY_EXCEPTIONS: Final = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
_SNIPPET: Final = 200


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
        expires_at = time.monotonic() + settings.attempt_timeout
        if deadline is not None:
            remaining = _check_deadline(url, deadline, 0.0)
            timeout = _shorten(timeout, remaining)
            expires_at = min(expires_at, deadline)
        request = http.build_request("GET", url, headers=settings.headers, timeout=timeout)
        outcome = yield Send(request, expires_at, settings.max_body_bytes)
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
        elif isinstance(outcome, DjangoPackagesError):
            raise outcome
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


class BodyReader:
    """Reads one streamed response within its attempt's bounds (both drivers use it).

    The body may not pass ``send.max_body_bytes``, neither as sent (compressed)
    nor decoded, and the attempt may not pass ``send.expires_at``: checked at
    every chunk, so a server trickling bytes cannot hold the call, and a gzip
    bomb or an endless body is dropped without being read to its end.
    """

    def __init__(self, url: str, send: Send, response: httpx.Response) -> None:
        self.url = url
        self.expires_at = send.expires_at
        self.limit = send.max_body_bytes
        self.streamed = response
        self.parts: list[bytes] = []
        self.size = 0
        declared = response.headers.get("content-length", "")
        if self.limit is not None and declared.isdigit() and int(declared) > self.limit:
            raise self._too_large(f"it declares {int(declared)} bytes")
        self.check_time()

    def check_time(self) -> None:
        """Raise ``httpx.ReadTimeout`` once the attempt's time is up."""
        if time.monotonic() > self.expires_at:
            raise httpx.ReadTimeout(
                "the attempt ran past its wall-clock bound (attempt_timeout or deadline)",
                request=self.streamed.request,
            )

    def take(self, chunk: bytes) -> None:
        """Add one decoded chunk; raise if a bound is passed."""
        self.parts.append(chunk)
        self.size += len(chunk)
        if self.limit is not None:
            if self.size > self.limit:
                raise self._too_large(f"{self.size} bytes decoded so far")
            if self.streamed.num_bytes_downloaded > self.limit:
                raise self._too_large(f"{self.streamed.num_bytes_downloaded} bytes received")
        self.check_time()

    def response(self) -> httpx.Response:
        """The response with its body read (decoded, so no content encoding left)."""
        streamed = self.streamed
        headers = [
            (name, value)
            for name, value in streamed.headers.raw
            if name.lower() not in (b"content-encoding", b"content-length", b"transfer-encoding")
        ]
        return httpx.Response(
            streamed.status_code,
            headers=headers,
            content=b"".join(self.parts),
            request=streamed.request,
            extensions={
                key: streamed.extensions[key]
                for key in ("http_version", "reason_phrase")
                if key in streamed.extensions
            },
        )

    def _too_large(self, what: str) -> ResponseTooLargeError:
        return ResponseTooLargeError(
            self.url,
            f"the response body passes max_body_bytes={self.limit} ({what}); the rest was not read",
            status=self.streamed.status_code,
        )


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


def _is_html(response: httpx.Response) -> bool:
    if "html" in response.headers.get("content-type", ""):
        return True
    return response.content[:200].lstrip().lower().startswith((b"<!doctype", b"<html"))


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

    A list page is first offered to its parser's typed route (`Fetch.finish_body`,
    the ``fast`` extra), which reads the models straight from the body; a body it
    leaves is decoded and parsed as any other.

    The collector stays paused from decoding to the end of parsing: resumed in
    between, its first young-generation pass would walk the whole decoded JSON
    tree (a quarter of a million objects for a 5,400-row page) just before the
    parser drops it.
    """
    if isinstance(outcome, DjangoPackagesError):
        return outcome
    with bulk_allocation(len(outcome.content)):
        if outcome.status_code == 200 and "html" not in outcome.headers.get("content-type", ""):
            typed = fetch.finish_body(index, outcome.content)  # a list page's typed route
            if typed is not None:
                return typed
        try:
            data = decode(outcome, fetch.urls[index])
        except DjangoPackagesError as error:
            return error
        return fetch.finish(index, data)


def status_error(response: httpx.Response, url: str) -> HTTPStatusError:
    """The error for a non-200 response."""
    status = response.status_code
    if status == 404 and _is_html(response):
        # The API answers a missing object with JSON; an HTML 404 means no route.
        return BaseURLError(
            url,
            "no such route on the server (an HTML 404 page, not the API's JSON): "
            "base_url looks wrong; it must be the API root, such as "
            "https://djangopackages.org/api/v4/",
            status=404,
            body_snippet=_snippet(response),
        )
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
