"""The pieces of a crawl: its plan (a first page, then staggered concurrent
slices), the slices it read, and what a page and its failures look like."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, Final, Generic

import attrs

from ._exceptions import DjangoPackagesError, HTTPStatusError, NotJSONError, PayloadError
from ._models import ResourceT

__all__ = [
    "DEFAULT_FIRST_PAGE",
    "MAX_SLICE",
    "STAGGER",
    "Fatal",
    "Slice",
    "envelope",
    "is_row_failure",
    "plan_slices",
    "row_id",
    "staggered_slices",
]

DEFAULT_FIRST_PAGE: Final = 100
"""Rows in the first request of a crawl without an explicit page size. Measured on
both benchmark server models: 20, 50, 100 and 200 rows all give a crawl within 1.64-1.80x
of its lower bound (synthetic) and 1.20-1.30x (real server); 200 is the slowest, the
others are within the noise of each other."""
MAX_SLICE: Final = 2_000
"""Largest slice a planned crawl asks for in one request."""
STAGGER: Final = 0.08
"""Planned slices differ in size by up to ±8% around their mean (see staggered_slices)."""


def staggered_slices(start: int, end: int, parallel: int) -> tuple[int, list[tuple[int, int]]]:
    """`plan_slices` with the plan as a list."""
    step, plan = plan_slices(start, end, parallel)
    return step, list(plan)


def plan_slices(start: int, end: int, parallel: int) -> tuple[int, Iterator[tuple[int, int]]]:
    """Plan ``(offset, limit)`` slices covering ``start``..``end``: ``(mean size, slices)``.

    As few slices as ``parallel`` requests can carry (at most ``MAX_SLICE`` rows
    each), sized from 8% under the mean to 8% over it in offset order. Equal
    slices would all arrive together and then wait for the client to parse them one
    after the other; staggered ones arrive one after another, so the client parses
    each while the server still works on the larger ones. Parsing a page now takes
    a fraction of what it took (see `_wire.py`), so a smaller spread than the first
    round's 15% suffices and the largest slice, which bounds the crawl, is smaller. The slices are
    produced as the crawl asks for them: a server claiming a huge ``count`` costs
    no memory.
    """
    total = end - start
    if total <= 0:
        return DEFAULT_FIRST_PAGE, iter(())
    step = min(MAX_SLICE, max(DEFAULT_FIRST_PAGE, math.ceil(total / parallel)))
    return step, _slices(start, end, math.ceil(total / step))


def _slices(start: int, end: int, count: int) -> Iterator[tuple[int, int]]:
    if count == 1:
        yield (start, end - start)
        return
    # The weights are symmetric around 1, so they sum to ``count``.
    scale = (end - start) / count
    offset = start
    for index in range(count):
        weight = 1 + STAGGER * (2 * index / (count - 1) - 1)
        size = end - offset if index == count - 1 else max(1, round(weight * scale))
        yield (offset, size)
        offset += size


@attrs.frozen
class Fatal:
    """A page error that ends the crawl (carried through the driver as a value)."""

    error: DjangoPackagesError


@attrs.define
class Slice(Generic[ResourceT]):
    """Rows read from one window of a listing (``None`` ids mark skipped rows)."""

    offset: int
    count: int
    next: str | None
    ids: list[int | None]
    models: list[ResourceT | None]
    bisected: bool = False
    """Assembled from bisected parts: its rows may have gaps by design."""


def row_id(row: Any) -> int | None:
    """The integer id of a raw row, if it has one."""
    resource_id = row.get("id") if type(row) is dict else None
    return resource_id if type(resource_id) is int else None


def is_row_failure(error: DjangoPackagesError) -> bool:
    """Errors a bad row can cause: a server error or a body that does not parse."""
    if isinstance(error, HTTPStatusError):
        return error.status >= 500
    if isinstance(error, NotJSONError) and error.is_html:
        return False  # a whole page of HTML (a proxy's interstitial) is no row's fault
    return isinstance(error, PayloadError)


def envelope(url: str, data: Any) -> tuple[int, str | None, list[Any]]:
    """``(count, next, results)`` of a page, or the PayloadError of a broken envelope."""
    if type(data) is not dict:
        raise PayloadError(url, "expected a page object with count/next/results", path="$")
    count = data.get("count")
    next_url = data.get("next")
    rows = data.get("results")
    if type(count) is not int or count < 0:
        raise PayloadError(url, "page 'count' must be a non-negative integer", path="$.count")
    if next_url is not None and type(next_url) is not str:
        raise PayloadError(url, "page 'next' must be a URL or null", path="$.next")
    if type(rows) is not list:
        raise PayloadError(url, "page 'results' must be an array", path="$.results")
    return count, next_url, rows
