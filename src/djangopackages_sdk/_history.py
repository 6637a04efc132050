"""Catalogues over time in one SQLite file: only what changed is stored.

The file is a plain SQLite 3 database (the standard library's ``sqlite3``), readable
with any SQLite client. Its schema, version 1::

    meta       key TEXT PRIMARY KEY, value TEXT
               ("format", "djangopackages-sdk-history") and ("version", "1")

    snapshots  one row per recorded catalogue
               id          INTEGER PRIMARY KEY  1, 2, 3 ... in recording order
               at          TEXT UNIQUE          the recording time, UTC ISO 8601 with
                                                microseconds: sorts as text
               fetched_at  TEXT                 the catalogue's fetched_at, as it was
               base_url    TEXT                 the catalogue's base_url
               packages, grids, categories  INTEGER  how many of each it held
               package_order, grid_order, category_order  TEXT
                                                NULL when the collection was newest
                                                id first (the API's order), else a
                                                JSON array of its ids in order

    versions   one row per version of one resource
               collection  TEXT     "packages", "grids" or "categories"
               id          INTEGER  the resource's id
               slug        TEXT     its slug in this version
               valid_from  INTEGER  snapshots.id of the first snapshot holding it
               valid_to    INTEGER  snapshots.id of the first snapshot no longer
                                    holding it (changed or removed); NULL while current
               data        TEXT     the resource as the API's JSON (links absolute)
               PRIMARY KEY (collection, id, valid_from)

Snapshot ``s`` holds the versions with ``valid_from <= s`` and ``valid_to`` NULL or
above ``s``. Recording a catalogue closes the versions that changed or disappeared
and adds the new ones, in one transaction; the file is in WAL mode and writers take
the lock up front (``BEGIN IMMEDIATE``, waiting up to ``timeout`` seconds), so
several processes may record into one file.
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import attrs

from ._catalog import Catalog
from ._convert import get_converter
from ._diff import CatalogDiff, diff_catalogs
from ._exceptions import PayloadError
from ._history_store import (
    CHANGED_QUERY,
    SNAPSHOT_QUERY,
    check_time,
    connect,
    rows_of,
    stamp,
    write,
)
from ._models import Category, Grid, Package
from ._registry import COLLECTIONS, as_id, model_of

__all__ = ["History"]

_END_OF_TIME: Final = datetime.max.replace(tzinfo=UTC)
_PACKAGE_FIELDS: Final = tuple(field.name for field in attrs.fields(Package))


class History:
    """Catalogues recorded over time in an SQLite file, each stored as its changes.

    ``History(path)`` opens the file, creating it (and its schema) when it does not
    exist or is empty. A file that is not a history raises `PayloadError` naming
    ``path``; one SQLite cannot open at all (a directory, no permission) raises
    ``sqlite3.OperationalError``. ``timeout`` is how long a write waits for another
    process's write to finish. Use it as a context manager, or call `close`.
    One `History` belongs to the thread that opened it.
    """

    def __init__(self, path: str | Path, *, timeout: float = 30.0) -> None:
        if not isinstance(path, str | os.PathLike):
            raise TypeError(f"path must be a str or a Path, not {type(path).__name__}")
        self.path: str = os.fspath(path)
        """The file's path, as given."""
        self._conn: sqlite3.Connection | None = connect(self.path, timeout)

    # -- lifecycle ---------------------------------------------------------------------
    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("this History is closed")
        return self._conn

    def close(self) -> None:
        """Close the file; closing twice is harmless, any other use then raises RuntimeError."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> History:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._conn is None else "open"
        return f"<History {self.path} ({state})>"

    # -- writing -----------------------------------------------------------------------
    def record(self, catalog: Catalog, at: datetime | None = None) -> datetime:
        """Store ``catalog`` as the snapshot at ``at``; returns that time, in UTC.

        ``at`` defaults to the catalogue's ``fetched_at``; it must be timezone-aware
        and later than every snapshot already recorded (``ValueError`` otherwise).
        Only the resources that changed since the previous snapshot (compared as
        JSON) are written, in one transaction. A catalogue holding one id twice in a
        collection raises ``ValueError``.
        """
        if not isinstance(catalog, Catalog):
            raise TypeError(f"catalog must be a Catalog, not {type(catalog).__name__}")
        when = (
            check_time(catalog.fetched_at, "at (by default the catalogue's fetched_at)")
            if at is None
            else check_time(at, "at")
        )
        moment = stamp(when)
        rows, counts, orders = rows_of(catalog)
        conn = self._db
        with write(conn):
            last = conn.execute("SELECT max(at) FROM snapshots").fetchone()[0]
            if last is not None and moment <= last:
                raise ValueError(
                    f"at ({moment}) must be later than the last snapshot recorded ({last})"
                )
            snapshot = conn.execute(
                "INSERT INTO snapshots (at, fetched_at, base_url, packages, grids, categories,"
                " package_order, grid_order, category_order) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (moment, catalog.fetched_at.isoformat(), catalog.base_url, *counts, *orders),
            ).lastrowid
            assert snapshot is not None  # an INSERT into a rowid table always sets it
            current = {
                (collection, rid): data
                for collection, rid, data in conn.execute(
                    "SELECT collection, id, data FROM versions WHERE valid_to IS NULL"
                )
            }
            added: list[tuple[str, int, str, int, str]] = []
            closed: list[tuple[int, str, int]] = []
            for collection, rid, slug, data in rows:
                old = current.pop((collection, rid), None)
                if old != data:
                    added.append((collection, rid, slug, snapshot, data))
                    if old is not None:
                        closed.append((snapshot, collection, rid))
            closed.extend((snapshot, c, i) for c, i in current)  # removed since
            conn.executemany(
                "UPDATE versions SET valid_to = ? WHERE collection = ? AND id = ?"
                " AND valid_to IS NULL",
                closed,
            )
            conn.executemany(
                "INSERT INTO versions (collection, id, slug, valid_from, data)"
                " VALUES (?, ?, ?, ?, ?)",
                added,
            )
        return when

    # -- reading -----------------------------------------------------------------------
    def snapshots(self) -> tuple[datetime, ...]:
        """The times of every recorded snapshot, oldest first (aware, UTC)."""
        return tuple(
            datetime.fromisoformat(at)
            for (at,) in self._db.execute("SELECT at FROM snapshots ORDER BY at")
        )

    def catalog_at(self, when: datetime) -> Catalog:
        """The catalogue as recorded at ``when``, or the last one recorded before it.

        It equals the catalogue that was recorded (same ``base_url``, resources in
        the same order, same ``fetched_at``). ``when`` must be timezone-aware.
        Raises ``KeyError`` when nothing was recorded at or before ``when``.
        """
        sid, fetched_at, base_url, *rest = self._snapshot(check_time(when, "when"))
        counts, orders = rest[:3], rest[3:]
        conn = self._db
        found: dict[str, list[tuple[int, str]]] = {c: [] for c in COLLECTIONS}
        for collection, rid, data in conn.execute(SNAPSHOT_QUERY, (sid,)):
            found[collection].append((rid, data))
        packages, grids, categories = (
            self._structure(collection, found[collection], order, count)
            for collection, order, count in zip(COLLECTIONS, orders, counts, strict=True)
        )
        return Catalog(
            base_url,
            packages,  # type: ignore[arg-type]
            grids,  # type: ignore[arg-type]
            categories,  # type: ignore[arg-type]
            fetched_at=datetime.fromisoformat(fetched_at),
        )

    def _structure(
        self, collection: str, found: list[tuple[int, str]], order: str | None, count: int
    ) -> tuple[Package | Grid | Category, ...]:
        if len(found) != count:
            raise PayloadError(
                self.path,
                f"{self.path}: a snapshot lists {count} {collection} but {len(found)} are stored",
            )
        if order is None:  # newest id first, as the API lists them
            found.sort(reverse=True)
        else:
            ids = json.loads(order)
            position = {rid: index for index, rid in enumerate(ids)}
            found.sort(key=lambda row: position.get(row[0], -1))
            if [rid for rid, _ in found] != ids:
                raise PayloadError(
                    self.path, f"{self.path}: a snapshot's {collection} are not those it lists"
                )
        return self._models(collection, [data for _, data in found])

    def _models(self, collection: str, texts: list[str]) -> tuple[Package | Grid | Category, ...]:
        """Rows of ``versions.data`` as models; a bad one raises `PayloadError`."""
        loads = json.loads
        models, errors = get_converter().structure_rows(
            [loads(text) for text in texts], model_of(collection), url=self.path, path=collection
        )
        if errors:
            raise errors[0][1]
        return tuple(models)  # type: ignore[arg-type]

    def _snapshot(self, when: datetime) -> tuple[Any, ...]:
        """The ``snapshots`` row in force at ``when`` (without ``at``); ``KeyError`` if none."""
        row = self._db.execute(
            "SELECT id, fetched_at, base_url, packages, grids, categories, package_order,"
            " grid_order, category_order FROM snapshots WHERE at <= ? ORDER BY at DESC LIMIT 1",
            (stamp(when),),
        ).fetchone()
        if row is None:
            raise KeyError(f"nothing was recorded at or before {stamp(when)}")
        return tuple(row)

    def diff(self, since: datetime, until: datetime | None = None) -> CatalogDiff:
        """What changed from the snapshot at ``since`` to the one at ``until``.

        Each time picks the snapshot in force then, as in `catalog_at`; ``until``
        defaults to the last snapshot. The result equals
        ``history.catalog_at(since).diff(history.catalog_at(until))`` (see
        `Catalog.diff`) but reads only the versions that changed in between.
        ``since`` later than ``until`` raises ``ValueError``; nothing recorded at or
        before ``since``, ``KeyError``.
        """
        start = check_time(since, "since")
        end = _END_OF_TIME if until is None else check_time(until, "until")
        if start > end:
            raise ValueError(f"since ({stamp(start)}) must not be later than until ({stamp(end)})")
        old, new = self._snapshot(start), self._snapshot(end)
        rows: dict[tuple[int, str], list[str]] = {
            (side, c): [] for side in (0, 1) for c in COLLECTIONS
        }
        for collection, data, side in self._db.execute(CHANGED_QUERY, (old[0], new[0])):
            rows[side, collection].append(data)
        older, newer = (
            _Changed(
                self._models("packages", rows[side, "packages"]),  # type: ignore[arg-type]
                self._models("grids", rows[side, "grids"]),  # type: ignore[arg-type]
                self._models("categories", rows[side, "categories"]),  # type: ignore[arg-type]
                datetime.fromisoformat(snapshot[1]),
                snapshot[2],
            )
            for side, snapshot in ((0, old), (1, new))
        )
        return diff_catalogs(older, newer)

    def series(self, package: Package | int | str, field: str) -> tuple[tuple[datetime, Any], ...]:
        """``(time, value)`` for each snapshot holding ``package``: one field over time.

        ``package`` is a `Package`, an id or a slug (the last package recorded with
        that slug). Values are as the model holds them (``repo_watchers`` an int,
        ``last_updated`` a datetime). Snapshots without the package are left out.
        An unknown ``field`` raises ``ValueError``; a package never recorded,
        ``KeyError``.
        """
        if field not in _PACKAGE_FIELDS:
            raise ValueError(
                f"field must be a Package field, one of {', '.join(_PACKAGE_FIELDS)}; got {field!r}"
            )
        rid = self._package_id(package)
        converter = get_converter()
        values: dict[int, Any] = {}
        out: list[tuple[datetime, Any]] = []
        for at, version, data in self._db.execute(
            "SELECT s.at, v.valid_from, v.data FROM versions v JOIN snapshots s"
            " ON s.id >= v.valid_from AND (v.valid_to IS NULL OR s.id < v.valid_to)"
            " WHERE v.collection = 'packages' AND v.id = ? ORDER BY s.id",
            (rid,),
        ):
            if version not in values:
                model = converter.structure(json.loads(data), Package, url=self.path)
                values[version] = getattr(model, field)
            out.append((datetime.fromisoformat(at), values[version]))
        return tuple(out)

    def _package_id(self, package: Package | int | str) -> int:
        if isinstance(package, Package):
            return package.id
        if isinstance(package, bool) or not isinstance(package, int | str):
            raise TypeError(
                f"package must be a Package, an int id or a str slug, not {type(package).__name__}"
            )
        rid = as_id(package)
        query, key = (
            ("SELECT id FROM versions WHERE collection = 'packages' AND id = ?", rid)
            if rid is not None
            else (
                "SELECT id FROM versions WHERE collection = 'packages' AND slug = ?"
                " ORDER BY valid_from DESC LIMIT 1",
                package,
            )
        )
        row = self._db.execute(query, (key,)).fetchone()
        if row is None:
            raise KeyError(f"no package {package!r} in this history")
        return int(row[0])


@attrs.frozen
class _Changed:
    """The resources of one snapshot that differ from another's: what a diff reads."""

    packages: tuple[Package, ...]
    grids: tuple[Grid, ...]
    categories: tuple[Category, ...]
    fetched_at: datetime
    base_url: str
