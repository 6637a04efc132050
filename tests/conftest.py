"""Shared test harness: every client behaviour is tested against BOTH clients.

Tests are ``async def`` and take the ``dp`` fixture, parametrised over
``sync`` and ``async``. ``dp.run(lambda c: c.packages.get(1))`` calls the sync
client directly or awaits the async one; ``dp.collect(lambda c: c.packages.list())``
drains a sync or async iterator. ``dp.fake`` is the FakeAPI behind the client
(requests are counted in ``dp.fake.requests``); ``dp.new(**options)`` builds
another harness of the same mode, e.g. with other client options or transport.
"""

from __future__ import annotations

import inspect
import json
import signal
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
)
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx
import pytest

from djangopackages_sdk import AsyncClient, Client
from djangopackages_sdk.testing import FakeAPI

FIXTURES = Path(__file__).parent / "fixtures"
T = TypeVar("T")
Mode = Literal["sync", "async"]
AnyClient = Client | AsyncClient


@pytest.fixture(autouse=True, scope="session")
def _ctrl_c_as_at_a_terminal() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt, and reaches the commands the tests start, as at
    a terminal, even when the suite runs as a background job (a shell starts those with
    SIGINT ignored, and an ignored signal stays ignored in every child)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def load_exchange(name: str) -> dict[str, Any]:
    """One recorded exchange, e.g. ``real-api/packages-list-first-page``."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def load_body(name: str) -> Any:
    """The decoded JSON body of one recorded exchange."""
    return json.loads(load_exchange(name)["response"]["body"])


def all_exchanges() -> list[Path]:
    """Every recorded exchange under tests/fixtures."""
    return sorted(FIXTURES.glob("*/*.json"))


class Harness:
    """One client (sync or async) over a transport, driven uniformly from async tests."""

    def __init__(
        self,
        mode: Mode,
        *,
        fake: FakeAPI | None = None,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
        base_url: str | None = None,
        **options: Any,
    ) -> None:
        self.mode: Mode = mode
        self.fake = fake if fake is not None else FakeAPI.with_sample_data()
        self.options = options
        self.base_url = base_url or "https://djangopackages.org/api/v4/"
        # Fast retries unless a test asks otherwise.
        options.setdefault("retry_backoff", 0.001)
        chosen = transport if transport is not None else self.fake.transport
        if mode == "sync":
            self.http: httpx.Client | httpx.AsyncClient = httpx.Client(transport=chosen)  # type: ignore[arg-type]
            self.client: AnyClient = Client(self.base_url, http_client=self.http, **options)
        else:
            self.http = httpx.AsyncClient(transport=chosen)  # type: ignore[arg-type]
            self.client = AsyncClient(self.base_url, http_client=self.http, **options)

    @property
    def is_async(self) -> bool:
        return self.mode == "async"

    async def run(self, call: Callable[[Any], T | Awaitable[T]]) -> T:
        """Call ``call(client)``; await the result when the client is async."""
        result = call(self.client)
        if inspect.isawaitable(result):
            return await result
        return result

    async def collect(self, make: Callable[[Any], Iterable[T] | AsyncIterable[T]]) -> list[T]:
        """Drain ``make(client)``, a sync iterable or an async iterator."""
        iterable = make(self.client)
        if hasattr(iterable, "__aiter__"):
            return [item async for item in iterable]
        return list(iterable)

    def new(self, **options: Any) -> Harness:
        """Another harness of the same mode (same fake unless ``fake=`` is given)."""
        options.setdefault("fake", self.fake)
        return Harness(self.mode, **options)

    def over_respx(self, **options: Any) -> Harness:
        """Another harness of the same mode over a real transport, which respx intercepts."""
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport = (
            httpx.AsyncHTTPTransport() if self.is_async else httpx.HTTPTransport()
        )
        return self.new(transport=transport, **options)

    async def close(self) -> None:
        if isinstance(self.client, Client):
            self.client.close()
            assert isinstance(self.http, httpx.Client)
            self.http.close()
        else:
            await self.client.aclose()
            assert isinstance(self.http, httpx.AsyncClient)
            await self.http.aclose()


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> Mode:
    """Both client kinds, one after the other."""
    value: Mode = request.param
    return value


@pytest.fixture
async def dp(mode: Mode) -> AsyncIterator[Harness]:
    """A client of each kind over the bundled sample data."""
    harness = Harness(mode)
    yield harness
    await harness.close()
