"""A Django Packages bot: announces new packages and versions, answers ``/pkg <slug>``.

It polls the catalogue with ``AsyncClient.watch``, keeps its last snapshot in a
state file (so a restart announces each change exactly once), prints each
announcement (and posts it as JSON to a webhook, if given), and answers commands
read from standard input, one a line: ``/pkg django-otp`` prints a Markdown card.

    python examples/bot.py --every 600 --state bot-state.jsonl.gz
    python examples/bot.py --webhook https://chat.example/hooks/T0K3N
    python examples/bot.py --self-test   # offline: a local server whose data changes

``--self-test`` (what CI runs) serves the bundled sample on 127.0.0.1, changes it
between polls and while the bot is stopped, runs the bot three times on one state
file, and exits 0 only if it printed (and posted) exactly the expected announcements.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import sys
import tempfile
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx

from djangopackages_sdk import (
    DEFAULT_BASE_URL,
    AsyncClient,
    CatalogDiff,
    DjangoPackagesError,
    NotFoundError,
    Package,
)
from djangopackages_sdk.testing import FakeAPI, Hit, LiveServer

Commands = asyncio.Queue[str | None]
"""Command lines for the bot; None ends them."""


# -- what the bot says ------------------------------------------------------------------
def announcements(diff: CatalogDiff, site: str) -> list[dict[str, Any]]:
    """One message per new package, new version and removed package."""
    messages: list[dict[str, Any]] = []
    for change in diff.new_packages:
        version = change.value("pypi_version")
        messages.append(
            {
                "event": "new-package",
                "slug": change.slug,
                "text": f"New package: {change.value('title')} ({change.slug})"
                + (f" {version}" if version else "")
                + f" {site}packages/p/{change.slug}/",
            }
        )
    for change in diff.new_versions:
        old, new = change.fields["pypi_version"]
        messages.append(
            {
                "event": "new-version",
                "slug": change.slug,
                "text": f"New version: {change.slug} {old or '?'} -> {new}",
            }
        )
    for change in diff.removed_packages:
        messages.append(
            {"event": "removed", "slug": change.slug, "text": f"Removed: {change.slug}"}
        )
    return messages


async def card(dp: AsyncClient, slug: str) -> str:
    """A package as a Markdown card (from the client's identity map after a poll)."""
    try:
        package: Package = await dp.packages.get(slug)
    except NotFoundError:
        return f"No package `{slug}` on Django Packages."
    category = await dp.resolve(package.category)
    grids = await dp.resolve_many(package.grids)
    stale = package.is_stale()
    lines = [
        f"### [{package.title}]({package.site_url})",
        f"> {package.repo_description}" if package.repo_description else "",
        f"- **Version:** {package.pypi_version or 'not on PyPI'}",
        f"- **Stars:** {package.repo_watchers} · **Forks:** {package.repo_forks}",
        f"- **Commits (12 weeks):** {package.commits_last_12_weeks}"
        + (" · no commit for a year" if stale else ""),
        f"- **Category:** {category.title}",
        "- **Grids:** " + (", ".join(g.title for g in grids) or "none"),
    ]
    if package.repo_url:
        lines.append(f"- **Repository:** {package.repo_url}")
    return "\n".join(line for line in lines if line)


async def answer(dp: AsyncClient, line: str) -> str | None:
    """The reply to one command line, or None when it is not a command."""
    words = line.split()
    if not words or not words[0].startswith("/"):
        return None
    if words[0] == "/pkg" and len(words) == 2:
        return await card(dp, words[1])
    return "Commands: /pkg <slug>"


# -- the bot ----------------------------------------------------------------------------
class Bot:
    """Watch the catalogue, announce changes, answer commands."""

    def __init__(
        self,
        base_url: str,
        state: Path,
        *,
        every: float,
        webhook: str | None = None,
        say: Callable[[str], None] = print,
    ) -> None:
        self.base_url = base_url
        self.state = state
        self.every = every
        self.webhook = webhook
        self.say = say

    async def run(self, commands: Commands | None, max_polls: int | None) -> None:
        """Watch (until ``max_polls``, or for ever) while answering ``commands``.

        After the last poll, the commands still come until their input ends.
        """
        async with AsyncClient(self.base_url, user_agent="example-bot") as dp:
            answering = asyncio.create_task(self._answer_all(dp, commands))
            try:
                async with httpx.AsyncClient() as http:
                    async for diff in dp.watch(self.every, self.state, max_polls=max_polls):
                        await self._announce(diff, http, site=self._site(dp))
                await answering
            finally:
                if not answering.done():  # Ctrl-C or an error: stop answering too
                    answering.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await answering

    @staticmethod
    def _site(dp: AsyncClient) -> str:
        return dp.base_url.removesuffix("api/v4/")

    async def _announce(self, diff: CatalogDiff, http: httpx.AsyncClient, site: str) -> None:
        for message in announcements(diff, site):
            self.say(message["text"])
            if self.webhook:
                try:
                    (await http.post(self.webhook, json=message)).raise_for_status()
                except httpx.HTTPError as error:  # a chat outage must not stop the bot
                    print(f"webhook failed: {error}", file=sys.stderr)

    async def _answer_all(
        self, dp: AsyncClient, commands: asyncio.Queue[str | None] | None
    ) -> None:
        while commands is not None:
            line = await commands.get()
            if line is None:
                return
            try:
                reply = await answer(dp, line)
            except DjangoPackagesError as error:
                reply = f"Sorry, Django Packages did not answer: {error}"
            if reply:
                self.say(reply)


def stdin_commands(loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str | None]:
    """Lines of standard input, read by a daemon thread (Ctrl-C never waits for it)."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line.strip())
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read, daemon=True, name="bot-stdin").start()
    return queue


# -- the offline self-test --------------------------------------------------------------
class Changes:
    """A LiveServer fault callable that changes the data as chosen polls read packages."""

    def __init__(self, fake: FakeAPI, at: dict[int, Callable[[FakeAPI], None]]) -> None:
        self.fake, self.at, self.polls = fake, at, 0

    def __call__(self, hit: Hit) -> None:
        if hit.is_list("packages") and "offset" not in hit.params:
            self.polls += 1
            if self.polls in self.at:
                self.at[self.polls](self.fake)


def _new_version(fake: FakeAPI) -> None:
    fake.add(dict(fake.packages[1867], pypi_version="1.8.0"))


def _new_package(fake: FakeAPI) -> None:
    row = dict(fake.packages[359], id=9001, slug="django-new-bot", title="Django New Bot")
    fake.add(dict(row, grids=[], pypi_version="0.1.0"))


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


async def self_test() -> int:
    """Run the bot offline on a changing local server; 0 when it said what it should."""
    fake = FakeAPI.with_sample_data()
    hook = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    printed: list[str] = []

    def say(text: str) -> None:
        printed.append(text)
        print(text)

    changes = Changes(fake, {2: _new_version, 3: _new_package})
    with LiveServer(fake, fault=changes) as server, tempfile.TemporaryDirectory() as folder:
        state = Path(folder) / "bot-state.jsonl.gz"
        webhook = f"http://127.0.0.1:{hook.server_address[1]}/hook"
        bot = Bot(server.base_url, state, every=0.05, webhook=webhook, say=say)
        commands: asyncio.Queue[str | None] = asyncio.Queue()
        for line in ("/pkg django-otp", "/pkg no-such-package", None):
            commands.put_nowait(line)
        print("-- run 1: a baseline, then two changes between polls")
        await bot.run(commands, max_polls=4)
        fake.remove("package", 1306)
        print("-- run 2: restarted after a package was removed")
        await bot.run(None, max_polls=2)
        print("-- run 3: restarted, nothing new")
        await bot.run(None, max_polls=1)
    hook.shutdown()
    expected = [
        "New version: django-otp 1.7.0 -> 1.8.0",
        f"New package: Django New Bot (django-new-bot) 0.1.0 {server.origin}/packages/p/"
        "django-new-bot/",
        "Removed: django-session-security",
    ]
    announced = [line for line in printed if line.startswith(("New ", "Removed:"))]
    cards = [line for line in printed if line.startswith(("### ", "No package"))]
    ok = (
        announced == expected
        and [m["text"] for m in _Hook.received] == expected
        and cards[0].startswith("### [django-otp](")
        and cards[1] == "No package `no-such-package` on Django Packages."
    )
    print("self-test passed" if ok else f"self-test FAILED: announced {announced}, cards {cards}")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL)
    parser.add_argument("--state", type=Path, default=Path("bot-state.jsonl.gz"))
    parser.add_argument("--every", type=float, default=600.0, help="seconds between polls")
    parser.add_argument("--webhook", help="also POST each announcement as JSON here")
    parser.add_argument(
        "--max-polls", type=int, help="stop after this many polls (and the end of the input)"
    )
    parser.add_argument("--self-test", action="store_true", help="run offline and check")
    args = parser.parse_args(argv)
    if args.self_test:
        return asyncio.run(self_test())

    async def serve() -> None:
        bot = Bot(args.base_url, args.state, every=args.every, webhook=args.webhook)
        await bot.run(stdin_commands(asyncio.get_running_loop()), args.max_polls)

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: the state file is intact
        asyncio.run(serve())
    return 0


if __name__ == "__main__":
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # announcements appear as they happen
    sys.exit(main())
