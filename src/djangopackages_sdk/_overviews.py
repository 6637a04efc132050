"""The notebook display of many values: head tables, pages, iterators, the catalogue, comparisons.

Like `_cards` (one value each), these read attributes only and build
self-contained HTML with `_html`'s primitives. A collection shows its first rows,
like a data frame's head; the catalogue shows counts and its most-starred
packages, never all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from ._cards import site_page
from ._html import (
    age,
    badge,
    count,
    link,
    moment,
    number,
    section,
    shorten,
    sparkline_svg,
    table,
    text,
    wrap,
)

__all__ = ["catalog_html", "comparison_html", "crawl_html", "items_table", "page_html"]

HEAD_ROWS: Final = 10
"""Rows a collection shows, like a data frame's head."""
CELL_CHARS: Final = 90
GRIDS_SHOWN: Final = 6

# -- rows of a head table, one function per kind ------------------------------------------


def _package_row(p: Any, now: datetime | None, category: str | None = None) -> list[str]:
    row = [
        link(p.site_url, shorten(p.title, 50)),
        text(p.pypi_version or "-"),
        number(p.repo_watchers),
        number(p.repo_forks),
        text(age(p.last_updated, now)),
        sparkline_svg(p.commits_over_52, width=90, height=18),
    ]
    return row if category is None else [row[0], text(category), *row[1:]]


PACKAGE_HEADERS: Final = ("Package", "Version", "Stars", "Forks", "Last commit", "Commits (52 wk)")


def _grid_row(g: Any, now: datetime | None) -> list[str]:
    return [
        link(g.site_url, shorten(g.title, 50)),
        number(len(g.packages)),
        text(shorten(g.description, CELL_CHARS)),
    ]


def _category_row(c: Any, now: datetime | None) -> list[str]:
    return [text(c.title), text(c.slug), text(shorten(c.description, CELL_CHARS))]


def _search_row(r: Any, now: datetime | None) -> list[str]:
    return [
        link(site_page(r.absolute_url), shorten(r.title, 50)),
        text(r.item_type),
        text(r.category),
        number(r.repo_watchers),
        text(age(r.last_committed, now) if r.last_committed else "-"),
        text(shorten(r.description, CELL_CHARS)),
    ]


_KINDS: Final[dict[str, tuple[tuple[str, ...], Any, tuple[int, ...], int, str]]] = {
    # kind: (headers, row function, numeric columns, the wrapping column, a row's noun)
    "Package": (PACKAGE_HEADERS, _package_row, (2, 3), -1, "package"),
    "Grid": (("Grid", "Packages", "Description"), _grid_row, (1,), 2, "grid"),
    "Category": (("Category", "Slug", "Description"), _category_row, (), 2, "category"),
    "SearchResult": (
        ("Result", "Type", "Category", "Stars", "Last commit", "Description"),
        _search_row,
        (3,),
        5,
        "result",
    ),
}


def items_table(
    items: Sequence[Any],
    *,
    title: str = "",
    limit: int = HEAD_ROWS,
    now: datetime | None = None,
    fallback: str = "",
) -> str:
    """The first ``limit`` of ``items`` as a table, like a data frame's head.

    ``title`` (escaped) heads the table; the last row says how many more there are.
    """
    kind = type(items[0]).__name__ if items else ""
    heading = f"<div><strong>{text(title)}</strong></div>" if title else ""
    if kind not in _KINDS:
        listed = "".join(f"<li>{text(shorten(repr(item), 200))}</li>" for item in items[:limit])
        return wrap(f"{heading}<ul>{listed}</ul>" if items else heading, fallback)
    headers, row, numeric, wide, word = _KINDS[kind]
    rest = len(items) - limit
    more = f"\u2026 {count(rest, word)} more" if rest > 0 else ""
    rows = (row(item, now) for item in items[:limit])
    body = table(headers, rows, numeric=numeric, wide=(wide,), more=more)
    return wrap(heading + body, fallback)


# -- containers ---------------------------------------------------------------------------


def page_html(page: Any, *, now: datetime | None = None) -> str:
    """A page of a listing: where it starts, the server's count, and its rows' head."""
    title = (
        f"Page at offset {number(page.offset)}: {count(len(page.items), 'new row')} "
        f"(the server counts {number(page.count)})"
    )
    return items_table(page.items, title=title, now=now, fallback=repr(page))


def crawl_html(state: Any, url: str, name: str) -> str:
    """A page iterator: what its latest crawl read so far (no request is made)."""
    if state.checkpoint is None:
        facts = [("State", "not started: iterate it, or its <code>pages()</code>")]
    else:
        point = state.checkpoint
        facts = [
            ("Rows read", number(point.seen)),
            ("Server count", "-" if state.count is None else number(state.count)),
            ("Requests", number(state.requests)),
            ("Next offset", number(point.offset)),
            ("Skipped", count(sum(s.limit for s in state.skipped), "row")),
        ]
        if state.count_changed:
            before, after = state.count_changed
            facts.append(("Count changed", f"{number(before)} \u2192 {number(after)}"))
    body = "".join(f"<dt>{text(k)}</dt><dd>{v}</dd>" for k, v in facts)
    return wrap(
        f'<div class="dps-card dps-one"><div><span class="dps-title">{text(name)}</span>'
        f"{link(url, url)}</div><dl>{body}</dl></div>",
        f"<{name} {url}>",
    )


