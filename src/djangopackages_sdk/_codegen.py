"""The generated fast path of the converter: type predicates and code generation.

For each model, `compile_fast` writes and compiles ``structure_fast(d)``, a
function with every field's type check inline. Its source is registered with
`linecache` (as cattrs does for its own generated code), so a traceback through
it shows the generated lines.
"""

from __future__ import annotations

import linecache
import typing
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any

import attrs

from ._models import Link
from ._registry import collection_of

__all__ = [
    "compile_fast",
    "fast_source",
    "is_link",
    "is_link_tuple",
    "is_optional",
    "is_tuple",
]


def is_optional(tp: Any) -> bool:
    """Whether ``tp`` is ``X | None``."""
    args = typing.get_args(tp)
    return (
        typing.get_origin(tp) in (typing.Union, _UnionType)
        and type(None) in args
        and len(args) == 2
    )


_UnionType = type(int | None)


def is_link(tp: Any) -> bool:
    """Whether ``tp`` is a ``Link``."""
    return tp is Link or typing.get_origin(tp) is Link


def is_link_tuple(tp: Any) -> bool:
    """Whether ``tp`` is ``tuple[Link[...], ...]``."""
    args = typing.get_args(tp)
    return (
        typing.get_origin(tp) is tuple
        and len(args) == 2
        and args[1] is Ellipsis
        and is_link(args[0])
    )


def is_tuple(tp: Any) -> bool:
    """Whether ``tp`` is a tuple type."""
    return typing.get_origin(tp) is tuple


def fast_source(
    model: type,
    *,
    strict: bool,
    interned: Collection[str] = (),
    reused: Mapping[str, str] | None = None,
) -> str:
    """Python source of ``structure_fast(d)`` for one model: inline checks, no calls per field.

    The string fields named in ``interned`` are kept once through ``strings``
    (values that repeat across rows, such as versions); a field ``f`` in
    ``reused`` holds the string of the earlier field ``reused[f]`` when the two
    are equal (a slug that is its title). Neither changes a value, only how
    many copies of it are kept.
    """
    reused = reused or {}
    lines = ["def structure_fast(d):", "    if type(d) is not dict: raise Bad('object')"]
    if strict:
        lines.append("    if not d.keys() <= allowed: raise Bad('extra keys')")
    fields = attrs.fields(model)
    # One C call reads every field (a missing key raises KeyError).
    lines.append(f"    {''.join(f'v{i}, ' for i in range(len(fields)))}= fields(d)")
    args = []
    names: dict[str, str] = {}
    hints = typing.get_type_hints(model)
    for index, field in enumerate(fields):
        v, x = f"v{index}", f"x{index}"
        tp = hints[field.name]
        optional = is_optional(tp)
        if optional:
            tp = next(arg for arg in typing.get_args(tp) if arg is not type(None))
        if tp in (int, str, bool):
            check = f"type({v}) is not {tp.__name__}"
            if optional:
                check = f"{v} is not None and {check}"
            lines.append(f"    if {check}: raise Bad({field.name!r})")
            x = v
            if field.name in interned:
                keep = f"strings({v}, {v})"
                lines.append(
                    f"    {x} = {v} if {v} is None else {keep}" if optional else f"    {x} = {keep}"
                )
            if field.name in reused:
                earlier = names[reused[field.name]]
                lines.append(f"    if {v} == {earlier}: {x} = {earlier}")
        elif tp is datetime:
            check = f"type({v}) is not str"
            check = f"{v} is not None and {check}" if optional else check
            lines.append(f"    if {check}: raise Bad({field.name!r})")
            # The SDK's parser inline for the API's own form (an offset already seen,
            # no seventh fraction digit), its shared zone set through the pickle
            # constructor; any other text goes through parse_datetime itself.
            inline = f"D(fi({v}).__reduce__()[1][0], z)"
            parse = f"fromiso({v}) if (z := zone({v}[-6:])) is None or len({v}) > 32 else {inline}"
            lines.append(
                f"    {x} = None if {v} is None else {parse}" if optional else f"    {x} = {parse}"
            )
        elif tp == tuple[int, ...]:
            # Every item's type checked in C, before the cache: (1, True) and (1, 1.0)
            # equal (1, 1) and hash alike, so a hit alone would let them through.
            bad = f"type({v}) is not list or not only_ints(map(type, {v}))"
            lines.append(f"    if {bad}: raise Bad({field.name!r})")
            lines.append(f"    {x} = tuple({v})")
            lines.append(f"    {x} = commits_get({x}) or commits_keep({x})")
        elif tp == tuple[str, ...]:
            # join() checks in C that every item is a string (TypeError otherwise).
            bad = f"type({v}) is not list or join({v}) is None"
            lines.append(f"    if {bad}: raise Bad({field.name!r})")
            lines.append(f"    {x} = tuple(map(strings, {v}, {v}))")
        elif is_link(tp):
            collection = collection_of(typing.get_args(tp)[0])
            lines.append(f"    {x} = link_{collection}({v}) or parse_link({v}, {collection!r})")
        elif is_link_tuple(tp):
            collection = collection_of(typing.get_args(typing.get_args(tp)[0])[0])
            lines.append(f"    if type({v}) is not list: raise Bad({field.name!r})")
            lines.append(f"    {x} = tuple(map(link_{collection}, {v}))")
            # A miss (a link not seen yet) is parsed, and cached, one by one.
            slow = f"tuple([parse_link(u, {collection!r}) for u in {v}])"
            lines.append(f"    if not all({x}): {x} = {slow}")
        else:  # pragma: no cover - every model field type is listed above
            raise TypeError(f"no fast path for {tp!r}")
        args.append(x)
        names[field.name] = x
    lines.append(f"    return Model({', '.join(args)})")
    return "\n".join(lines) + "\n"


def compile_fast(
    model: type,
    namespace: dict[str, Any],
    *,
    strict: bool,
    interned: Collection[str] = (),
    reused: Mapping[str, str] | None = None,
) -> Callable[[object], Any]:
    """Compile the fast path of ``model`` against ``namespace`` and return it.

    The source is registered with `linecache` under a name of its own, so
    tracebacks and debuggers show the generated code.
    """
    source = fast_source(model, strict=strict, interned=interned, reused=reused)
    filename = f"<djangopackages_sdk fast structure {model.__name__} strict={strict}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)  # source built from the model
    function: Callable[[object], Any] = namespace["structure_fast"]
    return function
