"""Start-up of the command line: how long ``djangopackages --version`` takes from a
cold process, against ``python -c pass`` (the interpreter alone), and what it imports.

Each command runs ``runs`` times as a fresh subprocess, alternating, so both see the
same machine load; the report gives the best and the median wall-clock time of each
and their ratios, and the modules ``--version`` loads (none of httpx, rich or the
clients); ``import click`` and ``import typer`` (when installed) show what each
framework costs by itself. Run from the repository root: ``python benchmarks/startup.py [--runs N]``
(about 10 s for the default 20 runs). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PYTHON = sys.executable
SCRIPT = Path(PYTHON).with_name("djangopackages")
"""The console script beside this interpreter (``python -m djangopackages_sdk`` without it)."""

HEAVY = (
    "httpx",
    "rich",
    "attrs",
    "cattrs",
    "djangopackages_sdk._sync",
    "djangopackages_sdk._async",
)
"""What ``--version`` and ``--help`` must not import."""


def commands() -> dict[str, list[str]]:
    """The commands timed, by name."""
    cli = [str(SCRIPT)] if SCRIPT.exists() else [PYTHON, "-m", "djangopackages_sdk"]
    return {
        "python -c pass": [PYTHON, "-c", "pass"],
        "djangopackages --version": [*cli, "--version"],
        "djangopackages --help": [*cli, "--help"],
        "python -c 'import djangopackages_sdk.testing'": [
            PYTHON,
            "-c",
            "import djangopackages_sdk.testing",
        ],
    } | {
        # The libraries the command line could be built on (typer only if installed).
        f"python -c 'import {name}'": [PYTHON, "-c", f"import {name}"]
        for name in ("click", "typer")
        if importlib.util.find_spec(name) is not None
    }


def _once(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def loaded_after(code: str) -> list[str]:
    """The `HEAVY` modules loaded once ``code`` (one line, its output discarded) ran in
    a fresh interpreter."""
    probe = (
        "import contextlib, io, sys\n"
        f"with contextlib.redirect_stdout(io.StringIO()):\n    {code}\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([PYTHON, "-c", probe], check=True, capture_output=True, text=True)
    return [name for name in out.stdout.strip().split(",") if name]


def loaded_by_version() -> list[str]:
    """The heavy modules that ``--version`` and ``--help`` load: should be none."""
    return loaded_after(
        "from djangopackages_sdk._cli import run; run(['--version']); run(['--help'])"
    )


def measure(runs: int = 20) -> dict[str, Any]:
    """Best and median seconds of each command over ``runs`` cold starts, and ratios
    to ``python -c pass``."""
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    timed = commands()
    times: dict[str, list[float]] = {name: [] for name in timed}
    for _ in range(runs):
        for name, command in timed.items():  # alternate: the same load for each
            times[name].append(_once(command))
    base = times["python -c pass"]
    report: dict[str, Any] = {"runs": runs, "python": sys.version.split()[0], "commands": {}}
    for name, seconds in times.items():
        report["commands"][name] = {
            "best_ms": round(min(seconds) * 1000, 1),
            "median_ms": round(statistics.median(seconds) * 1000, 1),
            "best_vs_python": round(min(seconds) / min(base), 2),
            "median_vs_python": round(statistics.median(seconds) / statistics.median(base), 2),
        }
    report["heavy_modules_loaded_by_version"] = loaded_by_version()
    return report


def main(argv: list[str] | None = None) -> None:
    """Print the start-up report as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="cold starts per command")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.runs), indent=2))


if __name__ == "__main__":
    main()
