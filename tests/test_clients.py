"""Both clients, through the same test bodies: lookups, search, the identity map,
headers, timeouts and the lifecycle of the httpx client."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from conftest import Harness, Mode, load_body, load_exchange
from djangopackages_sdk import (
    DEFAULT_BASE_URL,
    AsyncClient,
    AsyncCollection,
    Category,
    Client,
    Collection,
    Grid,
    Link,
    NotFoundError,
    Package,
    SearchResult,
    __version__,
)
from djangopackages_sdk._config import shared_ssl_context
from djangopackages_sdk._convert import get_converter
from djangopackages_sdk.testing import FakeAPI
from helpers import LOCAL_ROOT as LOCAL

API = DEFAULT_BASE_URL


def _urls(fake: FakeAPI) -> list[str]:
    return [str(request.url) for request in fake.requests]


def _get(collection: str, key: int | str) -> Callable[[Any], Any]:
    """``client.<collection>.get(key)`` as a call for ``Harness.run``."""
    return lambda c: getattr(c, collection).get(key)


def _resolve(link: Link[Any]) -> Callable[[Any], Any]:
    return lambda c: c.resolve(link)


def _is_closed(client: Client | AsyncClient) -> bool:
    return client._http.is_closed


def _replay(router: respx.MockRouter, name: str) -> respx.Route:
    """Serve one recorded exchange at its recorded URL (query included)."""
    exchange = load_exchange(name)
    response = exchange["response"]
    return router.get(exchange["request"]["url"]).respond(
        response["status"],
        headers={"content-type": response["headers"].get("content-type", "application/json")},
        content=response["body"].encode(),
    )


# -- lookups ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("collection", "key", "expected_id", "path"),
    [
        ("packages", 1867, 1867, "/api/v4/packages/1867/"),
        ("packages", "1867", 1867, "/api/v4/packages/1867/"),
        ("packages", "01867", 1867, "/api/v4/packages/1867/"),
        ("packages", "django-otp", 1867, "/api/v4/packages/django-otp/"),
        ("grids", 7, 7, "/api/v4/grids/7/"),
        ("grids", "426", 426, "/api/v4/grids/426/"),
        ("grids", "two-factor-authentication", 426, "/api/v4/grids/two-factor-authentication/"),
        ("categories", 1, 1, "/api/v4/categories/1/"),
        ("categories", "1", 1, "/api/v4/categories/1/"),
    ],
)
async def test_get(
    dp: Harness, collection: str, key: int | str, expected_id: int, path: str
) -> None:
    item = await dp.run(lambda c: getattr(c, collection).get(key))
    assert item.id == expected_id
    assert isinstance(
        item, {"packages": Package, "grids": Grid, "categories": Category}[collection]
    )
    assert [r.url.path for r in dp.fake.requests] == [path]
    body = dp.fake.handle(httpx.Request("GET", f"{API}{collection}/{expected_id}/")).json()
    assert get_converter().unstructure(item) == body


async def test_get_by_slug_and_by_id_give_the_same_object(dp: Harness) -> None:
    by_slug = await dp.run(lambda c: c.packages.get("django-otp"))
    by_id = await dp.run(lambda c: c.packages.get(1867))
    by_text = await dp.run(lambda c: c.packages.get("1867"))
    assert by_id is by_slug
    assert by_text is by_slug
    assert len(dp.fake.requests) == 1


async def test_category_by_slug_goes_through_the_list(dp: Harness) -> None:
    apps = await dp.run(lambda c: c.categories.get("apps"))
    assert isinstance(apps, Category)
    assert (apps.id, apps.slug) == (1, "apps")
    (request,) = dp.fake.requests
    assert request.url.path == "/api/v4/categories/"  # never /categories/apps/ (a 404)
    # The listing fed the identity map: the category by id is free now.
    assert await dp.run(lambda c: c.categories.get(1)) is apps
    assert len(dp.fake.requests) == 1


async def test_category_slug_shared_by_several_picks_lowest_id(dp: Harness) -> None:
    fake = FakeAPI(
        categories=[load_body(f"real-api/categories-detail-by-id-{i}") for i in (1, 2, 3)]
    )
    twin = {**load_body("real-api/categories-detail-by-id-4"), "slug": "apps"}
    fake.add(twin)
    h = dp.new(fake=fake)
    try:
        found = await h.run(lambda c: c.categories.get("apps"))
        assert found.id == 1
    finally:
        await h.close()


async def test_category_slug_unknown(dp: Harness) -> None:
    with pytest.raises(NotFoundError) as info:
        await dp.run(lambda c: c.categories.get("no-such-category"))
    assert info.value.status == 404
    assert "no-such-category" in str(info.value)


async def test_get_replayed_with_respx(dp: Harness) -> None:
    with respx.mock(assert_all_called=True) as router:
        route = _replay(router, "real-api/packages-detail-by-slug-django-otp")
        h = dp.over_respx(base_url=LOCAL)
        try:
            otp = await h.run(lambda c: c.packages.get("django-otp"))
            again = await h.run(lambda c: c.packages.get(1867))
        finally:
            await h.close()
    assert isinstance(otp, Package)
    assert again is otp
    assert route.call_count == 1
    assert otp.category == Link(f"{LOCAL}categories/1/", 1)


async def test_category_slug_replayed_with_respx(dp: Harness) -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.get(f"{LOCAL}categories/").respond(
            200, content=load_exchange("real-api/categories-list")["response"]["body"].encode()
        )
        h = dp.over_respx(base_url=LOCAL)
        try:
            framework = await h.run(lambda c: c.categories.get("frameworks"))
        finally:
            await h.close()
    assert framework.title == "Framework"
    assert route.call_count == 1


# -- search ----------------------------------------------------------------------------
async def test_search(dp: Harness) -> None:
    hits = await dp.run(lambda c: c.search("otp"))
    assert isinstance(hits, list)
    assert hits
    assert all(isinstance(hit, SearchResult) for hit in hits)
    assert hits[0].slug == "django-otp"
    (request,) = dp.fake.requests
    assert request.url.path == "/api/v4/search/"
    assert request.url.params["q"] == "otp"


async def test_search_quotes_the_query(dp: Harness) -> None:
    await dp.run(lambda c: c.search("two factor&limit=1"))
    (request,) = dp.fake.requests
    assert request.url.params["q"] == "two factor&limit=1"
    assert "limit" not in request.url.params


@pytest.mark.parametrize("query", ["", "zzqqxxnothing"])
async def test_search_without_results(dp: Harness, query: str) -> None:
    assert await dp.run(lambda c: c.search(query)) == []


async def test_search_replayed_with_respx(dp: Harness) -> None:
    with respx.mock(assert_all_called=True) as router:
        _replay(router, "real-api/search-q-two-words")
        h = dp.over_respx(base_url=LOCAL)
        try:
            hits = await h.run(lambda c: c.search("two factor"))
        finally:
            await h.close()
    assert get_converter().unstructure(hits) == load_body("real-api/search-q-two-words")
    assert {hit.item_type for hit in hits} == {"package", "grid"}


# -- ?format=api links -----------------------------------------------------------------
async def test_format_api_links_resolve_without_the_suffix(dp: Harness) -> None:
    seed = get_converter().structure(load_body("seeds/package-django-otp"), Package)
    category = await dp.run(lambda c: c.resolve(seed.category))
    grids = await dp.run(lambda c: c.resolve_many(seed.grids))
    assert category.id == 1
    assert [g.id for g in grids] == [7, 426]
    assert dp.fake.requests
    for request in dp.fake.requests:
        assert "format" not in request.url.params
        assert b"format" not in request.url.query


async def test_format_api_fake_links_resolve_without_the_suffix(dp: Harness) -> None:
    """Links the server decorated with ``?format=api`` in this very session."""
    body = dp.fake.handle(httpx.Request("GET", f"{API}packages/1412/?format=api")).json()
    assert body["category"].endswith("?format=api")
    package = get_converter().structure(body, Package)
    dp.fake.clear_requests()
    await dp.run(lambda c: c.resolve_many([package.category, *package.grids]))
    assert dp.fake.requests
    assert all("format" not in request.url.params for request in dp.fake.requests)


async def test_format_api_seed_replayed_with_respx(dp: Harness) -> None:
    with respx.mock(assert_all_called=True) as router:
        router.get(f"{API}packages/1867/").respond(
            200, content=load_exchange("seeds/package-django-otp")["response"]["body"].encode()
        )
        category_route = router.get(f"{API}categories/1/").respond(
            200, json={**load_body("real-api/categories-detail-by-id-1")}
        )
        h = dp.over_respx()
        try:
            otp = await h.run(lambda c: c.packages.get(1867))
            category = await h.run(lambda c: c.resolve(otp.category))
        finally:
            await h.close()
    assert otp.category.url == f"{API}categories/1/"
    assert category.slug == "apps"
    assert category_route.call_count == 1
    assert str(category_route.calls.last.request.url) == f"{API}categories/1/"


# -- the identity map ------------------------------------------------------------------
async def test_get_after_list_makes_no_request(dp: Harness) -> None:
    listed = await dp.collect(lambda c: c.packages.list())
    before = len(dp.fake.requests)
    for package in listed:
        assert await dp.run(_get("packages", package.id)) is package
        assert await dp.run(_get("packages", package.slug)) is package
        assert await dp.run(_get("packages", str(package.id))) is package
    assert len(dp.fake.requests) == before


async def test_resolve_after_list_is_free(dp: Harness) -> None:
    packages = await dp.collect(lambda c: c.packages.list())
    grids = await dp.collect(lambda c: c.grids.list())
    categories = await dp.collect(lambda c: c.categories.list())
    before = len(dp.fake.requests)
    for grid in grids:
        links = grid.packages
        members = await dp.run(lambda c: c.resolve_many(links))  # noqa: B023 - awaited at once
        assert [p.id for p in members] == [link.id for link in grid.packages]
        assert all(any(m is p for p in packages) for m in members)
    for package in packages:
        assert await dp.run(_resolve(package.category)) is categories[0]
    assert len(dp.fake.requests) == before


async def test_listing_grids_makes_a_packages_grids_free(dp: Harness) -> None:
    otp = await dp.run(lambda c: c.packages.get("django-otp"))
    await dp.collect(lambda c: c.grids.list())
    before = len(dp.fake.requests)
    grids = await dp.run(lambda c: c.resolve_many(otp.grids))
    assert [g.id for g in grids] == [7, 426]
    assert len(dp.fake.requests) == before


async def test_resolved_links_feed_the_identity_map(dp: Harness) -> None:
    otp = await dp.run(lambda c: c.packages.get("django-otp"))
    grid = await dp.run(lambda c: c.resolve(otp.grids[0]))
    count = len(dp.fake.requests)
    assert await dp.run(lambda c: c.grids.get(grid.id)) is grid
    assert await dp.run(lambda c: c.grids.get(grid.slug)) is grid
    assert await dp.run(lambda c: c.resolve(otp.grids[0])) is grid
    assert len(dp.fake.requests) == count == 2


async def test_cached_and_clear_cache(dp: Harness) -> None:
    link: Link[Package] = Link(f"{API}packages/1867/", 1867)
    assert dp.client.cached(link) is None
    assert dp.client.cache_size == 0
    otp = await dp.run(lambda c: c.packages.get("django-otp"))
    assert dp.client.cached(link) is otp
    assert dp.client.cache_size == 1
    assert dp.fake.requests[-1].url.path == "/api/v4/packages/django-otp/"
    dp.client.clear_cache()
    assert dp.client.cached(link) is None
    assert dp.client.cache_size == 0
    fresh = await dp.run(lambda c: c.packages.get("django-otp"))  # slug index cleared too
    assert fresh == otp
    assert fresh is not otp
    assert len(dp.fake.requests) == 2


async def test_identity_map_reflects_the_latest_load(dp: Harness) -> None:
    first = await dp.run(lambda c: c.packages.get(1867))
    dp.fake.add({**dp.fake.packages[1867], "repo_watchers": 9999})
    dp.client.clear_cache()
    listed = await dp.collect(lambda c: c.packages.list())
    newer = next(p for p in listed if p.id == 1867)
    assert newer.repo_watchers == 9999 != first.repo_watchers
    assert await dp.run(lambda c: c.packages.get(1867)) is newer


# -- headers and timeouts ----------------------------------------------------------------
async def test_default_headers(dp: Harness) -> None:
    await dp.run(lambda c: c.packages.get(1867))
    (request,) = dp.fake.requests
    assert request.headers["accept"] == "application/json"
    agent = f"djangopackages-sdk/{__version__} python-httpx/{httpx.__version__}"
    assert request.headers["user-agent"] == agent
    assert dp.client.user_agent == agent
    assert __version__ == "0.1.0"


async def test_user_agent_extra_and_headers(dp: Harness) -> None:
    h = dp.new(user_agent="my-bot/2 (+mailto:me@example.org)", headers={"X-Trace": "abc"})
    try:
        await h.run(lambda c: c.packages.get(1867))
    finally:
        await h.close()
    request = h.fake.requests[-1]
    assert request.headers["user-agent"] == (
        f"djangopackages-sdk/0.1.0 python-httpx/{httpx.__version__} "
        "my-bot/2 (+mailto:me@example.org)"
    )
    assert request.headers["x-trace"] == "abc"
    assert request.headers["accept"] == "application/json"


async def test_user_supplied_client_keeps_its_timeout(dp: Harness) -> None:
    """With the user's httpx client, its own timeout applies (the SDK does not override it)."""
    wanted = httpx.Timeout(7.0, connect=2.0)
    h = dp.new()
    h.http.timeout = wanted
    client_type = AsyncClient if dp.is_async else Client
    client = client_type(http_client=h.http)  # type: ignore[arg-type]
    try:
        assert client.timeout == wanted
        await h.run(lambda _: client.packages.get(1867))
    finally:
        if isinstance(client, AsyncClient):
            await client.aclose()
        else:
            client.close()
        await h.close()
    timeout = h.fake.requests[-1].extensions["timeout"]
    assert timeout == {"connect": 2.0, "read": 7.0, "write": 7.0, "pool": 7.0}


