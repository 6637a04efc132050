"""The commands and their options (click). Each command is a few lines handing its
arguments to `_commands`; this module imports click and nothing heavier, so that
``--version`` and ``--help`` start fast."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar, cast

import click

from .._version import __version__

F = TypeVar("F", bound=Callable[..., Any])

PROG = "djangopackages"
ENV_BASE_URL = "DJANGOPACKAGES_BASE_URL"
"""The environment variable that sets ``--base-url``."""


def interrupted() -> int:
    """Ctrl-C: say so in one line on stderr (after the ``^C`` a terminal shows); 130."""
    click.echo(f"{chr(10) if sys.stderr.isatty() else ''}{PROG}: interrupted", err=True)
    return 130


def common(command: F) -> F:
    """The options every command takes: ``--base-url`` and ``--json``; and Ctrl-C
    ending it with status 130 (before click would add its own blank line)."""

    function = command

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        import rich  # noqa: F401  (the extra, whole, before any work: see _cli.run)

        # Given after the command, an option wins over the same option given before
        # it (``djangopackages --json package x``), which wins over the environment.
        before = click.get_current_context().find_root().params
        if kwargs.get("base_url") is None:
            kwargs["base_url"] = before.get("base_url")
        kwargs["as_json"] = bool(kwargs.get("as_json") or before.get("as_json"))
        try:
            return function(*args, **kwargs)
        except KeyboardInterrupt:
            raise click.exceptions.Exit(interrupted()) from None

    return _json_option(_base_url_option(cast(F, run), environment=False))


def _json_option(command: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")(
        command
    )


def _base_url_option(command: F, *, environment: bool) -> F:
    """``--base-url``: read from the environment by the group only, so that the option
    given before the command is not shadowed by the variable after it."""
    return click.option(
        "--base-url",
        envvar=ENV_BASE_URL if environment else None,
        show_envvar=environment,
        metavar="URL",
        help=f"The API root (also ${ENV_BASE_URL}) [default: https://djangopackages.org/api/v4/].",
    )(command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__, "--version", "-V", prog_name=PROG, message="%(prog)s %(version)s"
)
@_json_option
@functools.partial(_base_url_option, environment=True)
def cli(base_url: str | None, as_json: bool) -> None:
    """Django Packages (djangopackages.org) from the command line.

    Formatted output on a terminal; plain text when piped or with NO_COLOR set;
    --json for scripts. --base-url and --json go before or after the command.
    Exit status: 0 done, 1 an API, network or file error (or
    a stale dependency for audit), 2 a usage error, 130 interrupted (Ctrl-C).
    """


@cli.command()
@click.argument("key", metavar="SLUG_OR_ID")
@common
def package(key: str, base_url: str | None, as_json: bool) -> None:
    """A package's card: version, stars, forks, last commit, category, grids, links."""
    from ._commands import package_card

    package_card(key, base_url=base_url, as_json=as_json)


@cli.command()
@click.argument("query")
@common
def search(query: str, base_url: str | None, as_json: bool) -> None:
    """Packages and grids matching QUERY, best first (the API's order)."""
    from ._commands import search_hits

    search_hits(query, base_url=base_url, as_json=as_json)


@cli.command()
@click.argument("key", metavar="SLUG_OR_ID")
@click.option(
    "--sort",
    default="repo_watchers",
    show_default=True,
    metavar="FIELD",
    help="The package field to sort by, largest first (repo_watchers, repo_forks, "
    "last_updated, title, ...).",
)
@common
def grid(key: str, sort: str, base_url: str | None, as_json: bool) -> None:
    """A grid's packages side by side (the comparison table)."""
    from ._commands import grid_table

    grid_table(key, sort=sort, base_url=base_url, as_json=as_json)


_NEW_FILE = click.Path(dir_okay=False, writable=True)
_OLD_FILE = click.Path(exists=True, dir_okay=False, readable=True)


@cli.command()
@click.argument("path", type=_NEW_FILE)
@common
def snapshot(path: str, base_url: str | None, as_json: bool) -> None:
    """Save the whole catalogue to PATH (.jsonl, or .jsonl.gz compressed).

    A progress bar shows on stderr when it is a terminal (and NO_COLOR is unset).
    """
    from ._commands import save_snapshot

    save_snapshot(path, base_url=base_url, as_json=as_json)


