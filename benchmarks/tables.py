"""Tables benchmark: ``Catalog.to_pandas()`` / ``to_polars()`` against each library's own way.

The baseline is what a user would write from the same rows as decoded JSON
dicts: ``pd.DataFrame(rows)`` plus ``pd.to_datetime(..., utc=True,
format="ISO8601")`` on the four datetime columns (polars: ``pl.DataFrame(rows)``
plus ``str.to_datetime`` to UTC). Both sides are timed in one process, best of
``--runs`` each, alternating, so the ratio is what counts (target: at most 2.0x
for pandas). Run from the repository root::

    python benchmarks/tables.py            # 5,405 packages, best of 7
    python benchmarks/tables.py --quick    # 500 packages, best of 3

Prints a table and, with ``--output``, writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(ROOT))

from benchmarks import catalogue  # noqa: E402

DATETIMES: Final = ("last_updated", "last_fetched", "created", "modified")
TARGET: Final = 2.0
"""``to_pandas()`` within this many times pandas' own baseline."""


def pandas_baseline(rows: list[dict[str, Any]]) -> Any:
    """pandas' own way from decoded JSON: a frame of dicts, then the datetimes parsed."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    for name in DATETIMES:
        frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601")
    return frame


def polars_baseline(rows: list[dict[str, Any]]) -> Any:
    """polars' own way from decoded JSON: a frame of dicts, then the datetimes parsed."""
    import polars as pl

    frame = pl.DataFrame(rows, infer_schema_length=None)
    return frame.with_columns(
        pl.col(name).str.to_datetime(time_zone="UTC", time_unit="us") for name in DATETIMES
    )


def best(calls: dict[str, Callable[[], Any]], runs: int) -> dict[str, float]:
    """The best time of each call over ``runs`` rounds, the calls alternating."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(runs):
        for name, call in calls.items():
            gc.collect()
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    return {name: min(values) for name, values in times.items()}


def measure(packages: int, runs: int, seed: int = catalogue.DEFAULT_SEED) -> dict[str, Any]:
    """Time both libraries' baselines and the SDK's tables on one catalogue."""
    data = catalogue.generate(packages, max(1, packages // 14), 3, seed=seed)
    rows = json.loads(json.dumps(data["packages"]))  # decoded JSON dicts, as from a response
    catalog = catalogue.as_catalog(data)
    figures: dict[str, Any] = {"packages": len(rows), "runs": runs, "libraries": {}}
    for library, baseline in (("pandas", pandas_baseline), ("polars", polars_baseline)):
        try:
            module = __import__(library)
        except ImportError:
            figures["libraries"][library] = {"error": f"{library} is not installed"}
            continue
        ours = catalog.to_pandas if library == "pandas" else catalog.to_polars
        same = baseline(rows)
        assert len(ours()) == len(same) == len(rows)
        timed = best({"baseline": functools.partial(baseline, rows), "sdk": ours}, runs)
        figures["libraries"][library] = {
            "version": module.__version__,
            "baseline_seconds": timed["baseline"],
            "sdk_seconds": timed["sdk"],
            "ratio": timed["sdk"] / timed["baseline"],
        }
    pandas = figures["libraries"].get("pandas", {})
    figures["target"] = {
        "ratio": TARGET,
        "met": "ratio" in pandas and pandas["ratio"] <= TARGET,
    }
    return figures


def report(figures: dict[str, Any]) -> str:
    """The figures as a small text table."""
    lines = [
        f"{figures['packages']:,} packages, best of {figures['runs']}",
        f"{'library':<8} {'baseline':>10} {'SDK':>10} {'ratio':>7}",
    ]
    for library, row in figures["libraries"].items():
        if "error" in row:
            lines.append(f"{library:<8} {row['error']}")
            continue
        lines.append(
            f"{library:<8} {row['baseline_seconds'] * 1000:>8.1f}ms "
            f"{row['sdk_seconds'] * 1000:>8.1f}ms {row['ratio']:>6.2f}x"
        )
    verdict = "met" if figures["target"]["met"] else "MISSED"
    lines.append(f"target: to_pandas() <= {TARGET}x pandas' own baseline: {verdict}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark from the command line; returns the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--packages", type=int, default=5_405)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="500 packages, best of 3")
    parser.add_argument("--output", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    if args.quick:
        args.packages, args.runs = min(args.packages, 500), min(args.runs, 3)
    figures = measure(args.packages, args.runs)
    print(report(figures))
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return figures


if __name__ == "__main__":
    main()