async def test_default_timeout() -> None:
    with Client() as client:
        assert client.timeout == httpx.Timeout(30.0, connect=5.0)
        assert (client.timeout.connect, client.timeout.read) == (5.0, 30.0)
        assert client._http.timeout == client.timeout
    async with AsyncClient() as aclient:
        assert aclient.timeout == httpx.Timeout(30.0, connect=5.0)
        assert aclient._http.timeout == aclient.timeout


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        (None, {"connect": 5.0, "read": 30.0, "write": 30.0, "pool": 30.0}),
        (10.0, {"connect": 10.0, "read": 10.0, "write": 10.0, "pool": 10.0}),
        (
            httpx.Timeout(20.0, connect=1.0),
            {"connect": 1.0, "read": 20.0, "write": 20.0, "pool": 20.0},
        ),
    ],
)
async def test_timeout_reaches_the_request(
    mode: str, option: httpx.Timeout | float | None, expected: dict[str, float]
) -> None:
    fake = FakeAPI.with_sample_data()
    options: dict[str, Any] = {} if option is None else {"timeout": option}
    with respx.mock(assert_all_called=True) as router:
        router.get(url__startswith=API).mock(side_effect=fake.handle)
        if mode == "sync":
            with Client(**options) as client:
                client.packages.get(1867)
        else:
            async with AsyncClient(**options) as aclient:
                await aclient.packages.get(1867)
    (request,) = fake.requests
    assert request.extensions["timeout"] == expected
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"].startswith("djangopackages-sdk/0.1.0 python-httpx/")


