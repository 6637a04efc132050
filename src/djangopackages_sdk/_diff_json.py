"""Reading a `CatalogDiff` back from JSON values, checked, with the place of each fault.

`CatalogDiff.from_dict` calls `changes_from_json`; every fault is a ``ValueError``
whose message starts with where it is (``changes[2].fields.created``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

__all__ = ["RawChange", "changes_from_json", "datetime_from_json"]

RawChange = tuple[str, str, int, str, dict[str, tuple[Any, Any]]]
"""``(kind, collection, id, slug, fields)`` of one change, checked."""

_KINDS: Final = ("added", "removed", "changed")


def datetime_from_json(value: Any, where: str, *, optional: bool) -> datetime | None:
    """An ISO 8601 string as a ``datetime`` (None passes when ``optional``)."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected an ISO 8601 datetime string, got {_what(value)}")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{where}: invalid ISO 8601 datetime {value[:40]!r}") from None


def _what(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _scalar(kind: type) -> Callable[[Any, str], Any]:
    def check(value: Any, where: str) -> Any:
        # bool is an int in Python, never in JSON: keep them apart.
        if type(value) is not kind:
            raise ValueError(f"{where}: expected {kind.__name__}, got {_what(value)}")
        return value

    return check


def _list_of(kind: type) -> Callable[[Any, str], Any]:
    item = _scalar(kind)

    def check(value: Any, where: str) -> Any:
        if not isinstance(value, list | tuple):
            raise ValueError(f"{where}: expected a list, got {_what(value)}")
        return tuple(item(v, f"{where}[{i}]") for i, v in enumerate(value))

    return check


def _datetime(value: Any, where: str) -> Any:
    return datetime_from_json(value, where, optional=False)


_READERS: Final[dict[str, Callable[[Any, str], Any]]] = {
    "link": _scalar(int),
    "links": _list_of(int),
    "datetime": _datetime,
    "datetime?": _datetime,
    "int": _scalar(int),
    "str": _scalar(str),
    "bool": _scalar(bool),
    "str?": _scalar(str),
    "ints": _list_of(int),
    "strs": _list_of(str),
}


def _value(value: Any, shape: str, where: str) -> Any:
    # None stands for "absent" (an added row's old values) as well as a null field.
    return None if value is None else _READERS[shape](value, where)


def _fields(value: Any, shapes: dict[str, str], where: str) -> dict[str, tuple[Any, Any]]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected a mapping of field to [old, new], got {_what(value)}")
    fields: dict[str, tuple[Any, Any]] = {}
    for name, pair in value.items():
        here = f"{where}.{name}"
        if name not in shapes:
            raise ValueError(f"{here}: not a field of this collection ({', '.join(shapes)})")
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise ValueError(f"{here}: expected [old, new], got {_what(pair)}")
        fields[name] = (
            _value(pair[0], shapes[name], f"{here}[0]"),
            _value(pair[1], shapes[name], f"{here}[1]"),
        )
    return fields


def _change(value: Any, where: str, fields: Mapping[str, tuple[tuple[str, str], ...]]) -> RawChange:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected a mapping, got {_what(value)}")
    kind = value.get("kind")
    if not isinstance(kind, str) or kind not in _KINDS:
        raise ValueError(f"{where}.kind: expected one of {', '.join(_KINDS)}, got {kind!r}")
    collection = value.get("collection")
    if not isinstance(collection, str) or collection not in fields:
        raise ValueError(
            f"{where}.collection: expected one of {', '.join(fields)}, got {collection!r}"
        )
    resource_id = _scalar(int)(value.get("id"), f"{where}.id")
    slug = _scalar(str)(value.get("slug"), f"{where}.slug")
    shapes = dict(fields[collection])
    return (
        kind,
        collection,
        resource_id,
        slug,
        _fields(value.get("fields"), shapes, f"{where}.fields"),
    )


def changes_from_json(
    value: Any, fields: Mapping[str, tuple[tuple[str, str], ...]]
) -> list[RawChange]:
    """Check a diff's ``changes`` list; ``fields`` gives each collection's field shapes."""
    if not isinstance(value, list):
        raise ValueError(f"changes: expected a list, got {_what(value)}")
    return [_change(item, f"changes[{i}]", fields) for i, item in enumerate(value)]
