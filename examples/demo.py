"""A tour of djangopackages-sdk with the synchronous ``Client``.

Offline by default, on the sample bundled with the SDK (five real packages,
their category and grids, served by ``djangopackages_sdk.testing.FakeAPI``)::

    python examples/demo.py

Against the live site (https://djangopackages.org/api/v4/)::

    python examples/demo.py --live

The same tour with ``AsyncClient`` is ``examples/async_demo.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from pathlib import Path

import httpx

from djangopackages_sdk import (
    DEFAULT_BASE_URL,
    Catalog,
    Client,
    DjangoPackagesError,
    Package,
    RetryEvent,
    TransportError,
    audit,
)
from djangopackages_sdk.testing import FakeAPI

SLUG = "django-otp"
QUERY = "two-factor"


def show_retry(event: RetryEvent) -> None:
    """Say so when the client retries (a flaky network, a busy server)."""
    print(f"  (retry {event.attempt} in {event.delay:.1f}s: {event.error})", file=sys.stderr)


def describe(package: Package) -> str:
    """One line about a package."""
    version = package.pypi_version or "not on PyPI"
    return f"{package.title} {version}: {package.repo_watchers} stars, {package.repo_forks} forks"


def plural(n: int, word: str) -> str:
    """``1 grid``, ``2 grids``; ``1 category``, ``3 categories``."""
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word[:-1]}ies" if word.endswith("y") else f"{n} {word}s"


def tour(dp: Client, page_size: int | None = None) -> None:
    """Everything the demo shows, against any client."""
    print(f"== One package, by slug ({dp.base_url})")
    otp = dp.packages.get(SLUG)
    print(" ", describe(otp))
    last_commit = f"{otp.last_updated:%Y-%m-%d}" if otp.last_updated else "unknown"
    print(f"  repository {otp.repo_url}, last commit {last_commit}")
    same = dp.packages.get(otp.id)  # by id: answered from the identity map, no request
    print(f"  packages.get({otp.id}) is the same object: {same is otp}")

    print("\n== Its relations, resolved explicitly")
    category = dp.resolve(otp.category)
    grids = dp.resolve_many(otp.grids)
    print(f"  category: {category.title} ({category.description[:60]}...)")
    for grid in grids:
        print(f"  grid: {grid.title} ({plural(len(grid.packages), 'package')})")

    print("\n== Every package, page by page")
    listing = dp.packages.list(page_size=page_size)
    rows = 0
    for number, page in enumerate(listing.pages(), start=1):
        rows += len(page)
        print(f"  page {number}: {plural(len(page), 'package')} (the server counts {page.count})")
    print(f"  {plural(rows, 'package')} in {plural(listing.requests, 'list request')}")

    print(f"\n== Search {QUERY!r}")
    for hit in dp.search(QUERY)[:5]:
        print(f"  {hit.item_type:8} {hit.title} (score {hit.score})")

    print("\n== The whole catalogue, linked offline")
    catalog = dp.catalog()
    print(
        f"  {plural(len(catalog.packages), 'package')}, {plural(len(catalog.grids), 'grid')}, "
        f"{plural(len(catalog.categories), 'category')}"
    )
    for package in sorted(catalog.packages, key=lambda p: -p.repo_watchers)[:3]:
        grid_titles = ", ".join(g.title for g in catalog.grids_of(package)) or "no grid"
        category_title = catalog.category_of(package).title
        print(f"  {package.title} [{category_title}] in {grid_titles}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "catalog.jsonl"
        catalog.save(path)
        again = Catalog.load(path)
        size = path.stat().st_size
        print(f"  saved to JSON Lines ({size:,} bytes), loaded back equal: {again == catalog}")
    health(catalog, otp)


def health(catalog: Catalog, otp: Package) -> None:
    """What the catalogue says about development, offline: staleness, a grid
    compared side by side, and an audit of some requirements."""
    print("\n== Health, from the catalogue (no request)")
    stale = [p for p in catalog.packages if p.is_stale()]
    print(f"  {plural(len(stale), 'package')} without a commit for a year (the site's rule)")
    print(f"  {otp.title}: {otp.commits_last_12_weeks} commits in the last 12 weeks")
    grid = catalog.grids_of(otp)[0]
    comparison = catalog.compare(grid, sort="stars")
    print(f"  {grid.title}, compared by stars ({grid.site_url}):")
    for row in comparison.rows[:5]:
        status = "stale" if row.stale else "active"
        print(f"    {row.title:24} {row.stars:>6} stars  {row.version or '-':10} {status}")
    print("  audit of django-otp, django-messages, requests:")
    for entry in audit(["django-otp", "django-messages", "requests"], catalog):
        if entry.package is None:
            print(f"    {entry.name}: not on Django Packages")
            continue
        instead = ", ".join(p.title for p in entry.alternatives[:3]) or "none known"
        verdict = "stale, alternatives: " + instead if entry.stale else "active"
        print(f"    {entry.name}: {verdict}")


def main(argv: list[str] | None = None) -> int:
    """Run the tour offline (default) or against the live site (``--live``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--live", action="store_true", help=f"talk to {DEFAULT_BASE_URL} instead of the sample"
    )
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        fake: FakeAPI | None = None
        if args.live:
            dp = stack.enter_context(Client(user_agent="(demo)", on_retry=show_retry))
        else:
            fake = FakeAPI.with_sample_data()
            http = stack.enter_context(httpx.Client(transport=fake.transport))
            dp = stack.enter_context(Client(http_client=http))
        try:
            # Offline, tiny pages show the five sample packages spread over several pages.
            tour(dp, page_size=None if args.live else 2)
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
    sys.exit(main())
