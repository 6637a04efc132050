"""How changes look: a catalogue diff (``diff``, ``watch``), a history series and an
audit, on a terminal with colours and plain when piped. Presentation only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
