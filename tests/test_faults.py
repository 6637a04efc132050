"""Transport and HTTP faults against a real HTTP server on 127.0.0.1, for both clients.

Every test starts a :class:`LiveServer` whose ``fault`` callable misbehaves on
purpose, points a real ``Client`` or ``AsyncClient`` (``mode``) at it and asserts
both the outcome and the number of requests the server received.
"""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import pytest

from conftest import Mode
from djangopackages_sdk import (
    Client,
    DeadlineExceededError,
    ForeignURLError,
    HTTPStatusError,
    NotJSONError,
    RateLimitedError,
    RetryEvent,
    TransportError,
    default_user_agent,
)
from djangopackages_sdk.testing import Fault, Hit
from helpers import many_packages as _many_packages
from live import FaultFn, client_for, serving

T = TypeVar("T")

MAINTENANCE = (
    "<!DOCTYPE html><html><head><title>Down for maintenance</title></head>"
    "<body><h1>Django Packages is down for maintenance</h1></body></html>"
)


# -- helpers -------------------------------------------------------------------------
def first(n: int, fault: Fault) -> FaultFn:
    """Misbehave on the first ``n`` requests, then answer normally."""
    return lambda hit: fault if hit.number <= n else None


def always(fault: Fault) -> FaultFn:
    return lambda hit: fault


def get_otp(c: Any) -> Any:
    return c.packages.get(1867)


def record(events: list[RetryEvent]) -> Callable[[RetryEvent], None]:
    return events.append


# -- 429 and Retry-After ------------------------------------------------------------
async def test_429_without_retry_after_is_retried_with_backoff(mode: Mode) -> None:
    events: list[RetryEvent] = []
    with serving(fault=first(2, Fault.status(429, "<html>Too Many Requests</html>"))) as server:
        async with client_for(mode, server, on_retry=record(events)) as live:
            otp = await live.run(get_otp)
    assert otp.slug == "django-otp"
    assert len(server.hits) == 3
    assert [(e.attempt, e.status) for e in events] == [(1, 429), (2, 429)]
    assert all(0 <= e.delay <= 0.002 for e in events)  # full jitter below the tiny base


async def test_429_retry_after_seconds_is_honoured(mode: Mode) -> None:
    events: list[RetryEvent] = []
    with serving(fault=first(1, Fault.status(429, retry_after=1))) as server:
        async with client_for(mode, server, on_retry=record(events)) as live:
            otp = await live.run(get_otp)
    assert otp.id == 1867
    assert len(server.hits) == 2
    assert [(e.status, e.delay) for e in events] == [(429, 1.0)]
    # The server saw the retry no earlier than the wait it asked for.
    assert server.hits[1].time - server.hits[0].time >= 0.9


async def test_429_retry_after_http_date_is_honoured(mode: Mode) -> None:
    events: list[RetryEvent] = []

    def fault(hit: Hit) -> Fault | None:
        if hit.number > 1:
            return None
        # A whole second (HTTP dates have no fraction) 0.5 to 1.5 s from now.
        now = time.time()
        when = math.floor(now) + (2 if now % 1 > 0.5 else 1)
        return Fault.status(429, retry_after=email.utils.formatdate(when, usegmt=True))

    with serving(fault=fault) as server:
        async with client_for(mode, server, on_retry=record(events)) as live:
            otp = await live.run(get_otp)
    assert otp.id == 1867
    assert len(server.hits) == 2
    (event,) = events
    assert event.status == 429
    assert 0.25 < event.delay <= 1.5  # the date's wait, not the 1 ms backoff


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_above_the_cap_raises_at_once(mode: Mode, status: int) -> None:
    events: list[RetryEvent] = []
    fault = Fault.status(status, "<p>come back later</p>", retry_after=120)
    with serving(fault=always(fault)) as server:
        async with client_for(mode, server, retry_after_cap=30, on_retry=record(events)) as live:
            started = time.monotonic()
            with pytest.raises(RateLimitedError) as caught:
                await live.run(get_otp)
            elapsed = time.monotonic() - started
    assert caught.value.retry_after == 120
    assert caught.value.status == status
    assert "come back later" in caught.value.body_snippet
    assert len(server.hits) == 1
    assert events == []  # never slept
    assert elapsed < 10  # nowhere near the 120 s asked for


