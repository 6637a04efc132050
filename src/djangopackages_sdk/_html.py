"""The building blocks of the notebook display: escaping, links, tables, sparklines, style.

Every rich display (``_repr_html_``) is self-contained HTML built from these
small functions: no script, no external stylesheet, font or image. Every string
that came from the API goes through `text` (HTML-escaped) and every URL through
`link` (only ``http``/``https`` URLs become links, so a hostile ``javascript:``
URL shows as text). The style is one static block scoped to the ``dps`` class;
it takes its colours from the surrounding page (``currentColor``, transparent
backgrounds, JupyterLab's ``--jp-*`` variables when present), so it reads in light
and dark themes alike. Each display also carries its plain ``repr`` in a ``<pre>``
that the style hides: where a viewer strips styles, the text still shows.

Nothing here imports a model: the views take any value with the right attributes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape
from typing import Final
from urllib.parse import urlsplit

from ._words import age, count, number

__all__ = [
    "STYLE",
    "age",
    "badge",
    "brief_repr",
    "count",
    "link",
    "moment",
    "number",
    "section",
    "shorten",
    "sparkline_svg",
    "table",
    "text",
    "wrap",
]

STYLE: Final = """<style>
.dps{--dps-line:var(--jp-border-color2,rgba(128,128,128,.35));
--dps-accent:var(--jp-brand-color1,#3b8ed0);color:inherit;background:transparent;
font-family:var(--jp-ui-font-family,system-ui,-apple-system,"Segoe UI",sans-serif);
font-size:13px;line-height:1.45}
.dps .dps-fallback{display:none}
.dps a{color:var(--jp-content-link-color,var(--dps-accent));text-decoration:none}
.dps a:hover{text-decoration:underline}
.dps .dps-card{display:inline-block;border:1px solid var(--dps-line);border-radius:6px;
padding:.6em .9em;background:transparent;max-width:100%;box-sizing:border-box}
.dps .dps-one{max-width:48em}
.dps .dps-cols{display:flex;flex-wrap:wrap;gap:0 2.5em;align-items:flex-start}
.dps .dps-title{font-size:1.15em;font-weight:600;margin:0 .4em 0 0}
.dps .dps-muted{opacity:.72}
.dps .dps-desc{margin:.3em 0 .45em}
.dps .dps-badge{display:inline-block;border:1px solid var(--dps-line);border-radius:1em;
padding:0 .55em;margin-right:.3em;font-size:.85em;white-space:nowrap}
.dps .dps-warn{background:rgba(230,140,20,.2);border-color:rgba(230,140,20,.6)}
.dps .dps-ok{background:rgba(40,170,90,.16);border-color:rgba(40,170,90,.55)}
.dps dl{display:grid;grid-template-columns:max-content auto;gap:.1em .9em;margin:.4em 0}
.dps dt{opacity:.72}.dps dd{margin:0}
.dps .dps-links a{margin-right:.9em}
.dps table{border-collapse:collapse;margin:.3em 0;background:transparent;color:inherit}
.dps th,.dps td{border-bottom:1px solid var(--dps-line);padding:.2em .6em;text-align:left;
vertical-align:middle;background:transparent;color:inherit;white-space:nowrap}
.dps td.dps-wide{white-space:normal;min-width:14em;max-width:26em}
.dps th{font-weight:600}
.dps td.dps-n,.dps th.dps-n{text-align:right;font-variant-numeric:tabular-nums}
.dps tbody tr:nth-child(odd){background:rgba(128,128,128,.07)}
.dps h4{margin:.7em 0 .2em;font-size:1em}
.dps svg.dps-spark{vertical-align:middle;color:var(--dps-accent)}
</style>"""
"""The one style block: every rule scoped to ``.dps``, colours taken from the page."""

_SAFE_SCHEMES: Final = ("http", "https")


def text(value: object) -> str:
    """``value`` as HTML text: every ``<``, ``&`` and quote escaped."""
    return escape(str(value), quote=True)


def shorten(value: str, limit: int) -> str:
    """``value`` cut to at most ``limit`` characters, with an ellipsis when cut."""
    return value if len(value) <= limit else value[: max(limit - 1, 0)].rstrip() + "\u2026"


def link(url: str | None, label: str) -> str:
    """An ``<a>`` to ``url`` showing ``label`` (escaped); just the label for a non-web URL.

    Only absolute ``http(s)`` URLs become links, so a ``javascript:`` or relative
    URL read from the API never becomes something to click.
    """
    if not url or urlsplit(url.strip()).scheme.lower() not in _SAFE_SCHEMES:
        return text(label)
    return f'<a href="{text(url.strip())}" target="_blank" rel="noopener">{text(label)}</a>'


def moment(when: datetime | None, now: datetime | None = None) -> str:
    """A date with its age as HTML: ``2026-05-25 (3 months ago)``; ``unknown`` for None."""
    if when is None:
        return '<span class="dps-muted">unknown</span>'
    return f'{when:%Y-%m-%d} <span class="dps-muted">({age(when, now)})</span>'


def badge(label: str, kind: str = "") -> str:
    """A small rounded label; ``kind`` is ``"ok"``, ``"warn"`` or empty."""
    extra = f" dps-{kind}" if kind else ""
    return f'<span class="dps-badge{extra}">{text(label)}</span>'


def sparkline_svg(counts: Sequence[int], *, width: int = 120, height: int = 24) -> str:
    """The weekly commit counts as a small inline SVG line, oldest week on the left.

    The ``<title>`` states the total and the busiest week for screen readers (and as
    a tooltip). An empty vector gives a short "no commit data" note instead of a
    chart; an all-zero one a flat line on the baseline.
    """
    if not counts:
        return '<span class="dps-muted">no commit data</span>'
    peak = max(counts)
    total = sum(counts)
    weeks = len(counts)
    title = (
        f"{count(total, 'commit')} in {count(weeks, 'week')}, at most {number(peak)} in a week"
        if total
        else f"no commits in {count(weeks, 'week')}"
    )
    # Integer coordinates in a 10-unit-per-week, 0-100 box, stretched to the drawn size.
    step = 10
    span = step * max(weeks - 1, 1)
    points = [
        (i * step, 98 - (96 * value // peak if peak else 0)) for i, value in enumerate(counts)
    ]
    if weeks == 1:
        points.append((span, points[0][1]))
    line = " ".join(f"{x},{y}" for x, y in points)
    area = f"0,100 {line} {span},100"
    return (
        f'<svg class="dps-spark" width="{width}" height="{height}" viewBox="0 0 {span} 100" '
        f'preserveAspectRatio="none" role="img" aria-label="{text(title)}">'
        f"<title>{text(title)}</title>"
        f'<polygon points="{area}" fill="currentColor" fill-opacity=".18" stroke="none"/>'
        f'<polyline points="{line}" fill="none" stroke="currentColor" stroke-width="1.5" '
        'vector-effect="non-scaling-stroke"/></svg>'
    )


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    numeric: Iterable[int] = (),
    wide: Iterable[int] = (),
    more: str = "",
) -> str:
    """A table of already-escaped cells; ``numeric`` columns align right.

    Cells do not wrap, except in the ``wide`` columns (descriptions).

    ``more`` (escaped here) is a last row spanning the table, such as "5,395 more".
    """
    right, wrapping = set(numeric), set(wide)

    def cell(tag: str, index: int, content: str) -> str:
        css = ' class="dps-n"' if index in right else ""
        if tag == "td" and index in wrapping:
            css = ' class="dps-wide"'
        return f"<{tag}{css}>{content}</{tag}>"

    head = "".join(cell("th", i, text(h)) for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>" for row in rows
    )
    if more:
        body += f'<tr><td class="dps-muted" colspan="{len(headers)}">{text(more)}</td></tr>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def section(title: str, content: str) -> str:
    """A titled part of a larger display: an ``<h4>`` (escaped) and its content."""
    return f"<h4>{text(title)}</h4>{content}"


def wrap(content: str, fallback: str) -> str:
    """The complete display: the style block, the content, and the plain-text fallback."""
    return (
        f'{STYLE}<div class="dps"><pre class="dps-fallback">{text(fallback)}</pre>{content}</div>'
    )


def brief_repr(name: str, *fields: tuple[str, object], limit: int = 42) -> str:
    """A short ``repr``: ``Name(a=1, b='x', ...)``, each value's repr cut to ``limit``.

    The fields shown name the value; the ``...`` says that others are left out.
    """

    def short(value: object) -> str:
        shown = repr(value)
        return shown if len(shown) <= limit else shown[: limit - 2] + "\u2026" + shown[-1]

    return f"{name}({', '.join(f'{key}={short(value)}' for key, value in fields)}, ...)"
