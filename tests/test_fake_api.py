"""The in-memory fake API (``djangopackages_sdk.testing``) against the recorded server.

Most tests replay a genuine recorded exchange against a fake holding the same
resources and demand the very same bytes back.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from djangopackages_sdk._convert import get_converter
from djangopackages_sdk._models import Category, Grid, Package, SearchResult
from djangopackages_sdk.testing import (
    FakeAPI,
    load_sample_data,
    sample_categories,
    sample_grids,
    sample_packages,
)
from helpers import API_ROOT as API
from helpers import LOCAL_ROOT as LOCAL

FIXTURES = Path(__file__).parent / "fixtures"
REAL = FIXTURES / "real-api"
SEEDS = FIXTURES / "seeds"

SAMPLE_PACKAGE_IDS = [1867, 1672, 1412, 1306, 359]


# -- helpers -------------------------------------------------------------------------
def exchange(name: str | Path) -> dict[str, Any]:
    """One recorded exchange: a file name in ``fixtures/real-api``, or a path."""
    path = name if isinstance(name, Path) else REAL / name
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def body_of(ex: Mapping[str, Any]) -> Any:
    return json.loads(ex["response"]["body"])


def names(pattern: str) -> list[str]:
    return sorted(path.name for path in REAL.glob(pattern))


def replay(fake: FakeAPI, ex: Mapping[str, Any]) -> httpx.Response:
    """Send the recorded request (method, URL, Accept) through the fake."""
    request = ex["request"]
    with httpx.Client(transport=fake.transport) as client:
        return client.request(
            request["method"],
            request["url"],
            headers={"accept": request.get("headers", {}).get("accept", "application/json")},
        )


def assert_same_response(response: httpx.Response, ex: Mapping[str, Any]) -> None:
    """Status, body bytes and the API's own headers equal the recording."""
    recorded = ex["response"]
    assert response.status_code == recorded["status"]
    assert response.content == recorded["body"].encode("utf-8")
    for header in ("content-type", "vary", "allow", "content-length"):
        assert response.headers[header] == recorded["headers"][header], header


def query_int(url: str, name: str) -> int:
    values = parse_qs(urlsplit(url).query).get(name)
    return int(values[-1]) if values else 0


def padded_fake(kind: str, ex: Mapping[str, Any]) -> FakeAPI:
    """A fake whose list page at the recorded offset is exactly the recorded page.

    The recorded rows are surrounded by filler rows: ``offset`` newer ones and
    enough older ones to reach the recorded ``count``.
    """
    body = body_of(ex)
    results: list[dict[str, Any]] = body["results"]
    offset = query_int(ex["request"]["url"], "offset")
    ids = [row["id"] for row in results]
    newer = offset
    older = body["count"] - offset - len(results)
    assert older < min(ids), "not enough free ids below the page"
    template = results[0]
    fillers = [
        dict(template, id=max(ids) + 1 + n, slug=f"filler-{max(ids) + 1 + n}") for n in range(newer)
    ]
    fillers += [dict(template, id=n, slug=f"filler-{n}") for n in range(1, older + 1)]
    fake = FakeAPI()
    fake.add(*results, *fillers, kind=kind)
    return fake


def recorded_catalogue() -> FakeAPI:
    """Every package, grid and category body found in the recordings."""
    fake = FakeAPI()
    for path in sorted(REAL.glob("*.json")):
        ex = exchange(path.name)
        if ex["request"]["method"] != "GET" or ex["response"]["status"] != 200:
            continue
        url = ex["request"]["url"]
        body = body_of(ex)
        kind = next(
            (k for k in ("packages", "grids", "categories") if f"/api/v4/{k}/" in url), None
        )
        if kind is None:
            continue
        fake.add(*body.get("results", [body]), kind=kind)
    return fake


@pytest.fixture
def sample() -> FakeAPI:
    return FakeAPI.with_sample_data()


@pytest.fixture
def client(sample: FakeAPI) -> Iterator[httpx.Client]:
    with httpx.Client(transport=sample.transport, base_url=API) as http:
        yield http


