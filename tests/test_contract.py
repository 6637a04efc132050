"""``check_contract`` / ``acheck_contract``: drift between the server and the models."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from conftest import Harness
from djangopackages_sdk._contract import (
    KINDS,
    ContractReport,
    Finding,
    acheck_contract,
    check_contract,
)
from djangopackages_sdk.testing import FakeAPI, LiveServer
from helpers import API_ROOT as ROOT

Edit = Callable[[Any], Any]


def drifting(fake: FakeAPI, edits: dict[str, Edit]) -> httpx.MockTransport:
    """The fake, with the decoded body of some paths (``/api/v4/packages/1867/``) edited."""

    def handle(request: httpx.Request) -> httpx.Response:
        response = fake.handle(request)
        edit = edits.get(request.url.path)
        if edit is None or response.status_code != 200:
            return response
        return httpx.Response(200, json=edit(json.loads(response.content)))

    return httpx.MockTransport(handle)


def with_item(key: str, value: Any) -> Edit:
    def edit(data: Any) -> Any:
        data[key] = value
        return data

    return edit


def without(key: str) -> Edit:
    def edit(data: Any) -> Any:
        del data[key]
        return data

    return edit


async def run_check(h: Harness) -> ContractReport:
    if h.is_async:
        return await h.run(acheck_contract)
    return await h.run(check_contract)


async def check_with(dp: Harness, edits: dict[str, Edit], **options: Any) -> ContractReport:
    h = dp.new(transport=drifting(dp.fake, edits), **options)
    try:
        return await run_check(h)
    finally:
        await h.close()


def only(report: ContractReport, kind: str) -> list[tuple[str, str]]:
    return [(f.resource, f.path) for f in report.findings if f.kind == kind]


async def test_the_sample_matches_the_models_exactly(dp: Harness) -> None:
    report = await run_check(dp)
    assert report.ok, str(report)
    assert report.findings == ()
    assert report.base_url == ROOT
    assert report.checked == (
        ROOT,
        ROOT + "packages/?limit=1",
        ROOT + "packages/1867/",
        ROOT + "categories/1/",
        ROOT + "grids/7/",
        ROOT + "search/?q=django-otp",
    )
    assert report.datetime_formats == ("offset",)
    assert [str(r.url) for r in dp.fake.requests] == list(report.checked)
    assert str(report).startswith(f"contract OK for {ROOT}: 6 request(s), 0 finding(s)")


async def test_a_new_server_field_is_an_unknown_field(dp: Harness) -> None:
    report = await check_with(dp, {"/api/v4/packages/1867/": with_item("stars_2026", 5)})
    assert not report.ok
    assert report.findings == (
        Finding(
            "package",
            "$.stars_2026",
            "unknown-field",
            "the server sends 'stars_2026' (integer), unknown to the model",
        ),
    )
    assert "DRIFT" in str(report)
    assert "  - package $.stars_2026: unknown-field:" in str(report)


async def test_a_field_the_server_stopped_sending_is_missing(dp: Harness) -> None:
    report = await check_with(dp, {"/api/v4/categories/1/": without("show_pypi")})
    assert only(report, "missing-field") == [("category", "$.show_pypi")]
    assert only(report, "type-mismatch") == []  # a missing field is not also a type error
    assert len(report.findings) == 1


async def test_every_changed_type_is_reported_with_its_path(dp: Harness) -> None:
    def edit(data: Any) -> Any:
        data["is_locked"] = "no"
        data["packages"] = [data["packages"][0], 7]
        data["modified"] = "last tuesday"
        return data

    report = await check_with(dp, {"/api/v4/grids/7/": edit})
    assert only(report, "type-mismatch") == [
        ("grid", "$.is_locked"),
        ("grid", "$.packages[1]"),
        ("grid", "$.modified"),
    ]
    assert "expected boolean, got string" in report.findings[0].message
    assert report.of_kind("type-mismatch") == report.findings


async def test_a_row_of_the_packages_page_is_checked_too(dp: Harness) -> None:
    def edit(data: Any) -> Any:
        data["results"][0]["repo_forks"] = "117"
        data["facets"] = {}
        return data

    report = await check_with(dp, {"/api/v4/packages/": edit})
    assert only(report, "type-mismatch") == [("packages page", "$.results[0].repo_forks")]
    assert only(report, "unknown-field") == [("packages page", "$.facets")]


async def test_a_foreign_link_is_reported_and_never_followed(dp: Harness) -> None:
    evil = "https://evil.example/api/v4/categories/1/"
    report = await check_with(dp, {"/api/v4/packages/1867/": with_item("category", evil)})
    assert only(report, "foreign-link") == [("package", "$.category")]
    assert evil in report.findings[0].message
    # The category is still checked, found through its list instead.
    assert ROOT + "categories/?limit=1" in report.checked
    assert ROOT + "categories/1/" in report.checked
    assert all(r.url.host == "djangopackages.org" for r in dp.fake.requests)


async def test_pagination_links_off_the_api_are_foreign(dp: Harness) -> None:
    report = await check_with(
        dp,
        {"/api/v4/packages/": with_item("next", "http://djangopackages.org/api/v4/packages/")},
    )
    assert only(report, "foreign-link") == [("packages page", "$.next")]


async def test_a_root_index_with_a_new_collection(dp: Harness) -> None:
    report = await check_with(dp, {"/api/v4/": with_item("users", ROOT + "users/")})
    assert [(f.resource, f.path, f.kind) for f in report.findings] == [
        ("root", "$.users", "unknown-field")
    ]


async def test_a_drift_in_every_search_result_is_reported_once(dp: Harness) -> None:
    def edit(data: Any) -> Any:
        for item in data:
            del item["usage"]
        return data

    report = await check_with(dp, {"/api/v4/search/": edit})
    assert only(report, "missing-field") == [("search", "$[0].usage")]


async def test_a_server_error_is_a_fetch_error_finding(dp: Harness) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v4/categories/1/":
            return httpx.Response(500, text="<h1>Server Error</h1>")
        return dp.fake.handle(request)

    h = dp.new(transport=httpx.MockTransport(handle), max_retries=0)
    try:
        report = await run_check(h)
    finally:
        await h.close()
    assert [(f.resource, f.kind) for f in report.findings] == [("category", "fetch-error")]
    assert "HTTP 500" in report.findings[0].message


async def test_datetime_formats_are_reported_and_a_mix_is_a_finding(dp: Harness) -> None:
    report = await check_with(
        dp, {"/api/v4/grids/7/": with_item("created", "2024-06-01T07:50:28Z")}
    )
    assert report.ok
    assert report.datetime_formats == ("Z", "offset")

    report = await check_with(dp, {"/api/v4/grids/7/": with_item("created", "2024-06-01T07:50:28")})
    assert report.datetime_formats == ("naive", "offset")
    assert [f.kind for f in report.findings] == ["mixed-datetimes"]


async def test_a_body_of_the_wrong_shape(dp: Harness) -> None:
    report = await check_with(
        dp, {"/api/v4/packages/": lambda data: data["results"], "/api/v4/search/": lambda _: {}}
    )
    assert [(f.resource, f.path, f.kind) for f in report.findings] == [
        ("packages page", "$", "type-mismatch"),
        ("search", "$", "type-mismatch"),
    ]
    # No package id, so no detail: the category and grid come from their lists.
    assert ROOT + "categories/?limit=1" in report.checked
    assert ROOT + "grids/?limit=1" in report.checked


def test_kinds_are_documented() -> None:
    assert set(KINDS) == {
        "unknown-field",
        "missing-field",
        "type-mismatch",
        "foreign-link",
        "fetch-error",
        "mixed-datetimes",
    }


@pytest.fixture
def server() -> Any:
    with LiveServer(FakeAPI.with_sample_data()) as live:
        yield live


def test_without_a_client_a_temporary_one_is_used(server: LiveServer) -> None:
    report = check_contract(base_url=server.base_url)
    assert report.ok, str(report)
    assert report.base_url == server.base_url
    assert len(server.hits) == 6


async def test_async_without_a_client_a_temporary_one_is_used(server: LiveServer) -> None:
    report = await acheck_contract(base_url=server.base_url)
    assert report.ok, str(report)
    assert [h.path for h in server.hits][-1] == "/api/v4/search/?q=django-otp"
