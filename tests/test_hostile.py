"""Hostile or drifting payloads: nothing but the SDK's own errors ever escapes.

Two layers, both through BOTH clients:

* a property-based test (hypothesis) mutating the genuine recorded bodies in
  ``tests/fixtures`` (types, missing keys, nulls, shapes, huge or deeply nested
  values, broken bytes) and serving them to ``get``, ``list``, ``search`` and
  ``resolve``: each outcome is a valid model or a :class:`DjangoPackagesError`;
* the hand-written corpus in ``tests/hostile/`` (described in its
  ``INDEX.json``), each body served as a 200 to every operation, with the
  exact error class and JSON path expected, under msgspec (the ``fast``
  extra) and under the standard library parser (the fallback without it).

Decisions recorded by the corpus (see each entry's ``why``):

* A UTF-8 BOM, a UTF-16 body and a lone surrogate escape: RFC 8259 lets a
  parser refuse or accept them. msgspec refuses (``NotJSONError``); the standard
  library accepts them and the payload then converts normally. Both are fine;
  neither may escape as a ``UnicodeDecodeError`` or ``ValueError``.
* NaN/Infinity literals are not JSON: msgspec refuses the body, the standard
  library reads a float, which the strict converter then rejects at its path.
* Duplicate keys: every Python JSON parser keeps the last value; the SDK does
  not look for duplicates, and a bad last value fails at its path.
* A well-formed link to another host, port or path prefix converts (a link is
  data); following it raises ``ForeignURLError`` before any request leaves.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, Harness, load_exchange
from djangopackages_sdk import (
    AsyncClient,
    Category,
    Client,
    DjangoPackagesError,
    ForeignURLError,
    Grid,
    IncompleteCrawlError,
    Link,
    NotJSONError,
    Package,
    PaginationError,
    PayloadError,
    SearchResult,
    _request,
)
from djangopackages_sdk._convert import get_converter
from helpers import LOCAL_ROOT as BASE

"""The root the recordings were made under, so their links are inside it."""
HOSTILE = Path(__file__).parent / "hostile"
INDEX: list[dict[str, Any]] = json.loads((HOSTILE / "INDEX.json").read_text(encoding="utf-8"))
ERRORS: dict[str, type[DjangoPackagesError]] = {
    cls.__name__: cls
    for cls in (
        PayloadError,
        NotJSONError,
        IncompleteCrawlError,
        PaginationError,
        ForeignURLError,
    )
}
MODEL = {"packages": Package, "grids": Grid, "categories": Category}


# -- serving one body to every operation ------------------------------------------------
class Always:
    """A transport answering every request with the same 200 body (and recording URLs)."""

    def __init__(self, body: bytes, content_type: str = "application/json") -> None:
        self.body = body
        self.content_type = content_type
        self.urls: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        return httpx.Response(200, content=self.body, headers={"content-type": self.content_type})


@dataclass
class Outcome:
    """What one operation gave: a value (with the rows read before any error) or an error."""

    value: Any = None
    error: BaseException | None = None
    rows: tuple[Any, ...] = ()


def operations(collection: str, resource_id: int) -> dict[str, Callable[[Any], Any]]:
    """The operations every hostile body is served to, as ``call(client)``."""
    model = MODEL[collection]
    link: Link[Any] = Link(f"{BASE}{collection}/{resource_id}/", resource_id)
    return {
        "get": lambda c: getattr(c, collection).get(resource_id),
        "list": lambda c: getattr(c, collection).list(),
        "search": lambda c: c.search("django"),
        "resolve": lambda c: c.resolve(link),
        "model": lambda _: model,  # not an operation: what get/resolve must return
    }


async def perform(client: Client | AsyncClient, op: str, call: Callable[[Any], Any]) -> Outcome:
    """Run one operation on either client, keeping the rows a listing read before failing."""

    async def run(fn: Callable[[Any], Any]) -> Any:
        result = fn(client)
        return await result if inspect.isawaitable(result) else result

    rows: list[Any] = []
    try:
        if op == "list":
            iterable = call(client)
            if isinstance(client, AsyncClient):
                async for item in iterable:
                    rows.append(item)
            else:
                rows.extend(iterable)
            return Outcome(value=rows, rows=tuple(rows))
        if op == "follow":
            package = await run(lambda c: c.packages.get(359))
            return Outcome(value=await run(lambda c: c.resolve(package.category)))
        return Outcome(value=await run(call))
    except DjangoPackagesError as error:
        return Outcome(error=error, rows=tuple(rows))


# -- the corpus ---------------------------------------------------------------------------
def corpus_body(entry: dict[str, Any]) -> bytes:
    """The bytes of one corpus entry (a recipe is expanded: big bodies are not stored)."""
    raw = (HOSTILE / str(entry["file"])).read_bytes()
    if not entry.get("recipe"):
        return raw
    parts: list[tuple[str, int]] = [(str(t), int(n)) for t, n in json.loads(raw)["parts"]]
    return "".join(text * times for text, times in parts).encode("utf-8")


@pytest.fixture(params=["fast", "stdlib"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Decode with msgspec (the ``fast`` extra, when installed) or with the standard
    library fallback (the typed route of list pages is then off too)."""
    name: str = request.param
    if name == "stdlib":
        monkeypatch.setattr(_request, "_loads", json.loads)
        for strict in (False, True):
            monkeypatch.setattr(get_converter(strict), "_typed", None)
    elif _request._loads is json.loads:  # pragma: no cover - run by the no-extra CI pass
        pytest.skip("the fast extra (msgspec) is not installed")
    return name


