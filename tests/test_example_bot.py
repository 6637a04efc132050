"""``examples/bot.py`` run as a user runs it: a subprocess, offline, against a LiveServer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from djangopackages_sdk import Catalog
from djangopackages_sdk.testing import FakeAPI, LiveServer

BOT = Path(__file__).resolve().parents[1] / "examples" / "bot.py"


def _bot(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BOT), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_self_test_announces_each_change_once() -> None:
    """The self-test (what CI runs) checks its own output; check the key lines too."""
    done = _bot("--self-test")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "self-test passed"
    assert lines.count("New version: django-otp 1.7.0 -> 1.8.0") == 1
    assert lines.count("Removed: django-session-security") == 1
    run3 = lines.index("-- run 3: restarted, nothing new")
    assert lines[run3 + 1 :] == ["self-test passed"]


def test_commands_from_stdin_and_a_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.jsonl.gz"
    fake = FakeAPI.with_sample_data()
    with LiveServer(fake) as server:
        args = ("--base-url", server.base_url, "--state", str(state), "--every", "0.01")
        done = _bot(*args, "--max-polls", "1", stdin="/pkg django-otp\nhello\n/help\n")
        assert done.returncode == 0, done.stderr
        assert "### [django-otp](" in done.stdout
        assert "Commands: /pkg <slug>" in done.stdout  # /help; "hello" is no command
        assert "hello" not in done.stdout
        assert len(Catalog.load(state).packages) == 5  # the baseline
        fake.add(dict(fake.packages[1867], pypi_version="9.9"))
        done = _bot(*args, "--max-polls", "1")
        assert done.stdout.splitlines() == ["New version: django-otp 1.7.0 -> 9.9"]
