"""What a `LiveServer` records of a request (`Hit`) and how it may misbehave (`Fault`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

from .._registry import COLLECTIONS
from ._fake import FakeAPI

_DEFAULT_LIMIT: Final = 20


@dataclass(frozen=True, slots=True)
class Hit:
    """One request a `LiveServer` received.

    Attributes:
        method: the HTTP method, upper case (``"GET"``).
        path: the request target as sent: path and query
            (``"/api/v4/packages/?limit=20&offset=40"``).
        number: its rank in arrival order, counted from 1.
        time: when it arrived, on the `time.monotonic` clock.
    """

    method: str
    path: str
    number: int
    time: float

    @property
    def route(self) -> str:
        """The path without its query (``"/api/v4/packages/"``)."""
        return urlsplit(self.path).path

    @property
    def params(self) -> dict[str, str]:
        """The query parameters, the last value of each (``{"limit": "20", "offset": "40"}``)."""
        return dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))

    def is_list(self, collection: str | None = None) -> bool:
        """Whether this asks for a list page (of ``collection``, e.g. ``"packages"``, if given)."""
        parts = [part for part in self.route.split("/") if part]
        if not parts or parts[-1] not in COLLECTIONS:
            return False
        return collection is None or parts[-1] == collection

    def window(self) -> range:
        """The row offsets a list request asks for, with the API's defaults.

        ``limit`` falls back to 20 when missing, invalid, zero or negative and
        ``offset`` to 0 when missing, invalid or negative, as the API does:
        ``?limit=5&offset=10`` gives ``range(10, 15)``.
        """
        params = self.params
        limit = _positive(params.get("limit"))
        offset = _positive(params.get("offset"))
        return range(offset or 0, (offset or 0) + (limit or _DEFAULT_LIMIT))


def _positive(text: str | None) -> int | None:
    """``int(text)`` when it is a valid non-negative integer, else None (0 stays 0)."""
    if text is None:
        return None
    try:
        number = int(text)
    except ValueError:
        return None
    return number if number >= 0 else None


def _header_pairs(
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
) -> tuple[tuple[str, str], ...]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return tuple((str(name), str(value)) for name, value in items)


def _encode_body(body: bytes | str | Any) -> tuple[bytes, str | None]:
    """A body as bytes plus the content type it suggests (None: no opinion)."""
    if isinstance(body, bytes | bytearray | memoryview):
        data = bytes(body)
    elif isinstance(body, str):
        data = body.encode("utf-8")
    else:
        return json.dumps(body, separators=(",", ":")).encode("utf-8"), "application/json"
    if not data:
        return data, None
    if data.lstrip()[:1] == b"<":
        return data, "text/html; charset=utf-8"
    if data.lstrip()[:1] in (b"{", b"["):
        return data, "application/json"
    return data, "text/plain; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Fault:
    """What a `LiveServer` does instead of (or before) its normal answer.

    Build one with the constructors, `status`, `body`, `reset`,
    `delay`, `truncated` and `mutate`, or combine fields
    directly. The server applies them in this order: run `action` on the
    fake, wait `wait` seconds, reset the connection if
    `reset_connection`, else answer with `status_code`/`headers`/
    `content` when a status is set, else the fake's own answer (cut to
    `truncate_at` bytes when set).

    Attributes:
        status_code: answer with this status instead of the fake's response.
        headers: extra response headers (``Content-Length`` is always computed).
        content: the body sent with `status_code`.
        reset_connection: close the socket abruptly (``SO_LINGER`` 0, a TCP RST)
            without answering.
        wait: seconds to wait before answering (does not hold a server worker).
        truncate_at: send only the first bytes of the fake's body (a complete
            HTTP message whose body is cut short, e.g. broken JSON).
        action: called with the fake before anything else (insert or delete rows).
    """

    status_code: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    content: bytes = b""
    reset_connection: bool = False
    wait: float = 0.0
    truncate_at: int | None = None
    action: Callable[[FakeAPI], object] | None = field(default=None, compare=False)

    @classmethod
    def status(
        cls,
        code: int,
        body: bytes | str | Any = b"",
        *,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        content_type: str | None = None,
        retry_after: float | str | None = None,
    ) -> Fault:
        """Answer ``code`` with ``body`` (bytes, text, or a value sent as JSON).

        The content type is ``content_type`` if given, else inferred from the body
        (HTML when it starts with ``<``, JSON for ``{``/``[`` or a non-text value,
        plain text otherwise; none for an empty body). ``retry_after`` adds a
        ``Retry-After`` header: a number of seconds or an HTTP date string.

        >>> Fault.status(429, retry_after=1).headers
        (('Retry-After', '1'),)
        """
        data, inferred = _encode_body(body)
        pairs = list(_header_pairs(headers))
        kind = content_type or inferred
        if kind is not None and not any(name.lower() == "content-type" for name, _ in pairs):
            pairs.insert(0, ("Content-Type", kind))
        if retry_after is not None:
            value = retry_after if isinstance(retry_after, str) else f"{retry_after:g}"
            pairs.append(("Retry-After", value))
        return cls(status_code=code, headers=tuple(pairs), content=data)

    @classmethod
    def body(
        cls,
        body: bytes | str | Any,
        *,
        status: int = 200,
        content_type: str | None = "application/json",
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    ) -> Fault:
        """Answer ``status`` (200) with this body, labelled ``application/json`` by default.

        For a page the API never sent: a ``next`` loop, an HTML body under 200,
        truncated JSON (``Fault.body(b'{"count":3,"res')``). A non-text value is
        sent as JSON. Pass ``content_type=None`` to infer it from the body.
        """
        return cls.status(status, body, headers=headers, content_type=content_type)

    @classmethod
    def reset(cls) -> Fault:
        """Reset the connection without answering (the client sees a connection error)."""
        return cls(reset_connection=True)

    @classmethod
    def delay(cls, seconds: float, then: Fault | None = None) -> Fault:
        """Wait ``seconds`` before answering (normally, or as ``then`` says).

        Long enough, this exceeds a client's read timeout. The wait ends early
        when the server stops.
        """
        if then is None:
            return cls(wait=seconds)
        return cls(
            status_code=then.status_code,
            headers=then.headers,
            content=then.content,
            reset_connection=then.reset_connection,
            wait=then.wait + seconds,
            truncate_at=then.truncate_at,
            action=then.action,
        )

    @classmethod
    def truncated(cls, size: int) -> Fault:
        """Send the fake's normal answer with its body cut to its first ``size`` bytes."""
        return cls(truncate_at=size)

    @classmethod
    def mutate(cls, action: Callable[[FakeAPI], object]) -> Fault:
        """Call ``action(fake)`` (e.g. ``lambda f: f.add(row)``), then answer normally."""
        return cls(action=action)
