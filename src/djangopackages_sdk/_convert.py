"""The cattrs converter: the one place that turns API JSON into models and back.

``structure`` is strict about types (an ``int`` field takes only a JSON integer,
never ``"3"``, ``3.7`` or ``true``) and tolerant of unknown keys, so a new server
field breaks nobody; ``Converter(strict=True)`` forbids unknown keys for contract
testing. Any failure becomes a `PayloadError` that names the JSON path of
the first bad field, never a bare KeyError, TypeError or cattrs internals.

Three routes build the same models: cattrs' detailed validation (the reference,
and the one that names a bad field), the function generated from each model
(`_codegen.py`) for well-formed rows, and, with the ``fast`` extra, msgspec
decoding a whole list page straight into the models (`_wire.py`).
"""

from __future__ import annotations

import operator
import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final, TypeVar

import attrs
import cattrs
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn

from ._codegen import compile_fast, is_link, is_link_tuple, is_optional, is_tuple
from ._datetimes import ZONES, parse_datetime
from ._exceptions import PayloadError
from ._links import parse_resource_link
from ._lists import ResourceList, SearchResults
from ._models import Category, Grid, Link, Package, SearchResult
from ._registry import COLLECTIONS, collection_of
from ._wire import TypedPages, load_msgspec

__all__ = ["Converter", "get_converter"]

T = TypeVar("T")
MODELS: Final = (Category, Grid, Package, SearchResult)
# Entries per process-wide cache (see `Converter.trim_caches`). Measured: a login
# costs 88 bytes, a link 220, a commit vector 510, so at most 4.5 MB of logins,
# 4.5 MB of links per collection and 5 MB of vectors; a whole catalogue (5,405
# packages, 10-30k logins, ~200 grids) fits, so its values stay shared.
_STRING_CACHE_LIMIT = 50_000
_LINK_CACHE_LIMIT = 20_000
_COMMIT_CACHE_LIMIT = 10_000
# Kept once however many rows repeat them: versions, through the string cache, and
# a slug equal to its title (most are), as the title's string. No value changes
# (cattrs' detailed path shares neither and gives equal models).
_INTERNED: Final[dict[type, frozenset[str]]] = {Package: frozenset({"pypi_version"})}
_REUSED: Final[dict[type, dict[str, str]]] = {Package: {"slug": "title"}}


