"""Regenerate ``src/djangopackages_sdk/_sample_data.json`` from the recorded fixtures.

The bundled sample that :meth:`djangopackages_sdk.testing.FakeAPI.with_sample_data`
serves is built from genuine recordings only:

* the five live packages in ``tests/fixtures/seeds/`` (exact field values);
* their category (``tests/fixtures/real-api/categories-detail-by-id-1.json``);
* every grid those packages reference (``tests/fixtures/real-api/grids-detail-by-id-*.json``),
  each grid's package list trimmed to the sample packages so every link resolves.

Links are rewritten to the canonical ``https://djangopackages.org/api/v4/`` root
(``?format=api`` and the recorder's ``127.0.0.1:8765`` host disappear).

Usage, from the repository root::

    python scripts/make_sample_data.py           # write the file
    python scripts/make_sample_data.py --check   # exit 1 when the file is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
OUTPUT = ROOT / "src" / "djangopackages_sdk" / "_sample_data.json"
CANONICAL = "https://djangopackages.org/api/v4/"
CATEGORY_IDS = (1,)


def _body(path: Path) -> Any:
    exchange = json.loads(path.read_text(encoding="utf-8"))
    if exchange["response"]["status"] != 200:
        raise SystemExit(f"{path}: not a 200 response")
    return json.loads(exchange["response"]["body"])


def _link_id(url: str, collection: str) -> int:
    path = url.split("?", 1)[0].rstrip("/")
    head, _, digits = path.rpartition("/")
    if not head.endswith("/" + collection) or not digits.isdigit():
        raise SystemExit(f"not a {collection} link: {url}")
    return int(digits)


def _link(collection: str, resource_id: int) -> str:
    return f"{CANONICAL}{collection}/{resource_id}/"


def build() -> dict[str, list[dict[str, Any]]]:
    """Assemble the sample catalogue (categories, grids, packages) as API JSON."""
    packages: list[dict[str, Any]] = []
    for seed in sorted((FIXTURES / "seeds").glob("package-*.json")):
        package = _body(seed)
        package["category"] = _link("categories", _link_id(package["category"], "categories"))
        package["grids"] = [_link("grids", _link_id(url, "grids")) for url in package["grids"]]
        packages.append(package)
    packages.sort(key=lambda row: row["id"])
    package_ids = {row["id"] for row in packages}

    grid_ids = sorted({_link_id(url, "grids") for row in packages for url in row["grids"]})
    grid_files = {
        _body(path)["id"]: path
        for path in (FIXTURES / "real-api").glob("grids-detail-by-id-*.json")
    }
    grids: list[dict[str, Any]] = []
    for grid_id in grid_ids:
        if grid_id not in grid_files:
            raise SystemExit(f"no recorded detail for grid {grid_id}")
        grid = _body(grid_files[grid_id])
        kept = [_link_id(url, "packages") for url in grid["packages"]]
        grid["packages"] = [_link("packages", pid) for pid in kept if pid in package_ids]
        grids.append(grid)

    wanted = {_link_id(row["category"], "categories") for row in packages}
    categories: list[dict[str, Any]] = []
    for category_id in sorted(wanted):
        path = FIXTURES / "real-api" / f"categories-detail-by-id-{category_id}.json"
        categories.append(_body(path))

    # Every relation must resolve inside the sample.
    for row in packages:
        for url in row["grids"]:
            if _link_id(url, "grids") not in grid_ids:
                raise SystemExit(f"package {row['id']}: dangling {url}")
    for grid in grids:
        for url in grid["packages"]:
            pid = _link_id(url, "packages")
            if grid["id"] not in {
                _link_id(g, "grids") for p in packages if p["id"] == pid for g in p["grids"]
            }:
                raise SystemExit(
                    f"grid {grid['id']} lists package {pid}, which does not list it back"
                )
    return {"categories": categories, "grids": grids, "packages": packages}


def render(data: dict[str, list[dict[str, Any]]]) -> str:
    """The file's text: indented, UTF-8, one trailing newline."""
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` verify) the bundled sample data."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only verify the file is up to date")
    args = parser.parse_args(argv)
    text = render(build())
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is stale: run scripts/make_sample_data.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