# -- 5xx ------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [408, 500, 502, 503, 504, 520, 522, 524, 530])
async def test_transient_status_then_success(mode: Mode, status: int) -> None:
    events: list[RetryEvent] = []
    with serving(fault=first(1, Fault.status(status, "<html>oops</html>"))) as server:
        async with client_for(mode, server, on_retry=record(events)) as live:
            otp = await live.run(get_otp)
    assert otp.id == 1867
    assert len(server.hits) == 2
    assert [e.status for e in events] == [status]


@pytest.mark.parametrize("status", [400, 403, 418, 501])
async def test_other_statuses_are_not_retried(mode: Mode, status: int) -> None:
    with serving(fault=always(Fault.status(status, {"detail": "no"}))) as server:
        async with client_for(mode, server) as live:
            with pytest.raises(HTTPStatusError) as caught:
                await live.run(get_otp)
    assert caught.value.status == status
    assert len(server.hits) == 1


async def test_max_retries_exhausted_raises_with_status_and_body(mode: Mode) -> None:
    fault = Fault.status(502, "<html><h1>502 Bad Gateway</h1>cloudflare</html>")
    with serving(fault=always(fault)) as server:
        async with client_for(mode, server, max_retries=2) as live:
            with pytest.raises(HTTPStatusError) as caught:
                await live.run(get_otp)
    error = caught.value
    assert error.status == 502
    assert "502 Bad Gateway" in error.body_snippet
    assert error.url == server.base_url + "packages/1867/"
    assert "502" in str(error)
    assert len(server.hits) == 3  # one try and two retries


async def test_per_call_max_retries_zero_disables_retries(mode: Mode) -> None:
    with serving(fault=always(Fault.status(503, MAINTENANCE))) as server:
        async with client_for(mode, server) as live:
            with pytest.raises(HTTPStatusError) as caught:
                await live.run(lambda c: c.packages.get(1867, max_retries=0))
            assert len(server.hits) == 1
            with pytest.raises(HTTPStatusError):
                await live.run(lambda c: c.packages.get(1867, max_retries=1))
            assert len(server.hits) == 3
    assert caught.value.status == 503


async def test_503_maintenance_page_is_retried_then_reported(mode: Mode) -> None:
    with serving(fault=always(Fault.status(503, MAINTENANCE))) as server:
        async with client_for(mode, server) as live:  # default max_retries=3
            with pytest.raises(HTTPStatusError) as caught:
                await live.run(get_otp)
    assert caught.value.status == 503
    assert not isinstance(caught.value, RateLimitedError)
    assert "down for maintenance" in caught.value.body_snippet
    assert len(server.hits) == 4


async def test_503_maintenance_page_then_recovery(mode: Mode) -> None:
    with serving(fault=first(2, Fault.status(503, MAINTENANCE))) as server:
        async with client_for(mode, server) as live:
            otp = await live.run(get_otp)
    assert otp.id == 1867
    assert len(server.hits) == 3


# -- bodies that are not JSON -----------------------------------------------------------
async def test_200_with_html_body_is_not_json_error(mode: Mode) -> None:
    page = "<html><head><title>Just a moment...</title></head><body>checking</body></html>"
    with serving(fault=always(Fault.body(page, content_type="text/html; charset=UTF-8"))) as server:
        async with client_for(mode, server) as live:
            with pytest.raises(NotJSONError) as caught:
                await live.run(get_otp)
    error = caught.value
    assert error.url == server.base_url + "packages/1867/"
    assert error.content_type == "text/html; charset=UTF-8"
    assert error.head.startswith("<html><head><title>Just a moment")
    assert "text/html" in str(error)
    assert "Just a moment" in str(error)
    assert error.status == 200
    assert len(server.hits) == 1  # a 200 is an answer: not retried


async def test_200_html_labelled_as_json_is_not_json_error(mode: Mode) -> None:
    with serving(fault=always(Fault.body(MAINTENANCE))) as server:  # application/json, HTML body
        async with client_for(mode, server) as live:
            with pytest.raises(NotJSONError) as caught:
                await live.run(get_otp)
    assert caught.value.content_type == "application/json"
    assert caught.value.head.startswith("<!DOCTYPE html>")
    assert len(server.hits) == 1


