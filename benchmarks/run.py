"""The djangopackages-sdk benchmark: the SDK against the naive way, on a local live-scale server.

Run it from the repository root::

    pip install -e '.[bench]'
    python benchmarks/run.py             # defaults: 5,400 / 380 / 3, 3 runs, a few minutes
    python benchmarks/run.py --quick     # a smaller catalogue, 1 run

It starts a :class:`~djangopackages_sdk._server.LiveServer` (in a child process
by default, so that the server's threads do not share the client's GIL) serving a
seeded synthetic catalogue (``benchmarks/catalogue.py``) with a per-request
latency, a per-row cost and a bounded number of workers, then measures in one
run, side by side: the crawl of every package, the fully linked graph, their
lower bounds under the server model, parse + structure of one full page, and
the memory of the structured catalogue. It prints a table and writes every
figure, with machine info, versions and parameters, as JSON
(``benchmarks/results/latest.json`` by default). See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import math
import multiprocessing
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Final, Protocol

ROOT: Final = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from benchmarks import catalogue as synthetic  # noqa: E402
from djangopackages_sdk import AsyncClient, Catalog, Category, Client, Grid, Link, Package  # noqa: E402
from djangopackages_sdk._convert import Converter  # noqa: E402
from djangopackages_sdk._request import _loads, bulk_allocation  # noqa: E402
from djangopackages_sdk.testing import FakeAPI, LiveServer  # noqa: E402

__all__ = ["Params", "main", "run_benchmark"]

DEFAULT_OUTPUT: Final = ROOT / "benchmarks" / "results" / "latest.json"
NAIVE_PAGE_SIZE: Final = 20
PARSE_MIN_REPEATS: Final = 5
SDK_PARSE: Final = "SDK: _loads + converter (what the SDK does)"
PYDANTIC_PARSE: Final = "pydantic v2 TypeAdapter(PackagePage).validate_json"


# -- parameters ------------------------------------------------------------------------
@dataclass(frozen=True)
class Params:
    """Everything that defines one benchmark run (recorded in the JSON report)."""

    packages: int = 5_400
    grids: int = 380
    categories: int = 3
    seed: int = synthetic.DEFAULT_SEED
    latency: float = 0.05
    row_cost: float = 0.0002
    workers: int = 4
    runs: int = 3
    naive_cap: float = 20.0
    in_process_server: bool = False
    memory_in_process: bool = False
    profile: bool = False


# -- the server, in this process or in a child -----------------------------------------
class Server(Protocol):
    """What the benchmark needs from the server: its URL and the requests it received."""

    base_url: str

    def hits_since(self, mark: int) -> list[str]:
        """Paths (with query) of the requests received after the first ``mark`` ones."""
        ...

    def mark(self) -> int:
        """How many requests the server has received so far."""
        ...

    def peaks(self) -> dict[str, int]:
        """Observed maxima since the last :meth:`reset_peaks`: concurrency, busy workers."""
        ...

    def reset_peaks(self) -> None:
        """Start observing maxima afresh."""
        ...

    def close(self) -> None:
        """Stop the server."""
        ...


def _build_server(params: Params) -> LiveServer:
    data = synthetic.generate(params.packages, params.grids, params.categories, seed=params.seed)
    fake = FakeAPI(
        packages=data["packages"],
        grids=data["grids"],
        categories=data["categories"],
        base_url=synthetic.BASE_URL,
    )
    return LiveServer(
        fake, latency=params.latency, row_cost=params.row_cost, workers=params.workers
    )


class InProcessServer:
    """The LiveServer in this process (fast to start; its threads share the client's GIL)."""

    def __init__(self, params: Params) -> None:
        self.live = _build_server(params).start()
        self.base_url = self.live.base_url

    def mark(self) -> int:
        return len(self.live.hits)

    def hits_since(self, mark: int) -> list[str]:
        return [hit.path for hit in self.live.hits[mark:]]

    def peaks(self) -> dict[str, int]:
        return {
            "max_concurrency": self.live.max_concurrency,
            "max_busy_workers": self.live.max_busy_workers,
        }

    def reset_peaks(self) -> None:
        self.live.max_concurrency = 0
        self.live.max_busy_workers = 0

    def close(self) -> None:
        self.live.stop()


def _server_child(conn: Connection, params: Params) -> None:
    """The child process: serve until told to stop, answering questions about hits."""
    live = _build_server(params).start()
    conn.send(live.base_url)
    try:
        while True:
            command, argument = conn.recv()
            if command == "mark":
                conn.send(len(live.hits))
            elif command == "hits":
                conn.send([hit.path for hit in live.hits[argument:]])
            elif command == "peaks":
                conn.send(
                    {
                        "max_concurrency": live.max_concurrency,
                        "max_busy_workers": live.max_busy_workers,
                    }
                )
            elif command == "reset_peaks":
                live.max_concurrency = 0
                live.max_busy_workers = 0
                conn.send(None)
            else:
                break
    finally:
        live.stop()
        conn.send(None)


class ChildProcessServer:
    """The LiveServer in a child process: a separate GIL, like a real remote server."""

    def __init__(self, params: Params) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_server_child, args=(child, params), name="benchmark-server", daemon=True
        )
        self._process.start()
        if not self._conn.poll(120):
            self._process.kill()
            raise RuntimeError("the benchmark server did not start")
        self.base_url: str = self._conn.recv()

    def _ask(self, command: str, argument: int = 0) -> Any:
        self._conn.send((command, argument))
        return self._conn.recv()

    def mark(self) -> int:
        value: int = self._ask("mark")
        return value

    def hits_since(self, mark: int) -> list[str]:
        value: list[str] = self._ask("hits", mark)
        return value

    def peaks(self) -> dict[str, int]:
        value: dict[str, int] = self._ask("peaks")
        return value

    def reset_peaks(self) -> None:
        self._ask("reset_peaks")

    def close(self) -> None:
        if self._process.is_alive():
            self._ask("stop")
        self._process.join(30)