# -- byte-for-byte replays of the recordings -----------------------------------------
@pytest.mark.parametrize("name", [n for n in names("packages-list-*.json") if "head" not in n])
def test_package_pages_match_recordings(name: str) -> None:
    ex = exchange(name)
    assert_same_response(replay(padded_fake("package", ex), ex), ex)


@pytest.mark.parametrize("name", [*names("grids-list-*.json"), *names("categories-list*.json")])
def test_grid_and_category_pages_match_recordings(name: str) -> None:
    ex = exchange(name)
    kind = "grid" if name.startswith("grids") else "category"
    assert_same_response(replay(padded_fake(kind, ex), ex), ex)


def test_head_matches_recording() -> None:
    head = exchange("packages-list-head.json")
    fake = padded_fake("package", exchange("packages-list-first-page.json"))
    response = replay(fake, head)
    assert response.status_code == 200
    assert response.content == b""
    for header in ("content-type", "vary", "allow", "content-length"):
        assert response.headers[header] == head["response"]["headers"][header]


DETAILS = [
    name
    for name in names("*-detail-*.json")
    if exchange(name)["response"]["status"] == 200 and exchange(name)["request"]["method"] == "GET"
]


@pytest.mark.parametrize("name", DETAILS)
def test_details_match_recordings(name: str) -> None:
    ex = exchange(name)
    fake = FakeAPI()
    kind = name.split("-", 1)[0]
    fake.add(body_of(ex), kind=kind)
    assert_same_response(replay(fake, ex), ex)


@pytest.mark.parametrize("name", names("*-404-*.json"))
def test_not_found_bodies_match_recordings(name: str) -> None:
    fake = recorded_catalogue()
    ex = exchange(name)
    assert_same_response(replay(fake, ex), ex)


@pytest.mark.parametrize(
    "name", ["root.json", "packages-detail-options.json", "packages-detail-post-405.json"]
)
def test_root_options_and_405_match_recordings(name: str) -> None:
    fake = recorded_catalogue()
    ex = exchange(name)
    assert_same_response(replay(fake, ex), ex)


def test_format_json_matches_recording() -> None:
    ex = exchange("packages-detail-format-json.json")
    fake = FakeAPI(packages=[body_of(exchange("packages-detail-by-id-1867-django-otp.json"))])
    assert_same_response(replay(fake, ex), ex)


@pytest.mark.parametrize("path", sorted(SEEDS.glob("*.json")), ids=lambda p: p.stem)
def test_sample_serves_the_seeds(path: Path) -> None:
    """The live bodies (two with ``?format=api`` links) come back from the sample."""
    ex = exchange(path)
    response = replay(FakeAPI.with_sample_data(), ex)
    assert response.status_code == 200
    assert response.json() == body_of(ex)


@pytest.mark.parametrize(
    "name", ["search-q-empty.json", "search-no-q-param.json", "search-q-no-results.json"]
)
def test_search_without_hits_matches_recording(name: str) -> None:
    ex = exchange(name)
    assert_same_response(replay(recorded_catalogue(), ex), ex)


SEARCHES = [name for name in names("search-*.json") if body_of(exchange(name))]


@pytest.mark.parametrize("name", SEARCHES)
def test_search_result_shape_matches_recording(name: str) -> None:
    ex = exchange(name)
    recorded: list[dict[str, Any]] = body_of(ex)
    response = replay(recorded_catalogue(), ex)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    results: list[dict[str, Any]] = response.json()
    assert results
    expected_keys = list(recorded[0])
    for result in results:
        assert list(result) == expected_keys
        get_converter(strict=True).structure(result, SearchResult)
        kind = result["item_type"]
        sample = (
            next(r for r in recorded if r["item_type"] == kind)
            if kind in {r["item_type"] for r in recorded}
            else None
        )
        if sample is not None:
            for key, value in sample.items():
                assert type(result[key]) is type(value) or value is None or result[key] is None, key
    # Hits present in both answers carry the same raw data.
    fake_by_slug = {(r["item_type"], r["slug"]): r for r in results}
    shared = 0
    for hit in recorded:
        mine = fake_by_slug.get((hit["item_type"], hit["slug"]))
        if mine is None:
            continue
        shared += 1
        for key in (
            "title",
            "slug",
            "description",
            "absolute_url",
            "category",
            "repo_watchers",
            "repo_forks",
            "participants",
            "last_committed",
            "item_type",
            "title_no_prefix",
            "slug_no_prefix",
            "clean_title",
        ):
            assert mine[key] == hit[key], (hit["slug"], key)
        if hit["item_type"] == "grid":
            assert (mine["last_committed"], mine["last_released"]) == (None, None)
    assert shared


