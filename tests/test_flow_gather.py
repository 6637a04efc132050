"""``gather`` driven by a scripted driver: flows side by side, one ``Fetch`` per round.

The driver answers every URL of a ``Fetch`` with scripted decoded JSON (or an SDK
error) and records the fetches, so each round's merge can be checked exactly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from djangopackages_sdk import AsyncClient, Client
from djangopackages_sdk._config import NO_OPTIONS, CallOptions
from djangopackages_sdk._exceptions import DjangoPackagesError, NotFoundError
from djangopackages_sdk._protocol import Fetch, FetchResult, Flow, fetch_one, gather

API = "https://djangopackages.org/api/v4/"


# -- the scripted driver -------------------------------------------------------------
class Driver:
    """Answers each URL with ``answer(url)`` (JSON or an SDK error) and records fetches."""

    def __init__(self, answer: Callable[[str], FetchResult] | None = None) -> None:
        self.answer = answer or (lambda url: {"url": url})
        self.fetches: list[Fetch] = []

    def run(self, flow: Flow[Any]) -> Any:
        reply: list[FetchResult] | None = None
        while True:
            try:
                action = flow.send(reply)  # type: ignore[arg-type]
            except StopIteration as stop:
                return stop.value
            assert isinstance(action, Fetch)
            self.fetches.append(action)
            reply = [action.finish(i, self.answer(url)) for i, url in enumerate(action.urls)]


def rounds(name: str, count: int, options: CallOptions = NO_OPTIONS) -> Flow[list[str]]:
    """A flow of ``count`` rounds fetching ``<name>/<round>``; returns what it received."""
    got = []
    for number in range(count):
        (data,) = yield Fetch((f"{API}{name}/{number}",), options)
        got.append(data["url"].removeprefix(API))
    return got


# -- tests ---------------------------------------------------------------------------
def test_flows_share_one_fetch_per_round_and_results_keep_flow_order() -> None:
    driver = Driver()
    results = driver.run(gather([fetch_one(f"{API}a/"), fetch_one(f"{API}b/")]))
    assert [fetch.urls for fetch in driver.fetches] == [(f"{API}a/", f"{API}b/")]
    assert results == [{"url": f"{API}a/"}, {"url": f"{API}b/"}]


def test_flow_that_ends_early_drops_out_of_later_rounds() -> None:
    driver = Driver()
    results = driver.run(gather([rounds("long", 3), rounds("short", 1), rounds("none", 0)]))
    assert [fetch.urls for fetch in driver.fetches] == [
        (f"{API}long/0", f"{API}short/0"),
        (f"{API}long/1",),
        (f"{API}long/2",),
    ]
    assert results == [["long/0", "long/1", "long/2"], ["short/0"], []]


def test_each_flow_receives_its_own_share_of_a_multi_url_fetch() -> None:
    def pair(name: str) -> Flow[list[Any]]:
        first, second = yield Fetch((f"{API}{name}/1", f"{API}{name}/2"))
        return [first["url"], second["url"]]

    driver = Driver()
    results = driver.run(gather([pair("x"), fetch_one(f"{API}y/"), pair("z")]))
    (fetch,) = driver.fetches
    assert len(fetch.urls) == 5
    assert results == [
        [f"{API}x/1", f"{API}x/2"],
        {"url": f"{API}y/"},
        [f"{API}z/1", f"{API}z/2"],
    ]


def test_errors_reach_only_the_flow_that_asked() -> None:
    def answer(url: str) -> FetchResult:
        return NotFoundError(url, "not found") if url.endswith("gone/") else {"url": url}

    def tolerant(url: str) -> Flow[str]:
        (result,) = yield Fetch((url,))
        return "missing" if isinstance(result, DjangoPackagesError) else "found"

    results = Driver(answer).run(gather([tolerant(f"{API}gone/"), tolerant(f"{API}here/")]))
    assert results == ["missing", "found"]


def test_parsers_stay_with_their_urls_in_the_merged_fetch() -> None:
    def upper(url: str, data: Any) -> str:
        return str(data["url"]).upper()

    def parsed(url: str) -> Flow[Any]:
        (result,) = yield Fetch.parsed((url,), NO_OPTIONS, upper)
        return result

    driver = Driver()
    results = driver.run(gather([fetch_one(f"{API}plain/"), parsed(f"{API}parsed/")]))
    (fetch,) = driver.fetches
    assert (fetch.parser(0), fetch.parser(1)) == (None, upper)
    assert results == [{"url": f"{API}plain/"}, f"{API}parsed/".upper()]


def test_no_flows_fetch_nothing() -> None:
    driver = Driver()
    assert driver.run(gather([])) == []
    assert driver.fetches == []


def test_merged_fetch_keeps_each_flows_options_per_url() -> None:
    """Each URL of a merged fetch must be sent with the options of the flow that asked."""
    driver = Driver()
    driver.run(
        gather(
            [
                rounds("strict", 1, CallOptions(max_retries=1)),
                rounds("patient", 1, CallOptions(max_retries=5)),
            ]
        )
    )
    (fetch,) = driver.fetches
    assert fetch.urls == (f"{API}strict/0", f"{API}patient/0")
    assert [fetch.options_of(i) for i in range(len(fetch.urls))] == [
        CallOptions(max_retries=1),
        CallOptions(max_retries=5),
    ]


def test_fetches_of_one_flow_share_one_options_value() -> None:
    driver = Driver()
    options = CallOptions(max_retries=2)
    driver.run(gather([rounds("a", 1, options), rounds("b", 1, options)]))
    (fetch,) = driver.fetches
    assert fetch.per_url_options == ()
    assert fetch.options == options


def test_per_url_options_must_match_the_urls() -> None:
    with pytest.raises(ValueError, match="per_url_options"):
        Fetch(("a", "b"), per_url_options=(CallOptions(),))


@pytest.mark.parametrize("is_async", [False, True])
def test_both_drivers_send_each_url_with_its_own_retries(is_async: bool) -> None:
    """Against a server that always answers 503, each URL is tried 1 + its own retries."""
    attempts: dict[str, int] = {}

    def always_busy(request: httpx.Request) -> httpx.Response:
        attempts[request.url.path] = attempts.get(request.url.path, 0) + 1
        return httpx.Response(503)

    flows = [
        fetch_one(f"{API}packages/1/", CallOptions(max_retries=0)),
        fetch_one(f"{API}packages/2/", CallOptions(max_retries=2)),
    ]
    transport = httpx.MockTransport(always_busy)
    if is_async:

        async def run() -> None:
            async with (
                httpx.AsyncClient(transport=transport) as http,
                AsyncClient(http_client=http, retry_backoff=0.0001) as dp,
            ):
                with pytest.raises(DjangoPackagesError):
                    await dp._run(gather(flows))

        asyncio.run(run())
    else:
        with (
            httpx.Client(transport=transport) as http,
            Client(http_client=http, retry_backoff=0.0001) as dp,
            pytest.raises(DjangoPackagesError),
        ):
            dp._run(gather(flows))
    assert attempts == {"/api/v4/packages/1/": 1, "/api/v4/packages/2/": 3}
