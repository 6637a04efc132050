"""Listings against servers that lie: a huge ``count``, an HTML page mid-crawl."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from conftest import Harness
from djangopackages_sdk import NotJSONError
from djangopackages_sdk.testing import FakeAPI
from helpers import many_packages

LIE = 100_000_000


def _lying_count(fake: FakeAPI) -> httpx.MockTransport:
    """Every page claims LIE rows and a next page, whatever it holds."""

    def handle(request: httpx.Request) -> httpx.Response:
        response = fake.handle(request)
        if "limit" not in request.url.params:
            return response
        data = json.loads(response.content)
        limit = int(request.url.params["limit"])
        offset = int(request.url.params.get("offset", 0))
        data["count"] = LIE
        data["next"] = str(request.url.copy_merge_params({"offset": offset + limit}))
        return httpx.Response(200, json=data)

    return httpx.MockTransport(handle)


@pytest.mark.parametrize("page_size", [None, 50])
async def test_a_lying_count_ends_at_the_first_empty_page(dp: Harness, page_size: Any) -> None:
    fake = many_packages(450)
    h = dp.new(fake=fake, transport=_lying_count(fake))
    try:
        iterator: Any = h.client.packages.list(page_size=page_size)
        rows = await h.collect(lambda c: iterator)
        assert sorted(p.id for p in rows) == sorted(fake.packages)
        assert len(fake.requests) <= 20
        # A second listing on a client that now "knows" the count stays bounded too.
        fake.clear_requests()
        catalog = await h.run(lambda c: c.catalog())
        assert len(catalog.packages) == 450
        assert len(fake.requests) <= 20
    finally:
        await h.close()


def _html_for_one_slice(fake: FakeAPI) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("offset") not in (None, "0") and "packages" in request.url.path:
            page = b"<!DOCTYPE html><html><body>Checking your browser...</body></html>"
            return httpx.Response(200, content=page, headers={"content-type": "text/html"})
        return fake.handle(request)

    return httpx.MockTransport(handle)


@pytest.mark.parametrize("on_error", ["raise", "skip"])
async def test_an_html_page_mid_crawl_is_not_bisected_as_bad_rows(
    dp: Harness, on_error: Any
) -> None:
    fake = many_packages(450)
    h = dp.new(fake=fake, transport=_html_for_one_slice(fake), max_retries=0)
    try:
        with pytest.raises(NotJSONError, match="HTML"):
            await h.collect(lambda c: c.packages.list(on_error=on_error))
        assert len(fake.requests) <= 8
    finally:
        await h.close()