def _top_packages(catalog: Any, top: int, now: datetime | None) -> str:
    ranked = sorted(catalog.packages, key=lambda p: (-p.repo_watchers, p.title.lower()))[:top]
    titles = {c.id: c.title for c in catalog.categories}
    rows = (_package_row(p, now, titles.get(p.category.id, "-")) for p in ranked)
    headers = (PACKAGE_HEADERS[0], "Category", *PACKAGE_HEADERS[1:])
    return section(f"Most-starred packages (top {top})", table(headers, rows, numeric=(3, 4)))


def _largest_grids(catalog: Any, top: int) -> str:
    ranked = sorted(catalog.grids, key=lambda g: (-len(g.packages), g.title.lower()))[:top]
    rows = ([link(g.site_url, shorten(g.title, 50)), number(len(g.packages))] for g in ranked)
    return section(f"Largest grids (top {top})", table(("Grid", "Packages"), rows, numeric=(1,)))


def _health(catalog: Any, now: datetime | None) -> str:
    stale = unknown = silent = 0
    for p in catalog.packages:
        try:
            verdict = p.is_stale(now)
        except ValueError:  # a naive last commit against an aware clock
            verdict = None
        stale += verdict is True
        unknown += verdict is None
        silent += not p.commits_over_52
    per_category: dict[int, int] = {}
    for p in catalog.packages:
        per_category[p.category.id] = per_category.get(p.category.id, 0) + 1
    facts = [
        ("No development (a year without commits)", number(stale)),
        ("Last commit unknown", number(unknown)),
        ("No weekly commit data", number(silent)),
        *(
            (f"Category {c.title}", number(per_category.get(c.id, 0)))
            for c in sorted(catalog.categories, key=lambda c: c.id)
        ),
    ]
    return "<dl>" + "".join(f"<dt>{text(k)}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>"


def catalog_html(catalog: Any, *, top: int = HEAD_ROWS, now: datetime | None = None) -> str:
    """A catalogue: its counts, health, most-starred packages and largest grids."""
    header = (
        f'<div><span class="dps-title">Catalog</span>'
        f"{badge(count(len(catalog.packages), 'package'))}"
        f"{badge(count(len(catalog.grids), 'grid'))}"
        f"{badge(count(len(catalog.categories), 'category'))}</div>"
        f'<div class="dps-muted">{text(catalog.base_url)}, fetched '
        f"{text(f'{catalog.fetched_at:%Y-%m-%d %H:%M %Z}'.strip())} "
        f"({text(age(catalog.fetched_at, now))})</div>"
    )
    return wrap(
        f'<div class="dps-card">{header}<div class="dps-cols">'
        f"<div>{_health(catalog, now)}</div><div>{_largest_grids(catalog, GRIDS_SHOWN)}</div>"
        f"</div>{_top_packages(catalog, top, now)}</div>",
        repr(catalog),
    )


def _comparison_row(row: Any, now: datetime | None) -> list[str]:
    description = shorten(" ".join(row.description.split()), CELL_CHARS)
    title = link(row.site_url, shorten(row.title, 50))
    flag = badge("no development", "warn") if row.stale else ""
    return [
        f"{title} {flag}<div class='dps-muted'>{text(description)}</div>",
        text(row.category or "-"),
        moment(row.last_commit, now),
        text(row.version or "-"),
        sparkline_svg(row.commits, width=90, height=18),
        number(row.stars),
        number(row.forks),
        number(row.participants),
        link(row.documentation_url, "docs") if row.documentation_url else "-",
    ]


COMPARISON_HEADERS: Final = (
    "Package",
    "Category",
    "Last commit",
    "Version",
    "Commits (52 wk)",
    "Stars",
    "Forks",
    "Participants",
    "Docs",
)


def comparison_html(comparison: Any, *, now: datetime | None = None) -> str:
    """A grid comparison as the site's grid page shows it: every package, one row each."""
    grid = comparison.grid
    title = link(grid.site_url, grid.title).replace("<a ", '<a class="dps-title" ', 1)
    header = (
        f"<div>{title} {badge(count(len(comparison.rows), 'package'))}"
        f'<span class="dps-muted">sorted by {text(comparison.sort)}</span></div>'
        f'<div class="dps-desc">{text(shorten(grid.description, 280))}</div>'
    )
    rows = (_comparison_row(row, now) for row in comparison.rows)
    body = table(COMPARISON_HEADERS, rows, numeric=(5, 6, 7), wide=(0,))
    return wrap(f'<div class="dps-card">{header}{body}</div>', f"<Comparison {grid.slug}>")