def test_the_corpus_index_describes_every_file() -> None:
    listed = {entry["file"] for entry in INDEX}
    on_disk = {p.name for p in HOSTILE.iterdir() if p.name != "INDEX.json"}
    assert listed == on_disk
    assert len(INDEX) >= 60
    for entry in INDEX:
        assert entry["why"], entry["file"]
        assert set(entry["expect"]) <= {"get", "list", "search", "resolve", "follow"}
        # Every file raises a DjangoPackagesError somewhere: get, list or follow.
        assert any(v != "ok" for v in entry["expect"].values()), entry["file"]
    sizes = {entry["file"]: len(corpus_body(entry)) for entry in INDEX}
    assert sizes["enormous-nested-arrays.recipe.json"] > 3_000_000  # a few MB
    assert sizes["deep-100k-arrays.recipe.json"] == 200_000


@pytest.mark.parametrize("entry", INDEX, ids=[entry["file"] for entry in INDEX])
async def test_hostile_corpus(dp: Harness, parser: str, entry: dict[str, Any]) -> None:
    body = corpus_body(entry)
    expect: dict[str, str] = dict(entry["expect"])
    if parser == "stdlib":
        expect.update(entry.get("stdlib", {}))
    calls = operations("packages", 359)
    for op, wanted in expect.items():
        server = Always(body)
        h = dp.new(transport=httpx.MockTransport(server.handle), base_url=BASE, max_retries=0)
        try:
            outcome = await perform(h.client, op, calls.get(op, calls["get"]))
        finally:
            await h.close()
        where = f"{entry['file']} via {op} ({dp.mode}, {parser})"
        assert all(url.startswith(BASE) for url in server.urls), where
        if wanted == "ok":
            assert outcome.error is None, f"{where}: {outcome.error!r}"
            assert isinstance(outcome.value, Package), where
            continue
        name, _, path = wanted.partition(" ")
        error = outcome.error
        assert type(error) is ERRORS[name], f"{where}: expected {name}, got {error!r}"
        assert isinstance(error, DjangoPackagesError)
        if not isinstance(error, ForeignURLError):  # that one names the refused link
            assert error.url.startswith(BASE), where
        if isinstance(error, IncompleteCrawlError):
            first = error.skipped[0].error
            assert isinstance(first, PayloadError), where
            assert first.path == path, f"{where}: {first.path} != {path}"
        elif isinstance(error, PayloadError):
            assert error.path == path, f"{where}: {error.path} != {path}"
        if isinstance(error, NotJSONError):
            assert error.head == body[:80].decode("utf-8", "replace"), where
        if op == "follow":
            assert server.urls == [f"{BASE}packages/359/"], where  # nothing sent to the link


