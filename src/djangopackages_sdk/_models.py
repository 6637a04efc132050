"""The API's resources as plain immutable values.

Every class is a frozen, slotted attrs class: hashable, comparable, picklable and
printable. Field names and order follow the API's JSON exactly; the converter in
``_convert.py`` owns every serialisation rule, so nothing here knows about JSON.
No attribute ever triggers a network call: relations are `Link` values that
a client resolves only when asked (``Client.resolve``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Generic, Literal, Protocol, TypeVar, get_args

import attrs

from ._cards import category_card, grid_card, package_card, search_result_card
from ._health import (
    commits_by_week,
    is_stale,
    pypi_name,
    recent_commits,
    site_root_of,
)
from ._html import brief_repr

__all__ = [
    "CatalogView",
    "Category",
    "CollectionName",
    "Grid",
    "Link",
    "Package",
    "Resource",
    "ResourceT",
    "SearchResult",
]

CollectionName = Literal["packages", "grids", "categories"]
"""The name of a collection, as in its URL (``/api/v4/packages/``)."""

ResourceT = TypeVar("ResourceT", "Category", "Grid", "Package")
"""The one type variable for "a resource model": Package, Grid or Category."""


@attrs.frozen(repr=False)
class Link(Generic[ResourceT]):
    """A hyperlink to another resource, such as a package's category.

    ``url`` is the canonical absolute URL (query such as ``?format=api`` stripped,
    id normalised), so two links to the same resource are equal whatever
    decoration the server added. ``id`` is the resource's numeric id.
    """

    url: str
    id: int

    @property
    def collection(self) -> CollectionName:
        """The collection the link points into: ``packages``, ``grids`` or ``categories``."""
        segment = self.url.rstrip("/").rsplit("/", 2)[-2]
        for name in get_args(CollectionName):
            if segment == name:
                return name  # type: ignore[no-any-return]
        raise ValueError(f"not a resource link: {self.url}")  # pragma: no cover - validated

    def __repr__(self) -> str:
        return f"Link({self.url!r})"


@attrs.frozen(repr=False)
class Category:
    """A category of packages (App, Framework, Other, ...).

    Its ``repr`` is short (id, slug and title); in a notebook it shows as a card.
    """

    id: int
    title: str
    slug: str
    description: str
    title_plural: str
    show_pypi: bool
    created: datetime
    modified: datetime

    def __repr__(self) -> str:
        return brief_repr("Category", ("id", self.id), ("slug", self.slug), ("title", self.title))

    def _repr_html_(self) -> str:
        return category_card(self)


@attrs.frozen(repr=False)
class Grid:
    """A comparison grid: a titled set of packages that solve the same problem.

    Its ``repr`` is short (id, slug, title, how many packages); in a notebook it
    shows as a card. ``Catalog.compare(grid)`` shows its packages side by side.
    """

    id: int
    title: str
    slug: str
    description: str
    is_locked: bool
    packages: tuple[Link[Package], ...]
    header: bool
    created: datetime
    modified: datetime

    @property
    def site_url(self) -> str:
        """The grid's page on the site: ``https://djangopackages.org/grids/g/<slug>/``.

        The site root is the one its package links were read from (a local server
        gives a local page); a grid without packages gives the public site's page.
        """
        source = self.packages[0].url if self.packages else None
        return f"{site_root_of(source)}grids/g/{self.slug}/"

    def __repr__(self) -> str:
        return brief_repr(
            "Grid",
            ("id", self.id),
            ("slug", self.slug),
            ("title", self.title),
            ("packages", _Count(len(self.packages), "links")),
        )

    def _repr_html_(self) -> str:
        return grid_card(self)


@attrs.frozen(repr=False)
class Package:
    """A Django package with its repository and PyPI metadata.

    ``last_updated`` is the time of the last commit; ``repo_watchers`` counts
    GitHub stars; ``commits_over_52`` holds weekly commit counts, oldest first.
    Its ``repr`` is short (id, slug, title, version, stars; at most about 200
    characters); in a notebook it shows as a card with a commit sparkline.
    """

    category: Link[Category]
    grids: tuple[Link[Grid], ...]
    id: int
    title: str
    slug: str
    last_updated: datetime | None
    last_fetched: datetime | None
    repo_url: str
    pypi_version: str | None
    created: datetime
    modified: datetime
    repo_forks: int
    repo_description: str
    pypi_url: str
    documentation_url: str | None
    repo_watchers: int
    commits_over_52: tuple[int, ...]
    participants: tuple[str, ...]

    @property
    def site_url(self) -> str:
        """The package's page on the site: ``https://djangopackages.org/packages/p/<slug>/``.

        The site root is the one its links were read from, so a package read from
        a local server points at that server's page.
        """
        return f"{site_root_of(self.category.url)}packages/p/{self.slug}/"

    @property
    def pypi_name(self) -> str | None:
        """The PyPI project name, from ``pypi_url`` as the site derives it; None if empty."""
        return pypi_name(self.pypi_url)

    def commits_by_week(self) -> tuple[tuple[date, int], ...]:
        """``commits_over_52`` with dates: ``(monday, count)`` pairs, oldest first.

        Each date is the Monday that starts the week counted; the last one is the
        week containing ``last_fetched``, as the server counts. Empty when the
        vector is empty or ``last_fetched`` is unknown.
        """
        return commits_by_week(self.commits_over_52, self.last_fetched)

    def recent_commits(self, weeks: int = 12) -> int:
        """Commits in the last ``weeks`` weeks (1 to 52) up to the last fetch."""
        return recent_commits(self.commits_over_52, weeks)

    @property
    def commits_last_12_weeks(self) -> int:
        """Commits in the 12 weeks up to the last fetch."""
        return self.recent_commits(12)

    @property
    def commits_last_52_weeks(self) -> int:
        """Commits in the 52 weeks up to the last fetch."""
        return self.recent_commits(52)

    def is_stale(self, now: datetime | None = None, days: int = 365) -> bool | None:
        """The site's "no development": no commit in the ``days`` days before ``now``.

        ``now`` defaults to the current time. ``None`` when the last commit
        (``last_updated``) is unknown, as the site then says nothing.
        """
        return is_stale(self.last_updated, now, days)

    def __repr__(self) -> str:
        return brief_repr(
            "Package",
            ("id", self.id),
            ("slug", self.slug),
            ("title", self.title),
            ("pypi_version", self.pypi_version),
            ("repo_watchers", self.repo_watchers),
            limit=40,
        )

    def _repr_html_(self) -> str:
        return package_card(self)


@attrs.frozen(repr=False)
class SearchResult:
    """One hit of ``/search/``: a package or a grid.

    Unlike `Package`, ``category`` is a category *title* (not a link),
    ``absolute_url`` is a site path (not an API URL) and ``participants`` is one
    comma-separated string, as the API sends it; `participant_logins`
    splits it.
    """

    description: str
    title: str
    title_no_prefix: str
    slug_no_prefix: str
    clean_title: str
    absolute_url: str
    created: datetime
    modified: datetime
    weight: int
    item_type: str
    slug: str
    category: str
    repo_watchers: int
    repo_forks: int
    pypi_downloads: int
    score: int
    usage: int
    participants: str
    last_committed: datetime | None
    last_released: datetime | None

    @property
    def participant_logins(self) -> tuple[str, ...]:
        """``participants`` split on commas (empty for grids and unknown authors)."""
        return tuple(login for login in self.participants.split(",") if login)

    def __repr__(self) -> str:
        return brief_repr(
            "SearchResult",
            ("item_type", self.item_type),
            ("slug", self.slug),
            ("title", self.title),
            ("repo_watchers", self.repo_watchers),
        )

    def _repr_html_(self) -> str:
        return search_result_card(self)


class _Count:
    """Shows as ``<12 links>`` inside a short repr."""

    __slots__ = ("n", "word")

    def __init__(self, n: int, word: str) -> None:
        self.n, self.word = n, word

    def __repr__(self) -> str:
        return f"<{self.n} {self.word}>"


Resource = Package | Grid | Category
"""Any resource a `Link` can point at: the one alias for "a resource"."""


class CatalogView(Protocol):
    """What the pure views beside the models (tables, the comparison, the diff) read
    of a catalogue: its resources and when it was fetched. `Catalog` has it; the
    views cannot import `Catalog`, which imports them."""

    @property
    def packages(self) -> tuple[Package, ...]: ...
    @property
    def grids(self) -> tuple[Grid, ...]: ...
    @property
    def categories(self) -> tuple[Category, ...]: ...
    @property
    def fetched_at(self) -> datetime: ...
