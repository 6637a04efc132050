"""The converter over every recorded body, and over the shapes the API must never send.

Every model-bearing body in ``tests/fixtures`` (details, list-page rows, search
arrays) is structured into the right model and unstructured back to the very
same JSON. Bad shapes raise :class:`PayloadError` naming the JSON path.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES, all_exchanges, load_body
from djangopackages_sdk import Category, Grid, Link, Package, PayloadError, SearchResult
from djangopackages_sdk._convert import get_converter
from djangopackages_sdk._datetimes import parse_datetime

Model = type[Package] | type[Grid] | type[Category] | type[SearchResult]

# Exchanges whose body holds no model: the API index, OPTIONS metadata, errors, HEAD.
NON_MODEL_BODIES = {
    "real-api/root",
    "real-api/packages-detail-options",
    "real-api/packages-detail-post-405",
    "real-api/packages-list-head",
    "real-api/categories-detail-404-unknown-id",
    "real-api/categories-detail-by-slug-apps-404",
    "real-api/grids-detail-404-unknown-id",
    "real-api/grids-detail-404-unknown-slug",
    "real-api/packages-detail-404-unknown-id",
    "real-api/packages-detail-404-unknown-slug",
}
# Bodies produced with ``?format=...``: their hyperlinks carry the suffix.
FORMAT_DECORATED = {
    "seeds/package-django-otp",
    "seeds/package-django-organizations",
    "real-api/packages-detail-format-json",
}
_FORMAT = re.compile(r"\?format=(api|json)")


def _name(path: Path) -> str:
    return path.relative_to(FIXTURES).with_suffix("").as_posix()


def _model_of(collection: str) -> Model:
    return {
        "packages": Package,
        "grids": Grid,
        "categories": Category,
        "search": SearchResult,
    }[collection]


def _rows() -> list[tuple[str, str, Model, dict[str, Any]]]:
    """(fixture, JSON path, model, row) for every model in every recorded body."""
    out: list[tuple[str, str, Model, dict[str, Any]]] = []
    for path in all_exchanges():
        name = _name(path)
        if name in NON_MODEL_BODIES:
            continue
        body = load_body(name)
        stem = path.stem
        collection = "packages" if name.startswith("seeds/") else stem.split("-", 1)[0]
        model = _model_of(collection)
        if isinstance(body, list):
            out.extend((name, f"$[{i}]", model, row) for i, row in enumerate(body))
        elif "results" in body:
            out.extend(
                (name, f"$.results[{i}]", model, row) for i, row in enumerate(body["results"])
            )
        else:
            out.append((name, "$", model, body))
    return out


ROWS = _rows()


def _strip(value: Any) -> Any:
    return json.loads(_FORMAT.sub("", json.dumps(value)))


def test_every_exchange_is_classified() -> None:
    """A new fixture is either parsed below or listed as carrying no model."""
    names = {_name(p) for p in all_exchanges()}
    parsed = {name for name, *_ in ROWS}
    assert names >= NON_MODEL_BODIES
    # Every exchange with a body that is not in the exclusion list yields rows,
    # except the empty search arrays.
    empty = {n for n in names - NON_MODEL_BODIES if load_body(n) in ([], {"results": []})}
    assert parsed | empty == names - NON_MODEL_BODIES
    assert {m for _, _, m, _ in ROWS} == {Package, Grid, Category, SearchResult}
    assert len(ROWS) > 300


@pytest.mark.parametrize(
    ("name", "where", "model", "row"),
    ROWS,
    ids=[f"{name}:{where}" for name, where, _, _ in ROWS],
)
def test_every_fixture_row_round_trips(
    name: str, where: str, model: Model, row: dict[str, Any]
) -> None:
    conv = get_converter()
    value = conv.structure(row, model, url=name, path=where)
    assert type(value) is model
    back = conv.unstructure(value)
    expected = _strip(row) if name in FORMAT_DECORATED else row
    assert back == expected
    assert list(back) == list(row)  # same keys, same order as the API
    # The strict (contract) converter accepts every genuine body: no unknown field.
    assert get_converter(strict=True).structure(row, model) == value


def test_format_suffix_is_the_only_round_trip_difference() -> None:
    """Links parsed from ``?format=api`` bodies unstructure to their canonical form."""
    conv = get_converter()
    for name in sorted(FORMAT_DECORATED):
        body = load_body(name)
        assert "?format=" in json.dumps(body)
        package = conv.structure(body, Package)
        back = conv.unstructure(package)
        assert back != body
        assert back == _strip(body)
        assert "?format=" not in json.dumps(back)
    # The rest of the fixtures round-trip exactly.
    assert {name for name, _, _, row in ROWS if "?format=" in json.dumps(row)} == FORMAT_DECORATED


def test_format_api_body_equals_plain_body() -> None:
    """The seed fetched with ``?format=api`` parses to the same Package as the plain detail."""
    conv = get_converter()
    decorated = conv.structure(load_body("seeds/package-django-otp"), Package)
    plain_body = _strip(load_body("seeds/package-django-otp"))
    assert decorated == conv.structure(plain_body, Package)
    assert decorated.category == Link("https://djangopackages.org/api/v4/categories/1/", 1)


def test_list_page_results_structure_as_a_whole() -> None:
    body = load_body("real-api/packages-list-first-page")
    packages = get_converter().structure(body["results"], list[Package], path="$.results")
    assert [p.id for p in packages] == [row["id"] for row in body["results"]]
    assert get_converter().unstructure(packages) == body["results"]


# -- datetimes -----------------------------------------------------------------------
def _category(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = copy.deepcopy(load_body("real-api/categories-detail-by-id-1"))
    row.update(changes)
    return row


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-06-01T07:50:28", datetime(2024, 6, 1, 7, 50, 28)),
        (
            "2024-04-12T05:41:11-04:00",
            datetime(2024, 4, 12, 5, 41, 11, tzinfo=timezone(timedelta(hours=-4))),
        ),
        (
            "2024-04-12T05:41:11.250000+05:30",
            datetime(
                2024, 4, 12, 5, 41, 11, 250000, tzinfo=timezone(timedelta(hours=5, minutes=30))
            ),
        ),
        ("2024-06-01T07:50:28Z", datetime(2024, 6, 1, 7, 50, 28, tzinfo=UTC)),
        ("2024-06-01T07:50:28.123456Z", datetime(2024, 6, 1, 7, 50, 28, 123456, tzinfo=UTC)),
    ],
)
def test_datetimes_keep_their_offset_or_stay_naive(text: str, expected: datetime) -> None:
    value = get_converter().structure(_category(created=text), Category)
    assert value.created == expected
    assert value.created.utcoffset() == expected.utcoffset()
    if expected.tzinfo is None:
        assert value.created.tzinfo is None  # never a silently invented timezone
    # Unstructuring gives an ISO string that parses back to the same instant and offset.
    again = datetime.fromisoformat(get_converter().unstructure(value)["created"])
    assert again == expected
    assert again.utcoffset() == expected.utcoffset()


def test_naive_datetime_round_trips_verbatim() -> None:
    row = _category(created="2024-06-01T07:50:28", modified="2024-06-01T07:50:28.000001")
    assert get_converter().unstructure(get_converter().structure(row, Category)) == row


def test_recorded_offsets_are_aware() -> None:
    package = get_converter().structure(load_body("seeds/package-django-otp"), Package)
    assert package.last_updated is not None
    assert package.last_updated.utcoffset() == timedelta(hours=-5)
    assert package.created.utcoffset() == timedelta(hours=-4)  # summer time, kept as sent


# -- nulls, empties, unicode ------------------------------------------------------------
@pytest.mark.parametrize(
    ("fixture", "field"),
    [
        ("real-api/packages-detail-null-documentation-url", "documentation_url"),
        ("real-api/packages-detail-null-last-fetched", "last_fetched"),
        ("real-api/packages-detail-null-last-updated", "last_updated"),
        ("real-api/packages-detail-null-pypi-version", "pypi_version"),
    ],
)
def test_nulls_become_none_and_back(fixture: str, field: str) -> None:
    body = load_body(fixture)
    assert body[field] is None
    package = get_converter().structure(body, Package)
    assert getattr(package, field) is None
    assert get_converter().unstructure(package)[field] is None


def test_search_null_dates() -> None:
    hits = load_body("real-api/search-q-authentication-grid-and-packages")
    grid = get_converter().structure(hits[0], SearchResult)
    assert grid.item_type == "grid"
    assert grid.last_committed is None
    assert grid.last_released is None
    assert grid.participant_logins == ()


def test_empty_lists_become_empty_tuples() -> None:
    conv = get_converter()
    grid = conv.structure(load_body("real-api/grids-detail-empty-no-packages"), Grid)
    assert grid.packages == ()
    lone = conv.structure(load_body("real-api/packages-detail-in-no-grid"), Package)
    assert lone.grids == ()
    quiet = conv.structure(load_body("real-api/packages-detail-empty-participants"), Package)
    assert quiet.participants == ()
    empty = conv.structure(_package(commits_over_52=[], participants=[], grids=[]), Package)
    assert (empty.commits_over_52, empty.participants, empty.grids) == ((), (), ())
    assert conv.unstructure(empty)["commits_over_52"] == []


def test_empty_strings_stay_empty() -> None:
    conv = get_converter()
    doc = conv.structure(load_body("real-api/packages-detail-empty-documentation-url"), Package)
    assert doc.documentation_url == ""
    repo = conv.structure(load_body("real-api/packages-detail-empty-repo-url"), Package)
    assert repo.repo_url == ""


def test_unicode_and_emoji_survive() -> None:
    conv = get_converter()
    emoji = conv.structure(load_body("real-api/grids-detail-by-id-426-emoji-title"), Grid)
    assert any(ord(ch) > 0xFFFF for ch in emoji.title)  # an astral-plane emoji
    japanese = conv.structure(load_body("real-api/grids-detail-unicode-title-japanese"), Grid)
    assert any("\u3040" <= ch <= "\u9fff" for ch in japanese.title + japanese.description)
    row = _package(title="pkg ✨🐍 日本語", participants=["zoë", "ünïcode"])
    package = conv.structure(row, Package)
    assert package.title == "pkg ✨🐍 日本語"
    assert conv.unstructure(package) == row


# -- unknown fields ------------------------------------------------------------------
def _package(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = copy.deepcopy(load_body("real-api/packages-detail-by-id-1867-django-otp"))
    row.update(changes)
    return row


def test_unknown_fields_are_ignored_by_default() -> None:
    row = _package(brand_new_field={"nested": [1, 2]}, another=None)
    package = get_converter().structure(row, Package)
    assert package == get_converter().structure(_package(), Package)
    assert "brand_new_field" not in get_converter().unstructure(package)


def test_unknown_fields_are_rejected_when_strict() -> None:
    with pytest.raises(PayloadError) as info:
        get_converter(strict=True).structure(_package(brand_new_field=1), Package, url="u")
    assert info.value.path == "$"
    assert "brand_new_field" in str(info.value)
    assert info.value.url == "u"


# -- bad shapes ------------------------------------------------------------------------
def _without(field: str) -> dict[str, Any]:
    row = _package()
    del row[field]
    return row


BAD_PACKAGES: list[tuple[str, object, str]] = [
    ("missing id", _without("id"), "$.id"),
    ("missing slug", _without("slug"), "$.slug"),
    ("forks as string", _package(repo_forks="117"), "$.repo_forks"),
    ("forks as bool", _package(repo_forks=True), "$.repo_forks"),
    ("forks as float", _package(repo_forks=117.0), "$.repo_forks"),
    ("null title", _package(title=None), "$.title"),
    ("null created", _package(created=None), "$.created"),
    ("bad date", _package(created="yesterday"), "$.created"),
    ("date as number", _package(last_updated=1700000000), "$.last_updated"),
    ("doc url as number", _package(documentation_url=3), "$.documentation_url"),
    ("commit count string", _package(commits_over_52=[0, 1, 2, "3"]), "$.commits_over_52[3]"),
    ("commits not a list", _package(commits_over_52="0,1"), "$.commits_over_52"),
    ("participant null", _package(participants=["a", None]), "$.participants[1]"),
    ("participants as string", _package(participants="a,b"), "$.participants"),
    ("category as int", _package(category=1), "$.category"),
    (
        "category to a grid",
        _package(category="https://djangopackages.org/api/v4/grids/1/"),
        "$.category",
    ),
    ("relative grid link", _package(grids=["/api/v4/grids/7/"]), "$.grids[0]"),
    (
        "grid link without id",
        _package(grids=["https://x.org/api/v4/grids/7/", "https://x.org/api/v4/grids/seven/"]),
        "$.grids[1]",
    ),
    ("grids as object", _package(grids={}), "$.grids"),
    ("not an object", [1, 2], "$"),
    ("null body", None, "$"),
    ("string body", "django-otp", "$"),
]


@pytest.mark.parametrize(
    ("data", "path"), [(d, p) for _, d, p in BAD_PACKAGES], ids=[n for n, _, _ in BAD_PACKAGES]
)
def test_bad_package_shapes_name_the_path(data: object, path: str) -> None:
    url = "https://djangopackages.org/api/v4/packages/1867/"
    with pytest.raises(PayloadError) as info:
        get_converter().structure(data, Package, url=url)
    error = info.value
    assert error.path == path
    assert error.url == url
    assert path in str(error)
    assert not isinstance(error, KeyError | TypeError)
    assert error.__cause__ is None  # no cattrs internals chained for the user to dig through


def test_bad_row_of_a_list_page_names_its_index() -> None:
    body = load_body("real-api/packages-list-first-page")
    body["results"][3]["repo_forks"] = "many"
    with pytest.raises(PayloadError) as info:
        get_converter().structure(body["results"], list[Package], path="$.results")
    assert info.value.path == "$.results[3].repo_forks"


def test_path_prefix_is_kept() -> None:
    with pytest.raises(PayloadError) as info:
        get_converter().structure(_package(repo_watchers="x"), Package, path="$.results[7]")
    assert info.value.path == "$.results[7].repo_watchers"


@pytest.mark.parametrize(
    ("model", "row", "path"),
    [
        (Category, _category(show_pypi="yes"), "$.show_pypi"),
        (Category, _category(show_pypi=1), "$.show_pypi"),
        (Grid, {**load_body("real-api/grids-detail-by-id-28"), "packages": [3]}, "$.packages[0]"),
        (Grid, {**load_body("real-api/grids-detail-by-id-28"), "is_locked": None}, "$.is_locked"),
        (
            SearchResult,
            {**load_body("real-api/search-q-otp")[0], "score": "9"},
            "$.score",
        ),
    ],
)
def test_bad_shapes_of_other_models(model: Model, row: dict[str, Any], path: str) -> None:
    with pytest.raises(PayloadError) as info:
        get_converter().structure(row, model)
    assert info.value.path == path


@pytest.mark.parametrize(
    "text",
    [
        "2013-06-11T06:45:04.825389-04:00",
        "2026-01-07T14:56:37-05:00",
        "2024-06-01T07:50:28",
        "2024-06-01T07:50:28Z",
        "2024-06-01T07:50:28+0530",
        "2024-06-01T07:50:28.000001+05:30",
        "2024-06-01T07:50:28+05:30:15",
    ],
)
def test_parse_datetime_equals_fromisoformat(text: str) -> None:
    parsed = parse_datetime(text)
    expected = datetime.fromisoformat(text)
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()
    assert (parsed.tzinfo is None) == (expected.tzinfo is None)
