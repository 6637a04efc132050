"""The error tree, and what each client raises for each way a call can fail."""

from __future__ import annotations

import pickle
from typing import Any

import httpx
import pytest
import respx

from conftest import Harness, load_body, load_exchange
from djangopackages_sdk import (
    BaseURLError,
    DeadlineExceededError,
    DjangoPackagesError,
    ForeignURLError,
    HTTPStatusError,
    IncompleteCrawlError,
    NotFoundError,
    NotJSONError,
    PaginationError,
    PayloadError,
    RateLimitedError,
    SkippedRows,
    TransportError,
)
from helpers import API_ROOT as API
from helpers import LOCAL_ROOT as LOCAL


def _serving(dp: Harness, special: dict[str, httpx.Response], **options: Any) -> Harness:
    """A harness whose fake answers ``special`` paths with canned responses."""

    def handler(request: httpx.Request) -> httpx.Response:
        canned = special.get(request.url.path)
        return canned if canned is not None else dp.fake.handle(request)

    return dp.new(transport=httpx.MockTransport(handler), **options)


# -- the tree --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("error", "parents"),
    [
        (TransportError, (DjangoPackagesError,)),
        (DeadlineExceededError, (TransportError, DjangoPackagesError)),
        (HTTPStatusError, (DjangoPackagesError,)),
        (NotFoundError, (HTTPStatusError, DjangoPackagesError)),
        (RateLimitedError, (HTTPStatusError, DjangoPackagesError)),
        (PayloadError, (DjangoPackagesError,)),
        (NotJSONError, (PayloadError, DjangoPackagesError)),
        (ForeignURLError, (DjangoPackagesError,)),
        (PaginationError, (DjangoPackagesError,)),
        (IncompleteCrawlError, (DjangoPackagesError,)),
    ],
)
def test_hierarchy(error: type[Exception], parents: tuple[type[Exception], ...]) -> None:
    assert issubclass(error, parents)
    assert issubclass(DjangoPackagesError, Exception)
    assert not issubclass(error, KeyError | TypeError | ValueError | httpx.HTTPError)


ERRORS: list[DjangoPackagesError] = [
    DjangoPackagesError("u", "m"),
    TransportError("u", "m"),
    DeadlineExceededError("u", "m"),
    HTTPStatusError("u", "m", status=500, body_snippet="<html>"),
    NotFoundError("u", "m", detail="No Package matches the given query.", body_snippet="{}"),
    RateLimitedError("u", "m", status=429, retry_after=120.0),
    PayloadError("u", "m", status=200, path="$.results[3].repo_forks"),
    NotJSONError("u", "m", status=200, content_type="text/html", head="<!doctype"),
    ForeignURLError("u", "m"),
    PaginationError("u", "m"),
    IncompleteCrawlError("u", "m", skipped=[SkippedRows(3, 1, PayloadError("u", "bad"))]),
]


@pytest.mark.parametrize("error", ERRORS, ids=[type(e).__name__ for e in ERRORS])
def test_errors_pickle_with_their_fields(error: DjangoPackagesError) -> None:
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error)
    assert str(again) == str(error)
    state = {k: v for k, v in error.__dict__.items() if k != "skipped"}
    assert {k: v for k, v in again.__dict__.items() if k != "skipped"} == state
    if isinstance(error, IncompleteCrawlError):
        assert isinstance(again, IncompleteCrawlError)
        assert [(s.offset, s.limit, str(s.error)) for s in again.skipped] == [
            (s.offset, s.limit, str(s.error)) for s in error.skipped
        ]


def test_error_text_names_url_and_status() -> None:
    assert str(HTTPStatusError("https://x/", "HTTP 500", status=500)) == (
        "HTTP 500 [https://x/ (HTTP 500)]"
    )
    assert str(TransportError("https://x/", "boom")) == "boom [https://x/]"
    assert TransportError("https://x/", "boom").status is None
    assert NotFoundError("https://x/", "gone").status == 404


# -- 404 -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("collection", "key", "detail"),
    [
        ("packages", 999999, "No Package matches the given query."),
        ("packages", "django-does-not-exist", "No Package matches the given query."),
        ("grids", "no-such-grid", "No Grid matches the given query."),
        ("categories", 99, "No Category matches the given query."),
    ],
)
async def test_not_found_carries_the_detail(
    dp: Harness, collection: str, key: int | str, detail: str
) -> None:
    with pytest.raises(NotFoundError) as info:
        await dp.run(lambda c: getattr(c, collection).get(key))
    error = info.value
    assert error.detail == detail
    assert error.status == 404
    assert error.url == f"{API}{collection}/{key}/"
    assert detail in error.body_snippet
    assert detail in str(error)
    assert isinstance(error, HTTPStatusError)