# -- the httpx client's lifecycle --------------------------------------------------------
async def test_user_supplied_client_is_left_open(dp: Harness) -> None:
    await dp.run(lambda c: c.packages.get(1867))
    if isinstance(dp.client, AsyncClient):
        await dp.client.aclose()
        async with dp.client as same:
            assert same is dp.client
        assert isinstance(dp.http, httpx.AsyncClient)
        assert not dp.http.is_closed
        response = await dp.http.get(f"{API}grids/7/")
    else:
        dp.client.close()
        with dp.client as same_sync:
            assert same_sync is dp.client
        assert isinstance(dp.http, httpx.Client)
        assert not dp.http.is_closed
        response = dp.http.get(f"{API}grids/7/")
    assert response.status_code == 200  # still usable by its owner


async def test_sdk_created_client_is_closed(mode: str) -> None:
    fake = FakeAPI.with_sample_data()
    with respx.mock(assert_all_called=True) as router:
        router.get(url__startswith=API).mock(side_effect=fake.handle)
        if mode == "sync":
            with Client() as client:
                client.packages.get(1867)
                assert not _is_closed(client)
            assert _is_closed(client)
            explicit = Client()
            explicit.close()
            assert _is_closed(explicit)
        else:
            async with AsyncClient() as aclient:
                await aclient.packages.get(1867)
                assert not _is_closed(aclient)
            assert _is_closed(aclient)
            aexplicit = AsyncClient()
            await aexplicit.aclose()
            assert _is_closed(aexplicit)
    assert len(fake.requests) == 1


