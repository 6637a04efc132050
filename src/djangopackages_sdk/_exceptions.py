"""Every error the SDK raises about the server, the network or a payload.

::

    DjangoPackagesError             base: .url, .status (None without a response)
    ├── TransportError              the request did not complete (wraps the httpx error)
    │   └── DeadlineExceededError   the call's overall deadline ran out (retries included)
    ├── HTTPStatusError             an unexpected status: .status, .body_snippet
    │   ├── NotFoundError           404: .detail is the API's own message
    │   ├── BaseURLError            404 from no API route at all: base_url looks wrong
    │   └── RateLimitedError        429/503 asking to wait longer than allowed: .retry_after
    ├── PayloadError                a body that is not the expected JSON shape: .path
    │   └── NotJSONError            not JSON at all (HTML page, truncated): .content_type, .head
    ├── ResponseTooLargeError       a body passed max_body_bytes; the rest was not read
    ├── ForeignURLError             a link outside the API root; nothing was sent
    ├── PaginationError             a ``next`` link that loops, goes back or leaves the API
    └── IncompleteCrawlError        a crawl skipped rows it could not read: .skipped

Misuse (a bad argument) raises the usual ``ValueError`` / ``TypeError`` instead, and
using a closed client raises ``RuntimeError``.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

__all__ = [
    "BaseURLError",
    "DeadlineExceededError",
    "DjangoPackagesError",
    "ForeignURLError",
    "HTTPStatusError",
    "IncompleteCrawlError",
    "NotFoundError",
    "NotJSONError",
    "PaginationError",
    "PayloadError",
    "RateLimitedError",
    "ResponseTooLargeError",
    "SkippedRows",
    "TransportError",
]


class DjangoPackagesError(Exception):
    """Base class of every error about the API, the network or a payload."""

    url: str
    status: int | None

    def __init__(self, url: str, message: str, *, status: int | None = None) -> None:
        self.url = url
        self.status = status
        self.message = message
        super().__init__(url, message)

    def __str__(self) -> str:
        where = f"{self.url} (HTTP {self.status})" if self.status is not None else self.url
        return f"{self.message} [{where}]"

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only fields survive pickling (errors cross thread/process pools).
        return (_rebuild, (type(self), self.__dict__))


def _rebuild(cls: type[DjangoPackagesError], state: dict[str, object]) -> DjangoPackagesError:
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("url"), state.get("message"))
    error.__dict__.update(state)
    return error


class TransportError(DjangoPackagesError):
    """The request failed before a response arrived (connection, timeout, protocol).

    The original ``httpx`` exception is chained as ``__cause__``.
    """


class DeadlineExceededError(TransportError):
    """The call's overall deadline ran out, waits between retries included."""


class HTTPStatusError(DjangoPackagesError):
    """The server answered with a status the SDK does not treat as success."""

    status: int

    def __init__(self, url: str, message: str, *, status: int, body_snippet: str = "") -> None:
        super().__init__(url, message, status=status)
        self.body_snippet = body_snippet


class NotFoundError(HTTPStatusError):
    """404: no such resource. ``detail`` is the API's message, when it sent one."""

    def __init__(
        self,
        url: str,
        message: str,
        *,
        status: int = 404,
        body_snippet: str = "",
        detail: str | None = None,
    ) -> None:
        super().__init__(url, message, status=status, body_snippet=body_snippet)
        self.detail = detail


class BaseURLError(HTTPStatusError):
    """The server has no such route (a 404 HTML page, not the API's JSON 404): the
    client's ``base_url`` is not the API root (``https://djangopackages.org/api/v4/``)."""


class RateLimitedError(HTTPStatusError):
    """The server asked to wait (``Retry-After``) longer than the client may sleep."""

    def __init__(
        self,
        url: str,
        message: str,
        *,
        status: int,
        body_snippet: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(url, message, status=status, body_snippet=body_snippet)
        self.retry_after = retry_after


class PayloadError(DjangoPackagesError):
    """The body is JSON but not of the expected shape.

    ``path`` names the first bad field as a JSON path, e.g. ``$.results[3].repo_forks``.
    """

    def __init__(
        self, url: str, message: str, *, status: int | None = None, path: str = "$"
    ) -> None:
        super().__init__(url, message, status=status)
        self.path = path


class NotJSONError(PayloadError):
    """The body is not JSON at all: an HTML maintenance page, a CDN page, truncated text."""

    def __init__(
        self,
        url: str,
        message: str,
        *,
        status: int | None = None,
        content_type: str = "",
        head: str = "",
    ) -> None:
        super().__init__(url, message, status=status)
        self.content_type = content_type
        self.head = head

    @property
    def is_html(self) -> bool:
        """True when the body is an HTML page (a proxy's, a CDN's or the site's own)."""
        return "html" in self.content_type or self.head.lstrip().startswith("<")


class ResponseTooLargeError(DjangoPackagesError):
    """A response body passed the client's ``max_body_bytes`` (as sent or decoded);
    the rest of it was not read."""


class ForeignURLError(DjangoPackagesError):
    """A link points outside the configured API root; no request was sent."""


class PaginationError(DjangoPackagesError):
    """The server's pagination links repeat, go backwards or leave the API."""


class IncompleteCrawlError(DjangoPackagesError):
    """A crawl yielded every row it could, but some could not be read.

    ``skipped`` lists the offsets and errors of the rows left out.
    """

    def __init__(self, url: str, message: str, *, skipped: Sequence[SkippedRows]) -> None:
        super().__init__(url, message)
        self.skipped = tuple(skipped)


@attrs.frozen
class SkippedRows:
    """Rows a crawl could not read: ``limit`` rows from ``offset``, and why."""

    offset: int
    limit: int
    error: DjangoPackagesError