def test_search_is_capped_at_20() -> None:
    ex = exchange("search-q-django-capped-at-20.json")
    assert len(body_of(ex)) == 20
    response = replay(recorded_catalogue(), ex)
    assert len(response.json()) == 20


# -- pagination edge cases -------------------------------------------------------------
def page(client: httpx.Client, query: str) -> dict[str, Any]:
    response = client.get(f"packages/{query}")
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


@pytest.mark.parametrize(
    "query", ["", "?limit=0", "?limit=-5", "?limit=abc", "?limit=", "?offset=-3", "?offset=x"]
)
def test_invalid_limit_and_offset_fall_back(client: httpx.Client, query: str) -> None:
    data = page(client, query)
    assert data["count"] == 5
    assert [row["id"] for row in data["results"]] == SAMPLE_PACKAGE_IDS
    assert data["next"] is None
    assert data["previous"] is None


def test_pages_walk_newest_first(client: httpx.Client) -> None:
    first = page(client, "?limit=2")
    assert [row["id"] for row in first["results"]] == [1867, 1672]
    assert first["next"] == f"{API}packages/?limit=2&offset=2"
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    assert [row["id"] for row in second["results"]] == [1412, 1306]
    assert second["previous"] == f"{API}packages/?limit=2"  # offset 0 is dropped
    third = client.get(second["next"]).json()
    assert [row["id"] for row in third["results"]] == [359]
    assert third["next"] is None
    assert third["previous"] == f"{API}packages/?limit=2&offset=2"


def test_offset_past_the_end(client: httpx.Client) -> None:
    data = page(client, "?offset=99")
    assert data["results"] == []
    assert data["next"] is None
    assert data["previous"] == f"{API}packages/?limit=20&offset=79"


def test_no_maximum_limit(client: httpx.Client) -> None:
    data = page(client, "?limit=100000")
    assert len(data["results"]) == 5
    assert data["next"] is None


def test_other_parameters_are_kept_and_sorted(client: httpx.Client) -> None:
    data = page(client, "?zeta=1&limit=2&alpha=x&offset=1")
    assert data["next"] == f"{API}packages/?alpha=x&limit=2&offset=3&zeta=1"
    assert data["previous"] == f"{API}packages/?alpha=x&limit=2&zeta=1"


def test_repeated_parameter_uses_the_last_value(client: httpx.Client) -> None:
    data = page(client, "?limit=1&limit=3")
    assert len(data["results"]) == 3


# -- lookups and errors --------------------------------------------------------------
def test_numeric_key_is_an_id(client: httpx.Client) -> None:
    assert client.get("packages/01867/").json()["slug"] == "django-otp"
    assert client.get("grids/007/").json()["slug"] == "authentication"
    assert client.get("categories/01/").json()["slug"] == "apps"


def test_slug_lookup_is_case_sensitive(client: httpx.Client) -> None:
    assert client.get("packages/django-otp/").status_code == 200
    response = client.get("packages/Django-OTP/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No Package matches the given query."}
    assert client.get("grids/Authentication/").json() == {
        "detail": "No Grid matches the given query."
    }


def test_category_by_slug_is_not_found(client: httpx.Client) -> None:
    response = client.get("categories/apps/")
    assert response.status_code == 404
    assert response.content == b'{"detail":"Not found."}'
    assert client.get("categories/2/").json() == {"detail": "No Category matches the given query."}


