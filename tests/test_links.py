"""The URL table: canonical links, the API root and the URLs built from it."""

from __future__ import annotations

import pytest

from djangopackages_sdk import DEFAULT_BASE_URL, ForeignURLError
from djangopackages_sdk._links import ApiRoot, page_window, parse_resource_link, strip_format
from helpers import API_ROOT as API


@pytest.mark.parametrize(
    ("raw", "collection", "url", "resource_id"),
    [
        (f"{API}packages/1867/", "packages", f"{API}packages/1867/", 1867),
        (f"{API}packages/1867/?format=api", "packages", f"{API}packages/1867/", 1867),
        (f"{API}packages/1867/?format=json", "packages", f"{API}packages/1867/", 1867),
        (f"{API}packages/1867/#frag", "packages", f"{API}packages/1867/", 1867),
        (f"{API}packages/01867/", "packages", f"{API}packages/1867/", 1867),
        (f"{API}grids/0007/?format=api", "grids", f"{API}grids/7/", 7),
        (f"{API}categories/1/", "categories", f"{API}categories/1/", 1),
        ("HTTPS://DjangoPackages.ORG/api/v4/grids/7/", "grids", f"{API}grids/7/", 7),
        (
            "http://127.0.0.1:8765/api/v4/grids/7/",
            "grids",
            "http://127.0.0.1:8765/api/v4/grids/7/",
            7,
        ),
        ("http://localhost/grids/7/", "grids", "http://localhost/grids/7/", 7),
    ],
)
def test_canonical_links(raw: str, collection: str, url: str, resource_id: int) -> None:
    assert parse_resource_link(raw, collection) == (url, resource_id)


@pytest.mark.parametrize(
    ("raw", "collection"),
    [
        (f"{API}grids/7/", "packages"),  # wrong collection
        (f"{API}categories/1/", "grids"),
        ("/api/v4/grids/7/", "grids"),  # relative
        ("grids/7/", "grids"),
        ("ftp://djangopackages.org/api/v4/grids/7/", "grids"),  # not http(s)
        ("javascript:alert(1)", "grids"),
        ("https:///api/v4/grids/7/", "grids"),  # no host
        (f"{API}grids/7", "grids"),  # no trailing slash
        (f"{API}grids/seven/", "grids"),  # a slug, not an id
        (f"{API}grids/-7/", "grids"),
        (f"{API}grids/\uff17/", "grids"),  # a non-ASCII digit (fullwidth 7)
        (f"{API}grids/", "grids"),
        (f"{API}grids/7/extra/", "grids"),
        ("", "grids"),
    ],
)
def test_rejected_links(raw: str, collection: str) -> None:
    with pytest.raises(ValueError, match=r"link|URL"):
        parse_resource_link(raw, collection)


@pytest.mark.parametrize(
    ("url", "stripped"),
    [
        (f"{API}packages/1/?format=api", f"{API}packages/1/"),
        (f"{API}packages/1/?format=json", f"{API}packages/1/"),
        (f"{API}packages/?format=api&limit=20&offset=40", f"{API}packages/?limit=20&offset=40"),
        (f"{API}packages/?limit=20&format=json", f"{API}packages/?limit=20"),
        (f"{API}packages/1/", f"{API}packages/1/"),
        (f"{API}search/?q=two+factor", f"{API}search/?q=two+factor"),
    ],
)
def test_strip_format(url: str, stripped: str) -> None:
    assert strip_format(url) == stripped


# -- the root --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("base", "url", "path", "port"),
    [
        (API, API, "/api/v4/", 443),
        ("https://djangopackages.org/api/v4", API, "/api/v4/", 443),
        ("HTTPS://DjangoPackages.org/api/v4/", API, "/api/v4/", 443),
        (
            "http://127.0.0.1:8765/api/v4",
            "http://127.0.0.1:8765/api/v4/",
            "/api/v4/",
            8765,
        ),
        ("http://example.com", "http://example.com/", "/", 80),
    ],
)
def test_root_parse(base: str, url: str, path: str, port: int) -> None:
    root = ApiRoot.parse(base)
    assert (root.url, root.path, root.port) == (url, path, port)