# -- the variants ----------------------------------------------------------------------
@dataclass
class Outcome:
    """What one timed execution of a variant produced (beyond its duration)."""

    rows: int
    seconds: float | None = None
    """Set when the variant reports its own (extrapolated) time."""
    note: dict[str, Any] = field(default_factory=dict)


def _check_packages(items: Sequence[Package], expected: int) -> int:
    ids = {p.id for p in items}
    if len(items) != expected or len(ids) != expected:
        raise AssertionError(
            f"expected {expected} distinct packages, got {len(items)} ({len(ids)})"
        )
    return len(items)


def naive_crawl_rows(http: httpx.Client, base_url: str) -> list[dict[str, Any]]:
    """Follow ``next`` from the first page with the API's default page size; JSON only."""
    rows: list[dict[str, Any]] = []
    url: str | None = base_url + "packages/"
    while url is not None:
        response = http.get(url)
        response.raise_for_status()
        page = response.json()
        rows.extend(page["results"])
        url = page["next"]
    return rows


def naive_crawl(base_url: str, expected: int) -> Outcome:
    """Crawl 1: the naive loop (a plain httpx client, 20 rows a request)."""
    with httpx.Client(timeout=60) as http:
        rows = naive_crawl_rows(http, base_url)
    if len({row["id"] for row in rows}) != expected:
        raise AssertionError(f"naive crawl read {len(rows)} rows, expected {expected}")
    return Outcome(len(rows))


