"""``strict=True``: unknown fields are a PayloadError naming them; the default tolerates them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from conftest import Harness, all_exchanges
from djangopackages_sdk import (
    AsyncPageIterator,
    Category,
    Grid,
    IncompleteCrawlError,
    Link,
    Package,
    PayloadError,
    SearchResult,
)
from djangopackages_sdk.testing import FakeAPI
from helpers import API_ROOT as ROOT


def extra_fields(fake: FakeAPI, path: str, add: Callable[[Any], None]) -> httpx.MockTransport:
    """The fake, with ``add(body)`` applied to the answers for paths starting with ``path``."""

    def handle(request: httpx.Request) -> httpx.Response:
        response = fake.handle(request)
        if not request.url.path.startswith(path) or response.status_code != 200:
            return response
        data = json.loads(response.content)
        add(data)
        return httpx.Response(200, json=data)

    return httpx.MockTransport(handle)


def new_field(data: Any) -> None:
    data["stars_2026"] = 5


def new_fields_in_rows(data: Any) -> None:
    for row in data["results"]:
        row["stars_2026"] = 5
        row["funding"] = None


async def test_unknown_fields_are_tolerated_by_default(dp: Harness) -> None:
    h = dp.new(transport=extra_fields(dp.fake, "/api/v4/packages/", new_fields_in_rows))
    try:
        rows = await h.collect(lambda c: c.packages.list())
    finally:
        await h.close()
    assert [p.id for p in rows] == [1867, 1672, 1412, 1306, 359]


async def test_strict_get_names_the_unknown_field(dp: Harness) -> None:
    h = dp.new(transport=extra_fields(dp.fake, "/api/v4/packages/1867/", new_field), strict=True)
    try:
        with pytest.raises(PayloadError) as caught:
            await h.run(lambda c: c.packages.get(1867))
        tolerant = dp.new(transport=extra_fields(dp.fake, "/api/v4/packages/1867/", new_field))
        try:
            package = await tolerant.run(lambda c: c.packages.get(1867))
        finally:
            await tolerant.close()
    finally:
        await h.close()
    assert type(caught.value) is PayloadError
    assert caught.value.path == "$"
    assert "'stars_2026'" in str(caught.value)
    assert caught.value.url == ROOT + "packages/1867/"
    assert isinstance(package, Package)
    assert not hasattr(package, "stars_2026")


async def test_strict_resolve_names_every_unknown_field(dp: Harness) -> None:
    def two(data: Any) -> None:
        data["zeta"] = 1
        data["alpha"] = []

    h = dp.new(transport=extra_fields(dp.fake, "/api/v4/categories/", two), strict=True)
    link: Link[Category] = Link(ROOT + "categories/1/", 1)
    try:
        with pytest.raises(PayloadError, match=r"\['alpha', 'zeta'\]") as caught:
            await h.run(lambda c: c.resolve(link))
    finally:
        await h.close()
    assert caught.value.path == "$"


async def test_strict_search_points_at_the_result(dp: Harness) -> None:
    def second(data: Any) -> None:
        data[1]["rank"] = 0.5

    h = dp.new(transport=extra_fields(dp.fake, "/api/v4/search/", second), strict=True)
    try:
        with pytest.raises(PayloadError, match="'rank'") as caught:
            await h.run(lambda c: c.search("django"))
    finally:
        await h.close()
    assert caught.value.path == "$[1]"


async def test_strict_listing_reports_each_row_with_its_field(dp: Harness) -> None:
    h = dp.new(transport=extra_fields(dp.fake, "/api/v4/grids/", new_fields_in_rows), strict=True)
    try:
        with pytest.raises(IncompleteCrawlError) as caught:
            await h.collect(lambda c: c.grids.list())
        skipping = h.client.grids.list(on_error="skip")
        if isinstance(skipping, AsyncPageIterator):
            rows = [grid async for grid in skipping]
        else:
            rows = list(skipping)
    finally:
        await h.close()
    errors = [s.error for s in caught.value.skipped]
    assert len(errors) == 8
    assert all(isinstance(e, PayloadError) for e in errors)
    assert all("['funding', 'stars_2026']" in str(e) for e in errors)
    assert [e.path for e in errors if isinstance(e, PayloadError)] == [
        f"$.results[{i}]" for i in range(8)
    ]
    assert rows == []
    assert len(skipping.skipped) == 8


async def test_strict_accepts_the_sample_exactly(dp: Harness) -> None:
    h = dp.new(strict=True)
    try:
        packages = await h.collect(lambda c: c.packages.list(page_size=2))
        grids = await h.collect(lambda c: c.grids.list())
        categories = await h.collect(lambda c: c.categories.list())
        hits = await h.run(lambda c: c.search("django"))
        otp = await h.run(lambda c: c.packages.get("django-otp"))
        resolved = await h.run(lambda c: c.resolve_many(otp.grids))
    finally:
        await h.close()
    assert len(packages) == 5
    assert len(grids) == 8
    assert [c.id for c in categories] == [1]
    assert hits
    assert all(isinstance(hit, SearchResult) for hit in hits)
    assert all(isinstance(g, Grid) for g in resolved)


def genuine_cases() -> list[tuple[str, str, bytes]]:
    """``(name, url, body)`` of each recorded 200 GET body the SDK converts whole.

    List pages with a ``next`` link are left out: served for every request, they
    would repeat themselves (the crawl then rightly raises a PaginationError).
    """
    cases = []
    for path in all_exchanges():
        exchange = json.loads(path.read_text(encoding="utf-8"))
        request, response = exchange["request"], exchange["response"]
        if path.parent.name != "real-api" or request["method"] != "GET":
            continue
        if response["status"] != 200 or httpx.URL(request["url"]).path == "/api/v4/":
            continue
        data = json.loads(response["body"])
        if isinstance(data, dict) and data.get("next"):
            continue
        cases.append((path.stem, request["url"], response["body"].encode("utf-8")))
    return cases


GENUINE = genuine_cases()


@pytest.mark.parametrize(("name", "url", "body"), GENUINE, ids=[c[0] for c in GENUINE])
async def test_every_genuine_body_passes_strict_mode(
    dp: Harness, name: str, url: str, body: bytes
) -> None:
    """The real server sends exactly the models' fields: strict mode is usable against it."""
    transport = httpx.MockTransport(
        lambda _: httpx.Response(200, content=body, headers={"content-type": "application/json"})
    )
    h = dp.new(transport=transport, base_url="http://127.0.0.1:8765/api/v4/", strict=True)
    parts = [p for p in httpx.URL(url).path.removeprefix("/api/v4/").split("/") if p]
    try:
        if parts == ["search"]:
            hits = await h.run(lambda c: c.search("x"))
            assert hits == [] or all(isinstance(hit, SearchResult) for hit in hits)
        elif len(parts) == 2:
            item = await h.run(lambda c: getattr(c, parts[0]).get(parts[1]))
            assert isinstance(item, MODELS[parts[0]])
        else:
            rows = await h.collect(lambda c: getattr(c, parts[0]).list())
            assert len(rows) == len(json.loads(body)["results"])
    finally:
        await h.close()


MODELS: dict[str, type] = {"packages": Package, "grids": Grid, "categories": Category}
