"""Size and speed of `History`: a live-scale catalogue recorded day after day.

Run from the repository root::

    python benchmarks/history.py            # 5,400 packages, 365 daily snapshots (~3 min)
    python benchmarks/history.py --quick    # 600 packages, 30 days (a few seconds)

What it measures, on the seeded synthetic catalogue of ``benchmarks/catalogue.py``:

* the bytes a full first snapshot adds to the file, and those a second snapshot
  adds when 1% of the packages changed (target: under 5% of the full one);
* ``History.catalog_at`` against ``Catalog.load`` of the same catalogue saved as
  JSON Lines, medians of a few runs in the same process (target: within 2x);
* the file after a year of daily snapshots with small daily changes (1% of the
  packages a day: stars, forks, a fetch, this week's commits, now and then a new
  PyPI version; a new package in a grid each week), next to what 365 saved
  catalogues would take.

No figure is asserted in the tests (``tests/test_benchmark_history.py`` runs a tiny
version and checks the catalogues round-trip); ``--output`` writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(ROOT))

from benchmarks import catalogue  # noqa: E402
from djangopackages_sdk import Catalog, Grid, History, Link, Package  # noqa: E402

__all__ = ["build_catalog", "daily", "main", "measure"]

START = datetime.fromisoformat("2026-08-10T04:00:00+00:00")
CHANGED_SHARE = 0.01


def build_catalog(packages: int, grids: int, *, seed: int = catalogue.DEFAULT_SEED) -> Catalog:
    """The synthetic catalogue as a `Catalog`, fetched at `START`."""
    return catalogue.as_catalog(catalogue.generate(packages, grids, 3, seed=seed), fetched_at=START)


def change(base: Catalog, day: int, *, share: float = CHANGED_SHARE, seed: int = 0) -> Catalog:
    """``base`` one day on: ``share`` of its packages updated, a new package on every 7th day."""
    rng = random.Random(seed * 100_003 + day)
    when = base.fetched_at + timedelta(days=1)
    packages = list(base.packages)
    for index in rng.sample(range(len(packages)), max(1, round(len(packages) * share))):
        old = packages[index]
        version = old.pypi_version
        if version is not None and rng.random() < 0.1:
            version = f"{version}.{day}"
        commits = (*old.commits_over_52[1:], rng.randrange(4)) if old.commits_over_52 else ()
        packages[index] = attrs.evolve(
            old,
            repo_watchers=old.repo_watchers + rng.randrange(1, 6),
            repo_forks=old.repo_forks + (rng.random() < 0.2),
            last_fetched=when,
            modified=when,
            commits_over_52=commits,
            pypi_version=version,
        )
    grids = list(base.grids)
    if day % 7 == 0 and grids:
        template = packages[0]
        new_id = max(p.id for p in packages) + 1
        slot = rng.randrange(len(grids))
        grid = grids[slot]
        url = f"{base.base_url}packages/{new_id}/"
        link: Link[Package] = Link(url, new_id)
        grid_link: Link[Grid] = Link(f"{base.base_url}grids/{grid.id}/", grid.id)
        packages.insert(
            0,
            attrs.evolve(
                template,
                id=new_id,
                slug=f"django-new-{day}",
                title=f"django-new-{day}",
                grids=(grid_link,),
                created=when,
                modified=when,
            ),
        )
        grids[slot] = attrs.evolve(grid, packages=(*grid.packages, link), modified=when)
    return Catalog(base.base_url, tuple(packages), tuple(grids), base.categories, fetched_at=when)


def daily(base: Catalog, days: int, *, share: float = CHANGED_SHARE) -> Iterator[Catalog]:
    """``base``, then ``days - 1`` catalogues, each a day after the one before."""
    current = base
    yield current
    for day in range(1, days):
        current = change(current, day, share=share)
        yield current


def _file_bytes(history: History) -> int:
    """The file's size with everything written back from the WAL into it."""
    history._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return Path(history.path).stat().st_size


