"""Configuration: what a client was built with, and per-call overrides.

`Settings.build` checks and normalises the constructor arguments of both
clients once; the engine only reads the resulting frozen values.
"""

from __future__ import annotations

import functools
import math
import random
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs
import httpx

from ._version import __version__

__all__ = [
    "DEFAULT_ATTEMPT_TIMEOUT",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_IN_FLIGHT",
    "DEFAULT_ROWS_PER_REQUEST",
    "DEFAULT_TIMEOUT",
    "NO_OPTIONS",
    "CallOptions",
    "RateLimiter",
    "RetryEvent",
    "RetryPolicy",
    "Settings",
    "check_count",
    "check_seconds",
    "default_user_agent",
    "shared_ssl_context",
]

DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=5.0)
DEFAULT_MAX_IN_FLIGHT: Final = 4
DEFAULT_ROWS_PER_REQUEST: Final = 250
DEFAULT_MAX_BODY_BYTES: Final = 64 * 1024 * 1024
"""Largest response body accepted, raw and decoded (a one-page listing of the whole
catalogue is about 5 MB)."""
DEFAULT_ATTEMPT_TIMEOUT: Final = 60.0
"""Longest wall-clock time one attempt of a request may take, headers and body."""


def check_count(name: str, value: object, *, minimum: int) -> int:
    """``value`` as an int of at least ``minimum``, or a TypeError/ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def check_seconds(name: str, value: object, *, zero_ok: bool = False) -> float:
    """``value`` as a positive (or non-negative) number of seconds, or an error naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    number = float(value)
    if math.isnan(number) or number < 0 or (number == 0 and not zero_ok):
        raise ValueError(f"{name} must be {'0 or more' if zero_ok else 'positive'}, got {value!r}")
    return number


def _check_timeout(value: object) -> httpx.Timeout | None:
    if value is None or isinstance(value, httpx.Timeout):
        return value
    return httpx.Timeout(check_seconds("timeout", value))


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
        check_count("max_retries", self.max_retries, minimum=0)
        check_seconds("retry_backoff", self.backoff_base, zero_ok=True)
        check_seconds("retry_backoff_cap", self.backoff_cap, zero_ok=True)
        check_seconds("retry_after_cap", self.retry_after_cap, zero_ok=True)

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter for the given 0-based attempt."""
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))


class RateLimiter:
    """A requests-per-second ceiling shared by every request of one client (thread-safe)."""

    def __init__(self, per_second: float) -> None:
        per_second = check_seconds("requests_per_second", per_second)
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
    bulk_rows_per_request: int = DEFAULT_ROWS_PER_REQUEST
    max_age: float | None = None
    """Seconds a loaded resource answers lookups before it is fetched again (None: for ever)."""
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    attempt_timeout: float = DEFAULT_ATTEMPT_TIMEOUT

    @classmethod
    def build(
        cls,
        *,
        timeout: httpx.Timeout | float | None,
        headers: Mapping[str, str] | None,
        user_agent: str | None,
        max_retries: int,
        retry_backoff: float,
        retry_backoff_cap: float,
        retry_after_cap: float,
        on_retry: Callable[[RetryEvent], None] | None,
        max_in_flight: int,
        requests_per_second: float | None,
        bulk_rows_per_request: int,
        max_age: float | None,
        max_body_bytes: int,
        attempt_timeout: float,
        base_url: object,
        strict: object,
        http_client: object,
        http_type: type[httpx.Client] | type[httpx.AsyncClient],
    ) -> Settings:
        """Check a client's constructor arguments and resolve their defaults.

        Every wrong type or value raises a TypeError or ValueError naming its
        parameter, here rather than at the first request. ``http_client`` must be
        an ``http_type`` (or None); its timeout is used when ``timeout`` is not given.
        """
        if not isinstance(base_url, str):
            raise TypeError(f"base_url must be a str, not {type(base_url).__name__}")
        if not isinstance(strict, bool):
            raise TypeError(f"strict must be a bool, not {type(strict).__name__}")
        if http_client is not None and not isinstance(http_client, http_type):
            raise TypeError(
                f"http_client must be an {http_type.__module__}.{http_type.__name__}, "
                f"not {type(http_client).__module__}.{type(http_client).__name__}"
            )
        check_count("max_in_flight", max_in_flight, minimum=1)
        check_count("bulk_rows_per_request", bulk_rows_per_request, minimum=1)
        check_count("max_body_bytes", max_body_bytes, minimum=1024)
        attempt_timeout = check_seconds("attempt_timeout", attempt_timeout)
        if max_age is not None:
            max_age = check_seconds("max_age", max_age)
        if on_retry is not None and not callable(on_retry):
            raise TypeError("on_retry must be callable")
        if headers is not None and not isinstance(headers, Mapping):
            raise TypeError(f"headers must be a mapping, not {type(headers).__name__}")
        if user_agent is not None and not isinstance(user_agent, str):
            raise TypeError(f"user_agent must be a str, not {type(user_agent).__name__}")
        given = _check_timeout(timeout)
        if given is None:
            http_timeout: Any = getattr(http_client, "timeout", None)
            resolved = http_timeout if http_timeout is not None else DEFAULT_TIMEOUT
        else:
            resolved = given
        all_headers = {"Accept": "application/json", "User-Agent": default_user_agent(user_agent)}
        all_headers.update(headers or {})
        return cls(
            retry=RetryPolicy(max_retries, retry_backoff, retry_backoff_cap, retry_after_cap),
            max_in_flight=max_in_flight,
            limiter=None if requests_per_second is None else RateLimiter(requests_per_second),
            on_retry=on_retry,
            headers=all_headers,
            timeout=resolved,
            bulk_rows_per_request=bulk_rows_per_request,
            max_age=max_age,
            max_body_bytes=max_body_bytes,
            attempt_timeout=attempt_timeout,
        )


@attrs.frozen
class CallOptions:
    """Per-call overrides: retries and an overall deadline (``time.monotonic`` based)."""

    max_retries: int | None = None
    deadline_at: float | None = None

    @classmethod
    def make(cls, max_retries: int | None, deadline: float | None) -> CallOptions:
        """Options for a call starting now; ``deadline`` is in seconds from now."""
        if max_retries is not None:
            check_count("max_retries", max_retries, minimum=0)
        if deadline is not None:
            deadline = check_seconds("deadline", deadline)
        return cls(max_retries, None if deadline is None else time.monotonic() + deadline)


NO_OPTIONS: Final = CallOptions()
