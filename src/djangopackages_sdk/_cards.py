"""The notebook display of each value: one small function per card, table or section.

The models, the catalogue, pages, page iterators and the grid comparison call
these from their ``_repr_html_``; each returns one self-contained HTML fragment
built with `_html`'s escaping primitives (see that module for the rules). They
read attributes only (no model is imported, so the models can import this module),
and take ``now`` for ages ("3 months ago") so tests can fix the clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final
from urllib.parse import urljoin

from ._health import DEFAULT_SITE_ROOT
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

__all__ = [
    "catalog_html",
    "category_card",
    "crawl_html",
    "grid_card",
    "items_table",
    "package_card",
    "page_html",
    "search_result_card",
]

HEAD_ROWS: Final = 10
"""Rows a collection shows, like a data frame's head."""
DESCRIPTION_CHARS: Final = 280
CELL_CHARS: Final = 90


def _names(titles: Sequence[str] | None, links: Sequence[Any], word: str) -> str:
    """Related resources by title when known, else by their ids."""
    if titles is not None:
        return text(", ".join(titles)) if titles else '<span class="dps-muted">none</span>'
    if not links:
        return '<span class="dps-muted">none</span>'
    return text(f"{count(len(links), word)} (ids {', '.join(str(x.id) for x in links)})")


def _links(*pairs: tuple[str | None, str]) -> str:
    return '<div class="dps-links">' + "".join(link(u, label) for u, label in pairs if u) + "</div>"


def _pypi_page(package: Any) -> str | None:
    name = package.pypi_name
    return f"https://pypi.org/project/{name}/" if name else None


def _stale_badge(package: Any, now: datetime | None) -> str:
    try:
        stale = package.is_stale(now)
    except ValueError:  # a naive last commit against an aware clock
        return ""
    if stale is None:
        return ""
    return badge("no development", "warn") if stale else badge("active", "ok")


def package_card(
    package: Any,
    *,
    category: str | None = None,
    grids: Sequence[str] | None = None,
    now: datetime | None = None,
) -> str:
    """A package as a card: facts, links and its weekly commits.

    ``category`` and ``grids`` are titles when the caller knows them (a catalogue
    does); otherwise the card names the linked ids.
    """
    version = badge(package.pypi_version) if package.pypi_version else badge("not on PyPI")
    header = (
        f"<div>{link(package.site_url, package.title)}{' '}{version}"
        f"{_stale_badge(package, now)}</div>"
    ).replace("<a ", '<a class="dps-title" ', 1)
    description = shorten(package.repo_description or "", DESCRIPTION_CHARS)
    weeks = package.commits_by_week()
    through = f" to the week of {weeks[-1][0]:%Y-%m-%d}" if weeks else ""
    facts = [
        ("Stars", number(package.repo_watchers)),
        ("Forks", number(package.repo_forks)),
        ("Participants", number(len(package.participants))),
        ("Last commit", moment(package.last_updated, now)),
        ("Category", text(category) if category is not None else f"id {package.category.id}"),
        ("Grids", _names(grids, package.grids, "grid")),
        (
            "Commits",
            f"{sparkline_svg(package.commits_over_52)} "
            f'<span class="dps-muted">{number(package.commits_last_52_weeks)} in 52 weeks'
            f"{text(through)}</span>",
        ),
    ]
    body = "".join(f"<dt>{text(name)}</dt><dd>{value}</dd>" for name, value in facts)
    links = _links(
        (package.repo_url, "Repository"),
        (_pypi_page(package), "PyPI"),
        (package.documentation_url, "Documentation"),
        (package.site_url, "djangopackages.org"),
    )
    return wrap(
        f'<div class="dps-card">{header}<div class="dps-desc">{text(description)}</div>'
        f"<dl>{body}</dl>{links}</div>",
        repr(package),
    )


