"""The SQLite side of `History`: the schema, its queries, opening and writing a file.

The schema is documented in ``_history.py``, where users read it.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final

from ._catalog import Catalog
from ._convert import get_converter
from ._exceptions import PayloadError
from ._models import Category, Grid, Package
from ._registry import COLLECTIONS

__all__ = [
    "CHANGED_QUERY",
    "FORMAT",
    "SNAPSHOT_QUERY",
    "VERSION",
    "check_time",
    "connect",
    "rows_of",
    "stamp",
    "write",
]

FORMAT: Final = "djangopackages-sdk-history"
VERSION: Final = 1
SCHEMA: Final = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE snapshots (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL UNIQUE,
    fetched_at TEXT NOT NULL,
    base_url TEXT NOT NULL,
    packages INTEGER NOT NULL,
    grids INTEGER NOT NULL,
    categories INTEGER NOT NULL,
    package_order TEXT,
    grid_order TEXT,
    category_order TEXT
);
CREATE TABLE versions (
    collection TEXT NOT NULL,
    id INTEGER NOT NULL,
    slug TEXT NOT NULL,
    valid_from INTEGER NOT NULL REFERENCES snapshots (id),
    valid_to INTEGER REFERENCES snapshots (id),
    data TEXT NOT NULL,
    PRIMARY KEY (collection, id, valid_from)
);
CREATE INDEX versions_valid_to ON versions (valid_to, valid_from);
CREATE INDEX versions_slug ON versions (collection, slug);
"""
SNAPSHOT_QUERY: Final = (
    # Two index searches on versions_valid_to: the current versions, then the closed ones
    "SELECT collection, id, data FROM versions WHERE valid_to IS NULL AND valid_from <= ?1"
    " UNION ALL SELECT collection, id, data FROM versions WHERE valid_to > ?1 AND valid_from <= ?1"
)
CHANGED_QUERY: Final = (
    # The versions of snapshot ?1 that ended by ?2, then those of ?2 begun after ?1
    "SELECT collection, data, 0 FROM versions"
    " WHERE valid_to > ?1 AND valid_to <= ?2 AND valid_from <= ?1"
    " UNION ALL SELECT collection, data, 1 FROM versions"
    " WHERE valid_to IS NULL AND valid_from > ?1 AND valid_from <= ?2"
    " UNION ALL SELECT collection, data, 1 FROM versions"
    " WHERE valid_to > ?2 AND valid_from > ?1 AND valid_from <= ?2"
)
Row = tuple[str, int, str, str]  # collection, id, slug, data


def connect(path: str, timeout: float) -> sqlite3.Connection:
    """An open history file: checked, or given the schema when it has no table yet.

    `PayloadError` naming ``path`` when it is not SQLite or not a history.
    """
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    try:
        _prepare(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}


def _prepare(conn: sqlite3.Connection, path: str) -> None:
    try:
        tables = _tables(conn)
    except sqlite3.DatabaseError:
        raise PayloadError(path, f"{path} is not an SQLite database") from None
    if not tables:
        with write(conn):
            if not _tables(conn):  # another process may have just created it
                for statement in SCHEMA.split(";"):
                    conn.execute(statement)
                conn.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [("format", FORMAT), ("version", str(VERSION))],
                )
        conn.execute("PRAGMA journal_mode=WAL")
        return
    meta = dict(conn.execute("SELECT key, value FROM meta")) if "meta" in tables else {}
    if meta.get("format") != FORMAT:
        raise PayloadError(path, f"{path} is not a {FORMAT} database")
    if meta.get("version") != str(VERSION):
        raise PayloadError(
            path,
            f"{path}: history version {meta.get('version')!r} is not one this SDK reads "
            f"({VERSION})",
        )


class write:
    """``with write(conn):`` one write transaction, its lock taken up front."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")


def check_time(value: object, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got the naive {value.isoformat()}")
    return value.astimezone(UTC)


def stamp(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def rows_of(catalog: Catalog) -> tuple[list[Row], list[int], list[str | None]]:
    """Every resource as a ``versions`` row (without its snapshot), the counts and orders."""
    unstructure = get_converter().unstructure
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    rows: list[Row] = []
    counts: list[int] = []
    orders: list[str | None] = []
    for collection in COLLECTIONS:
        items: Iterable[Package | Grid | Category] = getattr(catalog, collection)
        ids = [item.id for item in items]
        if len(set(ids)) != len(ids):
            twice = sorted(i for i, n in Counter(ids).items() if n > 1)
            raise ValueError(f"catalog holds {collection} with the same id twice: {twice[:5]}")
        rows.extend((collection, item.id, item.slug, dumps(unstructure(item))) for item in items)
        counts.append(len(ids))
        orders.append(None if ids == sorted(ids, reverse=True) else json.dumps(ids))
    return rows, counts, orders