@cli.command()
@click.argument("old", type=_OLD_FILE)
@click.argument("new", type=_OLD_FILE)
@common
def diff(old: str, new: str, base_url: str | None, as_json: bool) -> None:
    """What changed from snapshot OLD to snapshot NEW (files of `snapshot`).

    Reads only the files: --base-url is accepted for uniformity and unused.
    """
    from ._commands import diff_files

    diff_files(old, new, as_json=as_json)


@cli.group()
def history() -> None:
    """The history store: catalogues recorded over time in one SQLite file."""


@history.command("record")
@click.argument("db", type=_NEW_FILE)
@common
def history_record(db: str, base_url: str | None, as_json: bool) -> None:
    """Record the live catalogue in the history DB (created when missing)."""
    from ._tracking import history_record as record

    record(db, base_url=base_url, as_json=as_json)


@history.command("series")
@click.argument("db", type=_OLD_FILE)
@click.argument("slug", metavar="SLUG_OR_ID")
@click.argument("field")
@common
def history_series(db: str, slug: str, field: str, base_url: str | None, as_json: bool) -> None:
    """One FIELD of a package over the recorded snapshots (repo_watchers, pypi_version, ...).

    Reads only the file: --base-url is accepted for uniformity and unused.
    """
    from ._tracking import history_series as series

    series(db, slug, field, as_json=as_json)


@cli.command()
@click.argument("path", metavar="FILE", type=_OLD_FILE)
@common
def audit(path: str, base_url: str | None, as_json: bool) -> None:
    """Check a requirements.txt or pyproject.toml against Django Packages.

    Lists each dependency's package, whether it is stale (no commit for a year)
    and active alternatives from the same grids. Exit status 1 when a dependency
    is stale (for CI jobs).
    """
    from ._tracking import run_audit

    raise click.exceptions.Exit(run_audit(path, base_url=base_url, as_json=as_json))


@cli.command()
@click.option(
    "--every", type=float, required=True, metavar="SECONDS", help="Seconds between two polls."
)
@click.option(
    "--state",
    type=_NEW_FILE,
    required=True,
    metavar="PATH",
    help="The last snapshot, kept between runs (.jsonl or .jsonl.gz).",
)
@common
def watch(every: float, state: str, base_url: str | None, as_json: bool) -> None:
    """Poll the catalogue and print each change as it happens, until Ctrl-C.

    The first run only records a snapshot in --state; later polls print what
    changed since (with --json, one JSON object per line). Ctrl-C stops at once,
    with exit status 130; the state file keeps the last snapshot, so the next run
    reports what changed meanwhile, once. A failed poll prints one line on stderr
    and is tried again at the next tick.
    """
    from ._tracking import run_watch

    run_watch(every, state, base_url=base_url, as_json=as_json)


# click 8.2 shows a group's help, as an error, when it is run without a command.
_NO_ARGS: tuple[type[Exception], ...] = tuple(
    getattr(click.exceptions, name)
    for name in ("NoArgsIsHelpError",)
    if hasattr(click.exceptions, name)
)


def execute(argv: list[str]) -> int:
    """Run the command line on ``argv``; return the exit status. Every error is one line
    on stderr: usage errors exit 2, Ctrl-C exits 130 (the commands map the SDK's
    errors to 1 themselves)."""
    try:
        code = cli.main(argv, prog_name=PROG, standalone_mode=False)
    except (click.Abort, KeyboardInterrupt):  # Ctrl-C outside a command
        return interrupted()
    except click.UsageError as error:
        if isinstance(error, _NO_ARGS):  # the command alone: its help, then status 2
            click.echo(error.format_message(), err=True)
            return error.exit_code
        where = error.ctx.command_path if error.ctx is not None else PROG
        message = error.format_message().replace("\n", " ")
        click.echo(f"{PROG}: usage error: {message} (see '{where} --help')", err=True)
        return error.exit_code
    except click.ClickException as error:
        click.echo(f"{PROG}: {error.format_message()}", err=True)
        return error.exit_code
    return code if isinstance(code, int) else 0