@pytest.mark.parametrize("base", ["ftp://x.org/api/", "/api/v4/", "djangopackages.org", ""])
def test_root_parse_rejects(base: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        ApiRoot.parse(base)


@pytest.mark.parametrize(
    ("url", "inside"),
    [
        (f"{API}packages/1/", True),
        (API, True),
        (f"{API}packages/?limit=20&offset=20", True),
        ("https://djangopackages.org:443/api/v4/grids/7/", True),  # explicit default port
        ("HTTPS://DJANGOPACKAGES.ORG/api/v4/grids/7/", True),  # case of scheme and host
        ("http://djangopackages.org/api/v4/grids/7/", False),  # scheme
        ("https://evil.example/api/v4/grids/7/", False),  # host
        ("https://djangopackages.org.evil.example/api/v4/grids/7/", False),
        ("https://djangopackages.org:8443/api/v4/grids/7/", False),  # port
        ("https://djangopackages.org:bad/api/v4/grids/7/", False),  # malformed port
        ("https://djangopackages.org/api/v3/grids/7/", False),  # prefix
        ("https://djangopackages.org/grids/7/", False),
        ("https://djangopackages.org/api/v4", False),  # above the root
        ("/api/v4/grids/7/", False),  # relative
    ],
)
def test_root_contains(url: str, inside: bool) -> None:
    assert ApiRoot.parse(API).contains(url) is inside


def test_root_contains_with_port_and_http() -> None:
    root = ApiRoot.parse("http://127.0.0.1:8765/api/v4/")
    assert root.contains("http://127.0.0.1:8765/api/v4/grids/7/")
    assert not root.contains("http://127.0.0.1/api/v4/grids/7/")
    assert not root.contains("https://127.0.0.1:8765/api/v4/grids/7/")
    assert ApiRoot.parse("http://a.org/").contains("http://a.org:80/grids/1/")


def test_root_check() -> None:
    root = ApiRoot.parse(API)
    assert root.check(f"{API}grids/7/?format=api") == f"{API}grids/7/"
    with pytest.raises(ForeignURLError) as info:
        root.check("https://evil.example/api/v4/grids/7/")
    assert info.value.url == "https://evil.example/api/v4/grids/7/"
    assert API in str(info.value)


def test_root_builds_urls() -> None:
    root = ApiRoot.parse(DEFAULT_BASE_URL)
    assert root.collection_url("grids") == f"{API}grids/"
    assert root.list_url("packages", limit=20, offset=0) == f"{API}packages/?limit=20"
    assert root.list_url("packages", limit=20, offset=40) == f"{API}packages/?limit=20&offset=40"
    assert root.detail_url("packages", 1867) == f"{API}packages/1867/"
    assert root.detail_url("packages", "django-otp") == f"{API}packages/django-otp/"
    assert root.detail_url("grids", "a/b?c") == f"{API}grids/a%2Fb%3Fc/"
    assert root.detail_url("grids", "日本") == f"{API}grids/%E6%97%A5%E6%9C%AC/"
    assert root.resource_url("categories", 1) == f"{API}categories/1/"


@pytest.mark.parametrize(
    ("url", "window"),
    [
        (f"{API}packages/?limit=20&offset=40", (20, 40)),
        (f"{API}packages/?limit=20", (20, 0)),
        (f"{API}packages/?offset=40", None),
        (f"{API}packages/?limit=x&offset=40", None),
        (f"{API}packages/?limit=20&offset=x", None),
        (f"{API}packages/", None),
    ],
)
def test_page_window(url: str, window: tuple[int, int] | None) -> None:
    assert page_window(url) == window
