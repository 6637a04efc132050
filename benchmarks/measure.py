"""Measuring: timed runs of each contender, parse + structure of one page, memory and profiles."""

from __future__ import annotations

import cProfile
import gc
import io
import json
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from benchmarks.contenders import Outcome, sdk_catalog_async, sdk_crawl_async, sdk_crawl_sync
from benchmarks.params import PYDANTIC_PARSE, SDK_PARSE, SDK_PARSE_PLAIN
from benchmarks.servers import Server
from djangopackages_sdk import Category, Grid, Package
from djangopackages_sdk._convert import Converter
from djangopackages_sdk._request import _loads, bulk_allocation
from djangopackages_sdk._wire import load_msgspec

# The children are started through the command line, which dispatches to them.
RUNNER: Final = Path(__file__).resolve().with_name("run.py")


# -- measuring -------------------------------------------------------------------------
@dataclass
class Variant:
    """One contender of a task: how to run it, and what it measured."""

    task: str
    name: str
    run: Callable[[], Outcome]
    seconds: list[float] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    peaks: list[dict[str, int]] = field(default_factory=list)
    error: str | None = None

    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None


def measure_variant(variant: Variant, server: Server) -> None:
    if variant.error is not None:
        return
    gc.collect()
    server.reset_peaks()
    mark = server.mark()
    start = time.perf_counter()
    try:
        outcome = variant.run()
    except Exception as exc:  # a broken variant is reported, the others still run
        variant.error = f"{type(exc).__name__}: {exc}"
        print(f"  ! {variant.task}/{variant.name} failed: {variant.error}", file=sys.stderr)
        return
    elapsed = time.perf_counter() - start
    variant.seconds.append(outcome.seconds if outcome.seconds is not None else elapsed)
    hits = server.hits_since(mark)
    variant.requests.append(len(hits))
    note = dict(outcome.note)
    note["wall_seconds"] = elapsed
    note["list_requests"] = sum(1 for path in hits if path.split("?")[0].endswith("s/"))
    note["detail_requests"] = len(hits) - note["list_requests"]
    variant.notes.append(note)
    variant.peaks.append(server.peaks())


def parse_benchmark(body: bytes, url: str, repeats: int) -> dict[str, Any]:
    """Parse + structure of one full page body, the same bytes for every contender.

    Each contender runs its repetitions in a row (a fresh converter for each, as a
    first crawl in a new process sees) and keeps its best and its median: on a
    shared machine the best is the figure least disturbed by other processes.
    """
    results: dict[str, Any] = {}
    msgspec = load_msgspec()

    def sdk_page(converter: Converter, loads: Callable[[bytes], Any]) -> int:
        # The SDK's own page path (_request.settle, then the crawl's parsers): with the
        # collector paused for a large body, the typed route when the converter has
        # one, else decode the body and structure every row at once.
        with bulk_allocation(len(body)):
            page = converter.structure_page(body, Package)
            if page is not None:
                return len(page[2])
            rows = loads(body)["results"]
            models, errors = converter.structure_rows(rows, Package, url=url, path="$.results")
        assert not errors
        return len(models)

    def plain() -> Converter:
        converter = Converter()
        converter._typed = None  # what the SDK does without the fast extra
        return converter

    fresh: dict[str, Converter] = {}

    def renew() -> None:
        fresh["typed"], fresh["plain"], fresh["generic"] = Converter(), plain(), plain()

    renew()
    warm = Converter()
    sdk_page(warm, json.loads)
    contenders: list[tuple[str, Callable[[], object]]] = [
        ("json.loads only", lambda: json.loads(body)),
        (SDK_PARSE_PLAIN, lambda: sdk_page(fresh["plain"], json.loads)),
    ]
    if msgspec is not None:
        decode = msgspec.json.decode
        contenders += [
            ("msgspec.json.decode only", lambda: decode(body)),
            (
                "SDK: msgspec.json.decode + generated fast path",
                lambda: sdk_page(fresh["generic"], decode),
            ),
            (SDK_PARSE, lambda: sdk_page(fresh["typed"], json.loads)),
            ("SDK with fast, warm caches", lambda: sdk_page(warm, json.loads)),
        ]
    else:
        results["fast_error"] = "the fast extra (msgspec) is not installed"
    try:
        from benchmarks.pydantic_models import adapter

        type_adapter = adapter()
        type_adapter.validate_json(body)
        contenders.append((PYDANTIC_PARSE, lambda: type_adapter.validate_json(body)))
    except ImportError as exc:
        results["pydantic_error"] = f"pydantic not available: {exc}"
    times: dict[str, list[float]] = {name: [] for name, _ in contenders}
    for name, fn in contenders:
        for _ in range(repeats):
            renew()
            gc.collect()
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    for name, seconds in times.items():
        results[name] = {
            "median": statistics.median(seconds),
            "best": min(seconds),
            "seconds": seconds,
        }
    return results


