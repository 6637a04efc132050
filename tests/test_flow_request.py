"""``request_flow`` driven by a scripted driver: no sockets, no transport, no sleeping.

The driver answers each ``Send`` with a prepared outcome (an in-memory
``httpx.Response`` or an ``httpx`` exception), records each ``Sleep`` instead of
sleeping and advances a fake ``time.monotonic`` by it. Jitter (``random.uniform``)
and the clock are patched where the engine looks them up.
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from djangopackages_sdk._config import (
    DEFAULT_TIMEOUT,
    CallOptions,
    RateLimiter,
    RetryEvent,
    RetryPolicy,
    Settings,
)
from djangopackages_sdk._exceptions import (
    DeadlineExceededError,
    RateLimitedError,
    TransportError,
)
from djangopackages_sdk._protocol import RequestFlow, Send, Sleep
from djangopackages_sdk._request import request_flow

URL = "https://djangopackages.org/api/v4/packages/1/"
START = 1_000.0
"""What the fake ``time.monotonic`` reads when a test begins."""

Outcome = httpx.Response | Exception
Script = Callable[[httpx.Request], Outcome]


# -- the scripted driver -------------------------------------------------------------
class FakeClock:
    """A ``time.monotonic`` stand-in that moves only when told to."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Driver:
    """Runs a request flow against a script of outcomes, one per ``Send``.

    ``log`` records every action in order (``("send", request)`` or
    ``("sleep", seconds)``); a ``Sleep`` moves ``clock`` forward instead of waiting.
    """

    def __init__(self, clock: FakeClock, *script: Script) -> None:
        self.clock = clock
        self.script = list(script)
        self.log: list[tuple[str, Any]] = []
        self.outcomes: list[Outcome] = []

    @property
    def requests(self) -> list[httpx.Request]:
        return [item for kind, item in self.log if kind == "send"]

    @property
    def sleeps(self) -> list[float]:
        return [item for kind, item in self.log if kind == "sleep"]

    def run(self, flow: RequestFlow) -> httpx.Response:
        reply: Outcome | None = None
        while True:
            try:
                action = flow.send(reply)
            except StopIteration as stop:
                response: httpx.Response = stop.value
                return response
            if isinstance(action, Sleep):
                self.log.append(("sleep", action.seconds))
                self.clock.now += action.seconds
                reply = None
            else:
                assert isinstance(action, Send)
                self.log.append(("send", action.request))
                assert self.script, "the flow sent more requests than scripted"
                reply = self.script.pop(0)(action.request)
                self.outcomes.append(reply)


def status(code: int, **headers: str) -> Script:
    """A response with this status (headers given as ``retry_after="3"``)."""

    def answer(request: httpx.Request) -> Outcome:
        named = {key.replace("_", "-"): value for key, value in headers.items()}
        return httpx.Response(code, headers=named, content=b"{}", request=request)

    return answer


def raises(
    kind: type[httpx.TransportError], *, advance: float = 0.0, clock: FakeClock | None = None
) -> Script:
    """An ``httpx`` transport exception, optionally after ``advance`` seconds of waiting."""

    def answer(request: httpx.Request) -> Outcome:
        if clock is not None:
            clock.now += advance
        return kind("scripted failure", request=request)

    return answer


def settings(
    *,
    max_retries: int = 3,
    backoff_base: float = 0.5,
    backoff_cap: float = 8.0,
    retry_after_cap: float = 60.0,
    limiter: RateLimiter | None = None,
    on_retry: Callable[[RetryEvent], None] | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
) -> Settings:
    return Settings(
        retry=RetryPolicy(max_retries, backoff_base, backoff_cap, retry_after_cap),
        max_in_flight=1,
        limiter=limiter,
        on_retry=on_retry,
        headers={"Accept": "application/json"},
        timeout=timeout,
    )


def _no_io(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"request_flow must not do I/O, but {request.url} was sent")


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """Only builds requests; its transport fails the test if anything is sent through it."""
    with httpx.Client(transport=httpx.MockTransport(_no_io)) as client:
        yield client


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr("djangopackages_sdk._request.time.monotonic", fake)
    return fake


