"""Configuration: what a client was built with, and per-call overrides.

`Settings.build` checks and normalises the constructor arguments of both
clients once; the engine only reads the resulting frozen values.
"""

from __future__ import annotations

import functools
import random
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from typing import Final

import attrs
import httpx

from ._version import __version__

__all__ = [
    "DEFAULT_MAX_IN_FLIGHT",
    "DEFAULT_ROWS_PER_REQUEST",
    "DEFAULT_TIMEOUT",
    "NO_OPTIONS",
    "CallOptions",
    "RateLimiter",
    "RetryEvent",
    "RetryPolicy",
    "Settings",
    "default_user_agent",
    "shared_ssl_context",
]

DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=5.0)
DEFAULT_MAX_IN_FLIGHT: Final = 4
DEFAULT_ROWS_PER_REQUEST: Final = 250


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
    bulk_rows_per_request: int = DEFAULT_ROWS_PER_REQUEST

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
        http_timeout: httpx.Timeout | None,
    ) -> Settings:
        """Check a client's constructor arguments and resolve their defaults.

        ``http_timeout`` is the timeout of an httpx client passed in, used when
        ``timeout`` is not given.
        """
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        if bulk_rows_per_request < 1:
            raise ValueError("bulk_rows_per_request must be at least 1")
        if timeout is None:
            resolved = http_timeout if http_timeout is not None else DEFAULT_TIMEOUT
        else:
            resolved = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        all_headers = {"Accept": "application/json", "User-Agent": default_user_agent(user_agent)}
        all_headers.update(headers or {})
        return cls(
            retry=RetryPolicy(max_retries, retry_backoff, retry_backoff_cap, retry_after_cap),
            max_in_flight=max_in_flight,
            limiter=RateLimiter(requests_per_second) if requests_per_second else None,
            on_retry=on_retry,
            headers=all_headers,
            timeout=resolved,
            bulk_rows_per_request=bulk_rows_per_request,
        )


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
