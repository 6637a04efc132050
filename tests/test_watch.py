"""``watch`` on both clients against a real LiveServer whose data changes between polls.

A poll is one full catalogue read; the fault callable counts the polls by their
``packages`` list request and changes the fake as that request arrives, so the
change is in exactly that poll's packages. The state file makes restarts
announce each change once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Generator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from conftest import Mode
from djangopackages_sdk import (
    AsyncClient,
    Catalog,
    CatalogDiff,
    Client,
    DjangoPackagesError,
    TransportError,
)
from djangopackages_sdk import _watch as watch_module
from djangopackages_sdk._protocol import Emit, Fetch, Sleep
from djangopackages_sdk._watch import Blocking, watch_flow
from djangopackages_sdk.testing import (
    FakeAPI,
    Fault,
    Hit,
    LiveServer,
    sample_categories,
    sample_grids,
    sample_packages,
)
from helpers import API_ROOT, package_row
from live import serving

Change = Callable[[FakeAPI], object]


class Polls:
    """A fault callable: counts polls and applies ``changes[n]`` as poll ``n`` reads
    its packages (each poll reads them in one request)."""

    fake: FakeAPI

    def __init__(self, changes: dict[int, Change] | None = None) -> None:
        self.changes = changes or {}
        self.count = 0

    def __call__(self, hit: Hit) -> Fault | None:
        # The three listings of a poll arrive in any order: only the packages
        # listing counts the poll, and the changes touch packages only.
        if not hit.is_list("packages") or "offset" in hit.params:
            return None  # (a crawl may also probe the listing's end, at an offset)
        self.count += 1
        change = self.changes.get(self.count)
        if change is not None:
            change(self.fake)
        return None


def _bump_version(fake: FakeAPI) -> None:
    fake.add(dict(fake.packages[359], pypi_version="99.0"))


def _add_package(fake: FakeAPI) -> None:
    fake.add(dict(package_row(fake, 9001), grids=[]))


async def _watch(mode: Mode, server: LiveServer, **kwargs: Any) -> list[CatalogDiff]:
    if mode == "sync":
        with Client(server.base_url, max_retries=0) as dp:
            return list(dp.watch(**kwargs))
    async with AsyncClient(server.base_url, max_retries=0) as adp:
        return [diff async for diff in adp.watch(**kwargs)]


def _served(polls: Polls) -> AbstractContextManager[LiveServer]:
    fake = FakeAPI.with_sample_data()
    polls.fake = fake
    return serving(fake, fault=polls)


async def test_first_poll_records_a_baseline_and_yields_nothing(mode: Mode, tmp_path: Path) -> None:
    state = tmp_path / "state.jsonl.gz"
    polls = Polls()
    with _served(polls) as server:
        assert await _watch(mode, server, every=0.01, state=state, max_polls=2) == []
        assert state.read_bytes()[:2] == b"\x1f\x8b"
        assert not Catalog.load(state).diff(Client(server.base_url).catalog())


async def test_changes_between_polls_and_across_a_restart(mode: Mode, tmp_path: Path) -> None:
    state = tmp_path / "state.jsonl"
    polls = Polls({2: _bump_version, 3: _add_package})
    with _served(polls) as server:
        diffs = await _watch(mode, server, every=0.01, state=state, max_polls=4)
        assert [str(d) for d in diffs] == ["1 new version, 1 changed package", "1 new package"]
        (versioned,) = diffs[0].new_versions
        assert versioned.id == 359
        assert versioned.fields["pypi_version"][1] == "99.0"
        assert [c.id for c in diffs[1].new_packages] == [9001]
        assert polls.count == 4
        watched = len(server.hits)
        # The polls read what four catalog() calls read, no more. (The three
        # listings of a poll run concurrently: hits are counted in total.)
        assert watched == 4 * _requests_of_one_catalog(server)
        polls.count = 0
        # Down for a while: a package goes away. The restarted bot says so first...
        polls.fake.remove("package", 1306)
        diffs = await _watch(mode, server, every=0.01, state=state, max_polls=2)
        assert [[c.id for c in d.removed_packages] for d in diffs] == [[1306]]
        # ...and nothing announced comes out again.
        assert await _watch(mode, server, every=0.01, state=state, max_polls=1) == []


def _requests_of_one_catalog(server: LiveServer) -> int:
    before = len(server.hits)
    with Client(server.base_url) as dp:
        dp.catalog()
    return len(server.hits) - before


class Outage(logging.Handler):
    """The site is down until the watch has logged ``failures`` failed polls."""

    def __init__(self, failures: int, state: Path) -> None:
        super().__init__()
        self.left = failures
        self.state = state
        self.kept: list[bytes] = []

    def fault(self, hit: Hit) -> Fault | None:
        return Fault.status(503, "<html>down</html>") if self.left else None

    def emit(self, record: logging.LogRecord) -> None:
        if "watch: poll" in record.getMessage():
            self.kept.append(self.state.read_bytes())  # the state, as the failure left it
            self.left -= 1


async def test_a_failed_poll_is_logged_and_retried(
    mode: Mode, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state.jsonl"
    polls = Polls()
    with _served(polls) as server:
        assert await _watch(mode, server, every=0.01, state=state, max_polls=1) == []
        baseline = state.read_bytes()
        _bump_version(polls.fake)  # changed while the site is down
        outage = Outage(2, state)
        server.fault = outage.fault
        logger = logging.getLogger("djangopackages_sdk")
        logger.addHandler(outage)
        try:
            with caplog.at_level(logging.WARNING, logger="djangopackages_sdk"):
                diffs = await _watch(mode, server, every=0.01, state=state, max_polls=3)
        finally:
            logger.removeHandler(outage)
    # Polls 1 and 2 failed (logged, the state untouched); poll 3 found the change.
    failures = [r.getMessage() for r in caplog.records if "watch: poll" in r.getMessage()]
    assert [m.split(" of ")[0] for m in failures] == ["watch: poll 1", "watch: poll 2"]
    assert "503" in failures[0]
    assert outage.kept == [baseline, baseline]
    assert [[c.id for c in d.new_versions] for d in diffs] == [[359]]
    assert state.read_bytes() != baseline


async def test_without_a_state_file_changes_are_kept_in_memory(mode: Mode) -> None:
    polls = Polls({2: _add_package})
    with _served(polls) as server:
        diffs = await _watch(mode, server, every=0.01, max_polls=2)
    assert [len(d.new_packages) for d in diffs] == [1]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"every": 0}, ValueError, "every"),
        ({"every": -1}, ValueError, "every"),
        ({"every": float("nan")}, ValueError, "every"),
        ({"every": "60"}, TypeError, "every"),
        ({"every": True}, TypeError, "every"),
        ({"every": 1, "max_polls": 0}, ValueError, "max_polls"),
        ({"every": 1, "max_polls": 1.5}, TypeError, "max_polls"),
        ({"every": 1, "state": 3}, TypeError, "state"),
    ],
)
def test_arguments_are_checked_at_the_call(kwargs: dict[str, Any], error: type, match: str) -> None:
    fake = FakeAPI.with_sample_data()
    with Client(http_client=_http(fake)) as dp, pytest.raises(error, match=match):
        dp.watch(**kwargs)
    adp = AsyncClient()
    with pytest.raises(error, match=match):
        adp.watch(**kwargs)
    assert fake.requests == []


def _http(fake: FakeAPI) -> Any:
    import httpx

    return httpx.Client(transport=fake.transport)


def test_ctrl_c_while_sleeping_leaves_the_state_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state.jsonl"
    polls = Polls({2: _add_package})
    with _served(polls) as server, Client(server.base_url) as dp:
        watching = dp.watch(every=60, state=state)
        real_sleep = time.sleep

        def interrupted(seconds: float) -> None:
            if seconds > 1:
                raise KeyboardInterrupt
            real_sleep(seconds)

        monkeypatch.setattr(time, "sleep", interrupted)
        with pytest.raises(KeyboardInterrupt):
            next(watching)
        baseline = Catalog.load(state)
        assert len(baseline.packages) == 5
        monkeypatch.undo()
        # The next run announces what changed since the baseline.
        (diff,) = list(dp.watch(every=0.01, state=state, max_polls=1))
        assert [c.id for c in diff.new_packages] == [9001]


def test_a_corrupt_state_file_is_reported_not_overwritten(tmp_path: Path) -> None:
    from djangopackages_sdk import PayloadError

    state = tmp_path / "state.jsonl"
    state.write_text("not a catalogue\n", encoding="utf-8")
    fake = FakeAPI.with_sample_data()
    with Client(http_client=_http(fake)) as dp, pytest.raises(PayloadError, match="catalogue"):
        next(dp.watch(every=1, state=state))
    assert state.read_text(encoding="utf-8") == "not a catalogue\n"
    assert fake.requests == []


# -- the flow itself, without I/O ----------------------------------------------------------
class _Ops:
    """What the watch flow asks of a client: ``base_url`` and ``_catalog_op``."""

    base_url = "https://djangopackages.org/api/v4/"

    def __init__(self, answers: list[Catalog | DjangoPackagesError]) -> None:
        self.answers = answers

    def _catalog_op(self, options: object) -> Generator[Fetch, Any, Catalog]:
        yield Fetch(("https://djangopackages.org/api/v4/packages/",))
        answer = self.answers.pop(0)
        if isinstance(answer, DjangoPackagesError):
            raise answer
        return answer


def _sample(*, without: int | None = None) -> Catalog:
    packages = tuple(p for p in sample_packages() if p.id != without)
    return Catalog(API_ROOT, packages, sample_grids(), sample_categories())


def _drive(flow: Any) -> list[Any]:
    """Run a watch flow to its end: each action, in order (Blocking ones are called)."""
    seen: list[Any] = []
    reply: Any = None
    while True:
        try:
            action = flow.send(reply)
        except StopIteration:
            return seen
        seen.append(action)
        reply = action.function() if isinstance(action, Blocking) else None


def test_the_flow_saves_before_it_hands_a_diff_out(tmp_path: Path) -> None:
    state = tmp_path / "state.jsonl"
    failure = TransportError(API_ROOT, "down")
    ops = _Ops([_sample(), failure, _sample(), _sample(without=1306)])
    actions = _drive(watch_flow(ops, 60, state, 4))  # type: ignore[arg-type]
    kinds = [type(a).__name__ for a in actions]
    assert kinds == [
        "Blocking",  # load the state (none yet)
        "Fetch",  # poll 1: the baseline...
        "Blocking",  # ...saved
        "Sleep",
        "Fetch",  # poll 2: fails, logged
        "Sleep",
        "Fetch",  # poll 3: no change, nothing saved
        "Sleep",
        "Fetch",  # poll 4: a package gone: saved first, then handed out
        "Blocking",
        "Emit",
    ]
    assert all(0 < a.seconds <= 60 for a in actions if isinstance(a, Sleep))
    (emit,) = (a for a in actions if isinstance(a, Emit))
    assert [c.id for c in emit.value.removed_packages] == [1306]
    assert len(Catalog.load(state).packages) == 4


async def test_cancelling_an_async_watch_leaves_the_state_intact(tmp_path: Path) -> None:
    """asyncio's Ctrl-C: the task is cancelled while it sleeps between polls."""
    state = tmp_path / "state.jsonl.gz"
    with _served(Polls()) as server:
        async with AsyncClient(server.base_url) as adp:

            async def consume() -> list[CatalogDiff]:
                return [diff async for diff in adp.watch(every=600, state=state)]

            task = asyncio.create_task(consume())
            for _ in range(2_000):  # until the baseline is saved (the task then sleeps)
                if state.exists():
                    break
                await asyncio.sleep(0.005)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    _assert_only_the_state(state, packages=5)


def _assert_only_the_state(state: Path, *, packages: int) -> None:
    assert len(Catalog.load(state).packages) == packages
    assert [p.name for p in state.parent.iterdir()] == [state.name]  # no temporary left


def test_polls_start_every_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fixed-rate ticks: the pause is ``every`` less the poll's time, never negative."""
    clock = iter([0.0, 7.0, 100.0, 250.0, 1000.0, 1000.5])  # each poll's start and end

    class Clock:
        @staticmethod
        def monotonic() -> float:
            return next(clock)

    monkeypatch.setattr(watch_module, "time", Clock)
    ops = _Ops([_sample(), _sample(), _sample()])
    actions = _drive(watch_flow(ops, 60, None, 3))  # type: ignore[arg-type]
    assert [a.seconds for a in actions if isinstance(a, Sleep)] == [53.0, 0.0]