async def test_truncated_json_is_not_json_error(mode: Mode) -> None:
    with serving(fault=always(Fault.truncated(50))) as server:
        async with client_for(mode, server) as live:
            with pytest.raises(NotJSONError) as caught:
                await live.run(get_otp)
    error = caught.value
    assert error.content_type == "application/json"
    assert error.head.startswith('{"category":"http://127.0.0.1')
    assert len(error.head) <= 80
    assert "invalid JSON" in str(error)
    assert error.__cause__ is None or not isinstance(error.__cause__, ValueError)
    assert len(server.hits) == 1


# -- connection resets and timeouts ------------------------------------------------------
async def test_connection_reset_is_retried(mode: Mode) -> None:
    events: list[RetryEvent] = []
    with serving(fault=first(2, Fault.reset())) as server:
        async with client_for(mode, server, on_retry=record(events)) as live:
            otp = await live.run(get_otp)
    assert otp.id == 1867
    assert len(server.hits) == 3
    assert [e.status for e in events] == [None, None]
    assert server.connections >= 3  # a reset connection is never reused


async def test_connection_reset_persisting_is_transport_error(mode: Mode) -> None:
    with serving(fault=always(Fault.reset())) as server:
        async with client_for(mode, server, max_retries=2) as live:
            with pytest.raises(TransportError) as caught:
                await live.run(get_otp)
    assert not isinstance(caught.value, DeadlineExceededError)
    assert isinstance(caught.value.__cause__, httpx.TransportError)
    assert caught.value.status is None
    assert len(server.hits) == 3


async def test_slow_response_past_timeout_is_retried_then_succeeds(mode: Mode) -> None:
    with serving(fault=first(1, Fault.delay(5))) as server:
        async with client_for(mode, server, timeout=0.2) as live:
            otp = await live.run(get_otp)
    assert otp.id == 1867
    assert len(server.hits) == 2


async def test_slow_response_past_timeout_persisting_is_transport_error(mode: Mode) -> None:
    with serving(fault=always(Fault.delay(5))) as server:
        async with client_for(mode, server, timeout=0.2, max_retries=2) as live:
            with pytest.raises(TransportError) as caught:
                await live.run(get_otp)
    assert isinstance(caught.value.__cause__, httpx.TimeoutException)
    assert len(server.hits) == 3


async def test_deadline_bounds_the_whole_call(mode: Mode) -> None:
    # Every answer is a slow 503: retries alone would go on for ten attempts.
    fault = Fault.delay(0.3, Fault.status(503, MAINTENANCE))
    with serving(fault=always(fault)) as server:
        async with client_for(mode, server, max_retries=10, timeout=30) as live:
            started = time.monotonic()
            with pytest.raises(DeadlineExceededError) as caught:
                await live.run(lambda c: c.packages.get(1867, deadline=0.5))
            elapsed = time.monotonic() - started
    assert isinstance(caught.value, TransportError)
    assert caught.value.url == server.base_url + "packages/1867/"
    assert 1 <= len(server.hits) <= 2
    assert elapsed < 5  # bounded by the deadline, not by 10 slow retries or the 30 s timeout


async def test_deadline_shorter_than_a_retry_after_wait(mode: Mode) -> None:
    with serving(fault=always(Fault.status(429, retry_after=5))) as server:
        async with client_for(mode, server) as live:
            with pytest.raises(DeadlineExceededError):
                await live.run(lambda c: c.packages.get(1867, deadline=1))
    assert len(server.hits) == 1  # it did not sleep 5 s to try again


# -- visibility, identity and politeness --------------------------------------------------
async def test_on_retry_event_and_info_log(mode: Mode, caplog: pytest.LogCaptureFixture) -> None:
    events: list[RetryEvent] = []
    caplog.set_level(logging.INFO, logger="djangopackages_sdk")
    with serving(fault=first(1, Fault.status(502, "<html>bad gateway</html>"))) as server:
        async with client_for(mode, server, on_retry=record(events)) as live:
            await live.run(get_otp)
    url = server.base_url + "packages/1867/"
    (event,) = events
    assert isinstance(event, RetryEvent)
    assert (event.url, event.attempt, event.status) == (url, 1, 502)
    assert "502" in event.error
    assert 0 <= event.delay <= 0.001
    retries = [
        r
        for r in caplog.records
        if r.name == "djangopackages_sdk" and r.levelno == logging.INFO and "retry" in r.message
    ]
    assert len(retries) == 1
    assert url in retries[0].message
    assert "502" in retries[0].message
    assert len(server.hits) == 2


