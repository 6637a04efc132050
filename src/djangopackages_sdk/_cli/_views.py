"""How results look: on a terminal with rich's styles and tables, piped (or with
``NO_COLOR``) as plain text without ANSI escapes. Only presentation lives here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from .._words import age, count_resources

if TYPE_CHECKING:
    from .._catalog import Catalog
    from .._compare import Comparison
    from .._models import Category, Grid, Package, SearchResult
    from ._run import Output

LABEL = "bold cyan"


def when(moment: datetime | None, now: datetime | None = None) -> str:
    """A date and its age, ``2026-01-07 (11 months ago)``, or ``unknown``."""
    if moment is None:
        return "unknown"
    return f"{moment.date().isoformat()} ({age(moment, now)})"


def card(
    out: Output,
    package: Package,
    category: Category,
    grids: Sequence[Grid],
    now: datetime | None = None,
) -> None:
    """A package's card: the facts of the site's package page, one per line."""
    from rich.text import Text

    stale = package.is_stale(now)
    last_commit = when(package.last_updated, now) + (
        " - no development for over a year" if stale else ""
    )
    rows = [
        ("version", package.pypi_version or "none on PyPI"),
        ("stars", f"{package.repo_watchers:,}"),
        ("forks", f"{package.repo_forks:,}"),
        ("last commit", last_commit),
        ("category", category.title),
        ("grids", ", ".join(grid.title for grid in grids) or "none"),
        ("repository", package.repo_url or "none"),
        ("PyPI", package.pypi_url or "none"),
        ("documentation", package.documentation_url or "none"),
        ("site", package.site_url),
    ]
    console = out.console
    title = Text(package.title, style="bold")
    if package.repo_description:
        title.append(f"  {package.repo_description}", style="italic")
    console.print(title, soft_wrap=True)
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        line = Text(f"  {label:<{width}}  ", style=LABEL)
        line.append(value, style="red" if label == "last commit" and stale else "")
        console.print(line, soft_wrap=True)


def hits(out: Output, query: str, found: Sequence[SearchResult]) -> None:
    """Search hits in the API's order: a table on a terminal, tab-separated lines
    (kind, slug, stars, title) when plain."""
    if not found:
        out.text(f"no package or grid matches {query!r}")
        return
    if not out.terminal:
        for hit in found:
            out.text(f"{hit.item_type}\t{hit.slug}\t{hit.repo_watchers}\t{hit.title}")
        return
    from rich.table import Table

    # The whole width: the description column takes what the others leave.
    table = Table(box=None, header_style=LABEL, pad_edge=False, expand=True)
    # Shown whole (rich would otherwise squeeze them to make room for descriptions).
    slug_width = min(40, max(len(hit.slug) for hit in found))
    table.add_column("kind", no_wrap=True, min_width=7)
    table.add_column("slug", style="bold", no_wrap=True, min_width=slug_width)
    table.add_column("stars", justify="right", no_wrap=True, min_width=6)
    # The description takes the width left, cut short: one line per hit.
    table.add_column("description", overflow="ellipsis", no_wrap=True, ratio=1)
    for hit in found:
        table.add_row(hit.item_type, hit.slug, f"{hit.repo_watchers:,}", hit.description)
    out.console.print(table)


def catalog_counts(catalog: Catalog) -> dict[str, int]:
    """How many packages, grids and categories a catalogue holds."""
    return {
        "packages": len(catalog.packages),
        "grids": len(catalog.grids),
        "categories": len(catalog.categories),
    }


def counted(counts: dict[str, int]) -> str:
    """``5 packages, 8 grids, 1 category`` from `catalog_counts`."""
    return count_resources(counts)


def comparison(out: Output, table: Comparison) -> None:
    """A grid comparison: rich's table on a terminal, the comparison's own plain-text
    table (``str(comparison)``) otherwise."""
    if not out.terminal:
        out.text(str(table))
        return
    from rich.table import Table

    grid = Table(
        title=f"{table.grid.title}: {len(table)} packages, by {table.sort}",
        title_style="bold",
        header_style=LABEL,
        box=None,
        pad_edge=False,
        expand=True,
    )
    for name, justify in _COMPARISON_COLUMNS:
        flexible = name == "description"  # takes the width the others leave, cut short
        grid.add_column(
            name,
            justify=justify,
            no_wrap=True,
            overflow="ellipsis" if flexible else "fold",
            ratio=1 if flexible else None,
        )
    for row in table.rows:
        grid.add_row(
            f"[bold]{escape(row.title)}[/]",
            escape(row.category or ""),
            row.last_commit.date().isoformat() if row.last_commit else "",
            escape(row.version or ""),
            f"{row.commits_last_52_weeks:,}",
            f"{row.stars:,}",
            f"{row.forks:,}",
            "[red]yes[/]" if row.stale else ("no" if row.stale is False else ""),
            escape(" ".join(row.description.split())),
        )
    out.console.print(grid)


_COMPARISON_COLUMNS: tuple[tuple[str, Literal["left", "right"]], ...] = (
    ("package", "left"),
    ("category", "left"),
    ("last commit", "left"),
    ("version", "left"),
    ("commits", "right"),
    ("stars", "right"),
    ("forks", "right"),
    ("stale", "left"),
    ("description", "left"),
)


def escape(text: str) -> str:
    """``text`` safe inside rich markup (no ``[...]`` read as a style)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)
