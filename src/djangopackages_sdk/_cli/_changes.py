"""How changes look: a catalogue diff (``diff``, ``watch``), a history series and an
audit, on a terminal with colours and plain when piped. Presentation only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._audit import AuditEntry
    from .._diff import CatalogDiff
    from ._run import Output

_MARKS = {"added": ("+", "green"), "removed": ("-", "red"), "changed": ("~", "yellow")}
_SINGULAR = {"packages": "package", "grids": "grid", "categories": "category"}


def short(value: Any, limit: int = 40) -> str:
    """A JSON value in a few characters: lists by their length, long text cut."""
    if isinstance(value, list):
        return f"[{len(value)} items]"
    text = "null" if value is None else str(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def diff_lines(diff: CatalogDiff) -> list[tuple[str, str]]:
    """One line per change, with its style: ``+ package django-new (id 12)``,
    ``~ package django-otp: pypi_version 1.7.0 -> 1.8.0``, ``- grid old (id 3)``."""
    lines: list[tuple[str, str]] = []
    for change in diff.to_dict()["changes"]:
        mark, style = _MARKS.get(change["kind"], ("?", ""))
        what = f"{mark} {_SINGULAR.get(change['collection'], change['collection'])} "
        what += f"{change['slug'] or change['id']} (id {change['id']})"
        if change["kind"] == "changed":
            fields = "; ".join(
                f"{name} {short(old)} -> {short(new)}"
                for name, (old, new) in change["fields"].items()
            )
            what += f": {fields}"
        lines.append((what, style))
    return lines


def diff(out: Output, changes: CatalogDiff) -> None:
    """A diff: its summary (``str(diff)``), then one line per change."""
    from rich.text import Text

    out.console.print(Text(str(changes), style="bold"), soft_wrap=True)
    for line, style in diff_lines(changes):
        out.console.print(Text(line, style=style), soft_wrap=True)


def series_lines(out: Output, points: Sequence[tuple[datetime, Any]]) -> None:
    """A field over time: one ``time<TAB>value`` line per snapshot."""
    for at, value in points:
        shown = value.isoformat() if isinstance(value, datetime) else value
        out.text(f"{at.isoformat()}\t{shown}")


def _status(entry: AuditEntry) -> tuple[str, str]:
    if entry.package is None:
        return "not on Django Packages", "dim"
    if entry.stale:
        last = entry.package.last_updated
        return f"stale (last commit {last.date().isoformat() if last else 'unknown'})", "red"
    return ("active", "green") if entry.stale is False else ("last commit unknown", "yellow")


def audit_report(out: Output, entries: Sequence[AuditEntry]) -> None:
    """An audit: one row per requirement (name, package, status, alternatives), then a
    summary. A table on a terminal, tab-separated lines when piped."""
    rows = [
        (
            entry.name,
            entry.package.slug if entry.package else "",
            *_status(entry),
            ", ".join(p.slug for p in entry.alternatives),
        )
        for entry in entries
    ]
    stale = sum(1 for entry in entries if entry.stale)
    unknown = sum(1 for entry in entries if entry.package is None)
    summary = f"{len(entries)} requirements: {stale} stale, {unknown} not on Django Packages"
    if not out.terminal:
        for name, slug, status, _, alternatives in rows:
            out.text(f"{name}\t{slug}\t{status}\t{alternatives}")
        out.text(summary)
        return
    from rich.table import Table

    table = Table(box=None, header_style="bold cyan", pad_edge=False)
    for column in ("requirement", "package", "status", "alternatives"):
        table.add_column(column)
    for name, slug, status, style, alternatives in rows:
        table.add_row(name, slug, f"[{style}]{status}[/]", alternatives)
    out.console.print(table)
    out.console.print(summary, style="bold red" if stale else "bold", markup=False)