def _memory_figures(bodies: dict[str, bytes], base_url: str) -> dict[str, Any]:
    """Traced memory of the structured catalogue; call in a fresh process for clean figures."""
    from djangopackages_sdk._catalog import Catalog as CatalogModel

    models: dict[str, type[Package] | type[Grid] | type[Category]] = {
        "packages": Package,
        "grids": Grid,
        "categories": Category,
    }
    converter = Converter()
    for collection, model in models.items():  # generate cattrs' hooks before tracing
        first = _loads(bodies[collection])["results"][:1]
        for row in first:
            converter.structure(row, model)
    gc.collect()
    tracemalloc.start()
    structured: dict[str, tuple[Any, ...]] = {}
    for collection, model in models.items():
        rows = _loads(bodies[collection])["results"]
        structured[collection] = tuple(converter.structure(row, model) for row in rows)
        del rows
    gc.collect()
    with_caches, peak = tracemalloc.get_traced_memory()
    catalog = CatalogModel(
        base_url, structured["packages"], structured["grids"], structured["categories"]
    )
    gc.collect()
    with_catalog = tracemalloc.get_traced_memory()[0]
    del catalog, converter
    gc.collect()
    models_only = tracemalloc.get_traced_memory()[0]
    del structured
    gc.collect()
    floor = tracemalloc.get_traced_memory()[0]

    decoded = [_loads(body) for body in bodies.values()]
    gc.collect()
    dicts = tracemalloc.get_traced_memory()[0] - floor
    del decoded
    gc.collect()
    pydantic_bytes: int | None = None
    try:
        from pydantic import TypeAdapter

        from benchmarks.pydantic_models import CategoryPage, GridPage, PackagePage

        adapters: list[TypeAdapter[Any]] = [
            TypeAdapter(PackagePage),
            TypeAdapter(GridPage),
            TypeAdapter(CategoryPage),
        ]
        for page_adapter, body in zip(adapters, bodies.values(), strict=True):
            page_adapter.validate_json(body)  # warm
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        pages = [a.validate_json(b) for a, b in zip(adapters, bodies.values(), strict=True)]
        gc.collect()
        pydantic_bytes = tracemalloc.get_traced_memory()[0] - before
        del pages
    except ImportError:
        pass
    tracemalloc.stop()
    json_bytes = sum(len(body) for body in bodies.values())
    held, listed = _held_listing_bytes(bodies, base_url)
    return {
        "json_text_bytes": json_bytes,
        "json_text_bytes_by_collection": {k: len(v) for k, v in bodies.items()},
        "sdk_models_bytes": models_only - floor,
        "sdk_models_with_converter_caches_bytes": with_caches - floor,
        "sdk_catalog_with_indexes_bytes": with_catalog - floor,
        "peak_while_structuring_bytes": peak - floor,
        "json_loads_dicts_bytes": dicts,
        "pydantic_models_bytes": pydantic_bytes,
        "ratio_models_vs_json": (models_only - floor) / json_bytes,
        "ratio_catalog_vs_json": (with_catalog - floor) / json_bytes,
        "sdk_client_held_listing_bytes": held,
        "sdk_client_held_listing_packages": listed,
        "ratio_client_listing_vs_json": held / len(bodies["packages"]),
    }


