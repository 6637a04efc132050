"""A dependency audit: which requirements Django Packages knows, which are stale, what else.

`audit` reads requirement names (a list of PEP 508 strings), a ``requirements.txt``
or a ``pyproject.toml``, and matches each name to a package of a `Catalog` by its
PyPI name (both compared after PEP 503 normalisation). Only names are read: versions,
extras, markers and hashes play no part. No dependency beyond the standard library.
"""

from __future__ import annotations

import errno
import os
import re
import tomllib
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import attrs

from ._catalog import Catalog
from ._health import check_now, normalize_name
from ._models import Package

__all__ = ["AuditEntry", "audit"]

# A PEP 508 name, then what may follow one: nothing, extras, a version, a marker, a URL.
_NAME: Final = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?=$|[\[(<>=!~;@\s])")
_EGG: Final = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")
_COMMENT: Final = re.compile(r"(^|\s)#.*$")
_WHEEL: Final = re.compile(r"(?:^|/)([A-Za-z0-9][A-Za-z0-9._]*)-[0-9][^-/]*(-[^/]*)?\.whl$")
_INCLUDES: Final = ("-r", "--requirement")


@attrs.frozen
class AuditEntry:
    """What the audit found about one requirement."""

    name: str
    """The requirement's name as written (``Django_OTP`` in ``Django_OTP[qr]>=1.0``)."""
    package: Package | None
    """The package whose PyPI name matches; None when Django Packages does not know it."""
    stale: bool | None
    """``Package.is_stale(now)``: no commit for a year; None when unknown or not matched."""
    alternatives: tuple[Package, ...]
    """Other packages of the same grids, most stars first, each with a commit in the
    year before ``now`` (known not to be stale)."""


def audit(
    requirements: Iterable[str] | str | os.PathLike[str],
    catalog: Catalog,
    now: datetime | None = None,
    *,
    max_alternatives: int = 5,
) -> tuple[AuditEntry, ...]:
    """One `AuditEntry` per requirement, in the order they were given.

    ``requirements`` is an iterable of PEP 508 requirement strings
    (``["django-otp>=1.0", "Django"]``), or the path of a file: ``pyproject.toml``
    (any path ending in ``.toml``: ``[project]`` ``dependencies`` and
    ``optional-dependencies``, ``[dependency-groups]`` and Poetry's dependency
    tables) or a ``requirements.txt`` (any other path: comments, continuation
    lines, per-requirement options such as ``--hash`` and ``-e`` or URL lines with
    ``#egg=name`` are understood, ``-r other.txt`` is followed, other option lines
    and requirements without a name, such as a bare path or URL, are skipped). A
    name given twice is audited once, where it first appears.

    A requirement matches the package whose PyPI name (from its ``pypi_url``) is
    the same after PEP 503 normalisation; when several packages claim one name,
    the one with the most stars wins (then the lowest id). ``now`` (default: the
    current time) decides staleness; at most ``max_alternatives`` alternatives are
    listed per requirement.

    Raises ``TypeError`` for a ``requirements`` or ``catalog`` of the wrong type,
    ``ValueError`` for a requirement that is not PEP 508 or a file that cannot be
    read as one (not UTF-8, not TOML, a dependency list of the wrong shape), and
    ``FileNotFoundError`` for a missing file; each message names the parameter or
    the file.
    """
    if not isinstance(catalog, Catalog):
        raise TypeError(f"catalog must be a Catalog, not {type(catalog).__name__}")
    if isinstance(max_alternatives, bool) or not isinstance(max_alternatives, int):
        raise TypeError(f"max_alternatives must be an int, not {type(max_alternatives).__name__}")
    if max_alternatives < 0:
        raise ValueError(f"max_alternatives must not be negative, got {max_alternatives}")
    current = check_now(now)
    names = _names(requirements)
    by_name = _packages_by_name(catalog)
    entries = []
    seen: set[str] = set()
    for name in names:
        key = normalize_name(name)
        if key in seen:
            continue
        seen.add(key)
        package = by_name.get(key)
        if package is None:
            entries.append(AuditEntry(name, None, None, ()))
            continue
        entries.append(
            AuditEntry(
                name,
                package,
                package.is_stale(current),
                _alternatives(catalog, package, current, max_alternatives),
            )
        )
    return tuple(entries)


def requirement_name(text: str) -> str | None:
    """The project name a PEP 508 requirement string starts with, as written.

    ``None`` when the text does not start with a name followed by what a
    requirement allows (extras, a version, a marker, ``@ url``): a path or a URL.
    """
    match = _NAME.match(text)
    return match.group(1) if match else None


def _packages_by_name(catalog: Catalog) -> dict[str, Package]:
    best: dict[str, Package] = {}
    for package in catalog.packages:
        name = package.pypi_name
        if name is None:
            continue
        key = normalize_name(name)
        held = best.get(key)
        if held is None or (-package.repo_watchers, package.id) < (-held.repo_watchers, held.id):
            best[key] = package
    return best


def _alternatives(
    catalog: Catalog, package: Package, now: datetime, limit: int
) -> tuple[Package, ...]:
    found: dict[int, Package] = {}
    for grid in catalog.grids_of(package):
        for other in catalog.packages_in(grid):
            if other.id != package.id and other.is_stale(now) is False:
                found.setdefault(other.id, other)
    ranked = sorted(found.values(), key=lambda p: (-p.repo_watchers, p.slug, p.id))
    return tuple(ranked[:limit])


# -- reading requirements -----------------------------------------------------------------
def _names(requirements: object) -> list[str]:
    if isinstance(requirements, str | os.PathLike):
        path = Path(requirements)
        if not path.is_file():
            hint = (
                f" (pass requirement names as a list: [{str(requirements)!r}])"
                if isinstance(requirements, str)
                else ""
            )
            raise FileNotFoundError(
                errno.ENOENT, f"requirements: no such file{hint}", str(requirements)
            )
        if path.suffix == ".toml":
            return _pyproject_names(path)
        return list(_requirements_file_names(path, set()))
    if isinstance(requirements, bytes | bytearray) or not isinstance(requirements, Iterable):
        raise TypeError(
            "requirements must be an iterable of requirement strings or a file path, "
            f"not {type(requirements).__name__}"
        )
    names = []
    for index, text in enumerate(requirements):
        if not isinstance(text, str):
            raise TypeError(f"requirements[{index}] must be a str, not {type(text).__name__}")
        name = requirement_name(text)
        if name is None:
            raise ValueError(f"requirements[{index}] is not a PEP 508 requirement: {text!r}")
        names.append(name)
    return names


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"requirements: {path} is not UTF-8 text ({error.reason})") from None


