"""``watch``: poll the catalogue and hand out what changed, written once for both clients.

`watch_flow` is a sans-I/O flow like the others (see `_protocol.py`). Besides
`Fetch` (the catalogue's requests, through the client's own retries and pacing),
it yields `Sleep` between polls, `Emit` with each `CatalogDiff`, and `Blocking`
for the state file: the sync driver calls the function, the async driver runs
it in a worker thread so that reading or writing a 5 MB snapshot never stalls
the event loop.

Each poll reads a full catalogue (`Operations._catalog_op`: after the first
poll, the counts it learnt let every collection come in one round) and diffs it
with the last snapshot. A poll that finds changes first saves the new snapshot
to the state file (atomically, `Catalog.save`), then hands the diff out: a
change handed out is never handed out again, and a change made while no bot
was running comes out on the first poll after a restart. With no snapshot yet,
the first poll only records one. A poll that fails with a `DjangoPackagesError`
(the site is down) is logged on the ``djangopackages_sdk`` logger and tried
again at the next tick; the state file is left as it was.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeAlias, TypeVar

import attrs

from ._catalog import Catalog
from ._config import NO_OPTIONS, CallOptions
from ._diff import CatalogDiff
from ._exceptions import DjangoPackagesError
from ._protocol import Emit, Fetch, Sleep

if TYPE_CHECKING:
    from ._operations import Operations

__all__ = ["Blocking", "Driven", "WatchFlow", "watch_flow"]

T = TypeVar("T")
logger: Final = logging.getLogger("djangopackages_sdk")


@attrs.frozen
class Blocking:
    """Call this blocking function (file I/O) and send its result back to the flow.

    The async driver runs it in a worker thread; an exception it raises ends the
    flow's caller (it is not sent into the flow).
    """

    function: Callable[[], Any]


Driven: TypeAlias = Generator["Fetch | Sleep | Blocking | Emit[T]", Any, None]
"""A flow the drivers' ``_iterate`` runs: it fetches, sleeps, blocks and emits values."""
WatchFlow: TypeAlias = Generator["Fetch | Sleep | Blocking | Emit[CatalogDiff]", Any, None]


def _check(every: float, state: str | os.PathLike[str] | None, max_polls: int | None) -> None:
    if isinstance(every, bool) or not isinstance(every, int | float):
        raise TypeError(f"every must be a number of seconds, not {type(every).__name__}")
    if not math.isfinite(every) or every <= 0:
        raise ValueError(f"every must be a positive, finite number of seconds, got {every!r}")
    if state is not None and not isinstance(state, str | os.PathLike):
        raise TypeError(f"state must be a path (str or Path) or None, not {type(state).__name__}")
    if max_polls is not None:
        if isinstance(max_polls, bool) or not isinstance(max_polls, int):
            raise TypeError(f"max_polls must be an int or None, not {type(max_polls).__name__}")
        if max_polls < 1:
            raise ValueError(f"max_polls must be at least 1, got {max_polls}")


def watch_flow(
    ops: Operations,
    every: float,
    state: str | os.PathLike[str] | None,
    max_polls: int | None,
    options: CallOptions = NO_OPTIONS,
) -> WatchFlow:
    """The flow of ``watch`` (arguments checked now, before any poll).

    Each poll's requests take the client's retry settings, or ``options``.
    """
    _check(every, state, max_polls)
    return _polls(ops, float(every), None if state is None else Path(state), max_polls, options)


def _load(path: Path) -> Catalog | None:
    try:
        return Catalog.load(path)
    except FileNotFoundError:
        return None


def _polls(
    ops: Operations, every: float, state: Path | None, max_polls: int | None, options: CallOptions
) -> WatchFlow:
    last: Catalog | None = (
        None if state is None else (yield Blocking(functools.partial(_load, state)))
    )
    polls = 0
    while True:
        started = time.monotonic()
        polls += 1
        try:
            current = yield from ops._catalog_op(options)
        except DjangoPackagesError as error:
            logger.warning(
                "watch: poll %d of %s failed, trying again in %g s: %s",
                polls,
                ops.base_url,
                every,
                error,
            )
        else:
            diff = None if last is None else last.diff(current)
            if last is None or diff:
                if state is not None:
                    yield Blocking(functools.partial(current.save, state))
                last = current
            if diff:
                yield Emit(diff)
        if max_polls is not None and polls >= max_polls:
            return
        yield Sleep(max(0.0, every - (time.monotonic() - started)))
