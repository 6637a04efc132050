"""Pydantic v2 models equivalent to the SDK's, for the parse + structure comparison.

Same fields, same types and the same strictness as the SDK's converter: strict
mode (an ``int`` takes only a JSON integer, never ``"3"`` or ``true``), real
``datetime`` values (ISO 8601 with offset, naive kept naive), immutable tuples
for lists, frozen models. Hyperlinks stay plain ``str`` (the SDK parses each one
into a canonical :class:`~djangopackages_sdk.Link`, a little more work than
pydantic does here). Unknown keys are ignored, like the SDK's default converter.

Pydantic is a benchmark-only dependency (the ``bench`` extra).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, TypeAdapter

__all__ = [
    "CategoryModel",
    "CategoryPage",
    "GridModel",
    "GridPage",
    "PackageModel",
    "PackagePage",
    "adapter",
]

_CONFIG = ConfigDict(strict=True, frozen=True, extra="ignore")


class CategoryModel(BaseModel):
    """A category, as the SDK's ``Category``."""

    model_config = _CONFIG

    id: int
    title: str
    slug: str
    description: str
    title_plural: str
    show_pypi: bool
    created: datetime
    modified: datetime


class GridModel(BaseModel):
    """A grid, as the SDK's ``Grid`` (package links as strings)."""

    model_config = _CONFIG

    id: int
    title: str
    slug: str
    description: str
    is_locked: bool
    packages: tuple[str, ...]
    header: bool
    created: datetime
    modified: datetime


class PackageModel(BaseModel):
    """A package, as the SDK's ``Package`` (category and grid links as strings)."""

    model_config = _CONFIG

    category: str
    grids: tuple[str, ...]
    id: int
    title: str
    slug: str
    last_updated: datetime | None
    last_fetched: datetime | None
    repo_url: str
    pypi_version: str | None
    created: datetime
    modified: datetime
    repo_forks: int
    repo_description: str
    pypi_url: str
    documentation_url: str | None
    repo_watchers: int
    commits_over_52: tuple[int, ...]
    participants: tuple[str, ...]


class PackagePage(BaseModel):
    """One page of ``/packages/``: the pagination envelope and its rows."""

    model_config = _CONFIG

    count: int
    next: str | None
    previous: str | None
    results: tuple[PackageModel, ...]


class GridPage(BaseModel):
    """One page of ``/grids/``."""

    model_config = _CONFIG

    count: int
    next: str | None
    previous: str | None
    results: tuple[GridModel, ...]


class CategoryPage(BaseModel):
    """One page of ``/categories/``."""

    model_config = _CONFIG

    count: int
    next: str | None
    previous: str | None
    results: tuple[CategoryModel, ...]


def adapter() -> TypeAdapter[PackagePage]:
    """``TypeAdapter(PackagePage)``: build it once, then call ``validate_json(body)``."""
    return TypeAdapter(PackagePage)
