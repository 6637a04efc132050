"""The converter's typed route for list pages (the ``fast`` extra, msgspec).

msgspec decodes a page body straight into the models, checking every type in C
as it reads: each row becomes an instance of a private subclass of its model
with the same slots (hyperlinks typed ``str`` there), then a few passes over
the whole page, each a C-level ``map``, replace the hyperlinks by the shared
`Link` values, keep one copy of repeated values (logins, versions, commit
vectors, a slug equal to its title) and turn every row into the model itself.
No Python code runs per row.

Whatever it accepts, it reads exactly as the converter's other routes do (the
SDK's datetime parser follows msgspec where ``fromisoformat`` differs: see
`parse_datetime`). Whatever it refuses, a type or shape error or a bad
hyperlink, it leaves to the generic route: `TypedPages.decode` returns None and
the caller decodes the body, then runs the generated fast path and cattrs'
detailed validation, which names the JSON path of the bad field.
"""

from __future__ import annotations

import typing
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from itertools import chain, compress, repeat
from operator import attrgetter, eq
from typing import Any, Final, TypeVar

import attrs

from ._codegen import is_link, is_link_tuple
from ._models import Link
from ._registry import collection_of

__all__ = ["TypedPages", "load_msgspec"]

T = TypeVar("T")
Rows = list[Any]
Fix = Callable[[Rows], None]
Change = Callable[[list[Any]], Iterable[Any]]

_setattr: Final = object.__setattr__


def load_msgspec() -> Any | None:
    """The msgspec module, or None when the ``fast`` extra is not installed."""
    try:
        import msgspec
    except ImportError:
        return None
    return msgspec


def slot_setter(model: type, name: str) -> Callable[[Any, Any], None]:
    """``set(instance, value)`` for slot ``name`` of ``model``, even on a frozen instance
    (the slot's own descriptor: faster than ``object.__setattr__``)."""
    setter: Callable[[Any, Any], None] = vars(model)[name].__set__
    return setter


@attrs.frozen
class _Plan:
    decoder: Any
    fixes: tuple[Fix, ...]


class TypedPages:
    """Decodes list pages straight into models, sharing the converter's caches.

    ``link(value, collection)`` parses and caches one hyperlink (raising on a bad
    one); ``links``, ``strings`` and ``commits`` are the converter's caches, which
    the page's values go through exactly as on the generated fast path.
    """

    def __init__(
        self,
        msgspec: Any,
        *,
        links: Mapping[str, dict[str, Link[Any]]],
        link: Callable[[str, str], Link[Any]],
        strings: dict[str, str],
        commits: dict[tuple[int, ...], tuple[int, ...]],
        interned: Mapping[type, frozenset[str]],
        reused: Mapping[type, Mapping[str, str]],
    ) -> None:
        self._msgspec = msgspec
        self._links = links
        self._link = link
        self._strings = strings
        self._commits = commits
        self._interned = interned
        self._reused = reused
        self._plans: dict[type, _Plan] = {}

    def decode(self, body: bytes, model: type[T]) -> tuple[int, str | None, list[T]] | None:
        """``(count, next, rows)`` of a page body, or None to leave it to the generic route."""
        plan = self._plans.get(model)
        if plan is None:
            plan = self._plans[model] = self._plan(model)
        try:
            page = plan.decoder.decode(body)
            rows: list[T] = page.results
            for fix in plan.fixes:
                fix(rows)
        except Exception:  # any type, shape or link error: the generic route reports it
            return None
        if page.count < 0:
            return None
        return page.count, page.next, rows

    # -- the plan of one model -------------------------------------------------------
    def _plan(self, model: type) -> _Plan:
        hints = typing.get_type_hints(model)
        wire_types: dict[str, Any] = {}
        fixes: list[Fix] = []
        interned = self._interned.get(model, frozenset())
        for field in attrs.fields(model):
            name, tp = field.name, hints[field.name]
            if is_link(tp):
                wire_types[name] = str
                change = self._to_links(collection_of(typing.get_args(tp)[0]), many=False)
                fixes.append(_fix(model, name, change))
            elif is_link_tuple(tp):
                wire_types[name] = tuple[str, ...]
                target = typing.get_args(typing.get_args(tp)[0])[0]
                change = self._to_links(collection_of(target), many=True)
                fixes.append(_fix(model, name, change, skip_empty=True))
            elif tp == tuple[str, ...]:
                keep = self._strings.setdefault
                fixes.append(_fix(model, name, _each_of_each(keep), skip_empty=True))
            elif tp == tuple[int, ...]:
                fixes.append(_fix(model, name, _each(self._commits.setdefault)))
            elif name in interned:  # a None (or "") is left as it is
                keep = self._strings.setdefault
                fixes.append(_fix(model, name, _each(keep), skip_empty=True))
        for name, earlier in self._reused.get(model, {}).items():
            fixes.append(_fix_reused(model, name, earlier))
        fixes.append(_fix_class(model))
        wire = type(
            f"_{model.__name__}Wire",
            (model,),
            {"__slots__": (), "__annotations__": wire_types, "__module__": __name__},
        )
        page = self._msgspec.defstruct(
            f"_{model.__name__}Page",
            [("count", int), ("results", list[wire]), ("next", str | None, None)],  # type: ignore[valid-type]
        )
        return _Plan(self._msgspec.json.Decoder(page), tuple(fixes))

    def _to_links(self, collection: str, *, many: bool) -> Change:
        """URLs (or tuples of URLs) to their shared links, parsing the new ones first."""
        cache = self._links[collection]
        link = self._link

        def change(values: list[Any]) -> Iterable[Any]:
            urls = set(chain.from_iterable(values)) if many else set(values)
            for missing in urls.difference(cache):
                link(missing, collection)  # raises on a bad link
            if many:
                return map(tuple, map(map, repeat(cache.__getitem__), values))
            return map(cache.__getitem__, values)

        return change


def _fix(model: type, name: str, change: Change, *, skip_empty: bool = False) -> Fix:
    """Replace field ``name`` of every row by ``change`` of the page's values (only the
    truthy ones with ``skip_empty``: an empty tuple stays the empty tuple, None None)."""
    get = attrgetter(name)
    put = slot_setter(model, name)

    def fix(rows: Rows) -> None:
        values = list(map(get, rows))
        chosen: Iterable[Any] = rows
        if skip_empty:
            chosen = compress(rows, values)
            values = list(filter(None, values))
        deque(map(put, chosen, change(values)), 0)

    return fix


def _each(keep: Callable[[Any, Any], Any]) -> Change:
    """Each value through a cache's ``setdefault``: one shared copy of equal values."""
    return lambda values: map(keep, values, values)


def _each_of_each(keep: Callable[[Any, Any], Any]) -> Change:
    """Each item of each tuple through a cache's ``setdefault``."""
    return lambda values: map(tuple, map(map, repeat(keep), values, values))


def _fix_reused(model: type, name: str, earlier: str) -> Fix:
    """Field ``name`` holds the string of field ``earlier`` when the two are equal."""
    get, get_earlier = attrgetter(name), attrgetter(earlier)
    put = slot_setter(model, name)

    def fix(rows: Rows) -> None:
        sources = list(map(get_earlier, rows))
        equal = list(map(eq, map(get, rows), sources))
        deque(map(put, compress(rows, equal), compress(sources, equal)), 0)

    return fix


def _fix_class(model: type) -> Fix:
    """Every row becomes an instance of the model itself (same slots: a plain swap)."""

    def fix(rows: Rows) -> None:
        deque(map(_setattr, rows, repeat("__class__"), repeat(model)), 0)

    return fix