def naive_graph(base_url: str, expected: int, cap: float) -> Outcome:
    """Graph 1: crawl naively, then GET each package's category and grids, one by one, no cache.

    The relation phase stops after ``cap`` seconds; its time is extrapolated
    linearly from the fraction of relation requests done (they are all alike:
    one sequential round trip for one row).
    """
    with httpx.Client(timeout=60) as http:
        start = time.perf_counter()
        rows = naive_crawl_rows(http, base_url)
        crawled = time.perf_counter()
        urls = [u for row in rows for u in (row["category"], *row["grids"])]
        done = 0
        for url in urls:
            if done and time.perf_counter() - crawled >= cap:
                break  # at least one request, to extrapolate from
            response = http.get(url)
            response.raise_for_status()
            response.json()
            done += 1
        end = time.perf_counter()
    if len(rows) != expected:
        raise AssertionError(f"naive graph crawled {len(rows)} rows, expected {expected}")
    crawl_s, relation_s = crawled - start, end - crawled
    total = len(urls)
    extrapolated = done < total
    estimate = crawl_s + (relation_s * total / done if done else math.inf)
    return Outcome(
        len(rows),
        seconds=estimate,
        note={
            "extrapolated": extrapolated,
            "crawl_seconds": crawl_s,
            "relation_seconds_measured": relation_s,
            "relation_requests_done": done,
            "relation_requests_total": total,
            "requests_needed": None,  # filled in by the caller (list pages + total)
        },
    )


def sdk_crawl_sync(
    base_url: str, expected: int, page_size: int | None = None, **options: Any
) -> Outcome:
    """Crawl 2: ``Client(base).packages.list()`` (variants: other page size or options)."""
    with Client(base_url, **options) as dp:
        items = list(dp.packages.list(page_size=page_size))
    return Outcome(_check_packages(items, expected))


def sdk_crawl_async(base_url: str, expected: int) -> Outcome:
    """Crawl 3: ``AsyncClient(base).packages.list()``, drained."""

    async def go() -> list[Package]:
        async with AsyncClient(base_url) as dp:
            return [p async for p in dp.packages.list()]

    return Outcome(_check_packages(asyncio.run(go()), expected))


def _relations(packages: Sequence[Package]) -> list[Link[Any]]:
    links: list[Link[Any]] = [p.category for p in packages]
    links.extend(g for p in packages for g in p.grids)
    return links


def _check_graph(
    packages: Sequence[Package], resolved: Sequence[object], links: Sequence[Link[Any]]
) -> None:
    if len(resolved) != len(links):
        raise AssertionError(f"resolved {len(resolved)} of {len(links)} links")
    for link, item in zip(links, resolved, strict=True):
        kind = Category if link.collection == "categories" else Grid
        if not isinstance(item, kind) or item.id != link.id:
            raise AssertionError(f"{link} resolved to {item!r}")


def sdk_graph_sync(base_url: str, expected: int) -> Outcome:
    """Graph 2: ``Client``: list packages, then ``resolve_many`` of every category and grid link."""
    with Client(base_url) as dp:
        packages = list(dp.packages.list())
        links = _relations(packages)
        resolved = dp.resolve_many(links)
    _check_packages(packages, expected)
    _check_graph(packages, resolved, links)
    return Outcome(len(packages), note={"links": len(links)})


def sdk_graph_async(base_url: str, expected: int) -> Outcome:
    """Graph 3: the same with ``AsyncClient``."""

    async def go() -> tuple[list[Package], list[Link[Any]], list[Any]]:
        async with AsyncClient(base_url) as dp:
            packages = [p async for p in dp.packages.list()]
            links = _relations(packages)
            return packages, links, await dp.resolve_many(links)

    packages, links, resolved = asyncio.run(go())
    _check_packages(packages, expected)
    _check_graph(packages, resolved, links)
    return Outcome(len(packages), note={"links": len(links)})


def _check_catalog(catalog: Catalog, expected: int) -> int:
    _check_packages(catalog.packages, expected)
    for package in catalog.packages:
        catalog.category_of(package)  # every link resolves locally
        if len(catalog.grids_of(package)) != len(package.grids):
            raise AssertionError(f"catalog lacks a grid of package {package.id}")
    return len(catalog)