class _Invalid(ValueError):
    """A leaf failure inside a payload, carrying a path relative to where it was raised."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    @classmethod
    def fail(cls) -> Any:
        """Raise from inside an expression (used by the generated fast path)."""
        raise cls("invalid value")


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
    }.get(type(value), type(value).__name__)


def _expect(value: object, wanted: type, name: str) -> None:
    if type(value) is not wanted:
        raise _Invalid(f"expected {name}, got {_kind(value)}")


def _structure_int(value: object, _: object) -> int:
    _expect(value, int, "integer")
    return value  # type: ignore[return-value]


def _structure_str(value: object, _: object) -> str:
    _expect(value, str, "string")
    return value  # type: ignore[return-value]


def _structure_bool(value: object, _: object) -> bool:
    _expect(value, bool, "boolean")
    return value  # type: ignore[return-value]


def _structure_datetime(value: object, _: object) -> datetime:
    _expect(value, str, "ISO 8601 datetime string")
    try:
        return parse_datetime(value)  # type: ignore[arg-type]
    except ValueError:
        raise _Invalid(f"invalid ISO 8601 datetime {str(value)[:40]!r}") from None


def _unstructure_datetime(value: datetime) -> str:
    return value.isoformat()


def _int_tuple(value: object, _: object) -> tuple[int, ...]:
    _expect(value, list, "array")
    items: list[object] = value  # type: ignore[assignment]
    for index, item in enumerate(items):
        if type(item) is not int:
            raise _Invalid(f"expected integer, got {_kind(item)}", f"[{index}]")
    return tuple(items)  # type: ignore[arg-type]


class Converter:
    """Structures API JSON into models and unstructures models back to the API's JSON.

    One instance per strictness, shared process-wide (see `get_converter`).
    """

    def __init__(self, *, strict: bool = False) -> None:
        self.strict = strict
        self._links: dict[str, dict[str, Link[Any]]] = {c: {} for c in COLLECTIONS}
        self._strings: dict[str, str] = {}
        self._commits: dict[tuple[int, ...], tuple[int, ...]] = {}
        self._fast: dict[type, Callable[[object], Any]] = {}
        self._cattrs = self._configure(
            cattrs.Converter(detailed_validation=True, forbid_extra_keys=strict)
        )
        msgspec = None if strict else load_msgspec()  # msgspec ignores unknown keys
        self._typed = (
            None
            if msgspec is None
            else TypedPages(
                msgspec,
                links=self._links,
                link=self._link,
                strings=self._strings,
                commits=self._commits,
                interned=_INTERNED,
                reused=_REUSED,
            )
        )

    def _configure(self, conv: cattrs.Converter) -> cattrs.Converter:
        conv.register_structure_hook(int, _structure_int)
        conv.register_structure_hook(str, _structure_str)
        conv.register_structure_hook(bool, _structure_bool)
        conv.register_structure_hook(datetime, _structure_datetime)
        conv.register_unstructure_hook(datetime, _unstructure_datetime)
        conv.register_structure_hook_func(lambda tp: tp == tuple[int, ...], _int_tuple)
        conv.register_structure_hook_func(lambda tp: tp == tuple[str, ...], self._str_tuple)
        conv.register_structure_hook_func(is_optional, self._optional_hook(conv))
        conv.register_structure_hook_func(is_link, self._structure_link)
        conv.register_unstructure_hook_func(is_link, _unstructure_link)
        conv.register_structure_hook_func(is_link_tuple, self._structure_link_tuple)
        conv.register_unstructure_hook_func(is_tuple, _unstructure_tuple(conv))
        conv.register_unstructure_hook_func(_is_model_list, _unstructure_tuple(conv))
        for model in MODELS:
            detailed = make_dict_structure_fn(model, conv, _cattrs_forbid_extra_keys=self.strict)
            conv.register_structure_hook(model, self._model_hook(model, detailed))
            conv.register_unstructure_hook(model, make_dict_unstructure_fn(model, conv))
        return conv

    def _model_hook(
        self, model: type[T], detailed: Callable[[Any, Any], T]
    ) -> Callable[[object, Any], T]:
        """A fast hook for well-formed rows, backed by cattrs' detailed one.

        Structuring pages of thousands of rows is the SDK's hot path: the fast
        function (generated from the model's fields, see `_codegen.py`) checks
        every type inline and shares repeated values (links, logins, commit
        vectors). Anything it does not accept is structured again by cattrs'
        detailed-validation function, which either succeeds or names the path of
        the first bad field; both paths accept exactly the same JSON.
        """
        fast = self._fast[model] = self._fast_function(model)

        def hook(value: object, _: Any) -> T:
            try:
                return fast(value)  # type: ignore[no-any-return]
            except Exception:  # the detailed path below reports the real problem
                pass
            if type(value) is not dict:
                raise _Invalid(f"expected object, got {_kind(value)}")
            return detailed(value, model)

        return hook

    def _fast_function(self, model: type[T]) -> Callable[[object], T]:
        names = [a.name for a in attrs.fields(model)]  # type: ignore[arg-type]
        namespace: dict[str, Any] = {
            "Model": model,
            "Bad": _Invalid,
            "fields": operator.itemgetter(*names) if len(names) > 1 else lambda d: (d[names[0]],),
            "fromiso": parse_datetime,
            "fi": datetime.fromisoformat,
            "D": datetime,  # called with pickle's (state, tzinfo) signature
            "zone": ZONES.get,
            **{f"link_{c}": cache.get for c, cache in self._links.items()},
            "parse_link": self._link,
            "strings": self._strings.setdefault,
            "commits_get": self._commits.get,
            "commits_keep": self._keep_commits,
            "allowed": frozenset(names),
            "join": "".join,
            "only_ints": frozenset((int,)).issuperset,
        }
        return compile_fast(
            model,
            namespace,
            strict=self.strict,
            interned=_INTERNED.get(model, ()),
            reused=_REUSED.get(model),
        )

    def _keep_commits(self, values: tuple[int, ...]) -> tuple[int, ...]:
        # Called by the fast path once every item is known to be an int.
        # Most packages share a few weekly-commit vectors (all zeros, above all).
        return self._commits.setdefault(values, values)

    # -- hooks that share per-converter caches ---------------------------------------
    def _str_tuple(self, value: object, _: object) -> tuple[str, ...]:
        _expect(value, list, "array")
        items: list[object] = value  # type: ignore[assignment]
        strings = self._strings
        out = []
        for index, item in enumerate(items):
            if type(item) is not str:
                raise _Invalid(f"expected string, got {_kind(item)}", f"[{index}]")
            # Logins repeat across thousands of packages: keep one copy of each.
            out.append(strings.setdefault(item, item))
        return tuple(out)

    def _link(self, value: object, collection: str) -> Link[Any]:
        if type(value) is not str:
            raise _Invalid(f"expected a URL string, got {_kind(value)}")
        links = self._links[collection]
        link = links.get(value)
        if link is None:
            try:
                url, resource_id = parse_resource_link(value, collection)
            except ValueError as exc:
                raise _Invalid(str(exc)) from None
            # One shared instance per distinct link keeps a catalogue small (and the
            # payload's own string serves as the URL when it is already canonical).
            link = links.setdefault(value, Link(value if url == value else url, resource_id))
        return link

    def _structure_link(self, value: object, link_type: type) -> Link[Any]:
        return self._link(value, collection_of(typing.get_args(link_type)[0]))

    def _structure_link_tuple(self, value: object, tuple_type: type) -> tuple[Link[Any], ...]:
        _expect(value, list, "array")
        collection = collection_of(typing.get_args(typing.get_args(tuple_type)[0])[0])
        items: list[object] = value  # type: ignore[assignment]
        out = []
        for index, item in enumerate(items):
            try:
                out.append(self._link(item, collection))
            except _Invalid as exc:
                raise _Invalid(exc.message, f"[{index}]") from None
        return tuple(out)

    @staticmethod
    def _optional_hook(conv: cattrs.Converter) -> Callable[[object, Any], object]:
        def hook(value: object, optional: Any) -> object:
            if value is None:
                return None
            inner = next(arg for arg in typing.get_args(optional) if arg is not type(None))
            return conv.structure(value, inner)

        return hook

    # -- the bounds of the caches ------------------------------------------------------
    def trim_caches(self) -> None:
        """Empty each cache past its bound: once per page and per `structure`, never per
        value (the generated code calls the caches' own methods). No result changes:
        a cache only ever hands out a value equal to the one asked for."""
        if len(self._strings) > _STRING_CACHE_LIMIT:
            self._strings.clear()
        if len(self._commits) > _COMMIT_CACHE_LIMIT:
            self._commits.clear()
        for links in self._links.values():
            if len(links) > _LINK_CACHE_LIMIT:
                links.clear()

    def clear_caches(self) -> None:
        """Empty every cache (the generated code keeps working: each is cleared in place)."""
        self._strings.clear()
        self._commits.clear()
        for links in self._links.values():
            links.clear()

    # -- public API ------------------------------------------------------------------
    def structure_rows(
        self, rows: list[Any], model: type[T], *, url: str = "", path: str = "$"
    ) -> tuple[list[T | None], list[tuple[int, PayloadError]]]:
        """Structure many rows at once: the hot path of listings.

        Returns the models (None where a row is bad) and ``(index, error)`` for
        each bad row, so one broken row never sinks the others.
        """
        fast = self._fast[model]
        out: list[T | None] = []
        errors: list[tuple[int, PayloadError]] = []
        append = out.append
        for index, row in enumerate(rows):
            try:
                append(fast(row))
            except Exception:
                try:
                    append(self.structure(row, model, url=url, path=f"{path}[{index}]"))
                except PayloadError as error:
                    append(None)
                    errors.append((index, error))
        self.trim_caches()
        return out, errors

    def structure_page(self, body: bytes, model: type[T]) -> tuple[int, str | None, list[T]] | None:
        """``(count, next, rows)`` of a list page read straight from its body by the typed
        route (the ``fast`` extra, see `_wire.py`), or None when that route is not
        installed or leaves this body to the generic one (`structure_rows`)."""
        if self._typed is None:
            return None
        page = self._typed.decode(body, model)
        self.trim_caches()
        return page

    def structure(self, data: object, model: type[T], *, url: str = "", path: str = "$") -> T:
        """Build ``model`` from decoded JSON, or raise `PayloadError` naming the bad path."""
        self.trim_caches()
        try:
            return self._cattrs.structure(data, model)
        except Exception as exc:  # every failure becomes a PayloadError with a path
            where, message = _first_failure(exc, path)
            raise PayloadError(url, f"{model.__name__}: {message} at {where}", path=where) from None

    def unstructure(self, value: object) -> Any:
        """Turn a model (or a list of them) back into the API's JSON shape."""
        return self._cattrs.unstructure(value)


def get_converter(strict: bool = False) -> Converter:
    """The shared converter: tolerant of unknown keys, or ``strict`` about them; one
    per strictness however it is spelled (``()``, ``(False)``, ``strict=False``)."""
    key = bool(strict)
    converter = _converters.get(key)
    if converter is None:  # built on first use; a racing thread's copy is dropped
        converter = _converters.setdefault(key, Converter(strict=key))
    return converter


_converters: dict[bool, Converter] = {}


def _unstructure_link(link: Link[Any]) -> str:
    return link.url


def _unstructure_tuple(conv: cattrs.Converter) -> Callable[[tuple[Any, ...]], list[Any]]:
    def hook(value: tuple[Any, ...]) -> list[Any]:
        return [conv.unstructure(item) for item in value]

    return hook


def _is_model_list(tp: Any) -> bool:
    """`ResourceList` and `SearchResults`: unstructured as JSON arrays, like tuples."""
    return isinstance(tp, type) and issubclass(tp, ResourceList | SearchResults)


def _first_failure(exc: BaseException, path: str) -> tuple[str, str]:
    """Walk a cattrs exception group to the first leaf: ``(json_path, message)``."""
    if isinstance(exc, ForbiddenExtraKeysError):
        return path, f"unexpected field(s) {sorted(exc.extra_fields)}"
    if isinstance(exc, ClassValidationError | IterableValidationError):
        with_notes, without_notes = exc.group_exceptions()
        for inner, note in with_notes:
            name = getattr(note, "name", None)
            index = getattr(note, "index", None)
            sub = f"{path}.{name}" if name is not None else f"{path}[{index}]"
            if isinstance(inner, KeyError) and name is not None:
                return sub, "required field is missing"
            return _first_failure(inner, sub)
        for inner in without_notes:
            return _first_failure(inner, path)
        return path, str(exc)  # pragma: no cover - cattrs never raises an empty group
    if isinstance(exc, _Invalid):
        return path + exc.path, exc.message
    if isinstance(exc, RecursionError):
        return path, "nested too deeply"
    return path, f"{type(exc).__name__}: {exc}"
