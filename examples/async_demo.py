"""The tour of ``examples/demo.py`` with ``AsyncClient``: the same surface, awaited.

Offline by default, on the sample bundled with the SDK::

    python examples/async_demo.py

Against the live site (https://djangopackages.org/api/v4/)::

    python examples/async_demo.py --live
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
from pathlib import Path

import httpx

from djangopackages_sdk import (
    DEFAULT_BASE_URL,
    AsyncClient,
    Catalog,
    DjangoPackagesError,
    Package,
    RetryEvent,
    TransportError,
)
from djangopackages_sdk.testing import FakeAPI

SLUGS = ("django-otp", "django-stronghold", "django-organizations")
QUERY = "two-factor"


def show_retry(event: RetryEvent) -> None:
    """Say so when the client retries (a flaky network, a busy server)."""
    print(f"  (retry {event.attempt} in {event.delay:.1f}s: {event.error})", file=sys.stderr)


def plural(n: int, word: str) -> str:
    """``1 grid``, ``2 grids``; ``1 category``, ``3 categories``."""
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word[:-1]}ies" if word.endswith("y") else f"{n} {word}s"


def describe(package: Package) -> str:
    """One line about a package."""
    version = package.pypi_version or "not on PyPI"
    return f"{package.title} {version}: {package.repo_watchers} stars, {package.repo_forks} forks"


async def tour(dp: AsyncClient, page_size: int | None = None) -> None:
    """Everything the demo shows, against any async client."""
    print(f"== Three packages by slug, concurrently ({dp.base_url})")
    packages = await asyncio.gather(*(dp.packages.get(slug) for slug in SLUGS))
    for package in packages:
        print(" ", describe(package))

    print("\n== Their relations, resolved explicitly")
    otp = packages[0]
    category = await dp.resolve(otp.category)
    print(f"  {otp.title}'s category: {category.title}")
    links = {link for package in packages for link in package.grids}
    grids = await dp.resolve_many(sorted(links, key=lambda link: link.id))
    for grid in grids:
        print(f"  grid: {grid.title} ({plural(len(grid.packages), 'package')})")
    again = await dp.resolve_many(otp.grids)  # already loaded: no request
    same = all(any(mine is loaded for loaded in grids) for mine in again)
    print(f"  resolving {otp.title}'s grids again reuses the same objects: {same}")

    print("\n== Every package, page by page")
    listing = dp.packages.list(page_size=page_size)
    rows = 0
    number = 0
    async for page in listing.pages():
        number += 1
        rows += len(page)
        print(f"  page {number}: {plural(len(page), 'package')} (the server counts {page.count})")
    print(f"  {plural(rows, 'package')} in {plural(listing.requests, 'list request')}")

    print(f"\n== Search {QUERY!r}")
    for hit in (await dp.search(QUERY))[:5]:
        print(f"  {hit.item_type:8} {hit.title} (score {hit.score})")

    print("\n== The whole catalogue, linked offline")
    catalog = await dp.catalog()
    print(
        f"  {plural(len(catalog.packages), 'package')}, {plural(len(catalog.grids), 'grid')}, "
        f"{plural(len(catalog.categories), 'category')}"
    )
    for grid in sorted(catalog.grids, key=lambda g: g.title)[:3]:
        members = ", ".join(p.title for p in catalog.packages_in(grid)) or "none"
        print(f"  {grid.title}: {members}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "catalog.jsonl"
        catalog.save(path)
        loaded = Catalog.load(path)
        size = path.stat().st_size
        print(f"  saved to JSON Lines ({size:,} bytes), loaded back equal: {loaded == catalog}")


async def main(argv: list[str] | None = None) -> int:
    """Run the tour offline (default) or against the live site (``--live``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--live", action="store_true", help=f"talk to {DEFAULT_BASE_URL} instead of the sample"
    )
    args = parser.parse_args(argv)
    async with contextlib.AsyncExitStack() as stack:
        fake: FakeAPI | None = None
        if args.live:
            dp = await stack.enter_async_context(
                AsyncClient(user_agent="(async demo)", on_retry=show_retry)
            )
        else:
            fake = FakeAPI.with_sample_data()
            http = await stack.enter_async_context(httpx.AsyncClient(transport=fake.transport))
            dp = await stack.enter_async_context(AsyncClient(http_client=http))
        try:
            # Offline, tiny pages show the five sample packages spread over several pages.
            await tour(dp, page_size=None if args.live else 2)
        except TransportError as error:
            print(f"\nerror: cannot reach {dp.base_url}: {error}", file=sys.stderr)
            print("Are you online? Without --live the demo runs offline.", file=sys.stderr)
            return 1
        except DjangoPackagesError as error:
            print(f"\nerror: {type(error).__name__}: {error}", file=sys.stderr)
            return 1
        if fake is not None:
            print(f"\n(offline: the bundled sample answered {len(fake.requests)} requests)")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
