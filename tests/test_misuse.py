"""Every misuse raises at construction or call time, naming the parameter."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from djangopackages_sdk import AsyncClient, Client, ForeignURLError, Link
from helpers import API_ROOT

BAD_OPTIONS: list[tuple[dict[str, Any], str]] = [
    ({"timeout": "10"}, "timeout"),
    ({"timeout": -1}, "timeout"),
    ({"max_in_flight": "4"}, "max_in_flight"),
    ({"max_in_flight": 0}, "max_in_flight"),
    ({"max_in_flight": 2.5}, "max_in_flight"),
    ({"requests_per_second": 0}, "requests_per_second"),
    ({"requests_per_second": -1}, "requests_per_second"),
    ({"requests_per_second": "5"}, "requests_per_second"),
    ({"max_retries": "3"}, "max_retries"),
    ({"max_retries": -1}, "max_retries"),
    ({"retry_backoff": "fast"}, "retry_backoff"),
    ({"retry_after_cap": -5}, "retry_after_cap"),
    ({"bulk_rows_per_request": 0}, "bulk_rows_per_request"),
    ({"max_body_bytes": "big"}, "max_body_bytes"),
    ({"max_body_bytes": 10}, "max_body_bytes"),
    ({"attempt_timeout": 0}, "attempt_timeout"),
    ({"max_age": "60"}, "max_age"),
    ({"strict": "yes"}, "strict"),
    ({"headers": [("a", "b")]}, "headers"),
    ({"user_agent": 5}, "user_agent"),
    ({"on_retry": "print"}, "on_retry"),
]


@pytest.mark.parametrize("cls", [Client, AsyncClient])
@pytest.mark.parametrize(("options", "name"), BAD_OPTIONS)
def test_a_bad_option_raises_at_construction(
    cls: type[Client] | type[AsyncClient], options: dict[str, Any], name: str
) -> None:
    with pytest.raises((TypeError, ValueError), match=name):
        cls(**options)


@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_a_base_url_that_is_not_a_string(cls: type[Client] | type[AsyncClient]) -> None:
    with pytest.raises(TypeError, match="base_url"):
        cls(123)  # type: ignore[arg-type]


async def test_the_wrong_kind_of_httpx_client_is_refused() -> None:
    async with httpx.AsyncClient() as async_http:
        with pytest.raises(TypeError, match="http_client"):
            Client(http_client=async_http)  # type: ignore[arg-type]
    with httpx.Client() as sync_http, pytest.raises(TypeError, match="http_client"):
        AsyncClient(http_client=sync_http)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda c: c.packages.list(page_size="100"), "page_size"),
        (lambda c: c.packages.list(page_size=0), "page_size"),
        (lambda c: c.packages.list(max_retries="2"), "max_retries"),
        (lambda c: c.packages.list(deadline="5"), "deadline"),
        (lambda c: c.packages.list(checkpoint="offset=5"), "checkpoint"),
        (lambda c: c.packages.get(1867, deadline="5"), "deadline"),
        (lambda c: c.packages.get(1867, deadline=0), "deadline"),
        (lambda c: c.packages.get(1867, max_retries=-1), "max_retries"),
        (lambda c: c.packages.get(None), "key"),
        (lambda c: c.packages.get(""), "key"),
        (lambda c: c.packages.get(1867, refresh="yes"), "refresh"),
        (lambda c: c.resolve("https://djangopackages.org/api/v4/packages/1/"), "link"),
        (lambda c: c.resolve_many(Link(f"{API_ROOT}grids/7/", 7)), "links"),
        (lambda c: c.resolve_many([7]), "links"),
        (lambda c: c.resolve(Link(f"{API_ROOT}grids/7/", 8)), "link"),
        (lambda c: c.resolve(Link(f"{API_ROOT}search/7/", 7)), "link"),
        (lambda c: c.search(42), "query"),
        (lambda c: c.catalog(deadline=-1), "deadline"),
    ],
)
def test_a_bad_argument_raises_at_call_time(call: Any, name: str) -> None:
    http = httpx.Client(transport=httpx.MockTransport(_no_request))
    with Client(http_client=http) as client, pytest.raises((TypeError, ValueError), match=name):
        call(client)


async def test_the_async_client_checks_arguments_the_same_way() -> None:
    transport = httpx.MockTransport(_no_request)
    async with AsyncClient(http_client=httpx.AsyncClient(transport=transport)) as client:
        with pytest.raises(ValueError, match="link"):
            await client.resolve(Link(f"{API_ROOT}grids/7/", 8))
        with pytest.raises(TypeError, match="deadline"):
            await client.packages.get(1867, deadline="5")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="page_size"):
            client.packages.list(page_size="100")  # type: ignore[arg-type]


def test_a_foreign_link_is_still_refused_without_a_request() -> None:
    http = httpx.Client(transport=httpx.MockTransport(_no_request))
    with Client(http_client=http) as client, pytest.raises(ForeignURLError):
        client.resolve(Link("https://evil.example/api/v4/grids/7/", 7))


def _no_request(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"a misuse sent a request: {request.url}")