async def test_a_crawl_keeps_the_healthy_row_of_a_page_with_a_bad_one(dp: Harness) -> None:
    entry = next(e for e in INDEX if e["file"] == "results-one-bad-row.json")
    h = dp.new(transport=httpx.MockTransport(Always(corpus_body(entry)).handle), base_url=BASE)
    try:
        outcome = await perform(h.client, "list", lambda c: c.packages.list())
    finally:
        await h.close()
    assert [p.id for p in outcome.rows] == [119]
    assert isinstance(outcome.error, IncompleteCrawlError)
    assert [(s.offset, s.limit) for s in outcome.error.skipped] == [(1, 1)]


async def test_an_html_page_under_a_json_content_type_is_named_as_html(dp: Harness) -> None:
    body = (HOSTILE / "maintenance.html").read_bytes()
    h = dp.new(transport=httpx.MockTransport(Always(body).handle), base_url=BASE)
    try:
        with pytest.raises(NotJSONError) as caught:
            await h.run(lambda c: c.packages.get(359))
    finally:
        await h.close()
    assert "an HTML page" in str(caught.value)
    assert caught.value.content_type == "application/json"
    assert caught.value.url == f"{BASE}packages/359/"


# -- the property: mutated real fixtures ----------------------------------------------------
@dataclass(frozen=True)
class Raw:
    """JSON text inserted as is (NaN, 100k-deep arrays, a megabyte string...)."""

    text: str


def render(value: Any) -> str:
    """Serialise a document that may hold :class:`Raw` pieces."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{render(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(render(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterable[tuple[Any, ...]]:
    """Every location in a document, the root included."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


def replace_at(doc: Any, path: tuple[Any, ...], make: Callable[[Any], Any]) -> Any:
    """A copy of ``doc`` with the value at ``path`` replaced by ``make(old)``."""
    if not path:
        return make(doc)
    head, rest = path[0], path[1:]
    if isinstance(doc, dict):
        return {k: (replace_at(v, rest, make) if k == head else v) for k, v in doc.items()}
    return [replace_at(v, rest, make) if i == head else v for i, v in enumerate(doc)]


def delete_at(doc: Any, path: tuple[Any, ...]) -> Any:
    """A copy of ``doc`` without the key or item at ``path`` (the root cannot go)."""
    if not path:
        return doc
    parent, last = path[:-1], path[-1]

    def drop(container: Any) -> Any:
        if isinstance(container, dict):
            return {k: v for k, v in container.items() if k != last}
        return [v for i, v in enumerate(container) if i != last]

    return replace_at(doc, parent, drop)


def nested(depth: int) -> Raw:
    return Raw("[" * depth + "]" * depth)