def _median_seconds(call: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(packages: int, grids: int, days: int, runs: int, folder: Path) -> dict[str, Any]:
    """Every figure, as a dict (see the module docstring)."""
    base = build_catalog(packages, grids)
    saved = folder / "catalog.jsonl"
    base.save(saved)
    figures: dict[str, Any] = {
        "params": {"packages": packages, "grids": grids, "days": days, "runs": runs},
        "catalogue_file_bytes": saved.stat().st_size,
    }
    with History(folder / "two.sqlite") as history:
        empty = _file_bytes(history)
        history.record(base)
        full = _file_bytes(history) - empty
        second = change(base, 1)
        changed = sum(1 for a, b in zip(base.packages, second.packages, strict=True) if a != b)
        start = time.perf_counter()
        history.record(second)
        figures["record_seconds"] = time.perf_counter() - start
        delta = _file_bytes(history) - empty - full
        row_bytes = history._db.execute(
            "SELECT sum(length(data)) FROM versions WHERE valid_from = 2"
        ).fetchone()[0]
        load = _median_seconds(lambda: Catalog.load(saved), runs)
        read = _median_seconds(lambda: history.catalog_at(base.fetched_at), runs)
        assert history.catalog_at(base.fetched_at) == base
        assert history.catalog_at(second.fetched_at) == second
    figures.update(
        full_snapshot_bytes=full,
        changed_packages=changed,
        one_percent_snapshot_bytes=delta,
        one_percent_snapshot_data_bytes=row_bytes,
        one_percent_share_of_full=delta / full,
        load_seconds=load,
        catalog_at_seconds=read,
        catalog_at_over_load=read / load,
    )
    with History(folder / "year.sqlite") as history:
        start = time.perf_counter()
        last = base
        for snapshot in daily(base, days):
            history.record(snapshot)
            last = snapshot
        figures["year_record_seconds"] = time.perf_counter() - start
        figures["year_file_bytes"] = _file_bytes(history)
        figures["year_snapshots"] = len(history.snapshots())
        last.save(saved)
        load = _median_seconds(lambda: Catalog.load(saved), runs)
        read = _median_seconds(lambda: history.catalog_at(last.fetched_at), runs)
        figures["year_catalog_at_over_load"] = read / load
        middle = history.snapshots()[days // 2]
        mid = _median_seconds(lambda: history.catalog_at(middle), runs)
        figures["year_middle_catalog_at_over_load"] = mid / load
        assert history.catalog_at(last.fetched_at) == last
    figures["year_as_saved_catalogues_bytes"] = days * figures["catalogue_file_bytes"]
    return figures


def _report(figures: dict[str, Any]) -> str:
    mb = 1_000_000
    p = figures["params"]
    return "\n".join(
        [
            f"catalogue: {p['packages']} packages, {p['grids']} grids; "
            f"saved as JSON Lines {figures['catalogue_file_bytes'] / mb:.2f} MB",
            f"full snapshot: {figures['full_snapshot_bytes'] / mb:.2f} MB in the file",
            f"snapshot after {figures['changed_packages']} packages changed (1%): "
            f"{figures['one_percent_snapshot_bytes'] / 1000:.1f} kB "
            f"({figures['one_percent_share_of_full']:.2%} of a full one; target < 5%), "
            f"recorded in {figures['record_seconds']:.2f} s",
            f"catalog_at {figures['catalog_at_seconds']:.3f} s, Catalog.load "
            f"{figures['load_seconds']:.3f} s: {figures['catalog_at_over_load']:.2f}x "
            "(target <= 2x)",
            f"{figures['year_snapshots']} daily snapshots: "
            f"{figures['year_file_bytes'] / mb:.1f} MB "
            f"(as saved catalogues: {figures['year_as_saved_catalogues_bytes'] / mb:.0f} MB), "
            f"recorded in {figures['year_record_seconds']:.0f} s; catalog_at of its last day "
            f"{figures['year_catalog_at_over_load']:.2f}x Catalog.load, of its middle day "
            f"{figures['year_middle_catalog_at_over_load']:.2f}x",
        ]
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the figures and return them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="600 packages, 30 days, 1 run")
    parser.add_argument("--packages", type=int)
    parser.add_argument("--grids", type=int)
    parser.add_argument("--days", type=int)
    parser.add_argument("--runs", type=int)
    parser.add_argument("--output", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    defaults = (600, 45, 30, 1) if args.quick else (5_400, 380, 365, 5)
    packages, grids, days, runs = (
        default if given is None else given
        for given, default in zip(
            (args.packages, args.grids, args.days, args.runs), defaults, strict=True
        )
    )
    with tempfile.TemporaryDirectory() as folder:
        figures = measure(packages, grids, days, runs, Path(folder))
    print(_report(figures))
    if args.output is not None:
        args.output.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return figures


if __name__ == "__main__":
    main()
