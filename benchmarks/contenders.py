"""The contenders: the naive way (httpx, one page of 20 at a time, N+1 relations) and the SDK."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from djangopackages_sdk import AsyncClient, Catalog, Category, Client, Grid, Link, Package


# -- the variants ----------------------------------------------------------------------
@dataclass
class Outcome:
    """What one timed execution of a variant produced (beyond its duration)."""

    rows: int
    seconds: float | None = None
    """Set when the variant reports its own (extrapolated) time."""
    note: dict[str, Any] = field(default_factory=dict)


def _check_packages(items: Sequence[Package], expected: int) -> int:
    ids = {p.id for p in items}
    if len(items) != expected or len(ids) != expected:
        raise AssertionError(
            f"expected {expected} distinct packages, got {len(items)} ({len(ids)})"
        )
    return len(items)


def naive_crawl_rows(http: httpx.Client, base_url: str) -> list[dict[str, Any]]:
    """Follow ``next`` from the first page with the API's default page size; JSON only."""
    rows: list[dict[str, Any]] = []
    url: str | None = base_url + "packages/"
    while url is not None:
        response = http.get(url)
        response.raise_for_status()
        page = response.json()
        rows.extend(page["results"])
        url = page["next"]
    return rows


def naive_crawl(base_url: str, expected: int) -> Outcome:
    """Crawl 1: the naive loop (a plain httpx client, 20 rows a request)."""
    with httpx.Client(timeout=60) as http:
        rows = naive_crawl_rows(http, base_url)
    if len({row["id"] for row in rows}) != expected:
        raise AssertionError(f"naive crawl read {len(rows)} rows, expected {expected}")
    return Outcome(len(rows))


def naive_graph(base_url: str, expected: int, cap: float) -> Outcome:
    """Graph 1: crawl naively, then GET each package's category and grids, one by one, no cache.

    The relation phase stops after ``cap`` seconds; its time is extrapolated
    linearly from the fraction of relation requests done (they are all alike:
    one sequential round trip for one row).
    """
    with httpx.Client(timeout=60) as http:
        start = time.perf_counter()
        rows = naive_crawl_rows(http, base_url)
        crawled = time.perf_counter()
        urls = [u for row in rows for u in (row["category"], *row["grids"])]
        done = 0
        for url in urls:
            if done and time.perf_counter() - crawled >= cap:
                break  # at least one request, to extrapolate from
            response = http.get(url)
            response.raise_for_status()
            response.json()
            done += 1
        end = time.perf_counter()
    if len(rows) != expected:
        raise AssertionError(f"naive graph crawled {len(rows)} rows, expected {expected}")
    crawl_s, relation_s = crawled - start, end - crawled
    total = len(urls)
    extrapolated = done < total
    estimate = crawl_s + (relation_s * total / done if done else math.inf)
    return Outcome(
        len(rows),
        seconds=estimate,
        note={
            "extrapolated": extrapolated,
            "crawl_seconds": crawl_s,
            "relation_seconds_measured": relation_s,
            "relation_requests_done": done,
            "relation_requests_total": total,
            "requests_needed": None,  # filled in by the caller (list pages + total)
        },
    )


def sdk_crawl_sync(
    base_url: str, expected: int, page_size: int | None = None, **options: Any
) -> Outcome:
    """Crawl 2: ``Client(base).packages.list()`` (variants: other page size or options)."""
    with Client(base_url, **options) as dp:
        items = list(dp.packages.list(page_size=page_size))
    return Outcome(_check_packages(items, expected))


def sdk_crawl_async(base_url: str, expected: int) -> Outcome:
    """Crawl 3: ``AsyncClient(base).packages.list()``, drained."""

    async def go() -> list[Package]:
        async with AsyncClient(base_url) as dp:
            return [p async for p in dp.packages.list()]

    return Outcome(_check_packages(asyncio.run(go()), expected))


def _relations(packages: Sequence[Package]) -> list[Link[Any]]:
    links: list[Link[Any]] = [p.category for p in packages]
    links.extend(g for p in packages for g in p.grids)
    return links


def _check_graph(
    packages: Sequence[Package], resolved: Sequence[object], links: Sequence[Link[Any]]
) -> None:
    if len(resolved) != len(links):
        raise AssertionError(f"resolved {len(resolved)} of {len(links)} links")
    for link, item in zip(links, resolved, strict=True):
        kind = Category if link.collection == "categories" else Grid
        if not isinstance(item, kind) or item.id != link.id:
            raise AssertionError(f"{link} resolved to {item!r}")


def sdk_graph_sync(base_url: str, expected: int) -> Outcome:
    """Graph 2: ``Client``: list packages, then ``resolve_many`` of every category and grid link."""
    with Client(base_url) as dp:
        packages = list(dp.packages.list())
        links = _relations(packages)
        resolved = dp.resolve_many(links)
    _check_packages(packages, expected)
    _check_graph(packages, resolved, links)
    return Outcome(len(packages), note={"links": len(links)})


def sdk_graph_async(base_url: str, expected: int) -> Outcome:
    """Graph 3: the same with ``AsyncClient``."""

    async def go() -> tuple[list[Package], list[Link[Any]], list[Any]]:
        async with AsyncClient(base_url) as dp:
            packages = [p async for p in dp.packages.list()]
            links = _relations(packages)
            return packages, links, await dp.resolve_many(links)

    packages, links, resolved = asyncio.run(go())
    _check_packages(packages, expected)
    _check_graph(packages, resolved, links)
    return Outcome(len(packages), note={"links": len(links)})


def _check_catalog(catalog: Catalog, expected: int) -> int:
    _check_packages(catalog.packages, expected)
    for package in catalog.packages:
        catalog.category_of(package)  # every link resolves locally
        if len(catalog.grids_of(package)) != len(package.grids):
            raise AssertionError(f"catalog lacks a grid of package {package.id}")
    return len(catalog)


def sdk_catalog_sync(base_url: str, expected: int) -> Outcome:
    """Graph 4: ``Client.catalog()``."""
    with Client(base_url) as dp:
        catalog = dp.catalog()
    return Outcome(_check_catalog(catalog, expected))


def sdk_catalog_async(base_url: str, expected: int) -> Outcome:
    """Graph 5: ``AsyncClient.catalog()``.

    The catalogue is handed out through a holder, not returned from the
    coroutine given to ``asyncio.run``: on Python 3.11 ``asyncio.run`` ends by
    restoring the SIGINT handler, and ``signal.signal`` then builds the
    ``repr`` of the old handler, a partial holding the main task, whose repr
    includes the repr of its result: a whole ``Catalog``, seconds of work.
    """
    holder: list[Catalog] = []

    async def go() -> None:
        async with AsyncClient(base_url) as dp:
            holder.append(await dp.catalog())

    asyncio.run(go())
    return Outcome(_check_catalog(holder[0], expected))
