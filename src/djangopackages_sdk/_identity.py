"""The identity map: every resource a client loaded, one instance per resource.

Rows are keyed by collection and id (integers, not URL strings: a held listing
of 5,400 packages costs no more than the resources themselves), with a slug
index for the collections the API looks up by slug, and the collection sizes
the server last reported. Thread-safe: the sync client's pool threads store
while callers read.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from ._models import Resource
from ._registry import BY_COLLECTION, COLLECTIONS, collection_of

__all__ = ["IdentityMap"]


class IdentityMap:
    """Loaded resources by ``(collection, id)``, their slugs, and collection sizes."""

    def __init__(self) -> None:
        self._rows: dict[str, dict[int, Resource]] = {name: {} for name in COLLECTIONS}
        self._slugs: dict[str, dict[str, int]] = {name: {} for name in COLLECTIONS}
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return sum(len(rows) for rows in self._rows.values())

    def get(self, collection: str, resource_id: int) -> Resource | None:
        """The loaded resource with this id, or None."""
        return self._rows[collection].get(resource_id)

    def by_slug(self, collection: str, slug: str) -> Resource | None:
        """The loaded resource whose slug is ``slug`` (packages and grids), or None."""
        resource_id = self._slugs[collection].get(slug)
        if resource_id is None:
            return None
        item = self._rows[collection].get(resource_id)
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
        wins).
        """
        items = list(items)
        if not items:
            return items
        collection = collection_of(items[0])
        rows = self._rows[collection]
        slugs = self._slugs[collection] if BY_COLLECTION[collection].slug_lookup else None
        kept: list[Resource] = []
        with self._lock:
            for item in items:
                known = rows.get(item.id)
                if known is not None and known == item:
                    kept.append(known)
                    continue
                rows[item.id] = item
                if slugs is not None:
                    slugs[item.slug] = item.id
                kept.append(item)
        return kept

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            for name in COLLECTIONS:
                self._rows[name].clear()
                self._slugs[name].clear()
            self._counts.clear()