async def test_default_user_agent_reaches_the_server(mode: Mode) -> None:
    with serving() as server:
        async with client_for(mode, server) as live:
            await live.run(get_otp)
        async with client_for(mode, server, user_agent="mybot (+mailto:me@example.org)") as live:
            await live.run(lambda c: c.packages.get(1672))
    agents = [request.headers["user-agent"] for request in server.fake.requests]
    assert agents == [
        default_user_agent(),
        default_user_agent("mybot (+mailto:me@example.org)"),
    ]
    assert agents[0].startswith("djangopackages-sdk/")
    assert f"python-httpx/{httpx.__version__}" in agents[0]
    assert len(server.hits) == 2


async def test_max_in_flight_is_never_exceeded(mode: Mode) -> None:
    fake = _many_packages(60)
    wanted = list(fake.packages)[:24]
    with serving(fake=fake, latency=0.02) as server:
        async with client_for(mode, server, max_in_flight=2) as live:
            # One crawl of planned concurrent slices ...
            crawl = await live.run(lambda c: c.packages.list(page_size=3))
            ids = [p.id async for p in _aiter(crawl)]
            crawled = len(server.hits)
            live.client.clear_cache()
            # ... then many callers sharing the client at once.
            client = live.client
            if isinstance(client, Client):
                with ThreadPoolExecutor(8) as pool:
                    got = list(pool.map(client.packages.get, wanted))
            else:
                got = await asyncio.gather(*(client.packages.get(i) for i in wanted))
    assert len(ids) == len(set(ids)) == 60
    assert [p.id for p in got] == wanted
    assert crawled >= 20  # 60 rows three at a time
    assert len(server.hits) == crawled + 24
    assert 1 <= server.max_concurrency <= 2


async def _aiter(iterable: Any) -> AsyncIterator[Any]:
    if hasattr(iterable, "__aiter__"):
        async for item in iterable:
            yield item
    else:
        for item in iterable:
            yield item


async def test_requests_per_second_paces_requests(mode: Mode) -> None:
    fake = _many_packages(12)
    with serving(fake=fake) as server:
        async with client_for(mode, server, requests_per_second=40, max_in_flight=4) as live:
            limiter = live.client._settings.limiter
            assert limiter is not None
            slots: list[float] = []
            reserve = limiter.reserve

            def booked(now: float) -> float:
                wait = reserve(now)
                slots.append(now + wait)
                return wait

            limiter.reserve = booked  # type: ignore[method-assign]
            ids = [
                p.id async for p in _aiter(await live.run(lambda c: c.packages.list(page_size=2)))
            ]
    assert len(set(ids)) == 12
    assert len(slots) == len(server.hits) >= 6
    interval = 1 / 40
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert all(gap >= interval - 1e-9 for gap in gaps)
    # No request reached the server before its booked slot.
    arrivals = sorted(hit.time for hit in server.hits)
    assert all(
        arrival >= slot - 1e-3 for arrival, slot in zip(arrivals, sorted(slots), strict=True)
    )


# -- foreign hyperlinks -------------------------------------------------------------------
async def test_foreign_hyperlink_is_never_followed(mode: Mode) -> None:
    with serving() as elsewhere:
        foreign_category = elsewhere.base_url + "categories/1/"
        foreign_grid = "http://evil.invalid/api/v4/grids/7/"

        def poisoned(hit: Hit) -> Fault | None:
            if hit.route.endswith("/packages/1867/"):
                row = dict(server.fake.packages[1867])
                row["category"] = foreign_category
                row["grids"] = [server.base_url + "grids/28/", foreign_grid]
                return Fault.body(row)
            return None

        with serving(fault=poisoned) as server:
            async with client_for(mode, server) as live:
                otp = await live.run(get_otp)
                assert otp.category.url == foreign_category
                with pytest.raises(ForeignURLError) as caught:
                    await live.run(lambda c: c.resolve(otp.category))
                assert caught.value.url == foreign_category
                with pytest.raises(ForeignURLError):
                    await live.run(lambda c: c.resolve_many(otp.grids))
                with pytest.raises(ForeignURLError):
                    await live.run(lambda c: c.resolve(otp.grids[1]))
    assert [hit.path for hit in server.hits] == ["/api/v4/packages/1867/"]
    assert elsewhere.hits == []