@pytest.mark.parametrize(
    "name",
    [
        "real-api/packages-detail-404-unknown-id",
        "real-api/packages-detail-404-unknown-slug",
        "real-api/grids-detail-404-unknown-id",
        "real-api/grids-detail-404-unknown-slug",
        "real-api/categories-detail-404-unknown-id",
    ],
)
async def test_recorded_404_replayed_with_respx(dp: Harness, name: str) -> None:
    exchange = load_exchange(name)
    url = exchange["request"]["url"]
    collection, key = url.removeprefix(LOCAL).strip("/").split("/")
    with respx.mock(assert_all_called=True) as router:
        route = router.get(url).respond(
            404,
            headers={"content-type": "application/json"},
            content=exchange["response"]["body"].encode(),
        )
        h = dp.over_respx(base_url=LOCAL)
        try:
            with pytest.raises(NotFoundError) as info:
                await h.run(lambda c: getattr(c, collection).get(key))
        finally:
            await h.close()
    assert route.call_count == 1  # a 404 is never retried
    assert info.value.detail == load_body(name)["detail"]
    assert info.value.url == url


async def test_an_html_404_page_is_a_wrong_route_not_a_missing_object(dp: Harness) -> None:
    page = httpx.Response(404, headers={"content-type": "text/html"}, content=b"<!doctype html>")
    h = _serving(dp, {"/api/v4/packages/1/": page})
    try:
        with pytest.raises(BaseURLError, match="base_url") as info:
            await h.run(lambda c: c.packages.get(1))
    finally:
        await h.close()
    assert not isinstance(info.value, NotFoundError)
    assert info.value.status == 404
    assert info.value.body_snippet == "<!doctype html>"


# -- other statuses --------------------------------------------------------------------
async def test_server_error_after_retries_exhausted(dp: Harness) -> None:
    body = b"<html><body>Server Error (500)</body></html>" + b"x" * 500
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(500, headers={"content-type": "text/html"}, content=body)

    h = dp.new(transport=httpx.MockTransport(handler), max_retries=0)
    try:
        with pytest.raises(HTTPStatusError) as info:
            await h.run(lambda c: c.packages.get(1867))
    finally:
        await h.close()
    error = info.value
    assert type(error) is HTTPStatusError
    assert error.status == 500
    assert error.url == f"{API}packages/1867/"
    assert error.body_snippet.startswith("<html><body>Server Error (500)")
    assert 0 < len(error.body_snippet) < len(body)  # a snippet, not the whole page
    assert "500" in str(error)
    assert calls == 1


async def test_server_error_is_retried_then_raised(dp: Harness) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(502, content=b"bad gateway")

    h = dp.new(transport=httpx.MockTransport(handler), max_retries=2, retry_backoff=0.001)
    try:
        with pytest.raises(HTTPStatusError) as info:
            await h.run(lambda c: c.packages.get(1867))
    finally:
        await h.close()
    assert info.value.status == 502
    assert calls == 3


async def test_method_not_allowed_replayed_with_respx(dp: Harness) -> None:
    exchange = load_exchange("real-api/packages-detail-post-405")
    with respx.mock(assert_all_called=True) as router:
        route = router.get(f"{LOCAL}packages/django-otp/").respond(
            405,
            headers={"content-type": "application/json", "allow": "GET, HEAD, OPTIONS"},
            content=exchange["response"]["body"].encode(),
        )
        h = dp.over_respx(base_url=LOCAL)
        try:
            with pytest.raises(HTTPStatusError) as info:
                await h.run(lambda c: c.packages.get("django-otp"))
        finally:
            await h.close()
    error = info.value
    assert type(error) is HTTPStatusError
    assert error.status == 405
    assert error.body_snippet == exchange["response"]["body"]
    assert route.call_count == 1  # not retried


async def test_rate_limited_with_long_retry_after(dp: Harness) -> None:
    limited = httpx.Response(429, headers={"retry-after": "3600"}, content=b"slow down")
    h = _serving(dp, {"/api/v4/packages/1867/": limited})
    try:
        with pytest.raises(RateLimitedError) as info:
            await h.run(lambda c: c.packages.get(1867))
    finally:
        await h.close()
    assert info.value.retry_after == 3600.0
    assert info.value.status == 429


# -- payloads ----------------------------------------------------------------------------
async def test_bad_detail_payload_names_url_and_path(dp: Harness) -> None:
    dp.fake.add({**dp.fake.packages[1867], "repo_forks": "many"})
    with pytest.raises(PayloadError) as info:
        await dp.run(lambda c: c.packages.get(1867))
    error = info.value
    assert error.path == "$.repo_forks"
    assert error.url == f"{API}packages/1867/"
    assert "repo_forks" in str(error)
    assert dp.client.cache_size == 0


