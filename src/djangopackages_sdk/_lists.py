"""Sequences of models that print like a data frame's head, not as thousands of reprs.

`ResourceList` is the type of ``Catalog.packages``, ``.grids`` and ``.categories``:
a ``tuple`` in every way (equal to the plain tuple of the same items, hashable,
picklable), whose ``repr`` names the first few items and whose notebook display
is a table of the first ten. `SearchResults` is what ``search`` returns: a
``list`` (as it always was) with the same short ``repr`` and a table display.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final, SupportsIndex, TypeVar, overload

from ._html import count
from ._models import SearchResult
from ._overviews import items_table

__all__ = ["ResourceList", "SearchResults"]

T = TypeVar("T")
NAMES_SHOWN: Final = 3
_WORDS: Final = {
    "Package": "package",
    "Grid": "grid",
    "Category": "category",
    "SearchResult": "result",
}


def _summary(items: Sequence[Any], name: str) -> str:
    """``<5,405 packages: django-otp, django-mfa, wagtail-2fa, ...>``."""
    if not items:
        return f"<{name}: empty>"
    word = _WORDS.get(type(items[0]).__name__, "item")
    shown = ", ".join(str(getattr(item, "slug", item))[:40] for item in items[:NAMES_SHOWN])
    more = ", ..." if len(items) > NAMES_SHOWN else ""
    return f"<{count(len(items), word)}: {shown}{more}>"


class ResourceList(tuple[T, ...]):
    """A tuple of resources that displays as a short summary and a head table.

    Slicing gives a `ResourceList` too (``catalog.packages[:20]`` shows as a table);
    everything else is a tuple's behaviour, and ``==`` compares with any tuple.
    """

    __slots__ = ()

    @overload
    def __getitem__(self, index: SupportsIndex) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> ResourceList[T]: ...

    def __getitem__(self, index: SupportsIndex | slice) -> T | ResourceList[T]:
        if isinstance(index, slice):
            return ResourceList(super().__getitem__(index))
        return super().__getitem__(index)

    def __repr__(self) -> str:
        return _summary(self, "ResourceList")

    def _repr_html_(self) -> str:
        return items_table(self, fallback=repr(self))


class SearchResults(list[SearchResult]):
    """The hits of a search, best first: a ``list`` with a short repr and a table display."""

    __slots__ = ()

    def __init__(self, items: Iterable[SearchResult] = ()) -> None:
        super().__init__(items)

    def __repr__(self) -> str:
        return _summary(self, "SearchResults")

    def _repr_html_(self) -> str:
        title = f"Search: {count(len(self), 'result')}"
        return items_table(self, title=title, limit=len(self), fallback=repr(self))
