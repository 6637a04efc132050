"""``catalog(on_page=...)``: each page of each collection, as it arrives, in both clients
(the hook of the command line's progress bar)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx

from djangopackages_sdk import AsyncClient, Client, Page
from djangopackages_sdk.testing import FakeAPI
from live import serving

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import catalogue


def _check(seen: list[tuple[str, Page[Any]]], sizes: dict[str, int]) -> None:
    rows: dict[str, int] = {}
    for collection, page in seen:
        assert page.count == sizes[collection]
        rows[collection] = rows.get(collection, 0) + len(page.items)
    assert rows == sizes


def test_sync_catalog_reports_every_page() -> None:
    fake = FakeAPI(**catalogue.generate(450, 30, 3, seed=5))
    seen: list[tuple[str, Page[Any]]] = []
    with Client(http_client=httpx.Client(transport=fake.transport)) as dp:
        catalog = dp.catalog(on_page=lambda collection, page: seen.append((collection, page)))
    _check(seen, {"packages": 450, "grids": 30, "categories": 3})
    assert sum(1 for c, _ in seen if c == "packages") > 1  # a bar that moves
    assert [p.id for c, page in seen if c == "packages" for p in page] == [
        p.id for p in catalog.packages
    ]


async def test_async_catalog_reports_every_page() -> None:
    seen: list[tuple[str, Page[Any]]] = []
    with serving(FakeAPI.with_sample_data()) as server:
        async with AsyncClient(server.base_url) as dp:
            await dp.catalog(on_page=lambda collection, page: seen.append((collection, page)))
    _check(seen, {"packages": 5, "grids": 8, "categories": 1})


def test_without_a_callback_nothing_changes() -> None:
    fake = FakeAPI.with_sample_data()
    with Client(http_client=httpx.Client(transport=fake.transport)) as dp:
        assert len(dp.catalog().packages) == 5