def sdk_catalog_sync(base_url: str, expected: int) -> Outcome:
    """Graph 4: ``Client.catalog()``."""
    with Client(base_url) as dp:
        catalog = dp.catalog()
    return Outcome(_check_catalog(catalog, expected))


def sdk_catalog_async(base_url: str, expected: int) -> Outcome:
    """Graph 5: ``AsyncClient.catalog()``.

    The catalogue is handed out through a holder, not returned from the
    coroutine given to ``asyncio.run``: on Python 3.11 ``asyncio.run`` ends by
    restoring the SIGINT handler, and ``signal.signal`` then builds the
    ``repr`` of the old handler, a partial holding the main task, whose repr
    includes the repr of its result: a whole ``Catalog``, seconds of work.
    """
    holder: list[Catalog] = []

    async def go() -> None:
        async with AsyncClient(base_url) as dp:
            holder.append(await dp.catalog())

    asyncio.run(go())
    return Outcome(_check_catalog(holder[0], expected))


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


def _measure(variant: Variant, server: Server) -> None:
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


def lower_bound(rows: int, round_trips: int, params: Params) -> float:
    """max(fewest round trips x latency, rows x row_cost / workers): no client is faster."""
    return max(round_trips * params.latency, rows * params.row_cost / params.workers)


def _repeat(
    fn: Callable[[], object], repeats: int, setup: Callable[[], None] | None = None
) -> list[float]:
    times = []
    for _ in range(repeats):
        if setup is not None:
            setup()
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def parse_benchmark(body: bytes, url: str, repeats: int) -> dict[str, Any]:
    """Parse + structure of one full page body, the same bytes for every contender."""
    results: dict[str, Any] = {}
    loads_name = f"{_loads.__module__}.{getattr(_loads, '__qualname__', _loads.__name__)}"
    # Fresh converter per repetition: cold link/string caches, as a first crawl would see.
    fresh: list[Converter] = [Converter()]

    def new_converter() -> None:
        fresh[0] = Converter()

    def structure_with(loads: Callable[[bytes], Any], converter: Converter) -> int:
        # The SDK's own page path (_request.settle): with the collector paused for a large
        # body, decode it and structure every row at once, as a crawl does with each
        # page it receives.
        with bulk_allocation(len(body)):
            rows = loads(body)["results"]
            models, errors = converter.structure_rows(rows, Package, url=url, path="$.results")
        assert not errors
        return len(models)

    warm = Converter()
    structure_with(_loads, warm)
    contenders: list[tuple[str, Callable[[], object], Callable[[], None] | None]] = [
        ("json.loads only", lambda: json.loads(body), None),
        (f"SDK decoder only ({loads_name})", lambda: _loads(body), None),
        (
            "SDK: json.loads + converter",
            lambda: structure_with(json.loads, fresh[0]),
            new_converter,
        ),
        (SDK_PARSE, lambda: structure_with(_loads, fresh[0]), new_converter),
        ("SDK: _loads + converter, warm caches", lambda: structure_with(_loads, warm), None),
    ]
    try:
        from benchmarks.pydantic_models import adapter

        type_adapter = adapter()
        type_adapter.validate_json(body)
        contenders.append((PYDANTIC_PARSE, lambda: type_adapter.validate_json(body), None))
    except ImportError as exc:
        results["pydantic_error"] = f"pydantic not available: {exc}"
    for name, fn, setup in contenders:
        times = _repeat(fn, repeats, setup)
        results[name] = {"median": statistics.median(times), "seconds": times}
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
    }


def memory_benchmark(bodies: dict[str, bytes], base_url: str, in_process: bool) -> dict[str, Any]:
    """Memory of the structured catalogue vs its JSON text, in a fresh process by default."""
    if in_process:
        return _memory_figures(bodies, base_url)
    with tempfile.TemporaryDirectory() as tmp:
        for name, body in bodies.items():
            Path(tmp, f"{name}.json").write_bytes(body)
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--memory-child", tmp, base_url],
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
                str(Path(__file__).resolve()),
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


