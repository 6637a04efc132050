"""A strict enough HTML check for the notebook display: well formed, self-contained.

``check(html)`` parses with the standard library's ``html.parser`` and fails on a
tag closed that is not open, a tag left open, any script, any element or CSS that
loads something (``src``, ``<link>``, ``<img>``, ``url(``, ``@import``), and any
``href`` that is not an absolute ``http(s)`` URL. It returns what it saw, for
further assertions: the text, the ``href`` values and the tags.
"""

from __future__ import annotations

from html.parser import HTMLParser

import attrs

VOID = {"br", "hr", "img", "input", "meta", "link", "wbr", "col", "area", "base", "source"}
LOADING = {"script", "link", "img", "iframe", "object", "embed", "image", "use", "audio", "video"}


@attrs.define
class Seen:
    """What a display holds: its visible text, its links and its tag names."""

    text: str = ""
    hrefs: list[str] = attrs.Factory(list)
    tags: list[str] = attrs.Factory(list)


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.seen = Seen()
        self.problems: list[str] = []
        self._style = False

    def _attrs(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        self.seen.tags.append(tag)
        if tag in LOADING:
            self.problems.append(f"<{tag}> loads or runs something")
        for name, value in attributes:
            if name in ("src", "srcset", "xlink:href") or name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name == "href":
                if not (value or "").startswith(("http://", "https://")):
                    self.problems.append(f"href {value!r} is not a web URL")
                self.seen.hrefs.append(value or "")
            if name == "style" and "url(" in (value or ""):
                self.problems.append("url( in a style attribute")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._attrs(tag, attrs)
        self._style = tag == "style"
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._attrs(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self._style = False
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self._style:
            if "url(" in data or "@import" in data:
                self.problems.append("the style loads something")
            return
        self.seen.text += data


def check(html: str) -> Seen:
    """Parse ``html`` and assert it is well formed and self-contained; what it shows."""
    checker = _Checker()
    checker.feed(html)
    checker.close()
    assert checker.problems == [], checker.problems
    assert checker.stack == [], f"left open: {checker.stack}"
    assert "<script" not in html.lower()
    return checker.seen
