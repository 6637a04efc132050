"""The one registry of the API's collections: names, models, kinds and key rules.

Everything that maps a collection to its model, a model to its collection or a
record to its kind asks here, so adding a collection is one line.
"""

from __future__ import annotations

from typing import Final, Literal

import attrs

from ._models import Category, CollectionName, Grid, Package, Resource

__all__ = [
    "BY_COLLECTION",
    "BY_KIND",
    "COLLECTIONS",
    "KINDS",
    "KindName",
    "ResourceKind",
    "as_id",
    "collection_of",
    "kind_of",
    "model_of",
]

KindName = Literal["package", "grid", "category"]
"""The singular name of a resource kind, as in a catalogue file's ``kind`` field."""


@attrs.frozen
class ResourceKind:
    """One collection of the API and everything known about it."""

    collection: CollectionName
    """Its URL segment: ``packages``."""
    kind: KindName
    """The singular name of one of its rows: ``package``."""
    model: type[Package] | type[Grid] | type[Category]
    """The model its rows structure into."""
    title: str
    """The name the server gives it in messages: ``Package``."""
    slug_lookup: bool
    """Whether its detail endpoint also finds a row by slug (categories: by id only)."""


KINDS: Final = (
    ResourceKind("packages", "package", Package, "Package", slug_lookup=True),
    ResourceKind("grids", "grid", Grid, "Grid", slug_lookup=True),
    ResourceKind("categories", "category", Category, "Category", slug_lookup=False),
)
"""Every collection, in the order the API root lists them (without ``search``)."""

COLLECTIONS: Final[tuple[CollectionName, ...]] = tuple(k.collection for k in KINDS)
BY_COLLECTION: Final[dict[str, ResourceKind]] = {k.collection: k for k in KINDS}
BY_KIND: Final[dict[str, ResourceKind]] = {k.kind: k for k in KINDS}
_BY_MODEL: Final[dict[type, ResourceKind]] = {k.model: k for k in KINDS}


def model_of(collection: str) -> type[Package] | type[Grid] | type[Category]:
    """The model of a collection's rows (``KeyError`` for an unknown collection)."""
    return BY_COLLECTION[collection].model


def collection_of(item: Resource | type) -> CollectionName:
    """The collection a resource (or a model class) belongs to."""
    return _BY_MODEL[item if isinstance(item, type) else type(item)].collection


def kind_of(item: Resource | type) -> KindName:
    """The singular kind name of a resource (or a model class): ``package``."""
    return _BY_MODEL[item if isinstance(item, type) else type(item)].kind


def as_id(key: int | str) -> int | None:
    """The id a lookup key means, or None for a slug.

    The API's rule: a key of ASCII digits is always an id (``"01867"`` is 1867);
    anything else is a slug.
    """
    if isinstance(key, int):
        return key
    return int(key) if key.isascii() and key.isdigit() else None
