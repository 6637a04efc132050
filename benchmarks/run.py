"""The djangopackages-sdk benchmark: the SDK against the naive way, on a local live-scale server.

Run it from the repository root::

    pip install -e '.[bench]'
    python benchmarks/run.py             # defaults: 5,405 / 380 / 3, 3 runs, two server models
    python benchmarks/run.py --quick     # a smaller catalogue, 1 run

It starts a :class:`~djangopackages_sdk._server.LiveServer` (in a child process
by default, so that the server's threads do not share the client's GIL) serving a
seeded synthetic catalogue (``benchmarks/catalogue.py``) under each server model
(latency, a cost per request and per row, a bounded number of workers: the
first round's synthetic model and one calibrated on the real server), then
measures in one run, side by side: the crawl of every package, the fully linked graph, their
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
from benchmarks.params import (  # noqa: E402
    DEFAULT_OUTPUT,
    PARSE_MIN_REPEATS,
    PYDANTIC_PARSE,
    SERVER_MODELS,
    Params,
    ServerModel,
    task_key,
    uniform,
)
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


def _run_model(
    params: Params, model: ServerModel
) -> tuple[dict[str, Any], dict[str, int], dict[str, bytes], dict[str, str], dict[str, Any]]:
    """Every crawl and graph variant against one server model:
    ``(tasks, counts, bodies, urls, requests)``."""
    print(f"server model {model.describe()}", file=sys.stderr)
    server: Server = (
        InProcessServer(params, model)
        if params.in_process_server
        else ChildProcessServer(params, model)
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
        requests: dict[str, Any] = {
            "setup": setup_requests,
            "total": len(server.hits_since(first_mark)),
            "attributed": setup_requests + sum(sum(v.requests) for v in variants),
        }
        if params.profile and model is params.models[0]:
            print("profiling ...", file=sys.stderr)
            out_dir = DEFAULT_OUTPUT.parent
            out_dir.mkdir(parents=True, exist_ok=True)
            requests["profiles"] = profile_sdk(base, n, out_dir)
    finally:
        server.close()

    needs: dict[str, dict[str, int]] = {
        "crawl": {"packages": counts["packages"]},
        "graph": counts,
    }
    tasks: dict[str, Any] = {}
    for task, needed in needs.items():
        bound = lower_bound(needed, 1, model)
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
        tasks[task_key(task, model)] = {
            "server_model": model.name,
            "rows": sum(needed.values()),
            "lower_bound_seconds": bound,
            "lower_bound_round_trips": 1,
            "lower_bound_formula": "max(round_trips * latency, sum(rows * row_cost) / workers)"
            " + request_cost",
            "variants": entries,
        }
    return tasks, counts, bodies, urls, requests


def run_benchmark(params: Params, output: Path | None = DEFAULT_OUTPUT) -> dict[str, Any]:
    """Run every measurement once per server model; return (and write) the report."""
    started = datetime.now(UTC)
    print(
        f"catalogue {params.packages} packages / {params.grids} grids / {params.categories} "
        f"categories; {params.runs} run(s)",
        file=sys.stderr,
    )
    tasks: dict[str, Any] = {}
    requests: dict[str, Any] = {}
    for model in params.models:
        model_tasks, counts, bodies, urls, requests[model.name] = _run_model(params, model)
        tasks.update(model_tasks)
    profiles = {}
    for figures in requests.values():
        profiles.update(figures.pop("profiles", {}))
    n = counts["packages"]
    links = sum(len(r["grids"]) + 1 for r in json.loads(bodies["packages"])["results"])

    print("parse + structure ...", file=sys.stderr)
    repeats = max(PARSE_MIN_REPEATS, params.runs * 3)
    parse = parse_benchmark_isolated(
        bodies["packages"], urls["packages"], repeats, params.memory_in_process
    )
    print("memory ...", file=sys.stderr)
    base = urls["packages"].split("packages/")[0]
    memory = memory_benchmark(bodies, base, params.memory_in_process)

    pyd = parse.get(PYDANTIC_PARSE)
    parse_variants: dict[str, Any] = {}
    for name, value in parse.items():
        if not isinstance(value, dict):
            continue
        value["speedup_vs_baseline"] = pyd["median"] / value["median"] if pyd else None
        value["best_vs_baseline_best"] = value["best"] / pyd["best"] if pyd else None
        parse_variants[name] = value
    tasks["parse"] = {
        "rows": n,
        "bytes": len(bodies["packages"]),
        "repeats": repeats,
        "baseline": "pydantic" if pyd else None,
        "note": "a fresh Converter per repetition (cold link and string caches) unless 'warm';"
        " repetitions in a row, best and median of each",
        "variants": parse_variants,
        "error": parse.get("pydantic_error"),
    }
    tasks["memory"] = memory
    report: dict[str, Any] = {
        "format": "djangopackages-sdk-benchmark",
        "version": 2,
        "started": started.isoformat(),
        "finished": datetime.now(UTC).isoformat(),
        "params": {**params.__dict__, "models": [m.name for m in params.models]},
        "server_models": {
            m.name: {
                "latency_seconds": m.latency,
                "request_cost_seconds": m.request_cost,
                "row_cost_seconds": dict(m.row_costs),
                "workers": m.workers,
                "process": "in-process" if params.in_process_server else "child process",
            }
            for m in params.models
        },
        "catalogue": {**counts, "relation_links": links},
        "requests": requests,
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
    add(
        "--models",
        default=",".join(m.name for m in defaults.models),
        help=f"server models, comma-separated, of {sorted(SERVER_MODELS)} (default: all)",
    )
    add("--latency", type=float, default=None, help="a custom model: seconds per request")
    add("--row-cost", type=float, default=None, help="a custom model: seconds per row")
    add("--request-cost", type=float, default=0.0, help="a custom model: seconds per request")
    add("--workers", type=int, default=4, help="a custom model: server workers (4)")
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


def _models(args: argparse.Namespace) -> tuple[ServerModel, ...]:
    if args.latency is not None or args.row_cost is not None:
        custom = uniform(
            "custom", args.latency or 0.0, args.row_cost or 0.0, args.workers, args.request_cost
        )
        return (custom,)
    try:
        return tuple(SERVER_MODELS[name.strip()] for name in args.models.split(","))
    except KeyError as exc:
        known = sorted(SERVER_MODELS)
        raise SystemExit(f"--models: unknown model {exc}; choose from {known}") from None


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
        models=_models(args),
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
