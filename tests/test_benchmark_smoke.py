"""The benchmark's code paths at a tiny size: request counts, the catalogue, the JSON report.

No timing is asserted: only what each variant asked of the server, that the
synthetic catalogue is shaped like the real API, and that a report is written.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import catalogue, contenders, params, run, servers  # noqa: E402

from conftest import load_body  # noqa: E402
from djangopackages_sdk import Category, Grid, Package  # noqa: E402
from djangopackages_sdk._convert import get_converter  # noqa: E402
from djangopackages_sdk.testing import FakeAPI, LiveServer  # noqa: E402

PACKAGES, GRIDS, CATEGORIES = 120, 12, 2


def _id(url: str) -> int:
    return int(url.rstrip("/").rsplit("/", 1)[1])


def test_catalogue_is_deterministic_and_consistent_both_ways() -> None:
    data = catalogue.generate(PACKAGES, GRIDS, CATEGORIES, seed=7)
    assert data == catalogue.generate(PACKAGES, GRIDS, CATEGORIES, seed=7)
    assert data != catalogue.generate(PACKAGES, GRIDS, CATEGORIES, seed=8)
    packages = {p["id"]: p for p in data["packages"]}
    grids = {g["id"]: g for g in data["grids"]}
    assert (len(packages), len(grids), len(data["categories"])) == (PACKAGES, GRIDS, CATEGORIES)
    assert list(packages) == sorted(packages, reverse=True)  # newest id first, like the API
    for package in packages.values():
        assert 0 <= len(package["grids"]) <= catalogue.MAX_GRIDS_PER_PACKAGE
        assert _id(package["category"]) in {c["id"] for c in data["categories"]}
        for grid_url in package["grids"]:
            assert package["id"] in {_id(u) for u in grids[_id(grid_url)]["packages"]}
    for grid in grids.values():
        assert len(grid["packages"]) <= catalogue.MAX_PACKAGES_PER_GRID
        members = [packages[_id(u)] for u in grid["packages"]]
        assert [p["title"] for p in members] == sorted(p["title"] for p in members)
        for member in members:
            assert any(_id(u) == grid["id"] for u in member["grids"])


def test_catalogue_rows_have_the_recorded_shapes_and_structure_strictly() -> None:
    data = catalogue.generate(PACKAGES, GRIDS, CATEGORIES, seed=3)
    recorded = {
        "packages": load_body("real-api/packages-detail-by-id-1867-django-otp"),
        "grids": load_body("real-api/grids-detail-by-id-7-forty-plus-packages"),
        "categories": load_body("real-api/categories-detail-by-id-1"),
    }
    strict = get_converter(strict=True)
    models: dict[str, type[Package] | type[Grid] | type[Category]] = {
        "packages": Package,
        "grids": Grid,
        "categories": Category,
    }
    for collection, rows in data.items():
        assert isinstance(rows, list)
        for row in rows:
            assert list(row) == list(recorded[collection])  # same keys, same order
            strict.structure(row, models[collection])  # no unknown key, every type right
    rows = data["packages"]
    assert any(p["last_updated"] is None for p in rows) or PACKAGES < 50
    assert any(p["documentation_url"] == "" for p in rows)
    assert any(p["commits_over_52"] == [0] * 52 for p in rows)


def test_pydantic_models_are_equivalent_to_the_sdk_models() -> None:
    pytest.importorskip("pydantic")
    from benchmarks.pydantic_models import adapter

    data = catalogue.generate(40, 6, 2, seed=5)
    fake = FakeAPI(
        packages=data["packages"],
        grids=data["grids"],
        categories=data["categories"],
        base_url=catalogue.BASE_URL,
    )
    with httpx.Client(transport=fake.transport) as http:
        body = http.get(catalogue.BASE_URL + "packages/?limit=40").content
    page = adapter().validate_json(body)
    converter = get_converter()
    expected = [converter.structure(row, Package) for row in json.loads(body)["results"]]
    assert len(page.results) == len(expected) == 40
    for mine, theirs in zip(expected, page.results, strict=True):
        as_pydantic: dict[str, Any] = {
            name: getattr(mine, name) for name in type(theirs).model_fields
        }
        as_pydantic["category"] = mine.category.url
        as_pydantic["grids"] = tuple(link.url for link in mine.grids)
        assert theirs.model_dump() == as_pydantic


def test_lower_bound_is_the_larger_of_round_trips_and_row_work() -> None:
    model = params.uniform("synthetic", latency=0.05, row_cost=0.0002, workers=4)
    assert servers.lower_bound({"packages": 5_400}, 1, model) == pytest.approx(0.27)
    assert servers.lower_bound({"packages": 100}, 3, model) == pytest.approx(0.15)


def test_lower_bound_adds_one_request_and_costs_rows_by_collection() -> None:
    real = params.REAL_SERVER
    rows = {"packages": 5_405, "grids": 380, "categories": 3}
    work = 5_405 * 0.00044 + 383 * 0.001
    assert servers.lower_bound(rows, 1, real) == pytest.approx(work / 4 + 0.020)
    assert servers.lower_bound({"packages": 1}, 1, real) == pytest.approx(0.02 + 0.00044 / 4)


def test_naive_graph_extrapolates_from_the_requests_it_made() -> None:
    data = catalogue.generate(45, 5, 2, seed=11)
    fake = FakeAPI(
        packages=data["packages"],
        grids=data["grids"],
        categories=data["categories"],
        base_url=catalogue.BASE_URL,
    )
    with LiveServer(fake) as server:
        outcome = contenders.naive_graph(server.base_url, 45, cap=0.0)
        hits = list(server.hits)
    links = sum(1 + len(p["grids"]) for p in data["packages"])
    assert outcome.note["extrapolated"] is True
    assert outcome.note["relation_requests_done"] == 1  # always at least one, to extrapolate
    assert outcome.note["relation_requests_total"] == links
    assert len(hits) == math.ceil(45 / params.NAIVE_PAGE_SIZE) + 1
    assert outcome.seconds is not None
    assert math.isfinite(outcome.seconds)


def test_a_tiny_run_counts_every_request_and_writes_the_report(tmp_path: Path) -> None:
    output = tmp_path / "report.json"
    report = run.main(
        [
            *("--packages", str(PACKAGES), "--grids", str(GRIDS)),
            *("--categories", str(CATEGORIES), "--runs", "1"),
            *("--latency", "0", "--row-cost", "0", "--naive-cap", "60"),
            *("--in-process-server", "--memory-in-process", "--output", str(output)),
        ]
    )
    assert report is not None
    written = json.loads(output.read_text(encoding="utf-8"))
    assert written["params"]["packages"] == PACKAGES
    assert written["versions"]["djangopackages-sdk"]
    assert set(written["tasks"]) == {"crawl [custom]", "graph [custom]", "parse", "memory"}
    # Every request the server saw is attributed to the setup or to one variant.
    assert written["requests"]["custom"]["total"] == written["requests"]["custom"]["attributed"]
    links = written["catalogue"]["relation_links"]
    assert links == sum(
        1 + len(p["grids"]) for p in catalogue.generate(PACKAGES, GRIDS, CATEGORIES)["packages"]
    )

    crawl = written["tasks"]["crawl [custom]"]["variants"]
    graph = written["tasks"]["graph [custom]"]["variants"]
    for variants in (crawl, graph):
        for name, variant in variants.items():
            assert variant["error"] is None, name
    pages = math.ceil(PACKAGES / params.NAIVE_PAGE_SIZE)
    assert crawl["naive httpx loop"]["requests"] == pages
    naive = graph["naive N+1"]
    assert "extrapolated" not in naive
    assert naive["requests"] == pages + links
    assert naive["runs"][0]["list_requests"] == pages
    assert naive["runs"][0]["detail_requests"] == links
    # The SDK reads each collection in a handful of requests: a first page, then
    # at most one concurrent round of slices within max_in_flight (4).
    for name in ("Client", "AsyncClient"):
        assert 1 <= crawl[name]["requests"] <= 1 + 4, name
        assert crawl[name]["runs"][0]["detail_requests"] == 0
    for name in ("Client.catalog()", "AsyncClient.catalog()"):
        assert 3 <= graph[name]["requests"] <= 3 * (1 + 4), name
        assert graph[name]["runs"][0]["detail_requests"] == 0
    for name in ("Client resolve_many", "AsyncClient resolve_many"):
        # The relations of 120 packages are most of both small collections: bulk
        # listings (a count probe each, then a handful of pages), no detail request.
        assert graph[name]["requests"] <= crawl["Client"]["requests"] + 2 * (1 + 1 + 4), name
        assert graph[name]["runs"][0]["detail_requests"] == 0, name
    parse = written["tasks"]["parse"]
    assert parse["rows"] == PACKAGES
    assert params.SDK_PARSE_PLAIN in parse["variants"]
    assert params.PYDANTIC_PARSE in parse["variants"]
    assert all(v["best"] <= v["median"] for v in parse["variants"].values())
    memory = written["tasks"]["memory"]
    assert memory["json_text_bytes"] == sum(memory["json_text_bytes_by_collection"].values())
    assert memory["sdk_models_bytes"] > 0
    assert "memory" in written["targets"]
    assert "parse + structure: " + params.SDK_PARSE_PLAIN in written["targets"]


def test_both_server_models_are_run_by_default() -> None:
    defaults = params.Params()
    assert [m.name for m in defaults.models] == ["synthetic", "real-server"]
    assert params.SYNTHETIC.row_cost("grids") == 0.0002
    assert params.REAL_SERVER.row_cost("packages") == 0.00044
    assert params.REAL_SERVER.row_cost("search") == 0.0
    options = run._parser().parse_args(["--models", "real-server"])
    assert [m.name for m in run._models(options)] == ["real-server"]
    with pytest.raises(SystemExit, match="unknown model"):
        run._models(run._parser().parse_args(["--models", "nowhere"]))


def test_the_reliability_figures_of_a_lying_count_are_measured() -> None:
    from benchmarks.reliability import lying_count

    figures = lying_count()
    assert figures["rows"] == 450
    assert figures["requests"] <= 10


def test_the_tables_benchmark_runs_tiny(tmp_path: Path) -> None:
    from benchmarks import tables

    output = tmp_path / "tables.json"
    figures = tables.main(["--quick", "--packages", "40", "--runs", "1", "--output", str(output)])
    assert json.loads(output.read_text(encoding="utf-8")) == figures
    assert figures["packages"] == 40
    for library in ("pandas", "polars"):
        row = figures["libraries"][library]
        assert row["baseline_seconds"] > 0
        assert row["sdk_seconds"] > 0
        assert row["ratio"] == row["sdk_seconds"] / row["baseline_seconds"]
    assert figures["target"]["ratio"] == 2.0
    assert "to_pandas() <= 2.0x" in tables.report(figures)
