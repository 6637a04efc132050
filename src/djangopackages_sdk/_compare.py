"""The grid comparison: a grid's packages side by side, as on the site's grid page.

`Comparison` holds one `ComparisonRow` per package with the grid page's
columns that API v4 provides (title, description, category, last commit,
version, weekly commits, stars, forks, participants, documentation) plus the
links and the site's "no development" flag, sorted as asked. It renders as a
data frame, a GitHub-flavoured Markdown table and a plain-text table. Pure: it
is built from values (`build_comparison`), by ``Catalog.compare`` offline or by
``Client.compare`` after fetching what it needs.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Final, Protocol

import attrs

from ._models import CatalogView, Grid, Link, Package, ResourceT
from ._overviews import comparison_html
from ._tables import Column, Library, build

if TYPE_CHECKING:
    import pandas
    import polars

__all__ = ["Comparison", "ComparisonRow"]


@attrs.frozen
class ComparisonRow:
    """One package of a grid comparison, in the grid page's terms.

    ``category`` is the category's title (None when unknown); ``last_commit`` is
    ``last_updated``; ``version`` is ``pypi_version``; ``commits`` the 52 weekly
    counts (``commits_over_52``, oldest first); ``stars`` and ``forks`` are
    ``repo_watchers`` and ``repo_forks``; ``participants`` counts the
    contributors; ``documentation_url`` is None when the API has none (null or
    empty); ``pypi_url`` is the project's page on pypi.org (empty without a PyPI
    name); ``stale`` is the site's "no development" flag
    ([`Package.is_stale`][djangopackages_sdk.Package.is_stale]).
    """

    package: Package
    title: str
    slug: str
    description: str
    category: str | None
    last_commit: datetime | None
    version: str | None
    commits: tuple[int, ...]
    stars: int
    forks: int
    participants: int
    documentation_url: str | None
    repo_url: str
    pypi_url: str
    site_url: str
    stale: bool | None

    @property
    def commits_last_52_weeks(self) -> int:
        """Commits in the 52 weeks counted."""
        return sum(self.commits)

    @classmethod
    def of(cls, package: Package, category: str | None, now: datetime | None) -> ComparisonRow:
        """The row of ``package``, whose category has the title ``category``."""
        name = package.pypi_name
        return cls(
            package=package,
            title=package.title,
            slug=package.slug,
            description=package.repo_description,
            category=category,
            last_commit=package.last_updated,
            version=package.pypi_version,
            commits=package.commits_over_52,
            stars=package.repo_watchers,
            forks=package.repo_forks,
            participants=len(package.participants),
            documentation_url=package.documentation_url or None,
            repo_url=package.repo_url,
            pypi_url=f"https://pypi.org/project/{name}/" if name else "",
            site_url=package.site_url,
            stale=package.is_stale(now),
        )


def _text_key(value: str) -> str:
    return value.casefold()


SORTS: Final[dict[str, tuple[str, bool, Callable[[ComparisonRow], Any]]]] = {
    # name: (API name, descending?, key); None sorts last either way.
    "title": ("title", False, lambda r: _text_key(r.title)),
    "category": (
        "category",
        False,
        lambda r: None if r.category is None else r.category.casefold(),
    ),
    "last_commit": ("last_updated", True, lambda r: r.last_commit),
    "commits": ("commits_over_52", True, lambda r: r.commits_last_52_weeks),
    "stars": ("repo_watchers", True, lambda r: r.stars),
    "forks": ("repo_forks", True, lambda r: r.forks),
    "participants": ("participants", True, lambda r: r.participants),
}
"""The sortable columns: each row's name, its API name (also accepted), the order
(counts and dates descending, text ascending) and the key."""
_SORT_NAMES: Final = {name: name for name in SORTS} | {
    api: name for name, (api, *_) in SORTS.items()
}


def check_sort(sort: object) -> str:
    """The row column ``sort`` names (a row name or its API name), or a misuse error."""
    if not isinstance(sort, str):
        raise TypeError(f"sort must be a str, not {type(sort).__name__}")
    if sort not in _SORT_NAMES:
        valid = ", ".join(sorted(_SORT_NAMES))
        raise ValueError(f"sort must be one of {valid}; not {sort!r}")
    return _SORT_NAMES[sort]


def _sorted(rows: Iterable[ComparisonRow], sort: str) -> tuple[ComparisonRow, ...]:
    _, descending, key = SORTS[check_sort(sort)]
    by_title = sorted(rows, key=lambda r: (_text_key(r.title), r.title, r.package.id))
    known = [r for r in by_title if key(r) is not None]
    unknown = [r for r in by_title if key(r) is None]
    # sorted() is stable with reverse=True too: ties keep the title order.
    return (*sorted(known, key=key, reverse=descending), *unknown)


@attrs.frozen
class Comparison:
    """A grid's packages side by side, sorted by ``sort`` (see `SORTS`).

    ``rows`` are `ComparisonRow` values. `to_pandas` / `to_polars` give a data
    frame, `to_markdown` a GitHub-flavoured table and ``str()`` a plain-text one.
    """

    grid: Grid
    rows: tuple[ComparisonRow, ...]
    sort: str

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        return f"<Comparison {self.grid.slug}: {len(self.rows)} packages by {self.sort}>"

    def _repr_html_(self) -> str:
        return comparison_html(self)

    def to_pandas(self) -> pandas.DataFrame:
        """The rows as a pandas ``DataFrame`` (columns in ``docs/tables.md``)."""
        return self._frame("pandas")

    def to_polars(self) -> polars.DataFrame:
        """The rows as a polars ``DataFrame`` (columns in ``docs/tables.md``)."""
        return self._frame("polars")  # type: ignore[no-any-return]

    def _frame(self, library: Library) -> Any:
        rows = self.rows
        columns: list[Column] = [
            ("id", "int", [r.package.id for r in rows]),
            ("title", "str", [r.title for r in rows]),
            ("slug", "str", [r.slug for r in rows]),
            ("description", "str", [r.description for r in rows]),
            ("category", "str", [r.category for r in rows]),
            ("last_commit", "datetime", [r.last_commit for r in rows]),
            ("version", "str", [r.version for r in rows]),
            ("commits", "ints", [r.commits for r in rows]),
            ("commits_last_52_weeks", "int", [r.commits_last_52_weeks for r in rows]),
            ("stars", "int", [r.stars for r in rows]),
            ("forks", "int", [r.forks for r in rows]),
            ("participants", "int", [r.participants for r in rows]),
            ("documentation_url", "str", [r.documentation_url for r in rows]),
            ("repo_url", "str", [r.repo_url for r in rows]),
            ("pypi_url", "str", [r.pypi_url for r in rows]),
            ("site_url", "str", [r.site_url for r in rows]),
            ("stale", "nbool", [r.stale for r in rows]),
        ]
        return build(library, columns)

    def to_markdown(self) -> str:
        """A GitHub-flavoured Markdown table, ready for an issue or a pull request.

        The package links to its page on the site; its repository, PyPI and
        documentation are links in the last column. Cells are escaped: ``|``,
        newlines, ``<`` and ``>`` cannot break the table or inject HTML, and
        only ``http(s)`` URLs become links.
        """
        head = (*_HEADER, "Links")
        lines = [
            "| " + " | ".join(head) + " |",
            "|" + "|".join("---:" if h in _NUMERIC else "---" for h in head) + "|",
        ]
        for row in self.rows:
            links = " · ".join(
                _md_link(label, url)
                for label, url in (
                    ("repo", row.repo_url),
                    ("PyPI", row.pypi_url),
                    ("docs", row.documentation_url),
                )
                if url and _is_web(url)
            )
            cells = [_md_link(row.title, row.site_url), *(_md(c) for c in _cells(row)[1:])]
            lines.append("| " + " | ".join([*cells, links]) + " |")
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        """A plain-text table for a terminal: aligned columns, no colours.

        Descriptions are cut to 40 characters; "Activity" draws the 52 weeks of
        commits as 13 four-week bars.
        """
        # The description goes last, cut short, after the commits drawn as bars.
        head = (_HEADER[0], *_HEADER[2:], "Activity", "Description")
        table = [
            [
                *(_one_line(c) for i, c in enumerate(_cells(row)) if i != 1),
                _bars(row.commits),
                _cut(row),
            ]
            for row in self.rows
        ]
        widths = [max([_width(h), *(_width(r[i]) for r in table)]) for i, h in enumerate(head)]

        def line(cells: Iterable[str]) -> str:
            out = [_pad(cell, widths[i], right=head[i] in _NUMERIC) for i, cell in enumerate(cells)]
            return "  ".join(out).rstrip()

        title = f"{self.grid.title}: {len(self.rows)} packages, by {self.sort}"
        rule = "  ".join("-" * w for w in widths)
        return "\n".join([title, line(head), rule, *(line(r) for r in table)])


_HEADER: Final = (
    "Package",
    "Description",
    "Category",
    "Last commit",
    "Version",
    "Commits (52 wk)",
    "Stars",
    "Forks",
    "Participants",
    "Stale",
)
_NUMERIC: Final = frozenset({"Commits (52 wk)", "Stars", "Forks", "Participants"})
_BARS: Final = "▁▂▃▄▅▆▇█"


def _cells(row: ComparisonRow) -> list[str]:
    """The row's cells under `_HEADER`, as plain text."""
    return [
        row.title,
        row.description,
        row.category or "",
        _day(row.last_commit),
        row.version or "",
        str(row.commits_last_52_weeks),
        str(row.stars),
        str(row.forks),
        str(row.participants),
        {True: "yes", False: "no", None: "?"}[row.stale],
    ]