def _memory_child(directory: str, base_url: str) -> None:
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


# -- report ----------------------------------------------------------------------------
def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for dist in (
        "djangopackages-sdk",
        "httpx",
        "httpcore",
        "attrs",
        "cattrs",
        "orjson",
        "pydantic",
        "pydantic-core",
    ):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _git() -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip()

    status = git("status", "--porcelain", "--", "src")
    return {
        "commit": git("rev-parse", "HEAD"),
        "src_modified": bool(status) if status is not None else None,
    }


def _machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "python": sys.version,
        "implementation": platform.python_implementation(),
    }


def _fmt_ratio(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:,.1f}x" if value >= 10 else f"{value:.2f}x"


def print_table(report: dict[str, Any]) -> None:
    """The human summary of a report."""
    head = (
        f"{'task':<8} {'variant':<44} {'median s':>10} {'requests':>9}"
        f" {'vs naive':>10} {'vs bound':>9}"
    )
    print()
    print(head)
    print("-" * len(head))
    for task in ("crawl", "graph"):
        entry = report["tasks"][task]
        print(
            f"{task:<8} {'lower bound (server model)':<44} {entry['lower_bound_seconds']:>10.3f}"
            f" {entry['lower_bound_round_trips']:>9} {'':>10} {'1.00x':>9}"
        )
        for name, v in entry["variants"].items():
            if v.get("error"):
                print(f"{task:<8} {name:<44} {'FAILED':>10}  {v['error'][:60]}")
                continue
            label = name + (" (extrapolated)" if v.get("extrapolated") else "")
            print(
                f"{task:<8} {label:<44} {v['median_seconds']:>10.3f} {v['requests']:>9}"
                f" {_fmt_ratio(v['speedup_vs_naive']):>10}"
                f" {_fmt_ratio(v['ratio_vs_lower_bound']):>9}"
            )
    parse = report["tasks"]["parse"]
    print()
    print(
        f"parse + structure of one {parse['rows']}-row page ({parse['bytes']:,} bytes), "
        f"median of {parse['repeats']}:"
    )
    base = parse["baseline"]
    for name, v in parse["variants"].items():
        vs = _fmt_ratio(v["speedup_vs_baseline"]) if v.get("speedup_vs_baseline") else "-"
        print(f"  {name:<60} {v['median'] * 1000:>9.1f} ms  {vs:>7} vs {base}")
    memory = report["tasks"]["memory"]
    print()
    print(
        f"memory of the structured catalogue (tracemalloc) vs its JSON text "
        f"({memory['json_text_bytes'] / 1e6:.2f} MB):"
    )
    for key in (
        "sdk_models_bytes",
        "sdk_models_with_converter_caches_bytes",
        "sdk_catalog_with_indexes_bytes",
        "peak_while_structuring_bytes",
        "json_loads_dicts_bytes",
        "pydantic_models_bytes",
    ):
        value = memory.get(key)
        if value is not None:
            print(
                f"  {key:<42} {value / 1e6:>8.2f} MB"
                f"  {value / memory['json_text_bytes']:>5.2f}x JSON"
            )
    targets = report["targets"]
    print()
    print("targets:")
    for name, t in targets.items():
        print(
            f"  {name:<34} {t['figure']:<34} {'MET' if t['met'] else 'NOT MET':<8}"
            f" (target {t['target']})"
        )


