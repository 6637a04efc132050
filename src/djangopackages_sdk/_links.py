"""The one place where URLs are parsed, checked and built.

The API root (``https://djangopackages.org/api/v4/``) fixes a scheme, host, port
and path prefix. Links from payloads are canonicalised here (query and fragment
dropped, id normalised) and only URLs inside the root are ever requested, so a
poisoned record cannot send the client anywhere else.
"""

from __future__ import annotations

import re
from typing import Any, Final
from urllib.parse import SplitResult, parse_qsl, quote, urlencode, urlsplit

import attrs

from ._exceptions import ForeignURLError
from ._registry import COLLECTIONS

DEFAULT_BASE_URL: Final = "https://djangopackages.org/api/v4/"
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


def _origin(parts: SplitResult) -> tuple[str, str, int]:
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    return scheme, host, port


@attrs.frozen
class ApiRoot:
    """The configured API root and every URL computed from it."""

    url: str
    scheme: str
    host: str
    port: int
    path: str

    @classmethod
    def parse(cls, base_url: str) -> ApiRoot:
        """Check and normalise a base URL such as ``https://djangopackages.org/api/v4``."""
        parts = urlsplit(base_url)
        scheme, host, port = _origin(parts)
        if scheme not in _DEFAULT_PORTS or not host:
            raise ValueError(f"base_url must be an absolute http(s) URL, got {base_url!r}")
        path = parts.path if parts.path.endswith("/") else parts.path + "/"
        last = path.rstrip("/").rsplit("/", 1)[-1]
        if last in COLLECTIONS or last == "search":
            raise ValueError(
                f"base_url must be the API root, not its {last!r} collection: {base_url!r} "
                f"(use {base_url[: base_url.rstrip('/').rfind('/') + 1]!r})"
            )
        netloc = parts.netloc.lower()
        return cls(f"{scheme}://{netloc}{path}", scheme, host, port, path)

    def contains(self, url: str) -> bool:
        """True when ``url`` lies inside this root (scheme, host, port and path prefix)."""
        if url.startswith(self.url) and "@" not in url:
            return True  # the common case: a canonical link under this very root
        parts = urlsplit(url)
        try:
            origin = _origin(parts)
        except ValueError:  # a malformed port
            return False
        return origin == (self.scheme, self.host, self.port) and parts.path.startswith(self.path)

    def check(self, url: str) -> str:
        """Return ``url`` without ``format`` noise, or raise if it leaves the root."""
        if not self.contains(url):
            raise ForeignURLError(url, f"refusing to follow a URL outside the API root {self.url}")
        return strip_format(url)

    def check_link(self, link: Any) -> None:
        """Raise unless ``link`` is inside this root and its URL names its own id.

        Raises:
            ForeignURLError: the link leaves the API root.
            ValueError: the URL is not a resource URL, or its id is not ``link.id``.
        """
        url = self.check(link.url)
        tail = urlsplit(url).path.rstrip("/").rsplit("/", 2)[-2:]
        if len(tail) != 2 or tail[0] not in COLLECTIONS:
            raise ValueError(f"link: {url!r} is not the URL of a package, grid or category")
        if tail[1] != str(link.id):
            raise ValueError(f"link: its id {link.id} disagrees with its URL {url!r}")

    def collection_url(self, collection: str) -> str:
        """The list URL of a collection, such as ``.../api/v4/packages/``."""
        return f"{self.url}{collection}/"

    def list_url(self, collection: str, *, limit: int, offset: int) -> str:
        """A page of a collection, as ``?limit=..&offset=..`` (offset omitted when 0)."""
        query = {"limit": limit, "offset": offset} if offset else {"limit": limit}
        return f"{self.url}{collection}/?{urlencode(query)}"

    def detail_url(self, collection: str, key: int | str) -> str:
        """The detail URL of one resource, by id or slug."""
        return f"{self.url}{collection}/{quote(str(key), safe='')}/"

    def resource_url(self, collection: str, resource_id: int) -> str:
        """The canonical URL of a resource: the identity-map key."""
        return f"{self.url}{collection}/{resource_id}/"


def strip_format(url: str) -> str:
    """Drop the ``format`` query parameter (``?format=api`` / ``?format=json``)."""
    if "?" not in url:
        return url
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "format"]
    return parts._replace(query=urlencode(query), fragment="").geturl()


_LINK = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<netloc>[^/?#]+)(?P<prefix>/(?:[^?#]*/)?)"
    r"(?P<collection>[^/?#]*)/(?P<id>[^/?#]*)/(?:[?#].*)?",
    re.DOTALL,
)


def _quote(value: str, limit: int = 120) -> str:
    """A repr short enough for an error message, however long the hostile value."""
    return repr(value) if len(value) <= limit else f"{value[:limit]!r}... ({len(value)} chars)"


def parse_resource_link(raw: str, collection: str) -> tuple[str, int]:
    """Canonicalise a hyperlink to ``collection`` into ``(url, id)``.

    Raises ``ValueError`` (turned into a payload error by the converter) when
    ``raw`` is not an absolute http(s) URL ending in ``/<collection>/<digits>/``.
    """
    # One regular expression instead of urlsplit: links are parsed by the thousand.
    match = _LINK.fullmatch(raw)
    if match is None:
        if urlsplit(raw).scheme.lower() not in _DEFAULT_PORTS:
            raise ValueError(f"not an absolute http(s) URL: {_quote(raw)}")
        raise ValueError(f"not a link to {collection}: {_quote(raw)}")
    scheme = match["scheme"].lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"not an absolute http(s) URL: {_quote(raw)}")
    if match["collection"] != collection:
        raise ValueError(f"not a link to {collection}: {_quote(raw)}")
    digits = match["id"]
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"link to {collection} without a numeric id: {_quote(raw)}")
    resource_id = int(digits)
    return (
        f"{scheme}://{match['netloc'].lower()}{match['prefix']}{collection}/{resource_id}/",
        resource_id,
    )


def page_window(url: str) -> tuple[int, int] | None:
    """``(limit, offset)`` of a list URL, or None when it carries no valid limit."""
    query = dict(parse_qsl(urlsplit(url).query))
    try:
        limit = int(query.get("limit", ""))
        offset = int(query.get("offset", "0"))
    except ValueError:
        return None
    return limit, offset
