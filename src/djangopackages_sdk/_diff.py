"""What changed between two catalogues: `CatalogDiff`, its `Change` values, and the diff.

A pure view beside the models (no I/O). Rows are matched by collection and id;
a row's fields are compared the way the API means them, never by the host they
were read through:

* a link (``Package.category``) compares by the id it points at, a tuple of
  links (``Package.grids``, ``Grid.packages``) by the ids in order;
* a datetime compares by instant (``12:00-04:00`` equals ``16:00+00:00``);
* anything else by plain equality.

In `Change.fields` a value is kept in that host-free form: a link as its id
(``int``), a tuple of links as a tuple of ids, a datetime as a ``datetime``.
`CatalogDiff.to_dict` turns it into JSON values (datetimes as ISO 8601 text,
tuples as lists) and `CatalogDiff.from_dict` back, exactly.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final, Literal, get_args

import attrs

from ._models import CatalogView, Category, CollectionName, Grid, Package
from ._registry import COLLECTIONS, model_of

__all__ = ["CatalogDiff", "Change", "ChangeKind", "MembershipChange", "diff_catalogs"]

ChangeKind = Literal["added", "removed", "changed"]
"""What happened to a row: ``"added"``, ``"removed"`` or ``"changed"``."""
KINDS: Final[tuple[str, ...]] = get_args(ChangeKind)

Row = Package | Grid | Category

# The shape of each model field, by its annotation: a link or a tuple of links is
# kept as ids; every shape says which JSON values `from_dict` accepts for it.
_SHAPES: Final[dict[str, str]] = {
    "Link[Category]": "link",
    "tuple[Link[Grid], ...]": "links",
    "tuple[Link[Package], ...]": "links",
    "datetime": "datetime",
    "datetime | None": "datetime?",
    "int": "int",
    "str": "str",
    "bool": "bool",
    "str | None": "str?",
    "tuple[int, ...]": "ints",
    "tuple[str, ...]": "strs",
}


def _fields_of(model: type) -> tuple[tuple[str, str], ...]:
    return tuple((f.name, _SHAPES[str(f.type)]) for f in attrs.fields(model))


_FIELDS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    c: _fields_of(model_of(c)) for c in COLLECTIONS
}


def _freeze(fields: Mapping[str, tuple[Any, Any]]) -> Mapping[str, tuple[Any, Any]]:
    return MappingProxyType(dict(fields))


@attrs.frozen(eq=True, hash=False)
class Change:
    """One row that was added, removed or changed between two catalogues.

    ``fields`` maps each field that differs to its ``(old, new)`` values, in the
    model's field order; fields that did not change are never listed. A row that
    was ``"added"`` lists every field as ``(None, new)``, one that was
    ``"removed"`` every field as ``(old, None)``, so a bot can announce a new
    package's title and version from the change alone. Values are host-free: a
    link is its id, a tuple of links a tuple of ids, a datetime a ``datetime``.
    """

    kind: ChangeKind
    collection: CollectionName
    id: int
    slug: str
    fields: Mapping[str, tuple[Any, Any]] = attrs.field(factory=dict, converter=_freeze)

    def value(self, field: str) -> Any:
        """The field's latest value: the new one, or the old one for a removed row.

        ``KeyError`` when the change does not list ``field`` (it did not change).
        """
        old, new = self.fields[field]
        return old if self.kind == "removed" else new

    def __repr__(self) -> str:
        listed = f" {', '.join(self.fields)}" if self.kind == "changed" else ""
        return f"<Change {self.kind} {self.collection} {self.id} {self.slug!r}{listed}>"


@attrs.frozen
class MembershipChange:
    """A package that joined or left a grid (ids: look them up in a catalogue)."""

    grid: int
    package: int
    joined: bool
    """True when the package joined the grid, False when it left it."""


@attrs.frozen(eq=True, hash=False)
class CatalogDiff:
    """What changed from one catalogue to a newer one (``old.diff(new)``).

    Iterate it for every `Change`, in a stable order: by collection (packages,
    grids, categories), then by id. ``bool(diff)`` is False when nothing changed;
    ``len(diff)`` counts the changes; ``str(diff)`` is a one-line summary. The
    views `new_packages`, `new_versions`, `removed_packages` and
    `grid_membership_changes` are what bots announce. ``since`` and ``until`` are
    the ``fetched_at`` times of the two catalogues, when known.
    """

    changes: tuple[Change, ...]
    since: datetime | None = None
    until: datetime | None = None

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def _select(self, kind: str, collection: str) -> tuple[Change, ...]:
        if collection not in COLLECTIONS:
            raise ValueError(f"collection must be one of {', '.join(COLLECTIONS)}: {collection!r}")
        return tuple(c for c in self.changes if c.kind == kind and c.collection == collection)

    def added(self, collection: CollectionName = "packages") -> tuple[Change, ...]:
        """The rows of ``collection`` that are new (``ValueError`` for an unknown one)."""
        return self._select("added", collection)

    def removed(self, collection: CollectionName = "packages") -> tuple[Change, ...]:
        """The rows of ``collection`` that are gone."""
        return self._select("removed", collection)

    def changed(self, collection: CollectionName = "packages") -> tuple[Change, ...]:
        """The rows of ``collection`` present in both catalogues whose fields differ."""
        return self._select("changed", collection)

    @property
    def new_packages(self) -> tuple[Change, ...]:
        """Packages that are new: ``change.value("title")``, ``change.value("pypi_version")``."""
        return self.added("packages")

    @property
    def removed_packages(self) -> tuple[Change, ...]:
        """Packages that are gone."""
        return self.removed("packages")

    @property
    def new_versions(self) -> tuple[Change, ...]:
        """Packages present in both whose ``pypi_version`` changed.

        ``change.fields["pypi_version"]`` is ``(old, new)``; a new package's
        first version is in `new_packages`, not here.
        """
        return tuple(c for c in self.changed("packages") if "pypi_version" in c.fields)

    @property
    def grid_membership_changes(self) -> tuple[MembershipChange, ...]:
        """Packages that joined or left grids, ordered by grid id then package id.

        Read from both sides (a grid's ``packages``, a package's ``grids``), added
        and removed rows included, each pair once.
        """
        found: dict[tuple[int, int], bool] = {}
        for change in self.changes:
            field = {"grids": "packages", "packages": "grids"}.get(change.collection)
            if field is None or field not in change.fields:
                continue
            old, new = change.fields[field]
            before, after = set(old or ()), set(new or ())
            for other, joined in [(i, True) for i in after - before] + [
                (i, False) for i in before - after
            ]:
                pair = (change.id, other) if change.collection == "grids" else (other, change.id)
                found.setdefault(pair, joined)
        return tuple(MembershipChange(g, p, joined) for (g, p), joined in sorted(found.items()))

    def __str__(self) -> str:
        if not self.changes:
            return "no changes"
        parts: list[str] = []
        counts = {
            "new packages": len(self.new_packages),
            "new versions": len(self.new_versions),
            "removed packages": len(self.removed_packages),
            "changed packages": len(self.changed("packages")),
        }
        for collection in ("grids", "categories"):
            for kind, word in (("added", "new"), ("removed", "removed"), ("changed", "changed")):
                counts[f"{word} {collection}"] = len(self._select(kind, collection))
        for label, count in counts.items():
            if count:
                parts.append(f"{count} {_singular(label) if count == 1 else label}")
        return ", ".join(parts)

    # -- JSON ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The diff as JSON values (``json.dumps`` takes it as is).

        ``{"since": ISO or null, "until": ISO or null, "changes": [{"kind",
        "collection", "id", "slug", "fields": {name: [old, new]}}]}``: links as
        ids, datetimes as ISO 8601 text, tuples as lists.
        """
        return {
            "since": _iso(self.since),
            "until": _iso(self.until),
            "changes": [
                {
                    "kind": c.kind,
                    "collection": c.collection,
                    "id": c.id,
                    "slug": c.slug,
                    "fields": {
                        name: [_to_json(old), _to_json(new)]
                        for name, (old, new) in c.fields.items()
                    },
                }
                for c in self.changes
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CatalogDiff:
        """Rebuild a diff from `to_dict`'s output (after a JSON round trip, too).

        Raises ``ValueError`` naming where the input is wrong (``changes[2].fields
        .created: ...``) for anything `to_dict` would not have written.
        """
        from ._diff_json import changes_from_json, datetime_from_json

        if not isinstance(data, Mapping):
            raise ValueError(f"a diff must be a mapping, not {type(data).__name__}")
        changes = tuple(
            Change(kind, collection, resource_id, slug, fields)  # type: ignore[arg-type]
            for kind, collection, resource_id, slug, fields in changes_from_json(
                data.get("changes"), _FIELDS
            )
        )
        return cls(
            changes,
            datetime_from_json(data.get("since"), "since", optional=True),
            datetime_from_json(data.get("until"), "until", optional=True),
        )


def _singular(label: str) -> str:
    word, noun = label.split(" ", 1)
    noun = "category" if noun == "categories" else noun.removesuffix("s")
    return f"{word} {noun}"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


# -- the diff ------------------------------------------------------------------------------
def _host_free(value: Any, shape: str) -> Any:
    if shape == "link":
        return value.id
    if shape == "links":
        return tuple(link.id for link in value)
    return value


def _key_function(collection: str) -> Callable[[Any], tuple[Any, ...]]:
    """A function giving a row's host-free key: equal keys mean an unchanged row.

    The plain fields come out of one ``attrgetter`` call; only the link fields
    take Python work (their ids).
    """
    fields = _FIELDS[collection]
    plain = operator.attrgetter(*(name for name, shape in fields if shape not in _LINKS))
    links = [(name, shape) for name, shape in fields if shape in _LINKS]

    def key(row: Any) -> tuple[Any, ...]:
        return (plain(row), *(_host_free(getattr(row, name), shape) for name, shape in links))

    return key


_LINKS: Final = ("link", "links")
_KEYS: Final = {c: _key_function(c) for c in COLLECTIONS}


def _row_change(kind: ChangeKind, collection: CollectionName, old: Any, new: Any) -> Change:
    fields = _FIELDS[collection]
    row = new if new is not None else old
    values: dict[str, tuple[Any, Any]] = {}
    for name, shape in fields:
        before = None if old is None else _host_free(getattr(old, name), shape)
        after = None if new is None else _host_free(getattr(new, name), shape)
        if kind != "changed" or before != after:
            values[name] = (before, after)
    return Change(kind, collection, row.id, row.slug, values)


def _collection_changes(
    collection: CollectionName, old_rows: Sequence[Row], new_rows: Sequence[Row], same_host: bool
) -> list[Change]:
    old_by_id = {row.id: row for row in old_rows}
    new_by_id = {row.id: row for row in new_rows}
    key = _KEYS[collection]
    changes: list[Change] = []
    for resource_id in sorted(old_by_id.keys() | new_by_id.keys()):
        old = old_by_id.get(resource_id)
        new = new_by_id.get(resource_id)
        if old is None:
            changes.append(_row_change("added", collection, None, new))
        elif new is None:
            changes.append(_row_change("removed", collection, old, None))
        elif old is new or (old == new if same_host else key(old) == key(new)):
            continue  # attrs' == compares datetimes by instant, links by URL (one host here)
        else:
            change = _row_change("changed", collection, old, new)
            if change.fields:  # links equal by id whose URLs differ: not a change
                changes.append(change)
    return changes


def _same_host(old: Any, new: Any) -> bool:
    return isinstance(getattr(old, "base_url", None), str) and getattr(
        old, "base_url", None
    ) == getattr(new, "base_url", None)


def diff_catalogs(old: CatalogView, new: CatalogView) -> CatalogDiff:
    """What changed from ``old`` to ``new`` (see `Catalog.diff`)."""
    same_host = _same_host(old, new)
    changes: list[Change] = []
    for collection in COLLECTIONS:
        changes.extend(
            _collection_changes(
                collection, getattr(old, collection), getattr(new, collection), same_host
            )
        )
    return CatalogDiff(tuple(changes), old.fetched_at, new.fetched_at)