def grid_card(grid: Any, *, now: datetime | None = None) -> str:
    """A grid as a card: title, description, how many packages, its page."""
    locked = badge("locked") if grid.is_locked else ""
    title = link(grid.site_url, grid.title).replace("<a ", '<a class="dps-title" ', 1)
    header = f"<div>{title} {badge(count(len(grid.packages), 'package'))}{locked}</div>"
    facts = (
        f"<dl><dt>Slug</dt><dd>{text(grid.slug)}</dd>"
        f"<dt>Updated</dt><dd>{moment(grid.modified, now)}</dd></dl>"
    )
    hint = (
        '<div class="dps-muted">Side by side: <code>catalog.compare(grid)</code> '
        "or <code>client.compare(grid)</code></div>"
    )
    return wrap(
        f'<div class="dps-card">{header}'
        f'<div class="dps-desc">{text(shorten(grid.description, DESCRIPTION_CHARS))}</div>'
        f"{facts}{_links((grid.site_url, 'djangopackages.org'))}{hint}</div>",
        repr(grid),
    )


def category_card(category: Any, *, now: datetime | None = None) -> str:
    """A category as a card: title, plural, description, whether PyPI is shown."""
    facts = (
        f"<dl><dt>Plural</dt><dd>{text(category.title_plural)}</dd>"
        f"<dt>Slug</dt><dd>{text(category.slug)}</dd>"
        f"<dt>Shows PyPI</dt><dd>{'yes' if category.show_pypi else 'no'}</dd>"
        f"<dt>Updated</dt><dd>{moment(category.modified, now)}</dd></dl>"
    )
    return wrap(
        f'<div class="dps-card"><div><span class="dps-title">{text(category.title)}</span>'
        f"{badge(f'category {category.id}')}</div>"
        f'<div class="dps-desc">{text(shorten(category.description, DESCRIPTION_CHARS))}</div>'
        f"{facts}</div>",
        repr(category),
    )


def _site_page(path: str) -> str | None:
    """A search hit's site path (``/packages/p/x/``) on the public site."""
    return urljoin(DEFAULT_SITE_ROOT, path) if path.startswith("/") else None


def search_result_card(result: Any, *, now: datetime | None = None) -> str:
    """One search hit as a card."""
    facts = [
        ("Category", text(result.category) or "-"),
        ("Stars", number(result.repo_watchers)),
        ("Forks", number(result.repo_forks)),
        ("Last commit", moment(result.last_committed, now)),
        ("Last release", moment(result.last_released, now)),
    ]
    body = "".join(f"<dt>{text(name)}</dt><dd>{value}</dd>" for name, value in facts)
    return wrap(
        f'<div class="dps-card"><div>{link(_site_page(result.absolute_url), result.title)} '
        f"{badge(result.item_type)}</div>"
        f'<div class="dps-desc">{text(shorten(result.description, DESCRIPTION_CHARS))}</div>'
        f"<dl>{body}</dl></div>",
        repr(result),
    )


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
        link(_site_page(r.absolute_url), shorten(r.title, 50)),
        text(r.item_type),
        text(r.category),
        number(r.repo_watchers),
        text(age(r.last_committed, now) if r.last_committed else "-"),
        text(shorten(r.description, CELL_CHARS)),
    ]


_KINDS: Final[dict[str, tuple[tuple[str, ...], Any, tuple[int, ...], str]]] = {
    "Package": (PACKAGE_HEADERS, _package_row, (2, 3), "package"),
    "Grid": (("Grid", "Packages", "Description"), _grid_row, (1,), "grid"),
    "Category": (("Category", "Slug", "Description"), _category_row, (), "category"),
    "SearchResult": (
        ("Result", "Type", "Category", "Stars", "Last commit", "Description"),
        _search_row,
        (3,),
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
        rows = "".join(f"<li>{text(shorten(repr(item), 200))}</li>" for item in items[:limit])
        return wrap(f"{heading}<ul>{rows}</ul>" if items else heading, fallback)
    headers, row, numeric, word = _KINDS[kind]
    rest = len(items) - limit
    more = f"\u2026 {count(rest, word)} more" if rest > 0 else ""
    body = table(headers, (row(item, now) for item in items[:limit]), numeric=numeric, more=more)
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
        f'<div class="dps-card"><div><span class="dps-title">{text(name)}</span>'
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
        f'<div class="dps-card">{header}{_health(catalog, now)}'
        f"{_top_packages(catalog, top, now)}{_largest_grids(catalog, top)}</div>",
        repr(catalog),
    )
