"""The command line as a person sees it: under a pseudo-terminal (formatting, colours,
the progress bar, NO_COLOR) and ``watch`` until Ctrl-C."""

from __future__ import annotations

import copy
import json
import os
import select
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli_run import ANSI, COMMAND, environ, in_terminal
from djangopackages_sdk import Catalog
from djangopackages_sdk.testing import FakeAPI, LiveServer, load_sample_data
from live import serving


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with serving() as live:
        yield live


def test_package_card_on_a_terminal_is_formatted(server: LiveServer) -> None:
    run = in_terminal("package", "django-otp", base_url=server.base_url)
    assert run.code == 0
    assert ANSI.search(run.screen)
    plain = ANSI.sub("", run.screen)
    assert "django-otp" in plain
    assert "Two-Factor Authentication" in plain


def test_no_color_on_a_terminal_means_no_escapes(server: LiveServer) -> None:
    for args in (["package", "django-otp"], ["grid", "7"], ["search", "otp"]):
        run = in_terminal(*args, base_url=server.base_url, NO_COLOR="1")
        assert run.code == 0
        assert not ANSI.search(run.screen), args
        assert "django-otp" in run.screen


def test_tables_on_a_terminal(server: LiveServer) -> None:
    grid = in_terminal("grid", "authentication", base_url=server.base_url, NO_COLOR="1")
    lines = grid.screen.splitlines()
    assert lines[0].strip() == "Authentication: 2 packages, by repo_watchers"
    header = lines[1].split()
    assert header[:3] == ["package", "category", "last"]
    assert lines[2].split()[:2] == ["django-otp", "App"]
    found = in_terminal("search", "otp", base_url=server.base_url, NO_COLOR="1")
    assert found.screen.splitlines()[0].split() == ["kind", "slug", "stars", "description"]


def test_snapshot_progress_bar_on_a_terminal(server: LiveServer, tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    run = in_terminal("snapshot", str(path), base_url=server.base_url, pipe="stdout")
    assert run.code == 0
    assert run.piped == f"saved 5 packages, 8 grids, 1 category to {path}\n"
    bar = ANSI.sub("", run.screen)
    for collection, total in (("packages", 5), ("grids", 8), ("categories", 1)):
        assert collection in bar
        assert f"{total}/{total}" in bar
    assert "━" in bar
    quiet = in_terminal(
        "snapshot", str(path), base_url=server.base_url, pipe="stdout", NO_COLOR="1"
    )
    assert quiet.code == 0
    assert quiet.screen == ""  # NO_COLOR: no bar


def test_audit_on_a_terminal(server: LiveServer, tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("django-stronghold\nrequests\n")
    run = in_terminal("audit", str(requirements), base_url=server.base_url, pipe="stderr")
    assert run.code == 1  # a stale dependency
    assert ANSI.search(run.screen)
    lines = ANSI.sub("", run.screen).splitlines()
    assert lines[0].split() == ["requirement", "package", "status", "alternatives"]
    assert lines[1].split()[:3] == ["django-stronghold", "django-stronghold", "stale"]
    assert lines[-1] == "2 requirements: 1 stale, 1 not on Django Packages"


def test_watch_on_a_terminal_stops_at_ctrl_c(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on: every poll fails
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/api/v4/"
    state = tmp_path / "state.jsonl"
    run = in_terminal(
        "watch", "--every", "0.1", "--state", str(state), base_url=dead, interrupt_on="failed"
    )
    assert run.code == 130
    lines = run.screen.splitlines()
    assert lines[0] == f"watching every 0.1 s, state in {state} (Ctrl-C stops)"
    assert lines[1].startswith(f"djangopackages: watch: poll 1 of {dead} failed, trying again")
    assert lines[-1].endswith("djangopackages: interrupted")
    assert not state.exists()


# -- watch -----------------------------------------------------------------------------
def _released(version: str, stars: int) -> dict[str, Any]:
    row = copy.deepcopy(next(p for p in load_sample_data()["packages"] if p["id"] == 1867))
    row.update(pypi_version=version, repo_watchers=stars)
    return row


class Watching:
    """``djangopackages watch`` running in a subprocess, its stdout read line by line."""

    def __init__(self, server: LiveServer, state: Path, *extra: str) -> None:
        self.process = subprocess.Popen(
            [*COMMAND, "watch", "--every", "0.2", "--state", str(state), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=environ(server.base_url),
        )
        self.buffer = b""

    def line(self, timeout: float = 60.0) -> str:
        """The next line of output (waiting at most ``timeout`` seconds for it)."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            assert left > 0, "no output in time"
            ready, _, _ = select.select([self.process.stdout], [], [], left)
            if ready:
                chunk = os.read(self.process.stdout.fileno(), 65536)
                assert chunk, "the command ended"
                self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode() + "\n"

    def interrupt(self) -> None:
        """Ctrl-C: the command ends with status 130 and says so in one line."""
        self.process.send_signal(signal.SIGINT)
        _, errors = self.process.communicate(timeout=60)
        assert self.process.returncode == 130
        assert errors == b"djangopackages: interrupted\n"


def test_watch_prints_changes_until_ctrl_c(tmp_path: Path) -> None:
    fake = FakeAPI.with_sample_data()
    state = tmp_path / "state.jsonl.gz"
    with serving(fake) as live:
        watching = Watching(live, state, "--json")
        try:
            deadline = time.monotonic() + 60
            while not state.exists():  # the first poll records the snapshot
                assert time.monotonic() < deadline
                time.sleep(0.05)
            fake.add(_released("1.8.0", 700))
            change = json.loads(watching.line())
        finally:
            watching.interrupt()
        assert [(c["kind"], c["slug"]) for c in change["changes"]] == [("changed", "django-otp")]
        assert change["changes"][0]["fields"]["pypi_version"] == ["1.7.0", "1.8.0"]
        assert Catalog.load(state).package(1867).pypi_version == "1.8.0"  # state kept

        # A change made while nothing watched comes out on the first poll of the next run.
        fake.add(_released("1.9.0", 701))
        watching = Watching(live, state)
        try:
            summary = watching.line()
            detail = watching.line()
        finally:
            watching.interrupt()
    assert summary == "1 new version, 1 changed package\n"
    assert detail == (
        "~ package django-otp (id 1867): pypi_version 1.8.0 -> 1.9.0; repo_watchers 700 -> 701\n"
    )
    assert Catalog.load(state).package(1867).pypi_version == "1.9.0"
