"""What the two drivers share around their I/O, written once.

`Driver` is the base of both drivers (`_sync_io.py`, `_async_io.py`): the
httpx client they make when none is passed in, what closing does to the
engine, and their repr. The loops that answer a flow's actions are here too,
once blocking and once awaited: `drive` runs a flow to its return value (an
operation's `Fetch` actions, a request's `Send` and `Sleep`), `iterate` hands
out what a flow emits (a listing's pages, ``watch``'s diffs). A driver only
says how to perform one action.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from typing import Any, TypeVar

import httpx

from ._config import shared_ssl_context
from ._protocol import Emit
from ._relations import Relations

__all__ = ["Driver", "adrive", "aiterate", "drive", "iterate"]

A = TypeVar("A")
R = TypeVar("R")
T = TypeVar("T")
H = TypeVar("H", httpx.Client, httpx.AsyncClient)


def drive(flow: Generator[A, R, T], perform: Callable[[A], R]) -> T:
    """Run ``flow`` to its end, answering each action with ``perform(action)``."""
    reply: Any = None
    while True:
        try:
            action = flow.send(reply)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        reply = perform(action)


async def adrive(flow: Generator[A, R, T], perform: Callable[[A], Awaitable[R]]) -> T:
    """`drive` for asyncio: each action is answered with ``await perform(action)``."""
    reply: Any = None
    while True:
        try:
            action = flow.send(reply)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        reply = await perform(action)


def iterate(flow: Generator[Emit[T] | A, Any, None], perform: Callable[[A], Any]) -> Iterator[T]:
    """Run ``flow``, handing out each emitted value and answering each other action
    with ``perform(action)``."""
    reply: Any = None
    while True:
        try:
            action = flow.send(reply)
        except StopIteration:
            return
        if isinstance(action, Emit):
            yield action.value
            reply = None
        else:
            reply = perform(action)


async def aiterate(
    flow: Generator[Emit[T] | A, Any, None], perform: Callable[[A], Awaitable[Any]]
) -> AsyncIterator[T]:
    """`iterate` for asyncio: each action is answered with ``await perform(action)``."""
    reply: Any = None
    while True:
        try:
            action = flow.send(reply)
        except StopIteration:
            return
        if isinstance(action, Emit):
            yield action.value
            reply = None
        else:
            reply = await perform(action)


class Driver(Relations):
    """`Relations` and what `Client` and `AsyncClient` share around their I/O."""

    def _new_http(self, http_type: type[H]) -> H:
        """The httpx client a driver makes when none is passed in: this client's
        timeout, no redirects followed, the shared TLS context."""
        return http_type(timeout=self.timeout, follow_redirects=False, verify=shared_ssl_context())

    def _closing(self) -> None:
        """Refuse further calls and drop the identity map (the driver closes its I/O)."""
        self._closed = True
        # The client and its resources reference each other: without this, a closed
        # client's whole identity map would wait for a full garbage collection.
        self.clear_cache()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.base_url}>"