async def test_context_manager_returns_the_client(mode: str) -> None:
    if mode == "sync":
        with Client() as client:
            assert isinstance(client, Client)
    else:
        async with AsyncClient() as aclient:
            assert isinstance(aclient, AsyncClient)


# -- construction --------------------------------------------------------------------------
async def test_surface(dp: Harness) -> None:
    resource_type = AsyncCollection if dp.is_async else Collection
    for name in ("packages", "grids", "categories"):
        resource = getattr(dp.client, name)
        assert isinstance(resource, resource_type)
        assert resource.collection == name
        assert repr(resource) == f"<{resource_type.__name__} {API}{name}/>"
    kind = "AsyncClient" if dp.is_async else "Client"
    assert repr(dp.client) == f"<{kind} {API}>"
    assert dp.client.base_url == API


@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_base_url_is_normalised(cls: type[Client] | type[AsyncClient]) -> None:
    client = cls("HTTP://127.0.0.1:8765/api/v4", http_client=None)
    assert client.base_url == "http://127.0.0.1:8765/api/v4/"
    assert cls().base_url == API


@pytest.mark.parametrize("cls", [Client, AsyncClient])
@pytest.mark.parametrize(
    ("args", "options"),
    [
        (("ftp://example.org/",), {}),
        (("/api/v4/",), {}),
        ((), {"max_in_flight": 0}),
        ((), {"bulk_rows_per_request": 0}),
        ((), {"max_retries": -1}),
        ((), {"requests_per_second": -1.0}),
    ],
)
def test_bad_options(
    cls: type[Client] | type[AsyncClient], args: tuple[str, ...], options: dict[str, Any]
) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        cls(*args, **options)


