"""Derived facts the site itself computes from a package: pure functions, no I/O.

The rules are the site's own (see the API notes): weekly commit counts are
Monday-based weeks ending with the week of the last fetch, a package shows "no
development" when its last commit is older than a year, its PyPI name is its
``pypi_url`` without the known prefixes, and its pages live under the site root.
The models expose these as methods and properties; this module holds the logic.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Final
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_SITE_ROOT",
    "STALE_AFTER_DAYS",
    "check_now",
    "commits_by_week",
    "is_stale",
    "normalize_name",
    "pypi_name",
    "recent_commits",
    "site_root_of",
    "week_monday",
]

DEFAULT_SITE_ROOT: Final = "https://djangopackages.org/"
STALE_AFTER_DAYS: Final = 365
"""The site's "no development" threshold: no commit for this many days."""

_PYPI_PREFIXES: Final = (
    "http://pypi.python.org/pypi/",
    "https://pypi.python.org/pypi/",
    "https://pypi.org/project/",
)
_NAME_SEPARATORS: Final = re.compile(r"[-_.]+")


def week_monday(day: date) -> date:
    """The Monday that starts the server's week of ``day``.

    The server numbers weeks as ``(day.toordinal() - 1) // 7``, so week ``k``
    starts on ``date.fromordinal(7 * k + 1)``, always a Monday.
    """
    return date.fromordinal(7 * ((day.toordinal() - 1) // 7) + 1)


def commits_by_week(
    counts: tuple[int, ...], last_fetched: datetime | None
) -> tuple[tuple[date, int], ...]:
    """``(monday, count)`` for each weekly count, oldest first.

    The last count is the week that contains ``last_fetched`` (its own date, in
    the offset the server sent); each earlier one is a week before. Empty when
    there are no counts or the fetch time is unknown (then no week can be dated).
    """
    if not counts or last_fetched is None:
        return ()
    last = week_monday(last_fetched.date())
    step = timedelta(weeks=1)
    first = last - step * (len(counts) - 1)
    return tuple((first + step * index, count) for index, count in enumerate(counts))


def recent_commits(counts: tuple[int, ...], weeks: int) -> int:
    """The commits of the last ``weeks`` weekly counts (the weeks up to the last fetch)."""
    if isinstance(weeks, bool) or not isinstance(weeks, int):
        raise TypeError(f"weeks must be an int, not {type(weeks).__name__}")
    if not 1 <= weeks <= 52:
        raise ValueError(f"weeks must be between 1 and 52, got {weeks}")
    return sum(counts[-weeks:])


def check_now(now: datetime | None) -> datetime:
    """``now``, or the current time in UTC; ``TypeError`` for anything but a datetime."""
    if now is None:
        return datetime.now(UTC)
    if not isinstance(now, datetime):
        raise TypeError(f"now must be a datetime, not {type(now).__name__}")
    return now


def is_stale(
    last_updated: datetime | None, now: datetime | None = None, days: int = STALE_AFTER_DAYS
) -> bool | None:
    """The site's "no development": the last commit is older than ``days`` days.

    ``None`` when the last commit is unknown (the site says nothing then). A
    naive ``last_updated`` (the API's documented examples carry no offset) is
    compared with a naive ``now``; ``now`` defaults to the current time, in UTC
    or naive to match. Mixing a naive and an aware time raises ``ValueError``.
    """
    if isinstance(days, bool) or not isinstance(days, int):
        raise TypeError(f"days must be an int, not {type(days).__name__}")
    if days < 0:
        raise ValueError(f"days must not be negative, got {days}")
    current = check_now(now)
    if last_updated is None:
        return None
    naive = last_updated.tzinfo is None
    if now is None and naive:
        current = current.replace(tzinfo=None)
    elif (current.tzinfo is None) != naive:
        raise ValueError(
            "now must be timezone-aware like the last commit time"
            if not naive
            else "now must be naive like the last commit time (the API sent no offset)"
        )
    return last_updated < current - timedelta(days=days)


def pypi_name(pypi_url: str) -> str | None:
    """The PyPI project name a ``pypi_url`` holds, as the site derives it.

    The data holds ``http://pypi.python.org/pypi/<name>``,
    ``https://pypi.org/project/<name>/``, bare names and empty strings; the
    known prefixes are removed, then slashes stripped. ``None`` when empty.
    """
    name = pypi_url.strip()
    for prefix in _PYPI_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    name = name.strip("/")
    return name or None


def normalize_name(name: str) -> str:
    """A project name after PEP 503 normalisation: lower case, runs of ``-_.`` as ``-``."""
    return _NAME_SEPARATORS.sub("-", name).lower()


def site_root_of(api_url: str | None) -> str:
    """The site root that an API URL lives under (``https://djangopackages.org/``).

    The API sits at ``<site>/api/v4/``; a URL that does not show that prefix
    gives the root of its host. ``None`` gives the public site.
    """
    if not api_url:
        return DEFAULT_SITE_ROOT
    parts = urlsplit(api_url)
    path = parts.path
    marker = path.find("/api/v")
    prefix = path[: marker + 1] if marker >= 0 else "/"
    return f"{parts.scheme}://{parts.netloc}{prefix}"