async def test_bad_row_in_a_list_page_names_its_index(dp: Harness) -> None:
    # The fifth row from the top (offset 3) is the package with the 4th highest id: 1306.
    dp.fake.add({**dp.fake.packages[1306], "repo_forks": "many"})
    with pytest.raises(IncompleteCrawlError) as info:
        await dp.collect(lambda c: c.packages.list(page_size=20))
    (skipped,) = info.value.skipped
    assert skipped.offset == 3
    assert isinstance(skipped.error, PayloadError)
    assert skipped.error.path == "$.results[3].repo_forks"
    assert skipped.error.url == f"{API}packages/?limit=20"


async def test_bad_rows_skipped_on_request(dp: Harness) -> None:
    dp.fake.add({**dp.fake.packages[1306], "created": None})
    iterator: Any = dp.client.packages.list(on_error="skip")
    items = await dp.collect(lambda c: iterator)
    assert [p.id for p in items] == [1867, 1672, 1412, 359]
    (skipped,) = iterator.skipped
    assert isinstance(skipped.error, PayloadError)
    assert skipped.error.path == "$.results[3].created"


async def test_search_not_an_array(dp: Harness) -> None:
    h = _serving(dp, {"/api/v4/search/": httpx.Response(200, json={"results": []})})
    try:
        with pytest.raises(PayloadError) as info:
            await h.run(lambda c: c.search("otp"))
    finally:
        await h.close()
    assert info.value.path == "$"


async def test_search_bad_row(dp: Harness) -> None:
    rows = load_body("real-api/search-q-otp")
    rows[2]["score"] = None
    h = _serving(dp, {"/api/v4/search/": httpx.Response(200, json=rows)})
    try:
        with pytest.raises(PayloadError) as info:
            await h.run(lambda c: c.search("otp"))
    finally:
        await h.close()
    assert info.value.path == "$[2].score"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/html; charset=utf-8", b"<!doctype html><title>Maintenance</title>"),
        ("application/json", b'{"id": 1867, "title": '),
        ("application/json", b"\xff\xfe not utf-8"),
        ("", b"<html>"),
    ],
)
async def test_not_json(dp: Harness, content_type: str, body: bytes) -> None:
    headers = {"content-type": content_type} if content_type else {}
    h = _serving(dp, {"/api/v4/packages/1867/": httpx.Response(200, headers=headers, content=body)})
    try:
        with pytest.raises(NotJSONError) as info:
            await h.run(lambda c: c.packages.get(1867))
    finally:
        await h.close()
    error = info.value
    assert isinstance(error, PayloadError)
    assert error.content_type == content_type
    assert error.head == body[:80].decode("utf-8", "replace")
    assert error.url == f"{API}packages/1867/"


@pytest.mark.parametrize("page", [[], {"count": "5", "next": None, "results": []}, {"count": 5}])
async def test_bad_list_envelope(dp: Harness, page: object) -> None:
    h = _serving(dp, {"/api/v4/grids/": httpx.Response(200, json=page)}, max_retries=0)
    try:
        with pytest.raises(PayloadError) as info:
            await h.collect(lambda c: c.grids.list())
    finally:
        await h.close()
    assert info.value.path in ("$", "$.count", "$.results")


# -- transport -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("read timed out"),
        httpx.RemoteProtocolError("peer closed"),
    ],
)
async def test_transport_failures_are_wrapped(dp: Harness, failure: httpx.HTTPError) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise failure

    h = dp.new(transport=httpx.MockTransport(handler), max_retries=1, retry_backoff=0.001)
    try:
        with pytest.raises(TransportError) as info:
            await h.run(lambda c: c.packages.get(1867))
    finally:
        await h.close()
    assert info.value.__cause__ is failure
    assert info.value.url == f"{API}packages/1867/"
    assert info.value.status is None
    assert type(failure).__name__ in str(info.value)
    assert calls == 2


async def test_non_retryable_transport_failure(dp: Harness) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.UnsupportedProtocol("no")

    h = dp.new(transport=httpx.MockTransport(handler), max_retries=3)
    try:
        with pytest.raises(TransportError) as info:
            await h.run(lambda c: c.packages.get(1867))
    finally:
        await h.close()
    assert isinstance(info.value.__cause__, httpx.UnsupportedProtocol)
    assert calls == 1


@pytest.mark.parametrize(
    "body",
    [
        b"null",
        b"[1, 2, 3]",
        b'{"id": "x"}',
        b'{"count": 1, "results": [null]}',
        b"[" * 100_000,
        b"",
    ],
    ids=["null", "array", "bad-id", "page", "deep", "empty"],
)
async def test_garbage_raises_payload_errors_only(dp: Harness, body: bytes) -> None:
    """Whatever garbage the server sends, the caller sees a PayloadError, never a builtin."""
    response = httpx.Response(200, headers={"content-type": "application/json"}, content=body)
    h = _serving(dp, {"/api/v4/packages/1867/": response}, max_retries=0)
    try:
        with pytest.raises(PayloadError):
            await h.run(lambda c: c.packages.get(1867))
    finally:
        await h.close()
