"""What each command does: call the SDK, then hand the result to `_views`. Imported
only when a command runs (it pulls in the clients and httpx)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import click

from .._convert import get_converter
from ._changes import diff as show_diff
from ._run import Output, async_client, catalog_progress, client, reported
from ._views import card, catalog_counts, comparison, counted, hits

if TYPE_CHECKING:
    from .._async import AsyncClient
    from .._catalog import Catalog
    from .._models import Category, Grid, Package

GRIDS_PAGE = 1_000
"""Rows of the one listing request that loads every grid for a package's card (the
live site has about 400 grids): cheaper than a request per grid."""


def _json(value: Any) -> Any:
    """A model (or a list of them) in the API's own JSON shape."""
    return get_converter().unstructure(value)


async def _card(dp: AsyncClient, key: str) -> tuple[Package, Category, list[Grid]]:
    """The package, then its category and its grids concurrently: at most 3 requests."""
    package = await dp.packages.get(key)

    async def grids() -> list[Grid]:
        if len(package.grids) > 1:  # one request for all grids beats one per grid
            async for _ in dp.grids.list(page_size=GRIDS_PAGE):
                pass
        return await dp.resolve_many(package.grids)  # from the identity map when listed

    category, linked = await asyncio.gather(dp.resolve(package.category), grids())
    return package, category, linked


async def _package(key: str, base_url: str | None, out: Output) -> None:
    async with async_client(base_url) as dp:
        if out.as_json:
            out.json(_json(await dp.packages.get(key)))
            return
        package, category, grids = await _card(dp, key)
    card(out, package, category, grids)


def package_card(key: str, *, base_url: str | None, as_json: bool) -> None:
    """``djangopackages package SLUG_OR_ID``."""
    out = Output(as_json)
    with reported():
        asyncio.run(_package(key, base_url, out))


def search_hits(query: str, *, base_url: str | None, as_json: bool) -> None:
    """``djangopackages search QUERY``."""
    out = Output(as_json)
    with reported(), client(base_url) as dp:
        found = dp.search(query)
    if out.as_json:
        out.json(_json(found))
    else:
        hits(out, query, found)


def save_snapshot(path: str, *, base_url: str | None, as_json: bool) -> None:
    """``djangopackages snapshot PATH``."""
    out = Output(as_json)
    with reported(), client(base_url) as dp:
        with catalog_progress(out) as on_page:
            catalog = dp.catalog(on_page=on_page)
        catalog.save(path)
    counts = catalog_counts(catalog)
    if out.as_json:
        out.json({"path": str(path), **counts})
    else:
        out.text(f"saved {counted(counts)} to {path}")


def grid_table(key: str, *, sort: str, base_url: str | None, as_json: bool) -> None:
    """``djangopackages grid SLUG_OR_ID --sort FIELD``."""
    out = Output(as_json)
    with reported(), client(base_url) as dp:
        try:
            table = dp.compare(key, sort=sort)
        except ValueError as error:  # the only argument it can refuse: the sort
            raise click.BadParameter(str(error), param_hint="'--sort'") from None
    if out.as_json:
        packages = [row.package for row in table.rows]
        out.json({"grid": _json(table.grid), "sort": table.sort, "packages": _json(packages)})
    else:
        comparison(out, table)


def _load(path: str) -> Catalog:
    from .._catalog import Catalog

    return Catalog.load(path)


def diff_files(old: str, new: str, *, as_json: bool) -> None:
    """``djangopackages diff OLD NEW``."""
    out = Output(as_json)
    with reported():
        changes = _load(old).diff(_load(new))
    if out.as_json:
        out.json(changes.to_dict())
    else:
        show_diff(out, changes)