def _requirements_file_names(path: Path, visited: set[Path]) -> Iterator[str]:
    """Names in a pip requirements file, following ``-r`` includes (once each)."""
    visited.add(path.resolve())
    for line in _logical_lines(_read_text(path)):
        first, _, rest = line.partition(" ")
        if first.startswith("-"):
            option, _, value = first.partition("=")
            value = (value or rest).strip()
            if option in _INCLUDES and value:
                included = path.parent / value
                if not included.is_file():
                    raise FileNotFoundError(
                        errno.ENOENT, f"requirements: {path} includes a missing file", str(included)
                    )
                if included.resolve() not in visited:
                    yield from _requirements_file_names(included, visited)
            elif option in ("-e", "--editable") and (name := _name_of_location(value)):
                yield name
            continue
        name = requirement_name(line)
        if name is None:
            name = _name_of_location(line.split()[0])  # a URL or a path, not a name
        if name is not None:
            yield name


def _logical_lines(text: str) -> Iterator[str]:
    """Lines with comments removed and backslash continuations joined, blank ones skipped."""
    pending = ""
    for raw in text.splitlines():
        line = _COMMENT.sub("", raw)
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = (pending + line).strip(), ""
        if line:
            yield line
    if pending.strip():
        yield pending.strip()


def _name_of_location(location: str) -> str | None:
    """The project name of a URL or path requirement: its ``#egg=`` or its wheel's name."""
    egg = _EGG.search(location)
    if egg:
        return egg.group(1)
    wheel = _WHEEL.search(location.split("#", 1)[0])
    return wheel.group(1) if wheel else None


def _pyproject_names(path: Path) -> list[str]:
    try:
        data = tomllib.loads(_read_text(path))
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"requirements: {path} is not valid TOML ({error})") from None
    found: list[str] = []
    project = _table(data, "project", path)
    found += _pep508_list(project.get("dependencies", []), "project.dependencies", path)
    for group, items in _table(project, "optional-dependencies", path).items():
        found += _pep508_list(items, f"project.optional-dependencies.{group}", path)
    for group, items in _table(data, "dependency-groups", path).items():
        if isinstance(items, list):  # {include-group = "..."} tables name no project
            items = [item for item in items if not isinstance(item, dict)]
        found += _pep508_list(items, f"dependency-groups.{group}", path)
    poetry = _table(_table(data, "tool", path), "poetry", path)
    tables = [poetry.get("dependencies"), poetry.get("dev-dependencies")] + [
        group.get("dependencies") if isinstance(group, dict) else None
        for group in _table(poetry, "group", path).values()
    ]
    for table in tables:
        if isinstance(table, dict):
            found += [name for name in table if name.lower() != "python"]
    return found


def _table(data: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ValueError(f"requirements: {path}: {key} must be a table")
    return value


def _pep508_list(items: object, where: str, path: Path) -> list[str]:
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise ValueError(f"requirements: {path}: {where} must be a list of strings")
    names = []
    for text in items:
        name = requirement_name(text)
        if name is None:
            raise ValueError(f"requirements: {path}: {where} holds {text!r}, not PEP 508")
        names.append(name)
    return names
