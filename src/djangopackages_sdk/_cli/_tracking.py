"""The commands over time: ``history record``, ``history series``, ``audit`` (and
``watch``). Each reads the live catalogue or a file, then hands the result to
`_changes`. Imported only when one of them runs."""

from __future__ import annotations

import logging
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from ._changes import audit_report, series_lines
from ._changes import diff as show_diff
from ._run import Output, catalog_progress, client, fail, reported
from ._views import catalog_counts, counted

if TYPE_CHECKING:
    from .._catalog import Catalog


def live_catalog(base_url: str | None, out: Output) -> Catalog:
    """The whole live catalogue, with a progress bar on stderr when it is a terminal."""
    with reported(), client(base_url) as dp, catalog_progress(out) as on_page:
        return dp.catalog(on_page=on_page)


@contextmanager
def _database(path: str) -> Iterator[Any]:
    """The history in ``path``, its errors (not a history, not SQLite) reported."""
    from .._history import History

    with reported():
        try:
            with History(path) as history:
                yield history
        except sqlite3.Error as error:
            fail(f"{path}: {error}")


def history_record(db: str, *, base_url: str | None, as_json: bool) -> None:
    """``djangopackages history record DB``."""
    out = Output(as_json)
    catalog = live_catalog(base_url, out)
    with _database(db) as history:
        try:
            at = history.record(catalog)
        except ValueError as error:  # a time not after the last snapshot's
            fail(f"{db}: {error}")
        snapshots = len(history.snapshots())
    counts = catalog_counts(catalog)
    if out.as_json:
        out.json({"db": str(db), "at": at.isoformat(), "snapshots": snapshots, **counts})
    else:
        out.text(f"recorded {counted(counts)} at {at.isoformat()} in {db} ({snapshots} snapshots)")


def history_series(db: str, slug: str, field: str, *, as_json: bool) -> None:
    """``djangopackages history series DB SLUG FIELD``."""
    out = Output(as_json)
    with _database(db) as history:
        try:
            points = history.series(slug, field)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="'FIELD'") from None
        except KeyError as error:
            fail(f"not found: {error.args[0]}")
    if out.as_json:
        out.json([{"at": at.isoformat(), "value": _plain(value)} for at, value in points])
    else:
        series_lines(out, points)


def _plain(value: Any) -> Any:
    """A model's field value as JSON: datetimes as ISO 8601, tuples as lists, links as URLs."""
    from .._convert import get_converter

    if isinstance(value, datetime):
        return value.isoformat()
    return get_converter().unstructure(value)


def run_audit(path: str, *, base_url: str | None, as_json: bool) -> int:
    """``djangopackages audit FILE``: 1 when a dependency is stale, else 0."""
    from .._audit import audit
    from .._catalog import Catalog
    from .._links import DEFAULT_BASE_URL

    out = Output(as_json)
    try:  # read the file first: a bad one fails before the crawl
        audit(path, Catalog(DEFAULT_BASE_URL, (), (), ()))
    except (ValueError, UnicodeError) as error:
        raise click.BadParameter(str(error), param_hint="'FILE'") from None
    entries = audit(path, live_catalog(base_url, out))
    if out.as_json:
        out.json(
            [
                {
                    "name": e.name,
                    "package": e.package.slug if e.package else None,
                    "id": e.package.id if e.package else None,
                    "stale": e.stale,
                    "alternatives": [p.slug for p in e.alternatives],
                }
                for e in entries
            ]
        )
    else:
        audit_report(out, entries)
    return 1 if any(entry.stale for entry in entries) else 0


class _OneLine(logging.Handler):
    """The SDK's warnings (a failed poll of ``watch``) as one line on stderr each."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"djangopackages: {' '.join(record.getMessage().split())}", err=True)


def run_watch(every: float, state: str, *, base_url: str | None, as_json: bool) -> None:
    """``djangopackages watch --every SECONDS --state PATH``: runs until Ctrl-C (which
    ends it at once, exit status 130; the state file holds the last snapshot)."""
    out = Output(as_json)
    logger = logging.getLogger("djangopackages_sdk")
    logger.addHandler(_OneLine(logging.WARNING))
    logger.propagate = False
    if sys.stderr.isatty():
        click.echo(f"watching every {every:g} s, state in {state} (Ctrl-C stops)", err=True)
    with reported(), client(base_url) as dp:
        try:
            changes = dp.watch(every, state)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="'--every'") from None
        for diff in changes:
            if out.as_json:
                out.json_line(diff.to_dict())
            else:
                show_diff(out, diff)
                sys.stdout.flush()