@pytest.fixture
def jitter(monkeypatch: pytest.MonkeyPatch) -> list[tuple[float, float]]:
    """Full jitter pinned to its upper bound; records each ``uniform(a, b)`` call."""
    calls: list[tuple[float, float]] = []

    def uniform(a: float, b: float) -> float:
        calls.append((a, b))
        return b

    monkeypatch.setattr("djangopackages_sdk._config.random.uniform", uniform)
    return calls


# -- success and retryable statuses --------------------------------------------------
def test_200_returns_at_once_without_sleep(http: httpx.Client, clock: FakeClock) -> None:
    driver = Driver(clock, status(200))
    response = driver.run(request_flow(http, settings(), URL, CallOptions()))
    assert response is driver.outcomes[0]
    assert [kind for kind, _ in driver.log] == ["send"]
    (request,) = driver.requests
    assert (request.method, str(request.url)) == ("GET", URL)
    assert request.headers["accept"] == "application/json"


@pytest.mark.parametrize("code", [408, 429, 500, 502, 503, 504, 520, 530])
def test_retryable_status_is_retried_then_success_returned(
    http: httpx.Client, clock: FakeClock, jitter: list[tuple[float, float]], code: int
) -> None:
    driver = Driver(clock, status(code), status(code), status(200))
    response = driver.run(request_flow(http, settings(), URL, CallOptions()))
    assert response.status_code == 200
    assert [kind for kind, _ in driver.log] == ["send", "sleep", "send", "sleep", "send"]
    assert driver.sleeps == [0.5, 1.0]


@pytest.mark.parametrize("code", [400, 401, 403, 404, 410, 501])
def test_non_retryable_status_is_returned_without_retry(
    http: httpx.Client, clock: FakeClock, code: int
) -> None:
    driver = Driver(clock, status(code), status(200))
    response = driver.run(request_flow(http, settings(), URL, CallOptions()))
    assert response.status_code == code
    assert len(driver.requests) == 1
    assert driver.sleeps == []


@pytest.mark.parametrize(
    ("policy_retries", "call_retries", "attempts"),
    [(0, None, 1), (1, None, 2), (3, None, 4), (3, 0, 1), (0, 5, 6)],
)
def test_max_retries_bounds_attempts_then_last_response_returned(
    http: httpx.Client,
    clock: FakeClock,
    jitter: list[tuple[float, float]],
    policy_retries: int,
    call_retries: int | None,
    attempts: int,
) -> None:
    """max_retries + 1 attempts (the call's value overrides the policy's), then the last 503."""
    driver = Driver(clock, *[status(503)] * 10)
    flow = request_flow(
        http, settings(max_retries=policy_retries), URL, CallOptions(max_retries=call_retries)
    )
    response = driver.run(flow)
    assert len(driver.requests) == attempts
    assert len(driver.sleeps) == attempts - 1
    assert response is driver.outcomes[-1]
    assert response.status_code == 503


# -- backoff -------------------------------------------------------------------------
@pytest.mark.parametrize("extreme", ["min", "max"])
def test_backoff_sleeps_stay_within_full_jitter_bounds(
    http: httpx.Client, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, extreme: str
) -> None:
    """Each pause lies in [0, min(backoff_cap, backoff_base * 2**attempt)]."""
    calls: list[tuple[float, float]] = []

    def uniform(a: float, b: float) -> float:
        calls.append((a, b))
        return a if extreme == "min" else b

    monkeypatch.setattr("djangopackages_sdk._config.random.uniform", uniform)
    policy = settings(max_retries=6, backoff_base=0.5, backoff_cap=3.0)
    driver = Driver(clock, *[status(503)] * 6, status(200))
    driver.run(request_flow(http, policy, URL, CallOptions()))
    bounds = [min(3.0, 0.5 * 2**attempt) for attempt in range(6)]
    assert bounds == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    assert calls == [(0, bound) for bound in bounds]
    assert driver.sleeps == (bounds if extreme == "max" else [0.0] * 6)


# -- Retry-After ---------------------------------------------------------------------
@pytest.mark.parametrize("code", [429, 503])
def test_retry_after_seconds_is_the_delay(
    http: httpx.Client, clock: FakeClock, jitter: list[tuple[float, float]], code: int
) -> None:
    driver = Driver(clock, status(code, retry_after="7"), status(200))
    response = driver.run(request_flow(http, settings(), URL, CallOptions()))
    assert response.status_code == 200
    assert driver.sleeps == [7.0]
    assert jitter == []  # no backoff drawn when the server says how long


