"""Numbers, counts and ages in words: the one wording every display shares (the
notebook's HTML, reprs, the command line), so they never disagree."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime

__all__ = ["age", "count", "count_resources", "number"]

_SINGULAR = {"packages": "package", "grids": "grid", "categories": "category"}


def number(value: int) -> str:
    """An integer with thousands separators: ``5,405``."""
    return f"{value:,}"


def count(n: int, word: str) -> str:
    """``1 package``, ``5,405 packages``, ``3 categories``."""
    if n == 1:
        return f"1 {word}"
    consonant_y = word.endswith("y") and word[-2:-1] not in ("a", "e", "o", "u")
    plural = f"{word[:-1]}ies" if consonant_y else f"{word}s"
    return f"{number(n)} {plural}"


def count_resources(counts: Mapping[str, int]) -> str:
    """``5 packages, 8 grids, 1 category`` from counts keyed by collection name."""
    return ", ".join(count(n, _SINGULAR.get(name, name)) for name, n in counts.items())


def age(when: datetime | date | None, now: datetime | None = None) -> str:
    """How long ago ``when`` was, in its largest whole unit: ``today``, ``5 days ago``,
    ``3 months ago``; ``unknown`` for ``None``.

    ``now`` defaults to the current time. A naive time (the API's documented
    examples carry no offset) is taken as UTC, as the data frames take it; a date
    as its midnight in UTC.
    """
    if when is None:
        return "unknown"
    if not isinstance(when, datetime):
        when = datetime(when.year, when.month, when.day)
    now = datetime.now(UTC) if now is None else now
    days = (_aware(now) - _aware(when)).days
    if days < 0:
        return "in the future"
    for size, unit in ((365, "year"), (30, "month"), (7, "week"), (1, "day")):
        if days >= size:
            return f"{count(days // size, unit)} ago"
    return "today"


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