def _targets(report: dict[str, Any]) -> dict[str, Any]:
    """Each figure against the issue's target."""
    out: dict[str, Any] = {}
    tasks = report["tasks"]
    goals = (
        ("crawl", ("Client", "AsyncClient"), 25.0, 2.0),
        (
            "graph",
            (
                "Client resolve_many",
                "AsyncClient resolve_many",
                "Client.catalog()",
                "AsyncClient.catalog()",
            ),
            1000.0,
            2.5,
        ),
    )
    for task, names, speed, bound in goals:
        for name in names:
            v = tasks[task]["variants"].get(name, {})
            if not v.get("median_seconds") or v.get("speedup_vs_naive") is None:
                continue
            out[f"{task}: {name}"] = {
                "figure": f"{_fmt_ratio(v['speedup_vs_naive'])} vs naive, "
                f"{_fmt_ratio(v['ratio_vs_lower_bound'])} of bound",
                "target": f">= {speed:g}x vs naive and <= {bound:g}x of the lower bound",
                "met": v["speedup_vs_naive"] >= speed and v["ratio_vs_lower_bound"] <= bound,
            }
    parse = tasks["parse"]["variants"]
    sdk = parse.get(SDK_PARSE)
    pyd = parse.get(PYDANTIC_PARSE)
    if sdk and pyd:
        out["parse + structure"] = {
            "figure": f"SDK {sdk['median'] * 1000:.1f} ms"
            f" vs pydantic {pyd['median'] * 1000:.1f} ms",
            "target": "SDK no slower than pydantic validate_json",
            "met": sdk["median"] <= pyd["median"],
        }
    memory = tasks["memory"]
    out["memory"] = {
        "figure": f"models {memory['ratio_models_vs_json']:.2f}x JSON text",
        "target": "<= 1.5x the JSON text",
        "met": memory["ratio_models_vs_json"] <= 1.5,
    }
    return out


# -- the whole run ---------------------------------------------------------------------
def _fetch_body(base_url: str, collection: str, rows: int) -> tuple[str, bytes]:
    url = f"{base_url}{collection}/?limit={max(1, rows)}"
    with httpx.Client(timeout=120) as http:
        response = http.get(url)
        response.raise_for_status()
    return url, response.content


def _count(base_url: str, collection: str) -> int:
    with httpx.Client(timeout=60) as http:
        response = http.get(f"{base_url}{collection}/?limit=1")
        response.raise_for_status()
    count: int = response.json()["count"]
    return count


