"""A wrong ``base_url`` is named as such, never taken for an unknown slug."""

from __future__ import annotations

import json

import httpx
import pytest

from conftest import Harness
from djangopackages_sdk import BaseURLError, NotFoundError, PayloadError


@pytest.mark.parametrize(
    "base_url",
    [
        "https://djangopackages.org/",
        "https://djangopackages.org/api/",
        "https://djangopackages.org/api/v5/",
    ],
)
async def test_a_wrong_base_url_says_so(dp: Harness, base_url: str) -> None:
    h = dp.new(base_url=base_url)
    try:
        with pytest.raises(BaseURLError, match="base_url"):
            await h.run(lambda c: c.packages.get("django-otp"))
        with pytest.raises(BaseURLError, match="base_url"):
            await h.collect(lambda c: c.packages.list())
    finally:
        await h.close()


@pytest.mark.parametrize("collection", ["packages", "grids/", "categories", "search/"])
def test_a_collection_url_is_refused_as_base_url(collection: str) -> None:
    from djangopackages_sdk import Client

    with pytest.raises(ValueError, match="base_url"):
        Client(f"https://djangopackages.org/api/v4/{collection}")


async def test_an_unknown_slug_is_still_not_found(dp: Harness) -> None:
    with pytest.raises(NotFoundError) as info:
        await dp.run(lambda c: c.packages.get("no-such-package"))
    assert not isinstance(info.value, BaseURLError)
    assert "base_url" not in str(info.value)


def _older_api(request: httpx.Request) -> httpx.Response:
    # The live site's /api/v3/ answers JSON of other shapes.
    if request.url.path.endswith("/packages/"):
        return httpx.Response(200, json={"meta": {"total_count": 1}, "objects": [{"title": "x"}]})
    return httpx.Response(200, json={"title": "django-otp", "grids": "/api/v3/grids/7/"})


async def test_a_wrong_shape_on_a_clients_first_call_hints_at_base_url(dp: Harness) -> None:
    h = dp.new(
        base_url="https://djangopackages.org/api/v3/", transport=httpx.MockTransport(_older_api)
    )
    try:
        with pytest.raises(PayloadError, match="base_url"):
            await h.run(lambda c: c.packages.get("django-otp"))
        with pytest.raises(PayloadError, match="base_url"):
            await h.collect(lambda c: c.packages.list())
    finally:
        await h.close()


async def test_a_wrong_shape_after_good_answers_has_no_base_url_hint(dp: Harness) -> None:
    good = dp.fake

    def later_broken(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/359/"):
            return httpx.Response(200, content=json.dumps({"id": 359}).encode())
        return good.handle(request)

    h = dp.new(transport=httpx.MockTransport(later_broken))
    try:
        await h.run(lambda c: c.packages.get("django-otp"))
        with pytest.raises(PayloadError) as info:
            await h.run(lambda c: c.packages.get(359))
        assert "base_url" not in str(info.value)
    finally:
        await h.close()
