"""What every command shares: where output goes and how (JSON, colours, progress),
the client, and the mapping of errors to one line on stderr and an exit status."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

if TYPE_CHECKING:
    from rich.console import Console

    from .._async import AsyncClient
    from .._models import CollectionName
    from .._pages import Page
    from .._sync import Client

PROG = "djangopackages"

OnPage = Callable[["CollectionName", "Page[Any]"], None]


def no_color() -> bool:
    """``NO_COLOR`` is set to something (https://no-color.org)."""
    return bool(os.environ.get("NO_COLOR"))


class Output:
    """How a command writes: JSON, formatted for a terminal, or plain text.

    ``plain``: no ANSI escapes (stdout is not a terminal, or ``NO_COLOR``);
    ``progress``: draw progress bars on stderr (a terminal, and no ``NO_COLOR``).
    """

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.terminal = sys.stdout.isatty()
        self.plain = not self.terminal or no_color()
        self.progress = sys.stderr.isatty() and not no_color()

    @functools.cached_property
    def console(self) -> Console:
        """A rich console on stdout, without colours or styles when ``plain``."""
        from rich.console import Console

        return Console(
            file=sys.stdout,
            color_system=None if self.plain else "auto",
            highlight=False,
            emoji=False,
            # Piped: nothing is cut to a terminal's width.
            width=None if self.terminal else 100_000,
        )

    def json(self, data: Any) -> None:
        """``data`` as indented JSON on stdout."""
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")

    def json_line(self, data: Any) -> None:
        """``data`` as one line of JSON on stdout, flushed (JSON Lines, for streams)."""
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def text(self, text: str) -> None:
        """Plain text on stdout, as is."""
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr, then exit with ``code``."""
    click.echo(f"{PROG}: {' '.join(message.split())}", err=True)
    raise click.exceptions.Exit(code)


def describe(error: Exception) -> str:
    """One line naming what went wrong, for an error of the SDK."""
    from .. import _exceptions as x

    kinds: tuple[tuple[type[Exception], str], ...] = (
        (x.NotFoundError, "not found"),
        (x.BaseURLError, "wrong base URL"),  # its message says what the root looks like
        (x.RateLimitedError, "rate limited"),
        (x.DeadlineExceededError, "timed out"),
        (x.TransportError, "network error"),
        (x.HTTPStatusError, "API error"),
        (x.PayloadError, "unexpected data"),
    )
    for kind, label in kinds:
        if isinstance(error, kind):
            return f"{label}: {error}"
    return f"{type(error).__name__}: {error}"


@contextmanager
def reported() -> Iterator[None]:
    """Turn the SDK's errors and file errors into one line on stderr and exit 1."""
    from .._exceptions import DjangoPackagesError

    try:
        yield
    except DjangoPackagesError as error:
        fail(describe(error))
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        fail(f"{where}{error.strerror or error}")


ClientT = TypeVar("ClientT")


def _made(kind: Callable[..., ClientT], base_url: str | None) -> ClientT:
    """``kind(base_url)``, or ``kind()`` for the default when ``base_url`` is empty or
    None; a malformed URL is a usage error naming ``--base-url``."""
    root = (base_url or "").strip()
    try:
        return kind(root) if root else kind()
    except (TypeError, ValueError) as error:
        raise click.BadParameter(str(error), param_hint="'--base-url'") from None


def client(base_url: str | None) -> Client:
    """A client on ``base_url`` (the live site when None)."""
    from .._sync import Client

    return _made(Client, base_url)


def async_client(base_url: str | None) -> AsyncClient:
    """An async client on ``base_url`` (the live site when None)."""
    from .._async import AsyncClient

    return _made(AsyncClient, base_url)


@contextmanager
def catalog_progress(out: Output) -> Iterator[OnPage | None]:
    """An ``on_page`` callback drawing one bar per collection on stderr, or None when
    there must be no bar (stderr not a terminal, or ``NO_COLOR``)."""
    if not out.progress:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bars = Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(file=sys.stderr),
    )
    tasks: dict[str, Any] = {}

    def on_page(collection: CollectionName, page: Page[Any]) -> None:
        if collection not in tasks:
            tasks[collection] = bars.add_task(collection, total=page.count)
        bars.update(tasks[collection], advance=len(page.items), total=page.count)

    with bars:
        yield on_page