def _held_listing_bytes(bodies: dict[str, bytes], base_url: str) -> tuple[int, int]:
    """``(bytes, packages)`` of every package held by an open client: the models, the
    client's identity map and the shared converter caches they filled, as a first
    listing in a process leaves them (to compare with the packages' JSON text)."""
    import httpx

    from djangopackages_sdk import Client
    from djangopackages_sdk._convert import get_converter
    from djangopackages_sdk.testing import FakeAPI

    rows = {name: _loads(body)["results"] for name, body in bodies.items()}
    fake = FakeAPI(**rows, base_url=base_url)
    del rows

    def listing() -> tuple[Client, list[Package]]:
        client = Client(base_url, http_client=httpx.Client(transport=fake.transport))
        return client, list(client.packages.list())

    warm, _ = listing()  # untraced: the generated code, and every page the fake renders
    warm.close()
    del warm, _
    get_converter().clear_caches()
    gc.collect()
    tracemalloc.start()
    floor = tracemalloc.get_traced_memory()[0]
    client, held = listing()
    gc.collect()
    size = tracemalloc.get_traced_memory()[0] - floor
    tracemalloc.stop()
    client.close()
    return size, len(held)


def memory_benchmark(bodies: dict[str, bytes], base_url: str, in_process: bool) -> dict[str, Any]:
    """Memory of the structured catalogue vs its JSON text, in a fresh process by default."""
    if in_process:
        return _memory_figures(bodies, base_url)
    with tempfile.TemporaryDirectory() as tmp:
        for name, body in bodies.items():
            Path(tmp, f"{name}.json").write_bytes(body)
        done = subprocess.run(
            [sys.executable, str(RUNNER), "--memory-child", tmp, base_url],
            check=True,
            capture_output=True,
            text=True,
        )
    figures: dict[str, Any] = json.loads(done.stdout)
    return figures


def parse_benchmark_isolated(
    body: bytes, url: str, repeats: int, in_process: bool
) -> dict[str, Any]:
    """:func:`parse_benchmark` in a fresh process by default: the same bytes and code,
    without the heap and allocator state that the crawls left in this one (which
    slowed later repetitions by up to 70%, every contender alike)."""
    if in_process:
        return parse_benchmark(body, url, repeats)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp, "page.json")
        page.write_bytes(body)
        done = subprocess.run(
            [
                sys.executable,
                str(RUNNER),
                "--parse-child",
                str(page),
                url,
                str(repeats),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    figures: dict[str, Any] = json.loads(done.stdout)
    return figures


def memory_child(directory: str, base_url: str) -> None:
    bodies = {
        name: Path(directory, f"{name}.json").read_bytes()
        for name in ("packages", "grids", "categories")
    }
    print(json.dumps(_memory_figures(bodies, base_url)))


def profile_sdk(base_url: str, expected: int, out_dir: Path) -> dict[str, str]:
    """cProfile of the async crawl and the async catalogue (single-threaded: all client work)."""
    files = {}
    runs: tuple[tuple[str, Callable[[], Outcome]], ...] = (
        ("crawl-async", lambda: sdk_crawl_async(base_url, expected)),
        ("catalog-async", lambda: sdk_catalog_async(base_url, expected)),
        ("crawl-sync-main-thread", lambda: sdk_crawl_sync(base_url, expected)),
    )
    for name, fn in runs:
        profiler = cProfile.Profile()
        profiler.enable()
        fn()
        profiler.disable()
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text).strip_dirs()
        text.write(f"== {name}: by own time ==\n")
        stats.sort_stats("tottime").print_stats(30)
        text.write(f"== {name}: by cumulative time ==\n")
        stats.sort_stats("cumulative").print_stats(30)
        path = out_dir / f"profile-{name}.txt"
        path.write_text(text.getvalue(), encoding="utf-8")
        files[name] = str(path)
    return files
