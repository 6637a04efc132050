"""The notebook display of one value: a card each for a package, grid, category, search hit.

The models call these from their ``_repr_html_``; each returns one self-contained
HTML fragment built with `_html`'s escaping primitives (see that module for the
rules). They read attributes only (no model is imported, so the models can import
this module), and take ``now`` for ages ("3 months ago") so tests can fix the clock.
Displays of many values (tables, the catalogue, the comparison) are in `_overviews`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final
from urllib.parse import urljoin

from ._health import DEFAULT_SITE_ROOT
from ._html import (
    badge,
    count,
    link,
    moment,
    number,
    shorten,
    sparkline_svg,
    text,
    wrap,
)

__all__ = [
    "DESCRIPTION_CHARS",
    "category_card",
    "grid_card",
    "package_card",
    "search_result_card",
    "site_page",
]

DESCRIPTION_CHARS: Final = 280


def _names(titles: Sequence[str] | None, links: Sequence[Any], word: str) -> str:
    """Related resources by title when known, else by their ids."""
    if titles is not None:
        return text(", ".join(titles)) if titles else '<span class="dps-muted">none</span>'
    if not links:
        return '<span class="dps-muted">none</span>'
    ids = ", ".join(str(x.id) for x in links)
    return text(f"{count(len(links), word)} ({'id' if len(links) == 1 else 'ids'} {ids})")


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
        f'<div class="dps-card dps-one">{header}<div class="dps-desc">{text(description)}</div>'
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
        f'<div class="dps-card dps-one">{header}'
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
        f'<div class="dps-card dps-one"><div><span class="dps-title">{text(category.title)}</span>'
        f"{badge(f'category {category.id}')}</div>"
        f'<div class="dps-desc">{text(shorten(category.description, DESCRIPTION_CHARS))}</div>'
        f"{facts}</div>",
        repr(category),
    )


def site_page(path: str) -> str | None:
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
        f'<div class="dps-card dps-one"><div>{link(site_page(result.absolute_url), result.title)} '
        f"{badge(result.item_type)}</div>"
        f'<div class="dps-desc">{text(shorten(result.description, DESCRIPTION_CHARS))}</div>'
        f"<dl>{body}</dl></div>",
        repr(result),
    )