SPECIAL = [
    Raw("NaN"),
    Raw("Infinity"),
    Raw("-Infinity"),
    Raw("1e400"),
    Raw("-0.0"),
    Raw("1" + "0" * 5000),
    Raw("18446744073709551616"),
    Raw('"\\ud800"'),
    Raw('"' + "x" * 1_000_000 + '"'),
    nested(100),
    nested(1100),
    nested(100_000),
    Raw('{"a":' * 3000 + "1" + "}" * 3000),
    "",
    "https://evil.example/api/v4/packages/1/",
    "/api/v4/categories/1/",
    BASE + "grids/7/",
    BASE + "categories/1/",
    BASE + "packages/?limit=20&offset=0",
    "javascript:alert(1)",
    "2024-06-01T07:50:28",
    "2024-06-01T07:50:28Z",
    "yesterday",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
hostile_values = st.one_of(
    scalars,
    st.sampled_from(SPECIAL),
    st.lists(scalars, max_size=3),
    st.dictionaries(st.text(max_size=8), scalars, max_size=3),
)

# (fixture, collection it belongs to, id to ask for)
FIXTURE_BODIES = [
    ("real-api/packages-detail-by-id-359-django-messages", "packages", 359),
    ("real-api/packages-detail-by-id-1867-django-otp", "packages", 1867),
    ("real-api/packages-detail-null-last-updated", "packages", 71),
    ("real-api/packages-detail-in-no-grid", "packages", 582),
    ("real-api/grids-detail-by-id-7-forty-plus-packages", "grids", 7),
    ("real-api/grids-detail-empty-no-packages", "grids", 78),
    ("real-api/categories-detail-by-id-1", "categories", 1),
    ("real-api/packages-list-last-page", "packages", 1),
    ("real-api/packages-list-first-page", "packages", 1),
    ("real-api/grids-list-last-page", "grids", 1),
    ("real-api/categories-list", "categories", 1),
    ("real-api/search-q-otp", "packages", 1),
    ("real-api/search-q-authentication-grid-and-packages", "grids", 1),
]
DOCS = {name: json.loads(load_exchange(name)["response"]["body"]) for name, _, _ in FIXTURE_BODIES}
PATHS = {name: list(paths(doc)) for name, doc in DOCS.items()}
ENVELOPE = ("count", "next", "previous", "results")


def constant(value: Any) -> Callable[[Any], Any]:
    return lambda _: value


def with_key(name: str, value: Any) -> Callable[[Any], Any]:
    return lambda old: {**old, name: value} if isinstance(old, dict) else old


@st.composite
def mutated_bodies(draw: st.DrawFn) -> tuple[str, str, int, bytes]:
    """A genuine body with one to three structural mutations, then maybe broken bytes."""
    name, collection, resource_id = draw(st.sampled_from(FIXTURE_BODIES))
    doc: Any = DOCS[name]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(
                ["replace", "delete", "null", "listify", "objectify", "stringify", "add-key"]
            )
        )
        if isinstance(doc, dict) and set(ENVELOPE) <= set(doc) and draw(st.booleans()):
            path: tuple[Any, ...] = (draw(st.sampled_from(ENVELOPE)),)  # count/next/results
        else:
            candidates = PATHS[name] if doc is DOCS[name] else list(paths(doc))
            path = draw(st.sampled_from(candidates))
        if kind == "replace":
            doc = replace_at(doc, path, constant(draw(hostile_values)))
        elif kind == "delete":
            doc = delete_at(doc, path)
        elif kind == "null":
            doc = replace_at(doc, path, lambda _: None)
        elif kind == "listify":
            doc = replace_at(doc, path, lambda old: [old])
        elif kind == "objectify":
            doc = replace_at(doc, path, lambda old: {"value": old})
        elif kind == "stringify":
            doc = replace_at(doc, path, lambda old: render(old)[:200])
        else:  # a new server field: harmless to the tolerant default
            doc = replace_at(
                doc, path, with_key(draw(st.text(min_size=1, max_size=8)), draw(hostile_values))
            )
    body = render(doc).encode("utf-8")
    damage = draw(st.sampled_from(["none"] * 8 + ["truncate", "bad-byte", "latin1", "bom"]))
    if damage == "truncate":
        body = body[: draw(st.integers(0, max(0, len(body) - 1)))]
    elif damage == "bad-byte":
        at = draw(st.integers(0, len(body)))
        body = (
            body[:at]
            + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00"]))
            + body[at:]
        )
    elif damage == "latin1":
        body = body.decode("utf-8").encode("latin-1", "replace")
    elif damage == "bom":
        body = b"\xef\xbb\xbf" + body
    return name, collection, resource_id, body