def run_benchmark(params: Params, output: Path | None = DEFAULT_OUTPUT) -> dict[str, Any]:
    """Run every measurement once against one server; return (and write) the report."""
    started = datetime.now(UTC)
    print(
        f"catalogue {params.packages} packages / {params.grids} grids / {params.categories} "
        f"categories; server latency {params.latency * 1000:g} ms, row cost "
        f"{params.row_cost * 1000:g} ms, {params.workers} workers; {params.runs} run(s)",
        file=sys.stderr,
    )
    server: Server = (
        InProcessServer(params) if params.in_process_server else ChildProcessServer(params)
    )
    try:
        base = server.base_url
        first_mark = server.mark()
        counts = {c: _count(base, c) for c in ("packages", "grids", "categories")}
        # Warm the server's render caches so no variant pays for the first rendering.
        bodies: dict[str, bytes] = {}
        urls: dict[str, str] = {}
        for collection, rows in counts.items():
            urls[collection], bodies[collection] = _fetch_body(base, collection, rows)
        setup_requests = len(server.hits_since(first_mark))
        n = counts["packages"]
        links = sum(len(r["grids"]) + 1 for r in json.loads(bodies["packages"])["results"])
        variants = [
            Variant("crawl", "naive httpx loop", lambda: naive_crawl(base, n)),
            Variant("crawl", "Client", lambda: sdk_crawl_sync(base, n)),
            Variant("crawl", "AsyncClient", lambda: sdk_crawl_async(base, n)),
            # Does the sync client's thread pool pay? The same crawl one request at a time.
            Variant(
                "crawl", "Client max_in_flight=1", lambda: sdk_crawl_sync(base, n, max_in_flight=1)
            ),
            # The default plan against fixed pages of 500 rows.
            Variant("crawl", "Client page_size=500", lambda: sdk_crawl_sync(base, n, 500)),
            Variant("graph", "naive N+1", lambda: naive_graph(base, n, params.naive_cap)),
            Variant("graph", "Client resolve_many", lambda: sdk_graph_sync(base, n)),
            Variant("graph", "AsyncClient resolve_many", lambda: sdk_graph_async(base, n)),
            Variant("graph", "Client.catalog()", lambda: sdk_catalog_sync(base, n)),
            Variant("graph", "AsyncClient.catalog()", lambda: sdk_catalog_async(base, n)),
        ]
        for run in range(params.runs):
            print(f"run {run + 1}/{params.runs}", file=sys.stderr)
            for variant in variants:
                _measure(variant, server)
                if variant.seconds and variant.error is None:
                    print(
                        f"  {variant.task:<6} {variant.name:<28} {variant.seconds[-1]:8.3f} s "
                        f"{variant.requests[-1]:>6} requests",
                        file=sys.stderr,
                    )
        attributed = setup_requests + sum(sum(v.requests) for v in variants)
        total_requests = len(server.hits_since(first_mark))

        print("parse + structure ...", file=sys.stderr)
        repeats = max(PARSE_MIN_REPEATS, params.runs)
        parse = parse_benchmark_isolated(
            bodies["packages"], urls["packages"], repeats, params.memory_in_process
        )
        print("memory ...", file=sys.stderr)
        memory = memory_benchmark(bodies, base, params.memory_in_process)
        profiles: dict[str, str] = {}
        if params.profile:
            print("profiling ...", file=sys.stderr)
            out_dir = (output or DEFAULT_OUTPUT).parent
            out_dir.mkdir(parents=True, exist_ok=True)
            profiles = profile_sdk(base, n, out_dir)
    finally:
        server.close()

    graph_rows = counts["packages"] + counts["grids"] + counts["categories"]
    bounds = {
        "crawl": (counts["packages"], 1, lower_bound(counts["packages"], 1, params)),
        "graph": (graph_rows, 1, lower_bound(graph_rows, 1, params)),
    }
    tasks: dict[str, Any] = {}
    for task, (rows, trips, bound) in bounds.items():
        entries: dict[str, Any] = {}
        naive = next(v for v in variants if v.task == task).median()
        for v in (v for v in variants if v.task == task):
            median = v.median()
            entry: dict[str, Any] = {
                "median_seconds": median,
                "seconds": v.seconds,
                "requests": statistics.median(v.requests) if v.requests else None,
                "requests_per_run": v.requests,
                "speedup_vs_naive": naive / median if naive and median else None,
                "ratio_vs_lower_bound": median / bound if median and bound else None,
                "server_peaks": v.peaks,
                "runs": v.notes,
                "error": v.error,
            }
            if v.requests and isinstance(entry["requests"], float):
                entry["requests"] = int(entry["requests"])
            if any(note.get("extrapolated") for note in v.notes):
                entry["extrapolated"] = True
                entry["requests_needed"] = (
                    v.notes[0]["list_requests"] + v.notes[0]["relation_requests_total"]
                )
                entry["requests"] = entry["requests_needed"]
                entry["requests_made_per_run"] = v.requests
            entries[v.name] = entry
        tasks[task] = {
            "rows": rows,
            "lower_bound_seconds": bound,
            "lower_bound_round_trips": trips,
            "lower_bound_formula": "max(round_trips * latency, rows * row_cost / workers)",
            "variants": entries,
        }
    pyd = parse.get(PYDANTIC_PARSE)
    parse_variants: dict[str, Any] = {}
    for name, value in parse.items():
        if not isinstance(value, dict):
            continue
        value["speedup_vs_baseline"] = pyd["median"] / value["median"] if pyd else None
        parse_variants[name] = value
    tasks["parse"] = {
        "rows": n,
        "bytes": len(bodies["packages"]),
        "repeats": repeats,
        "baseline": "pydantic" if pyd else None,
        "note": "a fresh Converter per repetition (cold link and string caches) unless 'warm'",
        "variants": parse_variants,
        "error": parse.get("pydantic_error"),
    }
    tasks["memory"] = memory
    report: dict[str, Any] = {
        "format": "djangopackages-sdk-benchmark",
        "version": 1,
        "started": started.isoformat(),
        "finished": datetime.now(UTC).isoformat(),
        "params": params.__dict__,
        "server_model": {
            "latency_seconds": params.latency,
            "row_cost_seconds": params.row_cost,
            "workers": params.workers,
            "process": "in-process" if params.in_process_server else "child process",
        },
        "catalogue": {**counts, "relation_links": links},
        "requests": {
            "setup": setup_requests,
            "total": total_requests,
            "attributed": attributed,
        },
        "machine": _machine(),
        "versions": _versions(),
        "git": _git(),
        "tasks": tasks,
        "profiles": profiles,
    }
    report["targets"] = _targets(report)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    return report


