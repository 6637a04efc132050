"""examples/analysis.ipynb runs offline in a real Jupyter kernel, every cell, and shows its views.

nbclient starts an IPython kernel (the ``notebook`` extra, part of ``dev``), runs the
notebook on the bundled sample (``DJANGOPACKAGES_LIVE`` unset) and fails on the
first cell that raises. The outputs are then checked: the rich displays are HTML,
the plot is an image, the Markdown comparison is printed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "analysis.ipynb"


def _source(cell: Any) -> str:
    return str(cell["source"])


def _outputs(cells: list[Any], starts: str) -> list[dict[str, Any]]:
    """The outputs of the one code cell whose source starts with ``starts``."""
    (cell,) = [c for c in cells if c["cell_type"] == "code" and _source(c).startswith(starts)]
    return list(cell["outputs"])


def _html(outputs: list[dict[str, Any]]) -> str:
    return "".join(
        str(out["data"]["text/html"]) for out in outputs if "text/html" in out.get("data", {})
    )


@pytest.fixture(scope="module")
def executed() -> list[Any]:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    saved = {key: os.environ.pop(key, None) for key in ("DJANGOPACKAGES_LIVE",)}
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")  # no migration warning
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    try:
        client = nbclient.NotebookClient(
            notebook,
            timeout=120,
            kernel_name="python3",
            resources={"metadata": {"path": str(NOTEBOOK.parent)}},
        )
        client.execute()  # raises CellExecutionError on the first failing cell
    finally:
        for key, value in saved.items():
            if value is not None:
                os.environ[key] = value
    return list(notebook["cells"])


def test_every_cell_ran_without_error(executed: list[Any]) -> None:
    code = [cell for cell in executed if cell["cell_type"] == "code"]
    assert len(code) >= 8
    assert all(cell["execution_count"] for cell in code)
    errors = [out for cell in code for out in cell["outputs"] if out["output_type"] == "error"]
    assert errors == []
    streams = [out for cell in code for out in cell["outputs"] if out["output_type"] == "stream"]
    assert not [s for s in streams if s["name"] == "stderr"], "a cell wrote to stderr"


def test_the_rich_displays_are_html(executed: list[Any]) -> None:
    catalog = _html(_outputs(executed, "import os"))
    assert "5 packages" in catalog
    assert "Most-starred packages" in catalog
    assert "django-otp" in _html(_outputs(executed, "catalog.packages"))
    comparison = _html(_outputs(executed, "largest = "))
    assert comparison.count("<svg") >= 2
    assert "Commits (52 wk)" in comparison
    card = _html(_outputs(executed, 'catalog.package("django-otp")'))
    assert "djangopackages.org/packages/p/django-otp/" in card


def test_the_tables_markdown_and_plot(executed: list[Any]) -> None:
    table = _html(_outputs(executed, "packages = catalog.to_pandas()"))
    assert "repo_watchers" in table
    assert "django-otp" in table
    printed = "".join(str(o.get("text", "")) for o in _outputs(executed, "print(comparison"))
    assert printed.startswith("| ")
    stale = _outputs(executed, "from djangopackages_sdk import to_pandas")
    assert "packages show no development" in "".join(str(o.get("text", "")) for o in stale)
    plot = _outputs(executed, "from collections import Counter")
    assert any("image/png" in out.get("data", {}) for out in plot)