def check(
    op: str, outcome: Outcome, model: type, urls: list[str], *, in_hypothesis: bool = False
) -> None:
    """The property: a valid model, or a DjangoPackagesError; nothing else, nothing foreign."""
    assert all(url.startswith(BASE) for url in urls), urls
    if in_hypothesis:
        event(f"{op}: {type(outcome.error).__name__ if outcome.error else 'model'}")
    if outcome.error is not None:
        assert isinstance(outcome.error, DjangoPackagesError)
        return
    if op in ("get", "resolve"):
        assert isinstance(outcome.value, model)
    elif op == "list":
        assert all(isinstance(row, model) for row in outcome.value)
    else:
        assert all(isinstance(row, SearchResult) for row in outcome.value)


def run_everywhere(collection: str, resource_id: int, body: bytes) -> None:
    """Serve ``body`` to every operation of both clients and check each outcome."""
    calls = operations(collection, resource_id)
    model: type = calls["model"](None)
    ops = ["get", "list", "search", "resolve"]
    server = Always(body)
    transport = httpx.MockTransport(server.handle)

    with httpx.Client(transport=transport) as http:
        sync_client = Client(BASE, http_client=http, max_retries=0)
        for op in ops:
            sync_client.clear_cache()
            outcome = asyncio.run(perform(sync_client, op, calls[op]))
            check(op, outcome, model, server.urls, in_hypothesis=True)

    async def run_async() -> None:
        async with httpx.AsyncClient(transport=transport) as http:
            async_client = AsyncClient(BASE, http_client=http, max_retries=0)
            for op in ops:
                async_client.clear_cache()
                outcome = await perform(async_client, op, calls[op])
                check(op, outcome, model, server.urls, in_hypothesis=True)

    asyncio.run(run_async())


@settings(
    max_examples=150,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the project
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated_bodies())
def test_mutated_real_payloads_never_escape_as_anything_else(
    case: tuple[str, str, int, bytes],
) -> None:
    _, collection, resource_id, body = case
    run_everywhere(collection, resource_id, body)


@pytest.mark.parametrize(
    ("name", "collection", "resource_id"),
    # Served for every request, a first page's "next" would repeat itself: left out.
    [case for case in FIXTURE_BODIES if "first-page" not in case[0]],
)
def test_unmutated_fixtures_convert(name: str, collection: str, resource_id: int) -> None:
    """The property's baseline: the genuine bodies give models for their own operation."""
    body = load_exchange(name)["response"]["body"].encode("utf-8")
    calls = operations(collection, resource_id)
    server = Always(body)
    with httpx.Client(transport=httpx.MockTransport(server.handle)) as http:
        client = Client(BASE, http_client=http, max_retries=0)
        outcome = asyncio.run(perform(client, kind_of(name), calls[kind_of(name)]))
    assert outcome.error is None, outcome.error
    check(kind_of(name), outcome, calls["model"](None), server.urls)
    assert outcome.value


def kind_of(name: str) -> str:
    if "-list" in name:
        return "list"
    if "search-" in name:
        return "search"
    return "get"


def test_fixture_bodies_exist() -> None:
    for name, _, _ in FIXTURE_BODIES:
        assert (FIXTURES / f"{name}.json").is_file()


async def test_error_messages_stay_short_whatever_the_payload(dp: Harness) -> None:
    """A poisoned megabyte-long link must not turn into a megabyte log line."""
    doc = DOCS["real-api/packages-detail-by-id-359-django-messages"]
    body = render({**doc, "category": BASE + "a" * 1_000_000}).encode("utf-8")
    h = dp.new(transport=httpx.MockTransport(Always(body).handle), base_url=BASE)
    try:
        with pytest.raises(PayloadError) as caught:
            await h.run(lambda c: c.packages.get(359))
    finally:
        await h.close()
    assert caught.value.path == "$.category"
    assert len(str(caught.value)) < 2_000
