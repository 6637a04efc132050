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
import json
import statistics
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(ROOT))

from benchmarks.contenders import (  # noqa: E402
    naive_crawl,
    naive_graph,
    sdk_catalog_async,
    sdk_catalog_sync,
    sdk_crawl_async,
    sdk_crawl_sync,
    sdk_graph_async,
    sdk_graph_sync,
)
from benchmarks.measure import (  # noqa: E402
    Variant,
    measure_variant,
    memory_benchmark,
    memory_child,
    parse_benchmark,
    parse_benchmark_isolated,
    profile_sdk,
)
from benchmarks.params import DEFAULT_OUTPUT, PARSE_MIN_REPEATS, PYDANTIC_PARSE, Params  # noqa: E402
from benchmarks.report import git_state, library_versions, machine_info, print_table, targets_met  # noqa: E402
from benchmarks.servers import (  # noqa: E402
    ChildProcessServer,
    InProcessServer,
    Server,
    collection_count,
    fetch_body,
    lower_bound,
)

__all__ = ["Params", "main", "run_benchmark"]


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
        counts = {c: collection_count(base, c) for c in ("packages", "grids", "categories")}
        # Warm the server's render caches so no variant pays for the first rendering.
        bodies: dict[str, bytes] = {}
        urls: dict[str, str] = {}
        for collection, rows in counts.items():
            urls[collection], bodies[collection] = fetch_body(base, collection, rows)
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
                measure_variant(variant, server)
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
        "machine": machine_info(),
        "versions": library_versions(),
        "git": git_state(),
        "tasks": tasks,
        "profiles": profiles,
    }
    report["targets"] = targets_met(report)
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
        memory_child(*args.memory_child)
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
