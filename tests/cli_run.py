"""Run the ``djangopackages`` command line in a subprocess: piped, or under a
pseudo-terminal (``os.openpty``) to see what a person at a terminal sees."""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
"""An ANSI escape sequence (colours, styles, cursor moves): to find or strip them."""

COMMAND = [sys.executable, "-m", "djangopackages_sdk"]

# Variables of the caller's environment that would change what the command shows.
_UNSET = ("NO_COLOR", "FORCE_COLOR", "DJANGOPACKAGES_BASE_URL", "COLUMNS", "LINES", "TERM")


def environ(base_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment for a run: the caller's without colour or size settings, with
    ``DJANGOPACKAGES_BASE_URL`` set to ``base_url`` (when given) and ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in _UNSET and not k.startswith("TTY_")}
    if base_url is not None:
        env["DJANGOPACKAGES_BASE_URL"] = base_url
    env.update(extra)
    return env


def cli(
    *args: str, base_url: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``djangopackages ARGS`` with stdout and stderr piped."""
    return subprocess.run(
        [*COMMAND, *args],
        capture_output=True,
        text=True,
        env=environ(base_url) if env is None else env,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


@dataclass
class TerminalRun:
    """What a run under a pseudo-terminal wrote: ``screen`` is what went to the
    terminal, ``piped`` what went to the stream that was piped (if any)."""

    screen: str
    piped: str
    code: int


def in_terminal(
    *args: str,
    base_url: str,
    pipe: str | None = None,
    interrupt_on: str | None = None,
    **extra: str,
) -> TerminalRun:
    """``djangopackages ARGS`` with stdout and stderr on a 160x50 pseudo-terminal,
    except ``pipe`` (``"stdout"`` or ``"stderr"``), which is piped; Ctrl-C (SIGINT)
    once the terminal shows ``interrupt_on``."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
    streams = {name: subprocess.PIPE if name == pipe else slave for name in ("stdout", "stderr")}
    process = subprocess.Popen(
        [*COMMAND, *args],
        env=environ(base_url, TERM="xterm-256color", **extra),
        stdin=subprocess.DEVNULL,
        **streams,  # type: ignore[call-overload]
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1.0)
        if not ready:
            if process.poll() is not None:
                break
            continue
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: every end of the terminal is closed
            break
        if not data:
            break
        chunks.append(data)
        if interrupt_on is not None and interrupt_on.encode() in b"".join(chunks):
            process.send_signal(signal.SIGINT)
            interrupt_on = None
    os.close(master)
    out, err = process.communicate(timeout=60)
    piped = (out if pipe == "stdout" else err) or b""
    return TerminalRun(
        b"".join(chunks).decode("utf-8", "replace"),
        piped.decode("utf-8", "replace"),
        process.returncode,
    )
