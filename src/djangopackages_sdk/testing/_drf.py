"""How Django REST Framework answers: routing, negotiation, pagination links, errors, headers.

Pure functions of a request and already rendered rows; nothing here knows where
the rows are stored. `FakeAPI` (in `_fake`) puts them together.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, Final
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx

from .._registry import COLLECTIONS

DEFAULT_LIMIT: Final = 20
"""Page size when a list request carries no valid ``limit``."""
_ALLOWED_METHODS: Final = ("GET", "HEAD", "OPTIONS")
_ALLOW: Final = "GET, HEAD, OPTIONS"
_ACCEPTABLE: Final = frozenset(
    {"", "*/*", "*", "application/*", "application/json", "text/*", "text/html"}
)
_FORMATS: Final = frozenset({"", "json", "api"})
_JSON_HEADERS: Final = (
    ("content-type", "application/json"),
    ("vary", "Accept, Cookie"),
    ("allow", _ALLOW),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("cross-origin-opener-policy", "same-origin"),
)
_HTML_404: Final = (
    b'<!doctype html>\n<html lang="en">\n<head>\n  <title>Not Found</title>\n</head>\n'
    b"<body>\n  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n"
    b"</body>\n</html>\n"
)
_OPTIONS_DESCRIPTION: Final[dict[str, str]] = {
    "root": "The default basic root view for DefaultRouter",
    "packages": "API endpoint that allows packages to be viewed or edited.",
    "grids": "API endpoint that allows grids to be viewed or edited.",
    "categories": "API endpoint that allows categories to be viewed or edited.",
    "search": "API endpoint that allows the search index to be queried.",
}
_OPTIONS_NAME: Final[dict[str, str]] = {
    "root": "Api Root",
    "packages": "Package",
    "grids": "Grid",
    "categories": "Category",
    "search": "Search V2",
}


def _dumps(value: object) -> str:
    """Compact UTF-8 JSON exactly as DRF's ``JSONRenderer`` writes it."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if "\u2028" in text or "\u2029" in text:
        text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text


def _replace_query_param(url: str, key: str, value: object) -> str:
    """DRF's ``replace_query_param``: set one parameter, sort them all."""
    scheme, netloc, path, query, fragment = urlsplit(url)
    params = parse_qs(query, keep_blank_values=True)
    params[key] = [str(value)]
    return urlunsplit(
        (scheme, netloc, path, urlencode(sorted(params.items()), doseq=True), fragment)
    )


def _remove_query_param(url: str, key: str) -> str:
    """DRF's ``remove_query_param``: drop one parameter, sort the rest."""
    scheme, netloc, path, query, fragment = urlsplit(url)
    params = parse_qs(query, keep_blank_values=True)
    params.pop(key, None)
    return urlunsplit(
        (scheme, netloc, path, urlencode(sorted(params.items()), doseq=True), fragment)
    )


def _positive_int(value: str | None, *, strict: bool) -> int | None:
    """DRF's ``_positive_int``: ``int()`` of the text, None when invalid."""
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    if number < 0 or (number == 0 and strict):
        return None
    return number


class _Routed:
    """A request that matched a route: what it asks for and how to render links."""

    __slots__ = ("base", "collection", "key", "params", "suffix", "url")

    def __init__(
        self,
        collection: str,
        key: str | None,
        params: dict[str, list[str]],
        base: str,
        suffix: str,
        url: str,
    ) -> None:
        self.collection = collection
        self.key = key
        self.params = params
        self.base = base
        self.suffix = suffix
        self.url = url

    def last(self, name: str) -> str | None:
        """The last value of a query parameter (Django's ``QueryDict.__getitem__``)."""
        values = self.params.get(name)
        return values[-1] if values else None


def _route(prefix: str, path: str) -> tuple[str, str | None] | None:
    """``(collection or "root"/"search", detail key)`` for a routed path, else None."""
    if not path.startswith(prefix):
        return None
    rest = path[len(prefix) :]
    if rest == "":
        return "root", None
    if not rest.endswith("/"):
        return None
    parts = rest[:-1].split("/")
    if len(parts) == 1 and parts[0] in (*COLLECTIONS, "search"):
        return parts[0], None
    if len(parts) == 2 and parts[0] in COLLECTIONS:
        key = parts[1]
        # DRF's router matches a lookup with [^/.]+
        if key and "." not in key:
            return parts[0], key
    return None


