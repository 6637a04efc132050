"""The benchmark's parameters and constants: server model, catalogue size, output path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from benchmarks import catalogue as synthetic

ROOT: Final = Path(__file__).resolve().parents[1]


DEFAULT_OUTPUT: Final = ROOT / "benchmarks" / "results" / "latest.json"


NAIVE_PAGE_SIZE: Final = 20


PARSE_MIN_REPEATS: Final = 5


SDK_PARSE: Final = "SDK with fast: typed route (what the SDK does)"
"""The SDK's page path with the ``fast`` extra: msgspec straight into the models."""


SDK_PARSE_PLAIN: Final = "SDK without extras: json.loads + generated fast path"
"""The SDK's page path without any extra (what it does when msgspec is absent)."""


PYDANTIC_PARSE: Final = "pydantic v2 TypeAdapter(PackagePage).validate_json"


PARSE_TARGETS: Final = {SDK_PARSE: 0.8, SDK_PARSE_PLAIN: 1.2}
"""Each SDK parse row's target: at most this multiple of pydantic's time (best runs)."""


# -- the server models -----------------------------------------------------------------
@dataclass(frozen=True)
class ServerModel:
    """How the benchmark's server behaves: see ``LiveServer`` (latency, a fixed cost per
    request and a cost per row, both holding one of ``workers``)."""

    name: str
    latency: float
    request_cost: float
    row_costs: tuple[tuple[str, float], ...]
    workers: int

    def row_cost(self, collection: str) -> float:
        """Seconds of server work per row of ``collection``."""
        return dict(self.row_costs).get(collection, 0.0)

    def describe(self) -> str:
        """One line for the report."""
        costs = ", ".join(f"{c} {s * 1000:g} ms" for c, s in self.row_costs)
        return (
            f"{self.name}: latency {self.latency * 1000:g} ms, {self.request_cost * 1000:g} ms"
            f" per request, per row {costs}, {self.workers} workers"
        )


def uniform(
    name: str, latency: float, row_cost: float, workers: int, request_cost: float = 0.0
) -> ServerModel:
    """A model with one row cost for every collection."""
    costs = tuple((c, row_cost) for c in ("packages", "grids", "categories"))
    return ServerModel(name, latency, request_cost, costs, workers)


SYNTHETIC: Final = uniform("synthetic", latency=0.05, row_cost=0.0002, workers=4)
"""The first round's model: 50 ms round trips, 0.2 ms per row, 4 workers."""

REAL_SERVER: Final = ServerModel(
    "real-server",
    latency=0.0,
    request_cost=0.020,
    row_costs=(("packages", 0.00044), ("grids", 0.001), ("categories", 0.001)),
    workers=4,
)
"""Calibrated on the real server software on this kind of machine (measured locally, so
no network latency): about 20 ms per request plus 0.44 ms per package row and 1 ms per
grid row (a ``limit=450`` package page took 223 ms, a detail 17 ms). Its worker count
was not measured; 4, like the synthetic model."""

SERVER_MODELS: Final = {model.name: model for model in (SYNTHETIC, REAL_SERVER)}


# -- parameters ------------------------------------------------------------------------
@dataclass(frozen=True)
class Params:
    """Everything that defines one benchmark run (recorded in the JSON report)."""

    packages: int = 5_405
    grids: int = 380
    categories: int = 3
    seed: int = synthetic.DEFAULT_SEED
    models: tuple[ServerModel, ...] = (SYNTHETIC, REAL_SERVER)
    runs: int = 3
    naive_cap: float = 20.0
    in_process_server: bool = False
    memory_in_process: bool = False
    profile: bool = False


def task_key(task: str, model: ServerModel) -> str:
    """The report's key of a task measured under a model: ``crawl [real-server]``."""
    return f"{task} [{model.name}]"