async def test_misuse_raises_before_any_request(dp: Harness) -> None:
    with pytest.raises(TypeError):
        await dp.run(lambda c: c.packages.get(True))
    with pytest.raises(TypeError):
        await dp.run(lambda c: c.packages.get(1.5))
    with pytest.raises(ValueError, match="empty slug"):
        await dp.run(lambda c: c.packages.get(""))
    with pytest.raises(TypeError):
        await dp.run(lambda c: c.search(3))
    with pytest.raises(TypeError):
        await dp.run(lambda c: c.resolve(f"{API}packages/1/"))
    with pytest.raises(ValueError, match="max_retries"):
        await dp.run(lambda c: c.packages.get(1, max_retries=-1))
    with pytest.raises(ValueError, match="deadline"):
        await dp.run(lambda c: c.packages.get(1, deadline=0))
    assert dp.fake.requests == []


async def test_json_body_untouched_by_client(dp: Harness) -> None:
    """What the client parsed equals what the fake sent, field for field."""
    grid = await dp.run(lambda c: c.grids.get(426))
    sent = json.loads(dp.fake.handle(httpx.Request("GET", f"{API}grids/426/")).content)
    assert get_converter().unstructure(grid) == sent


async def test_closing_releases_the_identity_map(mode: Mode) -> None:
    h = Harness(mode)
    otp = await h.run(lambda c: c.packages.get("django-otp"))
    assert h.client.cache_size == 1
    await h.close()
    assert h.client.cache_size == 0
    assert otp.slug == "django-otp"  # loaded models are values: they stay valid


def test_clients_share_one_ssl_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading the CA bundle costs ~0.1 s: SDK-made clients build one context per process."""
    made: list[object] = []
    original = httpx.create_ssl_context

    def counting(*args: Any, **kwargs: Any) -> Any:
        made.append(None)
        return original(*args, **kwargs)

    monkeypatch.setattr(httpx, "create_ssl_context", counting)
    shared_ssl_context.cache_clear()
    try:
        with Client(), Client():
            pass
    finally:
        shared_ssl_context.cache_clear()
    assert len(made) == 1
