"""The approximation of ``/search/``: matching, ranking and the result records.

The real ranking lives in a database table the API does not expose; what is
reproduced, and what is derived, is described in `FakeAPI.search_results`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from ._store import Kind, _Table

SEARCH_CAP: Final = 20
"""The most results ``/search/`` returns."""

# GitHub shortcodes the real search expands (it shows ``✨`` where the package
# endpoint says ``:sparkles:``); unknown ones, such as ``:couple:`` in the
# recordings, stay as they are.
_SHORTCODES: Final[dict[str, str]] = {
    "sparkles": "\u2728",
    "rocket": "\U0001f680",
    "tada": "\U0001f389",
    "zap": "\u26a1",
    "fire": "\U0001f525",
    "star": "\u2b50",
    "heart": "\u2764\ufe0f",
    "snake": "\U0001f40d",
    "package": "\U0001f4e6",
    "lock": "\U0001f512",
    "key": "\U0001f511",
    "closed_lock_with_key": "\U0001f510",
    "bug": "\U0001f41b",
    "wrench": "\U0001f527",
    "hammer": "\U0001f528",
    "memo": "\U0001f4dd",
    "books": "\U0001f4da",
    "warning": "\u26a0\ufe0f",
    "white_check_mark": "\u2705",
    "construction": "\U0001f6a7",
    "art": "\U0001f3a8",
    "globe_with_meridians": "\U0001f310",
    "lipstick": "\U0001f484",
    "unicorn": "\U0001f984",
}
_SHORTCODE = re.compile(r":([a-z0-9_+-]+):")


def _expand_shortcodes(text: str) -> str:
    """Replace the known ``:shortcode:`` emoji names, as the search index does."""
    if ":" not in text:
        return text
    return _SHORTCODE.sub(lambda m: _SHORTCODES.get(m.group(1), m.group(0)), text)


def _as_int(value: object) -> int:
    return value if type(value) is int else 0


def _as_str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _haystacks(table: _Table) -> list[tuple[str, str, str, int]]:
    """``(lower title, lower slug, lower description, id)`` for every row, for search."""
    if table.haystack is None:
        description = "repo_description" if table.kind == "package" else "description"
        table.haystack = [
            (
                _expand_shortcodes(_as_str(row.get("title"))).lower(),
                _as_str(row.get("slug")).lower(),
                _expand_shortcodes(_as_str(row.get(description))).lower(),
                resource_id,
            )
            for resource_id, row in table.rows.items()
        ]
    return table.haystack


def _search(tables: Mapping[Kind, _Table], query: str) -> list[dict[str, Any]]:
    """What ``/search/?q=query`` answers (the caller holds the fake's lock)."""
    words = query.lower().split()
    if not words:
        return []
    phrase = " ".join(words)
    ranked: list[tuple[int, int, int, int, Kind]] = []
    for kind in ("package", "grid"):
        table = tables[kind]
        for title, slug, description, resource_id in _haystacks(table):
            if not all(w in title or w in slug or w in description for w in words):
                continue
            if phrase in (slug, title):
                tier = 0
            elif all(w in title or w in slug for w in words):
                tier = 1
            else:
                tier = 2
            row = table.rows[resource_id]
            watchers = _as_int(row.get("repo_watchers")) if kind == "package" else 0
            ranked.append((tier, -watchers, 0 if kind == "package" else 1, resource_id, kind))
    ranked.sort()
    return [
        _search_result(tables, kind, resource_id) for *_, resource_id, kind in ranked[:SEARCH_CAP]
    ]


def _search_result(tables: Mapping[Kind, _Table], kind: Kind, resource_id: int) -> dict[str, Any]:
    row = tables[kind].rows[resource_id]
    title = _expand_shortcodes(_as_str(row.get("title")))
    slug = _as_str(row.get("slug"))
    if kind == "grid":
        packages = row.get("packages")
        count = len(packages) if isinstance(packages, list) else 0
        return {
            "description": _expand_shortcodes(_as_str(row.get("description"))),
            "title": title,
            "title_no_prefix": title,
            "slug_no_prefix": slug,
            "clean_title": title,
            "absolute_url": f"/grids/g/{slug}/",
            "created": row.get("created"),
            "modified": row.get("modified"),
            "weight": min(100, 10 * count),
            "item_type": "grid",
            "slug": slug,
            "category": "",
            "repo_watchers": 0,
            "repo_forks": 0,
            "pypi_downloads": 0,
            "score": 0,
            "usage": 0,
            "participants": "",
            "last_committed": None,
            "last_released": None,
        }
    grids = row.get("grids")
    usage = len(grids) if isinstance(grids, list) else 0
    watchers = _as_int(row.get("repo_watchers"))
    forks = _as_int(row.get("repo_forks"))
    commits = row.get("commits_over_52")
    activity = sum(_as_int(c) for c in commits) if isinstance(commits, list) else 0
    category_id = row.get("category")
    category = tables["category"].rows.get(category_id) if type(category_id) is int else None
    participants = row.get("participants")
    return {
        "description": _expand_shortcodes(_as_str(row.get("repo_description"))),
        "title": title,
        "title_no_prefix": title,
        "slug_no_prefix": slug,
        "clean_title": title,
        "absolute_url": f"/packages/p/{slug}/",
        "created": row.get("created"),
        "modified": row.get("modified"),
        "weight": min(100, 10 * usage + min(50, watchers // 20) + min(40, activity)),
        "item_type": "package",
        "slug": slug,
        "category": _as_str(category.get("title")) if category is not None else "",
        "repo_watchers": watchers,
        "repo_forks": forks,
        "pypi_downloads": 0,
        "score": watchers + forks,
        "usage": usage,
        "participants": ",".join(p for p in participants if isinstance(p, str))
        if isinstance(participants, list)
        else "",
        "last_committed": row.get("last_updated"),
        "last_released": None,
    }