def _parser() -> argparse.ArgumentParser:
    defaults = Params()
    parser = argparse.ArgumentParser(
        description="Benchmark djangopackages-sdk against the naive way on a local server."
    )
    add = parser.add_argument
    add("--packages", type=int, default=None, help=f"packages (default {defaults.packages})")
    add("--grids", type=int, default=None, help=f"grids (default {defaults.grids})")
    add("--categories", type=int, default=None, help=f"categories ({defaults.categories})")
    add("--seed", type=int, default=defaults.seed, help="catalogue seed")
    add("--latency", type=float, default=defaults.latency, help="seconds per request (0.05)")
    add("--row-cost", type=float, default=defaults.row_cost, help="seconds per row (0.0002)")
    add("--workers", type=int, default=defaults.workers, help="server workers (4)")
    add("--runs", type=int, default=None, help=f"runs per variant, medians ({defaults.runs})")
    add("--naive-cap", type=float, default=None, help="cap of the N+1 relation phase, s (20)")
    add("--quick", action="store_true", help="1,000 packages, 80 grids, 1 run, 5 s cap")
    add("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON report path")
    add("--in-process-server", action="store_true", help="serve from this process")
    add(
        "--memory-in-process",
        action="store_true",
        help="measure memory and parsing in this process",
    )
    add("--profile", action="store_true", help="write cProfile reports of the SDK next to --output")
    add("--memory-child", nargs=2, metavar=("DIR", "BASE_URL"), help=argparse.SUPPRESS)
    add("--parse-child", nargs=3, metavar=("FILE", "URL", "REPEATS"), help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> dict[str, Any] | None:
    """The command line: parse arguments, run, print the table; returns the report."""
    args = _parser().parse_args(argv)
    if args.memory_child:
        _memory_child(*args.memory_child)
        return None
    if args.parse_child:
        path, url, repeats = args.parse_child
        print(json.dumps(parse_benchmark(Path(path).read_bytes(), url, int(repeats))))
        return None
    quick = args.quick
    defaults = Params()

    def pick(value: Any, quick_value: Any, default: Any) -> Any:
        if value is not None:
            return value
        return quick_value if quick else default

    params = Params(
        packages=pick(args.packages, 1_000, defaults.packages),
        grids=pick(args.grids, 80, defaults.grids),
        categories=pick(args.categories, 3, defaults.categories),
        seed=args.seed,
        latency=args.latency,
        row_cost=args.row_cost,
        workers=args.workers,
        runs=pick(args.runs, 1, defaults.runs),
        naive_cap=pick(args.naive_cap, 5.0, defaults.naive_cap),
        in_process_server=args.in_process_server,
        memory_in_process=args.memory_in_process,
        profile=args.profile,
    )
    report = run_benchmark(params, args.output)
    print_table(report)
    if args.output is not None:
        print(f"\nreport written to {args.output}")
    return report


if __name__ == "__main__":
    main()
