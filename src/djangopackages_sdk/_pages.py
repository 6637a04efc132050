"""What a listing hands out: its pages, and the checkpoint to resume it from."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Generic

import attrs

from ._models import ResourceT
from ._overviews import page_html

__all__ = ["Checkpoint", "Page"]


@attrs.frozen
class Checkpoint:
    """Where a crawl stands, small and JSON-serialisable, to resume it later.

    ``offset`` is the position after the last page handed out, ``last_id`` the id
    of the last row read (rows at or above it are not yielded again), ``seen``
    how many distinct rows were yielded.
    """

    collection: str
    offset: int
    page_size: int | None
    last_id: int | None
    seen: int

    def to_dict(self) -> dict[str, Any]:
        """The checkpoint as a JSON-ready dict."""
        return attrs.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Checkpoint:
        """Rebuild a checkpoint saved with `to_dict`."""
        try:
            return cls(
                collection=str(data["collection"]),
                offset=int(data["offset"]),
                page_size=None if data.get("page_size") is None else int(data["page_size"]),
                last_id=None if data.get("last_id") is None else int(data["last_id"]),
                seen=int(data.get("seen", 0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a crawl checkpoint: {data!r}") from exc


@attrs.frozen(repr=False)
class Page(Generic[ResourceT]):
    """One page of a listing, as handed out by ``list(...).pages()``.

    ``items`` holds the rows not seen before in this crawl; ``count`` is the
    collection's size as the server reported it with this page. Its ``repr`` is
    short; in a notebook it shows its rows' head as a table.
    """

    items: tuple[ResourceT, ...]
    offset: int
    """Position of the page's first new row in the listing, as the server saw it."""
    count: int

    def __iter__(self) -> Iterator[ResourceT]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        slugs = ", ".join(getattr(item, "slug", "?") for item in self.items[:3])
        more = ", ..." if len(self.items) > 3 else ""
        return (
            f"<Page offset={self.offset} count={self.count}: "
            f"{len(self.items)} items{': ' + slugs + more if self.items else ''}>"
        )

    def _repr_html_(self) -> str:
        return page_html(self)
