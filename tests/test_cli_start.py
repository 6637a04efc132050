"""Start-up of the command line and the lazy package root: ``--version`` and ``--help``
import no httpx, rich or client; ``from djangopackages_sdk import Client`` still works;
without the ``cli`` extra the command says what to install."""

from __future__ import annotations

import ast
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest

import djangopackages_sdk
from cli_run import environ
from djangopackages_sdk import _exceptions as x
from djangopackages_sdk._cli import _app
from djangopackages_sdk._cli._changes import short
from djangopackages_sdk._cli._run import describe
from djangopackages_sdk._cli._views import when
from djangopackages_sdk._words import age

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import startup  # noqa: E402


def _loaded_after(code: str) -> set[str]:
    return set(startup.loaded_after(code))


@pytest.mark.parametrize(
    "code",
    [
        "import djangopackages_sdk",
        "from djangopackages_sdk import __version__",
        "from djangopackages_sdk._cli import run; run(['--version'])",
        "from djangopackages_sdk._cli import run; run(['--help'])",
        "from djangopackages_sdk._cli import run; run(['package', '--help'])",
        "from djangopackages_sdk._cli import run; run(['history', 'series', '--help'])",
    ],
)
def test_start_up_imports_nothing_heavy(code: str) -> None:
    assert _loaded_after(code) == set()


def test_the_probe_sees_heavy_imports() -> None:
    assert {"httpx", "djangopackages_sdk._sync"} <= _loaded_after(
        "from djangopackages_sdk import Client"
    )


def _lazy_table() -> tuple[dict[str, str], dict[str, str]]:
    """``_LAZY`` and the ``TYPE_CHECKING`` block's imports (name -> module) of
    ``__init__.py``, read from its source."""
    tree = ast.parse(Path(djangopackages_sdk.__file__).read_text(encoding="utf-8"))
    checked: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for imp in node.body:
                if isinstance(imp, ast.ImportFrom) and imp.level == 1:
                    checked.update({alias.name: f".{imp.module}" for alias in imp.names})
    return dict(djangopackages_sdk._LAZY), checked


def test_the_lazy_table_agrees_with_the_type_checking_imports_and_all() -> None:
    lazy, checked = _lazy_table()
    assert lazy == checked
    assert set(lazy) | {"__version__"} == set(djangopackages_sdk.__all__)


def test_names_load_on_first_use_and_stay() -> None:
    code = (
        "import sys, djangopackages_sdk as d\n"
        "assert 'Client' not in vars(d)\n"
        "from djangopackages_sdk import Client\n"
        "assert vars(d)['Client'] is Client is sys.modules['djangopackages_sdk._sync'].Client\n"
        "assert set(d.__all__) <= set(dir(d))\n"
        "try:\n    d.Clinet\nexcept AttributeError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "module 'djangopackages_sdk' has no attribute 'Clinet'\n"


@pytest.mark.parametrize(
    ("missing", "args"),
    [("click", ["--help"]), ("click", ["package", "x"]), ("rich", ["package", "1867"])],
)
def test_without_the_extra_one_line_says_what_to_install(missing: str, args: list[str]) -> None:
    code = (
        f"import sys; sys.modules[{missing!r}] = None\n"
        "from djangopackages_sdk._cli import main\n"
        f"sys.argv[1:] = {args!r}\n"
        "main()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env=environ("http://127.0.0.1:9/api/v4/"),
    )
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr == (
        "djangopackages: the command line needs its extra: pip install 'djangopackages-sdk[cli]'\n"
    )


def test_version_needs_no_extra() -> None:
    code = "import sys; sys.modules['click'] = None\n"
    code += "from djangopackages_sdk._cli import main\nmain(['-V'])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert (out.returncode, out.stdout) == (0, f"djangopackages {djangopackages_sdk.__version__}\n")


def test_python_dash_m_main_only_runs_as_main() -> None:
    import importlib

    importlib.import_module("djangopackages_sdk.__main__")  # imported: does nothing


def test_age_in_words() -> None:
    now = datetime(2026, 12, 6, 12, tzinfo=UTC)
    cases = {0: "today", 1: "1 day ago", 6: "6 days ago", 14: "2 weeks ago", 61: "2 months ago"}
    cases |= {365: "1 year ago", 800: "2 years ago", -3: "in the future"}
    for days, words in cases.items():
        assert age(now - timedelta(days=days), now) == words
    assert age(datetime(2026, 12, 1, 12), now) == "5 days ago"  # naive: taken as UTC
    assert when(None, now) == "unknown"
    assert when(datetime(2026, 1, 7, 14, tzinfo=UTC), now) == "2026-01-07 (11 months ago)"


def test_startup_benchmark_smoke() -> None:
    report = startup.measure(runs=1)
    commands = report["commands"]
    assert {"python -c pass", "djangopackages --version", "djangopackages --help"} <= set(commands)
    for figures in commands.values():
        assert figures["best_ms"] > 0
        assert figures["median_ms"] >= figures["best_ms"]
    assert commands["python -c pass"]["best_vs_python"] == 1.0
    assert report["heavy_modules_loaded_by_version"] == []
    with pytest.raises(ValueError, match="runs"):
        startup.measure(runs=0)


def test_an_import_error_of_the_sdk_itself_is_not_taken_for_the_extra() -> None:
    code = (
        "import sys; sys.modules['djangopackages_sdk._cli._app'] = None\n"
        "from djangopackages_sdk._cli import main\nmain(['--help'])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 1
    assert "ModuleNotFoundError" in out.stderr


def test_other_click_errors_are_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise click.ClickException("cannot do that")

    monkeypatch.setattr(_app.cli, "main", broken)
    assert _app.execute(["package", "x"]) == 1
    assert capsys.readouterr().err == "djangopackages: cannot do that\n"


def test_errors_are_described_in_one_line() -> None:
    url = "https://djangopackages.org/api/v4/packages/1/"
    assert describe(x.NotFoundError(url, "No Package", status=404)).startswith("not found: ")
    assert describe(x.RateLimitedError(url, "wait", status=429)).startswith("rate limited: ")
    assert describe(x.DeadlineExceededError(url, "late")).startswith("timed out: ")
    assert describe(x.HTTPStatusError(url, "boom", status=500)).startswith("API error: ")
    assert describe(x.PaginationError(url, "loop")) == f"PaginationError: loop [{url}]"


def test_short_values() -> None:
    assert short([1, 2, 3]) == "[3 items]"
    assert short(None) == "null"
    assert short("a  b\nc") == "a b c"
    assert short("x" * 50) == "x" * 39 + "…"
