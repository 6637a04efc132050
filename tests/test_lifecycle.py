"""Prompt stops and a clear lifecycle: Ctrl-C, closed clients, threads, event loops."""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
import signal
import threading
import time
import warnings
from typing import Any

import httpx
import pytest

from djangopackages_sdk import AsyncClient, Catalog, Client, Package
from djangopackages_sdk.testing import FakeAPI, LiveServer
from helpers import many_packages

# A generous bound that only a hang would pass (the measured figure is in the docs).
PROMPT = 2.0


def _sdk_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("djangopackages-sdk")]


def _interrupt_main_after(seconds: float) -> list[float]:
    """Send SIGINT to the main thread after ``seconds``; the list gets the instant."""
    when: list[float] = []
    main = threading.main_thread().ident
    assert main is not None

    def fire() -> None:
        when.append(time.monotonic())
        signal.pthread_kill(main, signal.SIGINT)

    threading.Timer(seconds, fire).start()
    return when


@pytest.mark.parametrize("call", ["catalog", "list"])
def test_ctrl_c_stops_a_sync_call_at_once(call: str) -> None:
    assert threading.current_thread() is threading.main_thread()
    fake = many_packages(1000)
    with LiveServer(fake, latency=3.0) as live, Client(live.base_url, max_in_flight=2) as client:
        if call == "list":
            # Learn the count first: the slices then go out in rounds of two.
            list(client.packages.list(limit=1))
        sent_before = len(live.hits)
        when = _interrupt_main_after(0.5)
        run = client.catalog if call == "catalog" else lambda: list(client.packages.list())
        with pytest.raises(KeyboardInterrupt):
            run()
        stopped = time.monotonic()
        assert stopped - when[0] < PROMPT
        assert not _sdk_threads()  # no thread left behind
        arrivals = [hit.time for hit in live.hits[sent_before:]]
        time.sleep(0.5)
        assert len(live.hits) == sent_before + len(arrivals)  # nothing sent afterwards
        assert all(at <= when[0] for at in arrivals)  # nothing queued was sent


def test_an_interrupted_request_is_not_inherited_by_threads_sharing_it() -> None:
    with LiveServer(FakeAPI.with_sample_data(), latency=1.0) as live, Client(live.base_url) as c:
        found: list[Any] = []
        _interrupt_main_after(0.3)

        def share() -> None:
            time.sleep(0.1)  # join the request the main thread already sent
            try:
                found.append(c.packages.get(359))
            except BaseException as exc:
                found.append(exc)

        other = threading.Thread(target=share)
        other.start()
        with pytest.raises(KeyboardInterrupt):
            c.packages.get(359)
        other.join()
        assert len(found) == 1
        assert isinstance(found[0], Package)


CALLS = [
    lambda c: c.packages.get(1867),
    lambda c: c.packages.list(),
    lambda c: c.catalog(),
    lambda c: c.search("otp"),
    lambda c: c.grids.get("security"),
]


@pytest.mark.parametrize("call", CALLS)
def test_a_closed_sync_client_says_so_and_starts_nothing(call: Any) -> None:
    fake = FakeAPI.with_sample_data()
    client = Client(http_client=httpx.Client(transport=fake.transport))
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        call(client)
    assert not fake.requests
    assert not _sdk_threads()


@pytest.mark.parametrize("call", CALLS)
async def test_a_closed_async_client_says_so(call: Any) -> None:
    fake = FakeAPI.with_sample_data()
    client = AsyncClient(http_client=httpx.AsyncClient(transport=fake.transport))
    await client.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await _awaited(call(client))
    assert not fake.requests


async def _awaited(result: Any) -> Any:
    return await result if inspect.isawaitable(result) else result


def test_closing_while_another_thread_crawls_is_clean() -> None:
    fake = many_packages(1500)
    with LiveServer(fake, latency=0.2) as live:
        client = Client(live.base_url)
        outcome: list[Any] = []

        def crawl() -> None:
            try:
                outcome.append(client.catalog())
            except BaseException as exc:
                outcome.append(exc)

        worker = threading.Thread(target=crawl)
        worker.start()
        time.sleep(0.3)
        client.close()
        worker.join()
    assert len(outcome) == 1
    result = outcome[0]
    assert isinstance(result, Catalog) or (
        type(result) is RuntimeError and "closed" in str(result)
    ), repr(result)
    assert not _sdk_threads()


def test_unreferenced_clients_keep_no_thread() -> None:
    fake = FakeAPI.with_sample_data()
    for _ in range(30):
        client = Client(http_client=httpx.Client(transport=fake.transport))
        client.catalog()
        del client
    assert not _sdk_threads()


def test_dropped_clients_release_threads_and_sockets_without_a_collection() -> None:
    with LiveServer(FakeAPI.with_sample_data()) as live:
        Client(live.base_url).catalog()  # warm up: the server's own sockets settle
        before = len(os.listdir("/proc/self/fd"))
        gc.disable()
        try:
            for _ in range(30):
                client = Client(live.base_url)
                client.catalog()
                del client
            # The server's own ends of the sockets close on its threads' schedule: wait
            # for them (bounded). Sockets a dropped client kept open never settle.
            deadline = time.monotonic() + 5.0
            while (after := len(os.listdir("/proc/self/fd"))) > before + 2:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        finally:
            gc.enable()
    assert not _sdk_threads()
    assert after <= before + 2


def test_an_async_client_reused_under_a_second_event_loop_says_why() -> None:
    with LiveServer(FakeAPI.with_sample_data()) as live:
        client = AsyncClient(live.base_url)

        async def first() -> Package:
            try:
                return await client.packages.get(1867)
            finally:
                await client.aclose()

        asyncio.run(first())
        reused = AsyncClient(live.base_url)
        asyncio.run(reused.packages.get(1867))
        hits = len(live.hits)
        with pytest.raises(RuntimeError, match="event loop"):
            asyncio.run(reused.packages.get(359))
        assert len(live.hits) == hits  # nothing was sent
        with warnings.catch_warnings():  # its connections died with the second loop
            warnings.simplefilter("ignore", ResourceWarning)
            del reused
            gc.collect()
