"""``benchmarks/bots.py`` at a tiny size: its checks hold and it reports every figure.

No time is asserted: the script itself checks that the diff finds exactly the
changed packages and that the same data through another host diffs empty.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bots  # noqa: E402
from benchmarks import catalogue as synthetic  # noqa: E402


def test_one_percent_changed() -> None:
    data = synthetic.generate(300, 10, 2, seed=5)
    newer, changed = bots.changed_one_percent(data)
    assert changed == 3
    differ = [a for a, b in zip(data["packages"], newer["packages"], strict=True) if a != b]
    assert len(differ) == changed


def test_the_script_reports_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "bots.json"
    assert bots.main(["--quick", "--runs", "1", "--json", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    names = [name for name, _, _ in report["figures"]]
    assert "diff / load (target <= 0.5)" in names
    assert "size catalog.jsonl.gz" in names
    figures = {name: value for name, value, _ in report["figures"]}
    assert figures["packages changed"] == 10
    assert figures["size catalog.jsonl.gz"] < figures["size catalog.jsonl"] / 3
