"""Every route from JSON to models builds the very models cattrs' detailed path builds.

Routes: cattrs' detailed validation (the reference, which names the path of a bad
field), the generated fast path over the standard library's ``json.loads``, the
same over msgspec's generic decoder, and the typed route of list pages (msgspec
straight into the models, `_wire.py`). The last two need the ``fast`` extra and
are skipped without it (CI runs the suite both ways). "The very models" means
equal, of exactly the same types, datetimes with the same offsets.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
from cattrs.gen import make_dict_structure_fn

from conftest import FIXTURES, all_exchanges, load_exchange
from djangopackages_sdk import Category, Client, Grid, Package
from djangopackages_sdk._convert import Converter, get_converter
from djangopackages_sdk._datetimes import parse_datetime
from djangopackages_sdk._wire import load_msgspec
from djangopackages_sdk.testing import FakeAPI
from helpers import LOCAL_ROOT

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import catalogue  # noqa: E402

Model = type[Package] | type[Grid] | type[Category]
MODELS: dict[str, Model] = {"packages": Package, "grids": Grid, "categories": Category}
msgspec = load_msgspec()
needs_fast = pytest.mark.skipif(msgspec is None, reason="the fast extra (msgspec) is absent")


def _pages() -> list[tuple[str, Model, bytes]]:
    """(name, model, page body) for every recorded list page and detail of a resource
    (a detail as a one-row page), and a live-sized synthetic page of each collection."""
    out: list[tuple[str, Model, bytes]] = []
    for path in all_exchanges():
        name = path.relative_to(FIXTURES).with_suffix("").as_posix()
        exchange = load_exchange(name)
        text = exchange["response"]["body"]
        if exchange["response"]["status"] != 200 or not isinstance(text, str):
            continue
        collection = "packages" if name.startswith("seeds/") else path.stem.split("-", 1)[0]
        if collection not in MODELS or name.endswith(("-options", "-head", "-405")):
            continue  # OPTIONS metadata and HEAD: no model in the body
        body = json.loads(text)
        if "results" not in body:
            body = {"count": 1, "next": None, "previous": None, "results": [body]}
            text = json.dumps(body, ensure_ascii=False)
        out.append((name, MODELS[collection], text.encode("utf-8")))
    data = catalogue.generate(5_405, 200, 3)
    for collection, model in MODELS.items():
        rows = data[collection]  # type: ignore[literal-required]
        page = {"count": len(rows), "next": None, "previous": None, "results": rows}
        out.append((f"synthetic-{collection}", model, json.dumps(page).encode()))
    return out


PAGES = _pages()


def _detailed(body: bytes, model: Model) -> list[Any]:
    """cattrs' detailed-validation function alone, with the converter's hooks."""
    detailed = make_dict_structure_fn(model, Converter()._cattrs)
    return [detailed(row, model) for row in json.loads(body)["results"]]


def _generic(loads: Callable[[bytes], Any]) -> Callable[[bytes, Model], list[Any]]:
    def route(body: bytes, model: Model) -> list[Any]:
        models, errors = Converter().structure_rows(loads(body)["results"], model)
        assert not errors
        return models

    return route


def _typed(body: bytes, model: Model) -> list[Any]:
    page = Converter().structure_page(body, model)
    assert page is not None, "the typed route refused a well-formed page"
    count, next_url, rows = page
    decoded = json.loads(body)
    assert (count, next_url) == (decoded["count"], decoded.get("next"))
    return rows


def _same(a: Any, b: Any, where: str) -> None:
    """Equal, and built of the same types all the way down (datetimes: same offset)."""
    assert type(a) is type(b), where
    if isinstance(a, datetime):
        assert (a, a.isoformat(), a.utcoffset()) == (b, b.isoformat(), b.utcoffset()), where
    elif isinstance(a, tuple):
        assert len(a) == len(b), where
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{index}]")
    elif attrs.has(type(a)):
        for field in attrs.fields(type(a)):
            _same(getattr(a, field.name), getattr(b, field.name), f"{where}.{field.name}")
    else:
        assert a == b, where


ROUTES: dict[str, Callable[[bytes, Model], list[Any]]] = {
    "json.loads + generated fast path": _generic(json.loads),
}
if msgspec is not None:
    ROUTES["msgspec.json.decode + generated fast path"] = _generic(msgspec.json.decode)
    ROUTES["typed route (msgspec into the models)"] = _typed


@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize(("name", "model", "body"), PAGES, ids=[name for name, _, _ in PAGES])
def test_every_route_builds_what_cattrs_detailed_path_builds(
    route: str, name: str, model: Model, body: bytes
) -> None:
    expected = _detailed(body, model)
    got = ROUTES[route](body, model)
    assert len(got) == len(expected) > 0
    for index, (a, b) in enumerate(zip(got, expected, strict=True)):
        _same(a, b, f"{name}[{index}]")


def test_every_collection_is_covered() -> None:
    assert {model for _, model, _ in PAGES} == set(MODELS.values())
    assert sum(1 for name, _, _ in PAGES if not name.startswith("synthetic")) > 40


# -- the typed route -------------------------------------------------------------------
def _page(rows: list[Any], **envelope: Any) -> bytes:
    return json.dumps({"count": len(rows), "next": None, "results": rows, **envelope}).encode()


def _package_rows() -> list[dict[str, Any]]:
    body = next(body for name, _, body in PAGES if name == "synthetic-packages")
    rows: list[dict[str, Any]] = json.loads(body)["results"][:50]
    return rows


@needs_fast
def test_the_typed_route_shares_links_and_strings_with_the_fast_path() -> None:
    rows = _package_rows()
    conv = Converter()
    typed = conv.structure_page(_page(rows), Package)
    assert typed is not None
    generic, _ = conv.structure_rows(json.loads(_page(rows))["results"], Package)
    for a, b in zip(typed[2], generic, strict=True):
        assert a == b
        assert a.category is b.category  # one Link per distinct URL, whichever route
        assert all(x is y for x, y in zip(a.grids, b.grids, strict=True))
        assert all(x is y for x, y in zip(a.participants, b.participants, strict=True))
        assert a.commits_over_52 is b.commits_over_52
        if a.slug == a.title:
            assert a.slug is a.title
    assert any(p.pypi_version is None for p in typed[2])
    assert {type(key) for key in conv._strings} == {str}  # None is never a cache key


# Datetimes that ``fromisoformat`` and msgspec read differently unless the SDK's parser
# follows msgspec (a lowercase zone; more than six fractional digits, rounded half up,
# carried up to the year), with JSON escapes that a scan of the bytes would miss.
UNUSUAL_DATETIMES = [
    "2024-01-02T03:04:05z",
    "2024-01-02t03:04:05.5z",
    "2024-01-02T03:04:05.1234564999+01:00",
    "2024-01-02T03:04:05.1234565-04:00",
    "2024-12-31T23:59:59.9999995+05:30",
    "2024-01-02T03:04:05.12345678901234",
    "2024-01-02T03:04:05\\u007a",
    "2024-01-02T03:04:05.123456\\u0037+01:00",
]


@pytest.mark.parametrize("text", UNUSUAL_DATETIMES)
@pytest.mark.parametrize("route", list(ROUTES))
def test_unusual_datetimes_read_alike_on_every_route(route: str, text: str) -> None:
    rows = _package_rows()[:3]
    rows[1]["created"] = text
    body = _page(rows).replace(b"\\\\u00", b"\\u00")  # a real JSON escape
    expected = _detailed(body, Package)
    for index, (a, b) in enumerate(zip(ROUTES[route](body, Package), expected, strict=True)):
        _same(a, b, f"[{index}]")


def test_unusual_datetimes_round_like_msgspec() -> None:
    assert parse_datetime("2024-01-02T03:04:05z") == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_datetime("2024-01-02T03:04:05.1234565").microsecond == 123457
    assert parse_datetime("2024-01-02T03:04:05.1234564999").microsecond == 123456
    assert parse_datetime("2024-12-31T23:59:59.9999995") == datetime(2025, 1, 1)
    with pytest.raises(ValueError, match="out of range"):
        parse_datetime("9999-12-31T23:59:59.9999999")
    with pytest.raises(ValueError, match="Invalid isoformat"):
        parse_datetime("2024-01-02T03:04:05y")


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"id": "3"}, "a bad type: the detailed path names it"),
        ({"created": "2024-01-02"}, "a date alone: the stdlib reads it, msgspec does not"),
        ({"category": "https://example.org/nothing/"}, "a bad link"),
        ({"grids": [3]}, "a bad link list"),
        ({"participants": None}, "a null list"),
    ],
)
@needs_fast
def test_the_typed_route_leaves_what_it_refuses_to_the_generic_one(
    change: dict[str, Any], why: str
) -> None:
    rows = _package_rows()[:3]
    rows[1].update(change)
    assert get_converter().structure_page(_page(rows), Package) is None, why


@needs_fast
def test_a_broken_envelope_is_left_to_the_generic_route() -> None:
    rows = _package_rows()[:2]
    conv = get_converter()
    assert conv.structure_page(_page(rows, count=-1), Package) is None
    assert conv.structure_page(_page(rows, next=3), Package) is None
    assert conv.structure_page(b"[]", Package) is None
    assert conv.structure_page(b'{"count": 2}', Package) is None
    assert conv.structure_page(_page(rows), Package) is not None
    assert conv.structure_page(_page(rows, next=f"{LOCAL_ROOT}packages/?limit=2"), Package)


def test_the_strict_converter_has_no_typed_route() -> None:
    """msgspec ignores unknown keys; the contract converter must see them."""
    assert get_converter(strict=True).structure_page(_page(_package_rows()[:2]), Package) is None


def test_without_the_fast_extra_there_is_no_typed_route(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "msgspec", None)  # import msgspec raises ImportError
    assert load_msgspec() is None
    assert Converter().structure_page(_page(_package_rows()[:2]), Package) is None


@needs_fast
def test_a_listing_takes_the_typed_route_and_yields_the_same_packages() -> None:
    data = catalogue.generate(600, 40, 3, base_url=LOCAL_ROOT)
    fake = FakeAPI(**data, base_url=LOCAL_ROOT)
    conv = get_converter()
    calls: list[int] = []
    typed = conv._typed
    assert typed is not None
    original = typed.decode

    def counting(body: bytes, model: Any) -> Any:
        page = original(body, model)
        calls.append(0 if page is None else len(page[2]))
        return page

    with Client(LOCAL_ROOT, http_client=httpx.Client(transport=fake.transport)) as dp:
        typed.decode = counting  # type: ignore[method-assign]
        try:
            listed = list(dp.packages.list())
        finally:
            del typed.decode
    assert calls
    assert all(calls)
    assert sum(calls) >= 600
    expected = _generic(json.loads)(_page(data["packages"]), Package)
    assert sorted(listed, key=lambda p: p.id) == sorted(expected, key=lambda p: p.id)