def _day(moment: datetime | None) -> str:
    """The date of ``moment`` in UTC (a naive value as it is); empty when unknown."""
    if moment is None:
        return ""
    day: date = moment.astimezone(UTC).date() if moment.utcoffset() is not None else moment.date()
    return day.isoformat()


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _md(text: str) -> str:
    """A Markdown table cell: one line, ``|`` escaped, no raw HTML."""
    return (
        _one_line(text)
        .replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def _is_web(url: str) -> bool:
    return url.startswith(("https://", "http://"))


def _md_link(label: str, url: str | None) -> str:
    text = _md(label).replace("[", "\\[").replace("]", "\\]")
    if not url or not _is_web(url):
        return text
    for char, code in ((" ", "%20"), ("(", "%28"), (")", "%29"), ("|", "%7C"), ("<", "%3C")):
        url = url.replace(char, code)
    return f"[{text}]({url.replace('>', '%3E')})"


def _bars(commits: tuple[int, ...]) -> str:
    """13 four-week sums as block characters, scaled to the largest; empty if unknown."""
    if not commits:
        return ""
    sums = [sum(commits[i : i + 4]) for i in range(0, len(commits), 4)]
    top = max(sums)
    if not top:
        return _BARS[0] * len(sums)
    return "".join(_BARS[0] if s == 0 else _BARS[1 + (s * 7 - 1) // top] for s in sums)


def _cut(row: ComparisonRow, limit: int = 40) -> str:
    text = _one_line(row.description)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal (wide East Asian characters take two)."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def _pad(text: str, width: int, *, right: bool) -> str:
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill


def build_comparison(
    grid: Grid,
    packages: Iterable[Package],
    category_titles: Mapping[int, str],
    sort: str,
    now: datetime | None = None,
) -> Comparison:
    """The comparison of ``grid`` from its packages and the titles of their categories."""
    name = check_sort(sort)
    rows = [ComparisonRow.of(p, category_titles.get(p.category.id), now) for p in packages]
    return Comparison(grid, _sorted(rows, name), sort)


class CatalogLookups(CatalogView, Protocol):
    """What `compare_in` also asks of a `Catalog`: its lookups."""

    def grid(self, key: int | str) -> Grid: ...
    def resolve(self, link: Link[ResourceT]) -> ResourceT: ...
    def packages_in(self, grid: Grid | Link[Grid]) -> tuple[Package, ...]: ...


def compare_in(
    catalog: CatalogLookups, grid: Grid | Link[Grid] | int | str, sort: str, now: datetime | None
) -> Comparison:
    """``Catalog.compare``: the grid (by model, link, id or slug) from the catalogue."""
    check_sort(sort)
    found = check_grid(grid)
    if isinstance(found, Link):
        found = catalog.resolve(found)
    elif not isinstance(found, Grid):
        found = catalog.grid(found)
    titles = {c.id: c.title for c in catalog.categories}
    return build_comparison(found, catalog.packages_in(found), titles, sort, now)


def check_grid(grid: object) -> Grid | Link[Grid] | int | str:
    """``grid`` if it designates a grid (a model, a link to one, an id or a slug)."""
    if isinstance(grid, Grid):
        return grid
    if isinstance(grid, Link):
        if grid.collection != "grids":
            raise ValueError(f"grid must link to a grid, not to {grid.collection}: {grid.url}")
        return grid
    if isinstance(grid, bool) or not isinstance(grid, int | str):
        raise TypeError(
            f"grid must be a Grid, a Link to one, an id or a slug, not {type(grid).__name__}"
        )
    return grid
