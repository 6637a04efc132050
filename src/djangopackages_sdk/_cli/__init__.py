"""The ``djangopackages`` command line: a thin face over the clients, the catalogue,
the comparison, the diff, the history and the audit (it holds no logic of its own).

It needs the ``cli`` extra (click and rich): ``pip install 'djangopackages-sdk[cli]'``.
Start-up stays light: ``--version`` and ``--help`` import click and nothing else of
weight (no httpx, no rich, no client); each command imports what it uses.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # not typing's: the start-up would pay for importing typing
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import NoReturn

INSTALL = "pip install 'djangopackages-sdk[cli]'"
"""What to run when the command line's libraries are missing."""

_EXTRA = frozenset({"click", "rich"})


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The console script: run the command line with ``argv`` and exit with its status."""
    sys.exit(run(argv))


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status (0 ok, 1 an API, network or
    file error or a stale dependency, 2 a usage error, 130 interrupted)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["--version"], ["-V"]):  # the fast path: no click to load
        from .._version import __version__

        print(f"djangopackages {__version__}")
        return 0
    try:
        from ._app import execute

        return execute(args)
    except ImportError as error:
        if (error.name or "").partition(".")[0] not in _EXTRA:
            raise
        print(f"djangopackages: the command line needs its extra: {INSTALL}", file=sys.stderr)
        return 2