def test_retry_after_http_date_is_the_delay(
    http: httpx.Client, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = 1_800_000_000.0
    monkeypatch.setattr("djangopackages_sdk._request.time.time", lambda: now)
    when = email.utils.formatdate(now + 12, usegmt=True)
    past = email.utils.formatdate(now - 30, usegmt=True)
    driver = Driver(
        clock, status(429, retry_after=when), status(503, retry_after=past), status(200)
    )
    driver.run(request_flow(http, settings(), URL, CallOptions()))
    assert driver.sleeps == [12.0, 0.0]


def test_retry_after_above_cap_raises_rate_limited_at_once(
    http: httpx.Client, clock: FakeClock
) -> None:
    driver = Driver(clock, status(429, retry_after="61"), status(200))
    with pytest.raises(RateLimitedError) as caught:
        driver.run(request_flow(http, settings(retry_after_cap=60.0), URL, CallOptions()))
    assert (caught.value.status, caught.value.retry_after) == (429, 61.0)
    assert len(driver.requests) == 1
    assert driver.sleeps == []


def test_retry_after_at_cap_is_still_waited(http: httpx.Client, clock: FakeClock) -> None:
    driver = Driver(clock, status(503, retry_after="60"), status(200))
    driver.run(request_flow(http, settings(retry_after_cap=60.0), URL, CallOptions()))
    assert driver.sleeps == [60.0]


# -- transport errors ----------------------------------------------------------------
@pytest.mark.parametrize(
    "kind", [httpx.ConnectError, httpx.ReadTimeout, httpx.ConnectTimeout, httpx.RemoteProtocolError]
)
def test_retryable_transport_error_is_retried(
    http: httpx.Client,
    clock: FakeClock,
    jitter: list[tuple[float, float]],
    kind: type[httpx.TransportError],
) -> None:
    driver = Driver(clock, raises(kind), status(200))
    response = driver.run(request_flow(http, settings(), URL, CallOptions()))
    assert response.status_code == 200
    assert driver.sleeps == [0.5]


def test_transport_error_after_last_retry_raises_transport_error(
    http: httpx.Client, clock: FakeClock, jitter: list[tuple[float, float]]
) -> None:
    driver = Driver(clock, *[raises(httpx.ConnectError)] * 5)
    with pytest.raises(TransportError) as caught:
        driver.run(request_flow(http, settings(max_retries=2), URL, CallOptions()))
    assert len(driver.requests) == 3
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert "ConnectError" in caught.value.message


@pytest.mark.parametrize("kind", [httpx.UnsupportedProtocol, httpx.ProxyError])
def test_non_retryable_transport_error_raises_at_once(
    http: httpx.Client, clock: FakeClock, kind: type[httpx.TransportError]
) -> None:
    driver = Driver(clock, raises(kind), status(200))
    with pytest.raises(TransportError) as caught:
        driver.run(request_flow(http, settings(), URL, CallOptions()))
    assert not isinstance(caught.value, DeadlineExceededError)
    assert isinstance(caught.value.__cause__, kind)
    assert len(driver.requests) == 1
    assert driver.sleeps == []


# -- deadline ------------------------------------------------------------------------
def test_request_timeout_is_shortened_to_the_time_left(
    http: httpx.Client, clock: FakeClock, jitter: list[tuple[float, float]]
) -> None:
    driver = Driver(clock, status(503, retry_after="3"), status(200))
    options = CallOptions(deadline_at=START + 10.0)
    driver.run(request_flow(http, settings(timeout=httpx.Timeout(30.0, connect=5.0)), URL, options))
    first, second = (request.extensions["timeout"] for request in driver.requests)
    assert first == {"connect": 5.0, "read": 10.0, "write": 10.0, "pool": 10.0}
    assert second == {"connect": 5.0, "read": 7.0, "write": 7.0, "pool": 7.0}


def test_no_deadline_keeps_the_configured_timeout(http: httpx.Client, clock: FakeClock) -> None:
    driver = Driver(clock, status(200))
    driver.run(
        request_flow(http, settings(timeout=httpx.Timeout(30.0, connect=5.0)), URL, CallOptions())
    )
    (request,) = driver.requests
    assert request.extensions["timeout"] == {
        "connect": 5.0,
        "read": 30.0,
        "write": 30.0,
        "pool": 30.0,
    }


def test_deadline_exceeded_when_the_next_pause_would_pass_it(
    http: httpx.Client, clock: FakeClock
) -> None:
    driver = Driver(clock, status(503, retry_after="10"), status(200))
    options = CallOptions(deadline_at=START + 10.0)
    with pytest.raises(DeadlineExceededError):
        driver.run(request_flow(http, settings(), URL, options))
    assert len(driver.requests) == 1
    assert driver.sleeps == []


def test_pause_that_ends_before_the_deadline_is_taken(http: httpx.Client, clock: FakeClock) -> None:
    driver = Driver(clock, status(503, retry_after="9"), status(200))
    options = CallOptions(deadline_at=START + 10.0)
    assert driver.run(request_flow(http, settings(), URL, options)).status_code == 200
    assert driver.sleeps == [9.0]


def test_deadline_already_passed_sends_nothing(http: httpx.Client, clock: FakeClock) -> None:
    driver = Driver(clock, status(200))
    with pytest.raises(DeadlineExceededError):
        driver.run(request_flow(http, settings(), URL, CallOptions(deadline_at=START)))
    assert driver.log == []


def test_timeout_that_outlives_the_deadline_is_a_deadline_error(
    http: httpx.Client, clock: FakeClock
) -> None:
    """A ReadTimeout that ends past the deadline is not retried, even with retries left."""
    driver = Driver(clock, raises(httpx.ReadTimeout, advance=5.0, clock=clock), status(200))
    with pytest.raises(DeadlineExceededError) as caught:
        driver.run(request_flow(http, settings(), URL, CallOptions(deadline_at=START + 5.0)))
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    assert len(driver.requests) == 1


# -- on_retry and the rate limiter ---------------------------------------------------
def test_on_retry_receives_one_event_per_pause(
    http: httpx.Client, clock: FakeClock, jitter: list[tuple[float, float]]
) -> None:
    events: list[RetryEvent] = []
    driver = Driver(
        clock, status(503), raises(httpx.ConnectError), status(429, retry_after="4"), status(200)
    )
    driver.run(request_flow(http, settings(on_retry=events.append), URL, CallOptions()))
    assert [(e.url, e.attempt, e.delay, e.status) for e in events] == [
        (URL, 1, 0.5, 503),
        (URL, 2, 1.0, None),
        (URL, 3, 4.0, 429),
    ]
    assert events[0].error == "HTTP 503"
    assert events[1].error.startswith("ConnectError")
    assert [event.delay for event in events] == driver.sleeps


def test_no_retry_event_when_retries_are_exhausted(
    http: httpx.Client, clock: FakeClock, jitter: list[tuple[float, float]]
) -> None:
    events: list[RetryEvent] = []
    driver = Driver(clock, status(503), status(503))
    driver.run(
        request_flow(http, settings(max_retries=1, on_retry=events.append), URL, CallOptions())
    )
    assert [event.attempt for event in events] == [1]


def test_rate_limiter_sleeps_before_the_send(http: httpx.Client, clock: FakeClock) -> None:
    limiter = RateLimiter(per_second=2.0)
    assert limiter.reserve(START) == 0.0  # another request took the current slot
    driver = Driver(clock, status(200))
    driver.run(request_flow(http, settings(limiter=limiter), URL, CallOptions()))
    assert [kind for kind, _ in driver.log] == ["sleep", "send"]
    assert driver.sleeps == [0.5]


def test_rate_limiter_free_slot_sends_without_sleep(http: httpx.Client, clock: FakeClock) -> None:
    driver = Driver(clock, status(200))
    driver.run(request_flow(http, settings(limiter=RateLimiter(2.0)), URL, CallOptions()))
    assert [kind for kind, _ in driver.log] == ["send"]


def test_rate_limiter_wait_past_the_deadline_raises_before_sleeping(
    http: httpx.Client, clock: FakeClock
) -> None:
    limiter = RateLimiter(per_second=0.1)  # one request every 10 s
    limiter.reserve(START)
    driver = Driver(clock, status(200))
    with pytest.raises(DeadlineExceededError):
        driver.run(
            request_flow(http, settings(limiter=limiter), URL, CallOptions(deadline_at=START + 5))
        )
    assert driver.log == []