def test_missing_trailing_slash_redirects(client: httpx.Client) -> None:
    response = client.get("packages/django-otp?x=1")
    assert response.status_code == 301
    assert response.headers["location"] == "/api/v4/packages/django-otp/?x=1"
    assert response.content == b""
    assert response.headers["content-type"].startswith("text/html")
    assert client.get("packages").headers["location"] == "/api/v4/packages/"
    assert client.get("https://djangopackages.org/api/v4").headers["location"] == "/api/v4/"
    followed = client.get("packages/django-otp", follow_redirects=True)
    assert followed.status_code == 200
    assert followed.json()["id"] == 1867


@pytest.mark.parametrize("method", ["PUT", "POST", "PATCH", "DELETE"])
def test_writes_are_not_allowed(client: httpx.Client, method: str) -> None:
    response = client.request(method, "packages/django-otp/")
    assert response.status_code == 405
    assert response.json() == {"detail": f'Method "{method}" not allowed.'}
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


def test_head_answers_get_headers_without_body(client: httpx.Client) -> None:
    for path in ("packages/django-otp/", "grids/?limit=3", "packages/nope/", "search/?q=otp"):
        get = client.get(path)
        head = client.head(path)
        assert head.status_code == get.status_code
        assert head.content == b""
        assert head.headers["content-length"] == str(len(get.content))
        assert head.headers["content-type"] == get.headers["content-type"]


def test_options(client: httpx.Client) -> None:
    detail = client.options("packages/django-otp/").json()
    assert detail["name"] == "Package Instance"
    assert client.options("grids/").json()["name"] == "Grid List"