def _negotiate(request: httpx.Request, prefix: str) -> _Routed | httpx.Response:
    """Route a request and run DRF's checks before any view.

    Returns the routed request for a GET or HEAD the view must answer, else the
    whole answer: a redirect to the trailing slash, the HTML 404 of an unknown
    route, 406, 404 for an unknown ``format``, 405, or the OPTIONS metadata.
    """
    method = request.method.upper()
    path = request.url.path
    raw_path, _, raw_query = request.url.raw_path.decode("latin-1").partition("?")
    route = _route(prefix, path)
    if route is None:
        if not path.endswith("/") and _route(prefix, path + "/") is not None:
            location = raw_path + "/" + ("?" + raw_query if raw_query else "")
            return _response(
                request,
                301,
                b"",
                (("content-type", "text/html; charset=utf-8"), ("location", location)),
            )
        return _response(request, 404, _HTML_404, (("content-type", "text/html; charset=utf-8"),))

    params = parse_qs(raw_query, keep_blank_values=True)
    scheme = request.url.scheme
    forwarded = request.headers.get("x-forwarded-proto")
    if forwarded:
        scheme = forwarded.split(",")[0].strip().lower() or scheme
    host = request.headers.get("host") or request.url.netloc.decode("ascii")
    origin = f"{scheme}://{host}"
    suffix = ""
    if "format" in params:
        suffix = "?" + urlencode({"format": params["format"][-1]})
    routed = _Routed(
        route[0],
        route[1],
        params,
        origin + prefix,
        suffix,
        origin + raw_path + ("?" + raw_query if raw_query else ""),
    )

    accept = request.headers.get("accept", "")
    if accept and not any(
        part.split(";", 1)[0].strip().lower() in _ACCEPTABLE for part in accept.split(",")
    ):
        return _json(request, 406, {"detail": "Could not satisfy the request Accept header."})
    if routed.last("format") not in (None, *_FORMATS):
        return _json(request, 404, {"detail": "Not found."})
    if method not in _ALLOWED_METHODS:
        return _json(request, 405, {"detail": f'Method "{method}" not allowed.'})
    if method == "OPTIONS":
        return _json(request, 200, _options(routed))
    return routed


def _window(routed: _Routed) -> tuple[int, int]:
    """``(limit, offset)`` of a list request, with ``LimitOffsetPagination``'s defaults."""
    limit = _positive_int(routed.last("limit"), strict=True) or DEFAULT_LIMIT
    offset = _positive_int(routed.last("offset"), strict=False) or 0
    return limit, offset


def _list_page(routed: _Routed, order: list[int], render: Callable[[int, str, str], str]) -> bytes:
    """A ``LimitOffsetPagination`` page of the rows ``order`` lists, rendered by ``render``.

    ``render(id, base, suffix)`` gives one row's JSON text.
    """
    limit, offset = _window(routed)
    count = len(order)
    next_url: str | None = None
    previous_url: str | None = None
    if offset + limit < count:
        next_url = _replace_query_param(
            _replace_query_param(routed.url, "limit", limit), "offset", offset + limit
        )
    if offset > 0:
        url = _replace_query_param(routed.url, "limit", limit)
        previous_url = (
            _remove_query_param(url, "offset")
            if offset - limit <= 0
            else _replace_query_param(url, "offset", offset - limit)
        )
    base, suffix = routed.base, routed.suffix
    rows = ",".join(render(rid, base, suffix) for rid in order[offset : offset + limit])
    return (
        f'{{"count":{count},"next":{_dumps(next_url)},"previous":{_dumps(previous_url)},'
        f'"results":[{rows}]}}'
    ).encode()


def _api_root(routed: _Routed) -> bytes:
    """The root view: a link to each collection (and search), in the API's order."""
    base, suffix = routed.base, routed.suffix
    index = {
        name: f"{base}{name}/{suffix}" for name in ("packages", "search", "grids", "categories")
    }
    return _dumps(index).encode()


def _options(routed: _Routed) -> dict[str, Any]:
    """The OPTIONS metadata DRF's ``SimpleMetadata`` gives a read-only view."""
    collection = routed.collection
    name = _OPTIONS_NAME[collection]
    if collection != "root":
        name += " Instance" if routed.key is not None else " List"
    return {
        "name": name,
        "description": _OPTIONS_DESCRIPTION[collection],
        "renders": ["application/json", "text/html"],
        "parses": ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"],
    }


def _response(
    request: httpx.Request,
    status: int,
    body: bytes,
    headers: Iterable[tuple[str, str]],
    *,
    content_length: int | None = None,
) -> httpx.Response:
    length = len(body) if content_length is None else content_length
    return httpx.Response(
        status,
        headers=[*headers, ("content-length", str(length))],
        content=body,
        request=request,
    )


def _json(request: httpx.Request, status: int, value: object) -> httpx.Response:
    body = _dumps(value).encode()
    if request.method.upper() == "HEAD":
        return _response(request, status, b"", _JSON_HEADERS, content_length=len(body))
    return _response(request, status, body, _JSON_HEADERS)
