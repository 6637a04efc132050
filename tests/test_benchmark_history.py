"""The history benchmark at a tiny size: it runs, its catalogues round-trip, it reports.

No timing is asserted; sizes are, as the benchmark's own targets hold at any scale.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import history  # noqa: E402


def test_daily_catalogues_change_a_little_each_day() -> None:
    base = history.build_catalog(200, 12)
    days = list(history.daily(base, 8))
    assert [c.fetched_at - base.fetched_at for c in days] == [
        timedelta(days=index) for index in range(8)
    ]
    changed = sum(1 for a, b in zip(days[0].packages, days[1].packages, strict=True) if a != b)
    assert changed == 2  # 1% of 200
    assert len(days[7].packages) == 201  # a new package on the 7th day
    assert len(days[7].grids_of(days[7].packages[0])) == 1


def test_a_tiny_run_reports_every_figure(tmp_path: Path) -> None:
    output = tmp_path / "history.json"
    figures = history.main(
        [
            "--packages",
            "150",
            "--grids",
            "10",
            "--days",
            "8",
            "--runs",
            "1",
            "--output",
            str(output),
        ]
    )
    assert json.loads(output.read_text(encoding="utf-8")) == figures
    assert figures["year_snapshots"] == 8
    assert figures["changed_packages"] == 2
    assert 0 < figures["one_percent_snapshot_bytes"] < figures["full_snapshot_bytes"]
    assert figures["year_file_bytes"] < figures["year_as_saved_catalogues_bytes"]