@pytest.mark.parametrize(
    "url",
    [
        f"{API}nope/",
        f"{API}nope",
        f"{API}packages/1867/grids/",
        f"{API}packages/a.b/",
        "https://djangopackages.org/elsewhere/",
    ],
)
def test_unknown_route_is_an_html_404(client: httpx.Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.lstrip().lower().startswith("<!doctype html>")


def test_unacceptable_accept_header(client: httpx.Client) -> None:
    response = client.get("packages/", headers={"accept": "application/xml"})
    assert response.status_code == 406
    assert "detail" in response.json()
    assert client.get("packages/", headers={"accept": "text/html;q=0.9"}).status_code == 200


def test_headers_like_the_real_server(client: httpx.Client) -> None:
    response = client.get("packages/django-otp/")
    assert response.headers["content-type"] == "application/json"
    assert response.headers["vary"] == "Accept, Cookie"
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"
    assert response.headers["content-length"] == str(len(response.content))
    for absent in ("cache-control", "etag", "last-modified"):
        assert absent not in response.headers


# -- hyperlinks ----------------------------------------------------------------------
def test_links_follow_the_request_host(sample: FakeAPI) -> None:
    with httpx.Client(transport=sample.transport) as http:
        local = http.get("http://127.0.0.1:8765/api/v4/packages/1867/").json()
        live = http.get(f"{API}packages/1867/").json()
        forwarded = http.get(
            "http://127.0.0.1:8765/api/v4/packages/1867/", headers={"x-forwarded-proto": "https"}
        ).json()
    assert local["category"] == f"{LOCAL}categories/1/"
    assert local["grids"] == [f"{LOCAL}grids/7/", f"{LOCAL}grids/426/"]
    assert live["category"] == f"{API}categories/1/"
    assert forwarded["category"] == "https://127.0.0.1:8765/api/v4/categories/1/"


@pytest.mark.parametrize("fmt", ["json", "api"])
def test_format_is_copied_into_every_link(client: httpx.Client, fmt: str) -> None:
    suffix = f"?format={fmt}"
    root = client.get(f"{API}{suffix}").json()
    assert root["grids"] == f"{API}grids/{suffix}"
    grids = client.get(f"grids/{suffix}&limit=1").json()
    assert grids["next"] == f"{API}grids/?format={fmt}&limit=1&offset=1"
    assert all(url.endswith(f"/{suffix}") for url in grids["results"][0]["packages"])
    package = client.get(f"packages/1867/{suffix}").json()
    assert package["category"] == f"{API}categories/1/{suffix}"


def test_unknown_format_is_not_found(client: httpx.Client) -> None:
    response = client.get("packages/?format=xml")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_custom_path_prefix() -> None:
    fake = FakeAPI.with_sample_data(base_url="http://testserver/mirror/api")
    assert fake.base_url == "http://testserver/mirror/api/"
    with httpx.Client(transport=fake.transport) as http:
        data = http.get("http://testserver/mirror/api/packages/359/").json()
        assert data["grids"] == ["http://testserver/mirror/api/grids/45/"]
        assert http.get("http://testserver/api/v4/packages/359/").status_code == 404
    assert fake.packages[359]["category"] == "http://testserver/mirror/api/categories/1/"


def test_line_separators_are_escaped() -> None:
    fake = FakeAPI(categories=[{"id": 9, "title": "a\u2028b\u2029c", "show_pypi": True}])
    response = fake.handle(httpx.Request("GET", f"{API}categories/9/"))
    assert b"a\\u2028b\\u2029c" in response.content
    assert response.json()["title"] == "a\u2028b\u2029c"


# -- search --------------------------------------------------------------------------
def test_search_ranking_is_deterministic(client: httpx.Client) -> None:
    results = client.get("search/", params={"q": "Authentication"}).json()
    assert [(r["item_type"], r["slug"]) for r in results] == [
        ("grid", "authentication"),  # exact slug
        ("grid", "two-factor-authentication"),  # in the title
        ("package", "django-otp"),  # in the description only
    ]


def test_search_ignores_limit_and_offset(client: httpx.Client) -> None:
    plain = client.get("search/?q=django").json()
    assert client.get("search/?q=django&limit=1&offset=3").json() == plain
    assert {r["slug"] for r in plain if r["item_type"] == "package"} == {
        "django-messages",
        "django-session-security",
        "django-organizations",
        "django-stronghold",
        "django-otp",
    }


def test_search_package_fields(client: httpx.Client) -> None:
    (hit,) = client.get("search/?q=django-otp").json()
    assert hit["category"] == "App"
    assert hit["absolute_url"] == "/packages/p/django-otp/"
    assert hit["participants"].split(",")[:2] == ["psagers", "claudep"]
    assert hit["last_committed"] == "2026-01-07T14:56:37-05:00"
    assert hit["usage"] == 2
    assert hit["score"] == hit["repo_watchers"] + hit["repo_forks"]
    for key in ("weight", "score", "usage", "pypi_downloads"):
        assert type(hit[key]) is int


def test_search_expands_shortcodes_but_details_stay_raw() -> None:
    row = dict(otp_row(), id=5, slug="sparkly", repo_description=":sparkles: fast :couple:")
    fake = FakeAPI(packages=[row])
    (hit,) = fake.search_results("fast")
    assert hit["description"] == "\u2728 fast :couple:"
    assert fake.packages[5]["repo_description"] == ":sparkles: fast :couple:"


@pytest.mark.parametrize("q", ["", "   "])
def test_blank_search_is_empty(client: httpx.Client, q: str) -> None:
    assert client.get("search/", params={"q": q}).content == b"[]"


def test_search_words_must_all_match(sample: FakeAPI) -> None:
    assert [r["slug"] for r in sample.search_results("two factor")] == [
        "two-factor-authentication",  # both words in the title
        "django-otp",  # both in the description; a package, with stars
        "authentication",  # both in the description; a grid
    ]
    assert sample.search_results("two nothing") == []


# -- content management --------------------------------------------------------------
def otp_row() -> dict[str, Any]:
    row: dict[str, Any] = body_of(exchange("packages-detail-by-id-1867-django-otp.json"))
    return row


def test_add_replace_remove(client: httpx.Client, sample: FakeAPI) -> None:
    assert client.get("packages/").json()["count"] == 5  # warm the caches
    new = dict(otp_row(), id=9000, slug="django-new", title="New", grids=[7], category=1)
    sample.add(new)
    listing = client.get("packages/?limit=1").json()
    assert listing["count"] == 6
    assert listing["results"][0]["title"] == "New"
    assert listing["results"][0]["grids"] == [f"{API}grids/7/"]
    sample.add(dict(new, title="Renamed"))
    assert client.get("packages/9000/").json()["title"] == "Renamed"
    assert client.get("packages/django-new/").json()["id"] == 9000
    sample.remove("package", 9000)
    assert client.get("packages/9000/").status_code == 404
    assert client.get("packages/django-new/").status_code == 404
    assert client.get("packages/").json()["count"] == 5
    with pytest.raises(KeyError):
        sample.remove("packages", 9000)


def test_add_models_and_all_kinds(sample: FakeAPI) -> None:
    fake = FakeAPI()
    fake.add(*sample_packages(), *sample_grids(), *sample_categories())
    assert sorted(fake.packages) == sorted(sample.packages)
    assert fake.grids == sample.grids
    assert fake.categories[1] == sample.categories[1]
    assert fake.packages[1867] == sample.packages[1867]


def test_constructor_takes_models_and_mappings() -> None:
    data = load_sample_data()
    fake = FakeAPI(packages=sample_packages(), grids=data["grids"], categories=sample_categories())
    assert len(fake.packages) == 5
    assert len(fake.grids) == 8
    assert len(fake.categories) == 1


def test_models_round_trip_their_datetimes() -> None:
    fake = FakeAPI(packages=sample_packages())
    (original,) = (p for p in load_sample_data()["packages"] if p["id"] == 1867)
    served = fake.packages[1867]
    assert get_converter().structure(served, Package) == get_converter().structure(
        original, Package
    )


def test_add_rejects_bad_input(sample: FakeAPI) -> None:
    with pytest.raises(ValueError, match="kind"):
        sample.add({"id": 1, "title": "?"})
    with pytest.raises(ValueError, match="kind"):
        sample.add({"id": 1}, kind="widget")
    with pytest.raises(ValueError, match="id"):
        sample.add({"title": "x", "show_pypi": True})
    with pytest.raises(ValueError, match="grids"):
        sample.add(dict(otp_row(), grids=["https://example.com/not/a/link/"]))
    with pytest.raises(TypeError):
        sample.add(42)  # type: ignore[arg-type]
    assert len(sample.packages) == 5  # nothing half-added


def test_kind_can_be_forced(sample: FakeAPI) -> None:
    sample.add({"id": 77, "title": "Bare"}, kind="categories")
    assert sample.categories[77] == {"id": 77, "title": "Bare"}


def test_views_are_read_only_copies(sample: FakeAPI) -> None:
    view = sample.packages
    assert list(view) == SAMPLE_PACKAGE_IDS
    assert 1867 in view
    assert 1 not in view
    row = view[1867]
    row["title"] = "changed"
    row["participants"].clear()
    assert view[1867]["title"] == "django-otp"
    assert view[1867]["participants"]
    with pytest.raises(KeyError):
        view[1]
    assert not hasattr(view, "__setitem__")


def test_added_mapping_is_copied(sample: FakeAPI) -> None:
    row = dict(otp_row(), id=9001, slug="copy")
    sample.add(row)
    row["participants"].append("intruder")
    row["title"] = "mutated"
    assert "intruder" not in sample.packages[9001]["participants"]
    assert sample.packages[9001]["title"] == "django-otp"


def test_request_log(sample: FakeAPI, client: httpx.Client) -> None:
    client.get("packages/")
    client.get("packages/django-otp/")
    client.put("packages/django-otp/")
    assert [(r.method, str(r.url)) for r in sample.requests] == [
        ("GET", f"{API}packages/"),
        ("GET", f"{API}packages/django-otp/"),
        ("PUT", f"{API}packages/django-otp/"),
    ]
    sample.clear_requests()
    assert sample.requests == []


def test_handle_is_usable_directly(sample: FakeAPI) -> None:
    response = sample.handle(httpx.Request("GET", f"{API}grids/teams/"))
    response.raise_for_status()
    assert response.json()["id"] == 243
    assert len(sample.requests) == 1


def test_big_single_page_is_cached_and_consistent() -> None:
    template = otp_row()
    fake = FakeAPI(
        packages=[dict(template, id=n, slug=f"pkg-{n}") for n in range(1, 5401)],
    )
    url = f"{LOCAL}packages/?limit=5400"
    first = fake.handle(httpx.Request("GET", url))
    second = fake.handle(httpx.Request("GET", url))
    assert first.content == second.content
    data = first.json()
    assert data["count"] == 5400
    assert len(data["results"]) == 5400
    assert data["next"] is None
    assert data["results"][0]["grids"][0] == f"{LOCAL}grids/7/"
    other_host = fake.handle(httpx.Request("GET", f"{API}packages/?limit=1")).json()
    assert other_host["results"][0]["category"] == f"{API}categories/1/"


# -- the bundled sample ----------------------------------------------------------------
def test_every_link_in_the_sample_resolves(client: httpx.Client) -> None:
    data = load_sample_data()
    links: list[str] = []
    for package in data["packages"]:
        links += [package["category"], *package["grids"]]
    for grid in data["grids"]:
        links += grid["packages"]
    assert links
    for link in links:
        assert link.startswith(API)
        assert client.get(link).status_code == 200, link
    # ...and relations are symmetric.
    grids_of = {p["id"]: set(p["grids"]) for p in data["packages"]}
    for grid in data["grids"]:
        for url in grid["packages"]:
            assert f"{API}grids/{grid['id']}/" in grids_of[int(url.rstrip("/").rsplit("/", 1)[1])]


def test_sample_is_served_by_the_fake(client: httpx.Client) -> None:
    data = load_sample_data()
    for kind, rows in data.items():
        for row in rows:
            assert client.get(f"{kind}/{row['id']}/").json() == row


def test_sample_models() -> None:
    packages = sample_packages()
    assert [p.id for p in packages] == sorted(SAMPLE_PACKAGE_IDS)
    assert all(isinstance(p, Package) for p in packages)
    assert [g.id for g in sample_grids()] == [7, 28, 45, 66, 114, 153, 243, 426]
    assert all(isinstance(g, Grid) for g in sample_grids())
    (category,) = sample_categories()
    assert isinstance(category, Category)
    assert category.title == "App"
    for package in packages:
        assert "format" not in package.category.url
        assert all("?" not in link.url for link in package.grids)


def test_sample_values_come_from_the_seeds() -> None:
    by_id = {p["id"]: p for p in load_sample_data()["packages"]}
    for path in SEEDS.glob("*.json"):
        seed = body_of(exchange(path))
        stored = by_id[seed["id"]]
        for key, value in seed.items():
            if key not in ("category", "grids"):
                assert stored[key] == value, (seed["id"], key)


def test_sample_file_is_up_to_date() -> None:
    script = Path(__file__).parent.parent / "scripts" / "make_sample_data.py"
    spec = importlib.util.spec_from_file_location("make_sample_data", script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0


def test_sample_structures_strictly(client: httpx.Client) -> None:
    converter = get_converter(strict=True)
    for row in client.get("packages/").json()["results"]:
        converter.structure(row, Package)
    for row in client.get("grids/").json()["results"]:
        converter.structure(row, Grid)
    for row in client.get("categories/").json()["results"]:
        converter.structure(row, Category)


# -- async -------------------------------------------------------------------------
async def test_async_client(sample: FakeAPI) -> None:
    async with httpx.AsyncClient(transport=sample.transport, base_url=API) as http:
        listing = (await http.get("packages/?limit=2")).json()
        assert [row["id"] for row in listing["results"]] == [1867, 1672]
        detail = await http.get("grids/authentication/")
        assert detail.json()["packages"] == [f"{API}packages/1867/", f"{API}packages/1672/"]
        head = await http.head("packages/")
        assert head.content == b""
        assert (await http.get("search/?q=otp")).json()[0]["slug"] == "django-otp"
        assert (await http.delete("packages/1/")).status_code == 405
        assert (await http.get("packages/django-otp")).status_code == 301
    assert len(sample.requests) == 6


async def test_async_replay_of_a_recording() -> None:
    ex = exchange("grids-list-limit-5-offset-5.json")
    fake = padded_fake("grid", ex)
    async with httpx.AsyncClient(transport=fake.transport) as http:
        response = await http.get(ex["request"]["url"])
    assert_same_response(response, ex)
