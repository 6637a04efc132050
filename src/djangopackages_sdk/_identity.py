"""The identity map: every resource a client loaded, one instance per resource.

Rows are keyed by collection and id (integers, not URL strings: a held listing
of 5,400 packages costs no more than the resources themselves), with a slug
index for the collections the API looks up by slug, and the collection sizes
the server last reported. With a ``max_age``, the load time of each row is
kept too, and `fresh` ignores rows older than that. Thread-safe: the sync
client's pool threads store while callers read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterable

from ._models import Resource
from ._registry import BY_COLLECTION, COLLECTIONS, collection_of

__all__ = ["IdentityMap"]


class IdentityMap:
    """Loaded resources by ``(collection, id)``, their slugs, and collection sizes."""

    def __init__(
        self, max_age: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_age = max_age
        self._clock = clock
        self._rows: dict[str, dict[int, Resource]] = {name: {} for name in COLLECTIONS}
        self._slugs: dict[str, dict[str, int]] = {name: {} for name in COLLECTIONS}
        # Load times, kept only when rows can expire (they cost memory otherwise).
        self._loaded: dict[str, dict[int, float]] | None = (
            None if max_age is None else {name: {} for name in COLLECTIONS}
        )
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return sum(len(rows) for rows in self._rows.values())

    def get(self, collection: str, resource_id: int) -> Resource | None:
        """The loaded resource with this id, however old, or None."""
        return self._rows[collection].get(resource_id)

    def fresh(self, collection: str, resource_id: int) -> Resource | None:
        """The loaded resource with this id if it is younger than ``max_age``, or None."""
        item = self._rows[collection].get(resource_id)
        if item is None or self._loaded is None:
            return item
        loaded = self._loaded[collection].get(resource_id)
        if loaded is None or self._clock() - loaded > self.max_age:  # type: ignore[operator]
            return None
        return item

    def by_slug(self, collection: str, slug: str) -> Resource | None:
        """The fresh resource whose slug is ``slug`` (packages and grids), or None."""
        resource_id = self._slugs[collection].get(slug)
        if resource_id is None:
            return None
        item = self.fresh(collection, resource_id)
        return item if item is not None and item.slug == slug else None

    def rows(self, collection: str) -> list[Resource]:
        """Every loaded resource of one collection (a copy, safe to iterate)."""
        return list(self._rows[collection].values())

    def count(self, collection: str) -> int | None:
        """The collection's size as the server last reported it, if known."""
        return self._counts.get(collection)

    def note_count(self, collection: str, count: int) -> None:
        """Remember the size the server reported for a collection."""
        self._counts[collection] = count

    def store_many(self, items: Iterable[Resource]) -> list[Resource]:
        """Put loaded resources (of one collection) in the map; return the instances to use.

        An equal instance already there is kept (so callers that raced for the
        same resource share one object); a changed one is replaced (fresher data
        wins). Either way the row counts as loaded now.
        """
        items = list(items)
        if not items:
            return items
        collection = collection_of(items[0])
        rows = self._rows[collection]
        slugs = self._slugs[collection] if BY_COLLECTION[collection].slug_lookup else None
        loaded = self._loaded[collection] if self._loaded is not None else None
        now = self._clock() if loaded is not None else 0.0
        kept: list[Resource] = []
        with self._lock:
            for item in items:
                if loaded is not None:
                    loaded[item.id] = now
                known = rows.get(item.id)
                if known is not None and known == item:
                    kept.append(known)
                    continue
                if slugs is not None:
                    if known is not None and known.slug != item.slug:
                        slugs.pop(known.slug, None)
                    slugs[item.slug] = item.id
                rows[item.id] = item
                kept.append(item)
        return kept

    def forget(self, collection: str, resource_id: int) -> None:
        """Drop one resource (nothing happens if it is not held)."""
        with self._lock:
            self._drop(collection, resource_id)

    def retain(self, collection: str, seen: Collection[int]) -> int:
        """Keep only the rows of ``collection`` whose ids are in ``seen``; return how many
        were dropped. A complete listing calls this: what it did not see is gone."""
        with self._lock:
            gone = [
                resource_id for resource_id in self._rows[collection] if resource_id not in seen
            ]
            for key in gone:
                self._drop(collection, key)
            return len(gone)

    def _drop(self, collection: str, resource_id: int) -> None:
        item = self._rows[collection].pop(resource_id, None)
        if item is None:
            return
        slugs = self._slugs[collection]
        if slugs.get(item.slug) == resource_id:
            del slugs[item.slug]
        if self._loaded is not None:
            self._loaded[collection].pop(resource_id, None)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            for name in COLLECTIONS:
                self._rows[name].clear()
                self._slugs[name].clear()
                if self._loaded is not None:
                    self._loaded[name].clear()
            self._counts.clear()
