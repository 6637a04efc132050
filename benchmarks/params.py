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
