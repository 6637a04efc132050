"""The models are plain immutable values: frozen, slotted, hashable, picklable, printable."""

from __future__ import annotations

import copy
import pickle
import typing
from datetime import datetime
from typing import Any

import attrs
import pytest

from conftest import load_body
from djangopackages_sdk import Category, Grid, Link, Package, SearchResult
from djangopackages_sdk._convert import get_converter

Model = Package | Grid | Category | SearchResult


def _samples() -> list[tuple[Model, dict[str, Any]]]:
    conv = get_converter()
    pairs: list[tuple[type[Any], Any]] = [
        (Package, load_body("seeds/package-django-messages")),
        (Grid, load_body("real-api/grids-detail-by-id-7-forty-plus-packages")),
        (Category, load_body("real-api/categories-detail-by-id-1")),
        (SearchResult, load_body("real-api/search-q-otp")[0]),
    ]
    return [(conv.structure(body, model), body) for model, body in pairs]


SAMPLES = _samples()
IDS = [type(value).__name__ for value, _ in SAMPLES]


@pytest.mark.parametrize(("value", "body"), SAMPLES, ids=IDS)
def test_frozen(value: Model, body: dict[str, Any]) -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        value.title = "changed"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        del value.title
    changed = attrs.evolve(value, title="changed")
    assert changed.title == "changed"
    assert value.title == body["title"]


@pytest.mark.parametrize(("value", "body"), SAMPLES, ids=IDS)
def test_slotted(value: Model, body: dict[str, Any]) -> None:
    assert "__slots__" in type(value).__dict__
    assert not hasattr(value, "__dict__")
    with pytest.raises((AttributeError, attrs.exceptions.FrozenInstanceError)):
        value.not_a_field = 1  # type: ignore[union-attr]


@pytest.mark.parametrize(("value", "body"), SAMPLES, ids=IDS)
def test_equal_by_value_and_hashable(value: Model, body: dict[str, Any]) -> None:
    other = get_converter().structure(copy.deepcopy(body), type(value))
    assert other == value
    assert hash(other) == hash(value)
    assert len({value, other}) == 1
    assert attrs.evolve(value, title=value.title + "!") != value
    json_body: object = body
    assert value != json_body  # a model never equals its JSON


@pytest.mark.parametrize(("value", "body"), SAMPLES, ids=IDS)
def test_picklable(value: Model, body: dict[str, Any]) -> None:
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        again = pickle.loads(pickle.dumps(value, protocol=protocol))
        assert again == value
        assert type(again) is type(value)


@pytest.mark.parametrize(("value", "body"), SAMPLES, ids=IDS)
def test_printable(value: Model, body: dict[str, Any]) -> None:
    text = repr(value)
    assert text.startswith(f"{type(value).__name__}(")
    assert repr(body["title"]) in text
    assert str(value) == text


@pytest.mark.parametrize(("value", "body"), SAMPLES, ids=IDS)
def test_fields_follow_the_api_names_and_order(value: Model, body: dict[str, Any]) -> None:
    assert [f.name for f in attrs.fields(type(value))] == list(body)


def test_field_types_are_precise() -> None:
    hints = typing.get_type_hints(Package)
    assert hints["last_updated"] == datetime | None
    assert hints["last_fetched"] == datetime | None
    assert hints["pypi_version"] == str | None
    assert hints["documentation_url"] == str | None
    assert hints["created"] is datetime
    assert hints["category"] == Link[Category]
    assert hints["grids"] == tuple[Link[Grid], ...]
    assert hints["commits_over_52"] == tuple[int, ...]
    assert hints["participants"] == tuple[str, ...]
    assert typing.get_type_hints(Grid)["packages"] == tuple[Link[Package], ...]
    assert typing.get_type_hints(SearchResult)["last_committed"] == datetime | None


# -- Link ------------------------------------------------------------------------------
def test_link_equality_ignores_format_suffix() -> None:
    conv = get_converter()
    decorated = conv.structure(load_body("seeds/package-django-otp"), Package)
    plain = conv.structure(load_body("real-api/packages-detail-by-id-1867-django-otp"), Package)
    # The seed and the local recording differ in host, so compare with links built here.
    assert decorated.category == Link("https://djangopackages.org/api/v4/categories/1/", 1)
    assert decorated.grids[0] == Link[Grid]("https://djangopackages.org/api/v4/grids/7/", 7)
    assert hash(decorated.category) == hash(
        Link("https://djangopackages.org/api/v4/categories/1/", 1)
    )
    json_links = conv.structure(load_body("real-api/packages-detail-format-json"), Package)
    assert json_links.category == plain.category
    assert json_links.grids == plain.grids
    assert json_links == plain


def test_link_value_semantics() -> None:
    link: Link[Grid] = Link("https://djangopackages.org/api/v4/grids/7/", 7)
    assert link.url == "https://djangopackages.org/api/v4/grids/7/"
    assert link.id == 7
    assert link.collection == "grids"
    assert repr(link) == "Link('https://djangopackages.org/api/v4/grids/7/')"
    assert pickle.loads(pickle.dumps(link)) == link
    package_link: Link[Any] = Link("https://djangopackages.org/api/v4/packages/7/", 7)
    assert link != package_link
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        link.id = 8  # type: ignore[misc]
    assert not hasattr(link, "__dict__")


@pytest.mark.parametrize("collection", ["packages", "grids", "categories"])
def test_link_collection(collection: str) -> None:
    assert Link(f"http://127.0.0.1:8000/api/v4/{collection}/12/", 12).collection == collection


def test_link_collection_rejects_other_urls() -> None:
    with pytest.raises(ValueError, match="not a resource link"):
        _ = Link("https://djangopackages.org/api/v4/search/1/", 1).collection


# -- SearchResult ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("participants", "logins"),
    [
        ("psagers,claudep,cabarnes", ("psagers", "claudep", "cabarnes")),
        ("solo", ("solo",)),
        ("", ()),
        ("a,,b,", ("a", "b")),
    ],
)
def test_participant_logins(participants: str, logins: tuple[str, ...]) -> None:
    hit = get_converter().structure(load_body("real-api/search-q-otp")[0], SearchResult)
    assert attrs.evolve(hit, participants=participants).participant_logins == logins


def test_participant_logins_match_package_participants() -> None:
    conv = get_converter()
    hits = [conv.structure(row, SearchResult) for row in load_body("real-api/search-q-otp")]
    otp = next(h for h in hits if h.slug == "django-otp")
    package = conv.structure(load_body("real-api/packages-detail-by-slug-django-otp"), Package)
    assert otp.participant_logins == package.participants
