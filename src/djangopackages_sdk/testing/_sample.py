"""The bundled sample: five live packages, their category and grids, as JSON or models.

The data is ``djangopackages_sdk/_sample_data.json`` (regenerate it with
``scripts/make_sample_data.py``).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from .._convert import get_converter
from .._models import Category, Grid, Package


@cache
def _sample_text() -> str:
    return (
        resources.files("djangopackages_sdk")
        .joinpath("_sample_data.json")
        .read_text(encoding="utf-8")
    )


def load_sample_data() -> dict[str, list[dict[str, Any]]]:
    """The bundled sample as API JSON: ``{"categories": [...], "grids": [...], "packages": [...]}``.

    Links point at ``https://djangopackages.org/api/v4/``. Each call returns a
    fresh copy.
    """
    data: dict[str, list[dict[str, Any]]] = json.loads(_sample_text())
    return data


def sample_packages() -> tuple[Package, ...]:
    """The bundled sample's five packages as models, by id."""
    converter = get_converter()
    return tuple(converter.structure(row, Package) for row in load_sample_data()["packages"])


def sample_grids() -> tuple[Grid, ...]:
    """The bundled sample's grids as models, by id."""
    converter = get_converter()
    return tuple(converter.structure(row, Grid) for row in load_sample_data()["grids"])


def sample_categories() -> tuple[Category, ...]:
    """The bundled sample's categories as models, by id."""
    converter = get_converter()
    return tuple(converter.structure(row, Category) for row in load_sample_data()["categories"])
