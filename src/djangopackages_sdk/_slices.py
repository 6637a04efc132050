"""How a crawl plans its requests: the first page, then staggered concurrent slices."""

from __future__ import annotations

import math
from typing import Final

__all__ = ["DEFAULT_FIRST_PAGE", "MAX_SLICE", "STAGGER", "staggered_slices"]

DEFAULT_FIRST_PAGE: Final = 100
"""Rows in the first request of a crawl without an explicit page size."""
MAX_SLICE: Final = 2_000
"""Largest slice a planned crawl asks for in one request."""
STAGGER: Final = 0.15
"""Planned slices differ in size by up to ±15% around their mean (see staggered_slices)."""


def staggered_slices(start: int, end: int, parallel: int) -> tuple[int, list[tuple[int, int]]]:
    """Plan ``(offset, limit)`` slices covering ``start``..``end``: ``(mean size, slices)``.

    As few slices as ``parallel`` requests can carry (at most ``MAX_SLICE`` rows
    each), sized from 15% under the mean to 15% over it in offset order. Equal
    slices would all arrive together and then wait for the client to parse them one
    after the other; staggered ones arrive one after another, so the client parses
    each while the server still works on the larger ones. On the benchmark's server
    this takes a 5,400-package crawl from about 0.58 s to 0.50 s.
    """
    total = end - start
    if total <= 0:
        return DEFAULT_FIRST_PAGE, []
    step = min(MAX_SLICE, max(DEFAULT_FIRST_PAGE, math.ceil(total / parallel)))
    count = math.ceil(total / step)
    if count == 1:
        return step, [(start, total)]
    weights = [1 + STAGGER * (2 * i / (count - 1) - 1) for i in range(count)]
    scale = total / sum(weights)
    plan = []
    offset = start
    for index, weight in enumerate(weights):
        size = end - offset if index == count - 1 else max(1, round(weight * scale))
        plan.append((offset, size))
        offset += size
    return step, plan
