"""What a bot's work costs: diffing two live-scale catalogues, and catalogue files.

Run from the repository root::

    python benchmarks/bots.py            # 5,405 packages / 380 grids / 3 categories, 5 runs
    python benchmarks/bots.py --quick    # 1,000 / 80 / 3, 3 runs
    python benchmarks/bots.py --json out.json

The two catalogues come from the seeded synthetic generator (`catalogue.py`); the
newer one differs in 1% of the packages (a new PyPI version on half of those, more
stars on the other half). Every figure is a median over the runs, measured in the
same process, and the target is a ratio, so the machine's speed cancels out:

* ``diff``: ``old.diff(new)`` against ``Catalog.load`` of one file (target:
  within 0.5x), and the same data read through another host (every link differs
  by host, the diff is empty: the slow path, keys of every row compared);
* files: ``save``/``load`` of plain and gzip catalogue files, and their sizes.

Other bot figures (the history store) can be added as one more function in
``FIGURES`` returning rows of ``(name, value, unit)``.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from benchmarks import catalogue as synthetic  # noqa: E402
from djangopackages_sdk import Catalog  # noqa: E402

OTHER_ROOT: Final = "http://127.0.0.1:8765/api/v4/"
Row = tuple[str, float, str]


def write_catalogue(data: synthetic.Catalogue, path: Path, base_url: str) -> None:
    """Write generated API JSON as a catalogue file (the format `Catalog.save` writes)."""
    lines = synthetic.file_lines(data, base_url=base_url)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def changed_one_percent(data: synthetic.Catalogue) -> tuple[synthetic.Catalogue, int]:
    """A copy where 1% of the packages changed; and how many that is."""
    packages = [dict(row) for row in data["packages"]]
    step = 100
    changed = 0
    for index in range(0, len(packages), step):
        row = packages[index]
        if changed % 2:
            row["repo_watchers"] += 7
        else:
            row["pypi_version"] = f"{row['pypi_version'] or '0'}.post1"
        changed += 1
    return {**data, "packages": packages}, changed


def median_time(action: Callable[[], object], runs: int) -> float:
    """The median wall time of ``action()`` over ``runs`` calls, in seconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def diff_figures(size: tuple[int, int, int], runs: int, folder: Path) -> list[Row]:
    """``diff`` of two catalogues 1% apart, as a ratio of ``Catalog.load``."""
    data = synthetic.generate(*size)
    newer, changed = changed_one_percent(data)
    old_path, new_path, other_path = folder / "old.jsonl", folder / "new.jsonl", folder / "o.jsonl"
    write_catalogue(data, old_path, synthetic.BASE_URL)
    write_catalogue(newer, new_path, synthetic.BASE_URL)
    write_catalogue(synthetic.generate(*size, base_url=OTHER_ROOT), other_path, OTHER_ROOT)
    old, new, other = Catalog.load(old_path), Catalog.load(new_path), Catalog.load(other_path)
    diff = old.diff(new)
    if len(diff) != changed or len(diff.changed("packages")) != changed:
        raise AssertionError(f"expected {changed} changed packages, got: {diff}")
    if other.diff(old):
        raise AssertionError("the same data through another host must diff empty")
    saved = folder / "saved.jsonl"
    old.save(saved)  # the reference: a file as Catalog.save writes it
    load = median_time(lambda: Catalog.load(saved), runs)
    same_host = median_time(lambda: old.diff(new), runs)
    other_host = median_time(lambda: other.diff(new), runs)
    return [
        ("packages", len(old.packages), ""),
        ("packages changed", changed, ""),
        ("Catalog.load", load * 1000, "ms"),
        ("diff (same host)", same_host * 1000, "ms"),
        ("diff / load (target <= 0.5)", same_host / load, "x"),
        ("diff (another host)", other_host * 1000, "ms"),
        ("diff another host / load", other_host / load, "x"),
    ]


def file_figures(size: tuple[int, int, int], runs: int, folder: Path) -> list[Row]:
    """``save`` and ``load`` of plain and gzip files, and their sizes."""
    path = folder / "source.jsonl"
    write_catalogue(synthetic.generate(*size), path, synthetic.BASE_URL)
    catalog = Catalog.load(path)
    rows: list[Row] = []
    for name in ("catalog.jsonl", "catalog.jsonl.gz"):
        target = folder / name
        save = functools.partial(catalog.save, target)
        load = functools.partial(Catalog.load, target)
        rows.append((f"save {name}", median_time(save, runs) * 1000, "ms"))
        rows.append((f"load {name}", median_time(load, runs) * 1000, "ms"))
        rows.append((f"size {name}", target.stat().st_size / 1024, "KiB"))
    return rows


FIGURES: Final[list[Callable[[tuple[int, int, int], int, Path], list[Row]]]] = [
    diff_figures,
    file_figures,
]


def run(size: tuple[int, int, int], runs: int) -> dict[str, Any]:
    """Every figure, as ``{"size": ..., "runs": ..., "figures": [[name, value, unit]]}``."""
    with tempfile.TemporaryDirectory() as temp:
        rows = [row for figure in FIGURES for row in figure(size, runs, Path(temp))]
    return {"size": list(size), "runs": runs, "figures": [list(row) for row in rows]}


def main(argv: list[str] | None = None) -> int:
    """The command line: print the figures, and write them as JSON with ``--json``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 packages, 3 runs")
    parser.add_argument("--packages", type=int, default=5_405)
    parser.add_argument("--runs", type=int, help="runs per figure (default 5, --quick 3)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    size = (1_000, 80, 3) if args.quick else (args.packages, 380, 3)
    report = run(size, args.runs or (3 if args.quick else 5))
    for name, value, unit in report["figures"]:
        print(f"{name:<32} {value:>10.3f} {unit}" if unit else f"{name:<32} {value:>10}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
