"""The command line end to end: each command in a subprocess against a LiveServer on
127.0.0.1, piped (plain text, JSON, exit statuses, request counts)."""

from __future__ import annotations

import copy
import json
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli_run import ANSI, cli
from djangopackages_sdk import Catalog, Client, __version__
from djangopackages_sdk.testing import FakeAPI, LiveServer, load_sample_data
from live import serving

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import catalogue


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with serving() as live:
        yield live


def api_json(server: LiveServer, path: str) -> Any:
    with httpx.Client() as http:
        return http.get(server.base_url + path).raise_for_status().json()


def paths_since(server: LiveServer, start: int) -> list[str]:
    return [hit.path.removeprefix("/api/v4/") for hit in server.hits[start:]]


def one_line_error(result: Any, code: int) -> str:
    """The run failed with ``code`` and said why in one line on stderr, no traceback."""
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("djangopackages: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    return str(result.stderr)


# -- package ---------------------------------------------------------------------------
def test_package_card_piped(server: LiveServer) -> None:
    result = cli("package", "django-otp", base_url=server.base_url)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert not ANSI.search(result.stdout)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("django-otp  A pluggable framework")
    card = dict(line.split(None, 1) for line in lines[1:] if not line.startswith("  last"))
    assert card["version"] == "1.7.0"
    assert card["stars"] == "621"
    assert card["forks"] == "117"
    assert card["category"] == "App"
    assert card["grids"] == "Authentication, Two-Factor Authentication 🔐"
    assert card["repository"] == "https://github.com/django-otp/django-otp"
    assert card["documentation"] == "https://django-otp-official.readthedocs.io/"
    assert card["site"] == f"http://127.0.0.1:{server.port}/packages/p/django-otp/"
    (last,) = [line for line in lines if line.startswith("  last commit")]
    assert last.split()[2] == "2026-01-07"
    assert last.endswith("ago)")


def test_package_sends_three_requests(server: LiveServer) -> None:
    start = len(server.hits)
    assert cli("package", "1867", base_url=server.base_url).returncode == 0
    first, *rest = paths_since(server, start)
    # The package, then its category and every grid (one listing) at once.
    assert first == "packages/1867/"
    assert sorted(rest) == ["categories/1/", "grids/?limit=1000"]


def test_package_requests_at_live_scale() -> None:
    data = catalogue.generate(600, 120, 3, seed=11)
    by_grids = {len(p["grids"]): p["slug"] for p in data["packages"]}
    fake = FakeAPI(**data)
    with serving(fake) as live:
        for grids, slug in sorted(by_grids.items()):
            start = len(live.hits)
            result = cli("package", slug, base_url=live.base_url)
            assert result.returncode == 0, result.stderr
            sent = paths_since(live, start)
            assert len(sent) == min(3, 2 + grids), (grids, sent)
    assert max(by_grids) >= 5


def test_package_json_is_the_api_json(server: LiveServer) -> None:
    start = len(server.hits)
    result = cli("package", "django-otp", "--json", base_url=server.base_url)
    assert result.returncode == 0
    assert json.loads(result.stdout) == api_json(server, "packages/django-otp/")
    assert paths_since(server, start)[0] == "packages/django-otp/"
    assert len(paths_since(server, start)) == 2  # its own request and the check's


# -- search ----------------------------------------------------------------------------
def test_search_piped_in_the_api_order(server: LiveServer) -> None:
    result = cli("search", "django", base_url=server.base_url)
    assert result.returncode == 0, result.stderr
    expected = api_json(server, "search/?q=django")
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [(r[0], r[1]) for r in rows] == [(h["item_type"], h["slug"]) for h in expected]
    assert len(rows) > 1
    assert not ANSI.search(result.stdout)


def test_search_json_and_no_hits(server: LiveServer) -> None:
    result = cli("search", "otp", "--json", base_url=server.base_url)
    assert json.loads(result.stdout) == api_json(server, "search/?q=otp")
    nothing = cli("search", "zzzz-nothing", base_url=server.base_url)
    assert nothing.returncode == 0
    assert nothing.stdout == "no package or grid matches 'zzzz-nothing'\n"


# -- grid ------------------------------------------------------------------------------
def test_grid_piped_is_the_comparison_text(server: LiveServer) -> None:
    result = cli("grid", "authentication", "--sort", "last_updated", base_url=server.base_url)
    assert result.returncode == 0, result.stderr
    with Client(server.base_url) as dp:
        expected = str(dp.compare("authentication", sort="last_updated"))
    assert result.stdout == expected + "\n"
    assert "django-otp" in result.stdout
    assert "django-stronghold" in result.stdout


def test_grid_json_and_its_requests(server: LiveServer) -> None:
    start = len(server.hits)
    result = cli("grid", "7", "--json", base_url=server.base_url)
    assert result.returncode == 0, result.stderr
    sent = paths_since(server, start)
    # The grid, its packages (one listing: their collection's size is unknown), then
    # their categories.
    assert sent == ["grids/7/", "packages/?limit=100", "categories/1/"]
    shown = json.loads(result.stdout)
    assert shown["grid"] == api_json(server, "grids/7/")
    assert shown["sort"] == "repo_watchers"
    listed = {p["id"]: p for p in api_json(server, "packages/?limit=100")["results"]}
    assert shown["packages"] == [listed[1867], listed[1672]]  # most stars first


def test_grid_sends_only_what_the_comparison_needs() -> None:
    """At a larger scale too, the command adds no request to ``Client.compare``'s."""
    data = catalogue.generate(600, 60, 3, seed=11)
    by_size = {len(g["packages"]): g["slug"] for g in data["grids"]}
    with serving(FakeAPI(**data)) as live:
        for slug in (by_size[min(by_size)], by_size[max(by_size)]):
            start = len(live.hits)
            assert cli("grid", slug, base_url=live.base_url).returncode == 0
            sent = paths_since(live, start)
            start = len(live.hits)
            with Client(live.base_url) as dp:
                dp.compare(slug)
            assert sorted(sent) == sorted(paths_since(live, start))
            assert sent[0] == f"grids/{slug}/"


def test_grid_usage_errors(server: LiveServer) -> None:
    error = one_line_error(cli("grid", "7", "--sort", "nope", base_url=server.base_url), 2)
    assert "'--sort'" in error
    assert "repo_watchers" in error
    assert "not found" in one_line_error(cli("grid", "nope", base_url=server.base_url), 1)


# -- snapshot and diff -----------------------------------------------------------------
def changed_data() -> dict[str, Any]:
    """The sample with django-otp released and starred, and one package added."""
    data = copy.deepcopy(load_sample_data())
    otp = next(p for p in data["packages"] if p["slug"] == "django-otp")
    otp.update(pypi_version="1.8.0", repo_watchers=700)
    extra = copy.deepcopy(next(p for p in data["packages"] if p["slug"] == "django-messages"))
    extra.update(id=9999, slug="django-messages-two", title="django-messages-two", grids=[])
    data["packages"].append(extra)
    return data


@pytest.mark.parametrize("name", ["catalog.jsonl", "catalog.jsonl.gz"])
def test_snapshot_saves_the_catalogue(server: LiveServer, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    result = cli("snapshot", str(path), base_url=server.base_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"saved 5 packages, 8 grids, 1 category to {path}\n"
    assert result.stderr == ""  # no progress bar when stderr is not a terminal
    saved = Catalog.load(path)
    with Client(server.base_url) as dp:
        live = dp.catalog()
    assert (saved.packages, saved.grids, saved.categories) == (
        live.packages,
        live.grids,
        live.categories,
    )
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    again = cli("snapshot", str(path), "--json", base_url=server.base_url)
    assert json.loads(again.stdout) == {
        "path": str(path),
        "packages": 5,
        "grids": 8,
        "categories": 1,
    }


def test_snapshot_into_a_missing_folder(server: LiveServer, tmp_path: Path) -> None:
    error = one_line_error(
        cli("snapshot", str(tmp_path / "no" / "c.jsonl"), base_url=server.base_url), 1
    )
    assert "No such file or directory" in error


def test_diff_of_two_snapshots(server: LiveServer, tmp_path: Path) -> None:
    old, new = tmp_path / "old.jsonl", tmp_path / "new.jsonl.gz"
    assert cli("snapshot", str(old), base_url=server.base_url).returncode == 0
    with serving(FakeAPI(**changed_data())) as changed:
        assert cli("snapshot", str(new), base_url=changed.base_url).returncode == 0
    result = cli("diff", str(old), str(new))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "1 new package, 1 new version, 1 changed package"
    assert "+ package django-messages-two (id 9999)" in lines
    assert (
        "~ package django-otp (id 1867): pypi_version 1.7.0 -> 1.8.0; repo_watchers 621 -> 700"
        in lines
    )
    as_json = cli("diff", str(old), str(new), "--json")
    assert json.loads(as_json.stdout) == Catalog.load(old).diff(Catalog.load(new)).to_dict()
    same = cli("diff", str(old), str(old))
    assert same.stdout == "no changes\n"


def test_diff_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    assert "does not exist" in one_line_error(cli("diff", str(bad), str(tmp_path / "none")), 2)
    assert "unexpected data" in one_line_error(cli("diff", str(bad), str(bad)), 1)


# -- history ---------------------------------------------------------------------------
def test_history_record_and_series(server: LiveServer, tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    first = cli("history", "record", str(db), base_url=server.base_url)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("recorded 5 packages, 8 grids, 1 category at ")
    assert first.stdout.endswith(f" in {db} (1 snapshots)\n")
    with serving(FakeAPI(**changed_data())) as changed:
        second = cli("history", "record", str(db), "--json", base_url=changed.base_url)
    recorded = json.loads(second.stdout)
    assert recorded["snapshots"] == 2
    assert recorded["packages"] == 6
    series = cli("history", "series", str(db), "django-otp", "repo_watchers")
    assert [line.split("\t")[1] for line in series.stdout.splitlines()] == ["621", "700"]
    as_json = json.loads(cli("history", "series", str(db), "1867", "pypi_version", "--json").stdout)
    assert [point["value"] for point in as_json] == ["1.7.0", "1.8.0"]
    assert as_json[1]["at"] == recorded["at"]
    dates = json.loads(cli("history", "series", str(db), "1867", "last_updated", "--json").stdout)
    assert dates[0]["value"] == "2026-01-07T14:56:37-05:00"


def test_history_errors(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    assert "does not exist" in one_line_error(cli("history", "series", str(db), "x", "title"), 2)
    db.write_text("not a database, but long enough to be read as one" * 40)
    assert "h.db" in one_line_error(cli("history", "series", str(db), "x", "title"), 1)


def test_history_series_unknown_package_or_field(server: LiveServer, tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    assert cli("history", "record", str(db), base_url=server.base_url).returncode == 0
    error = one_line_error(cli("history", "series", str(db), "nope", "title"), 1)
    assert error == "djangopackages: not found: no package 'nope' in this history\n"
    assert "'FIELD'" in one_line_error(cli("history", "series", str(db), "1867", "stars"), 2)


# -- audit -----------------------------------------------------------------------------
def test_audit_fails_on_a_stale_dependency(server: LiveServer, tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("django-otp>=1.0\ndjango-stronghold  # old\nrequests\n")
    result = cli("audit", str(requirements), base_url=server.base_url)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "django-otp\tdjango-otp\tactive\t",
        "django-stronghold\tdjango-stronghold\tstale (last commit 2024-11-24)\tdjango-otp",
        "requests\t\tnot on Django Packages\t",
        "3 requirements: 1 stale, 1 not on Django Packages",
    ]
    shown = json.loads(cli("audit", str(requirements), "--json", base_url=server.base_url).stdout)
    assert shown[1] == {
        "name": "django-stronghold",
        "package": "django-stronghold",
        "id": 1672,
        "stale": True,
        "alternatives": ["django-otp"],
    }
    assert shown[2]["package"] is None
    assert shown[2]["stale"] is None


def test_audit_passes_a_fresh_pyproject(server: LiveServer, tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\ndependencies = ["django-otp[qr]>=1", "httpx"]\n')
    result = cli("audit", str(pyproject), base_url=server.base_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "2 requirements: 0 stale, 1 not on Django Packages"
    pyproject.write_text("[project\n")
    start = len(server.hits)
    assert "not valid TOML" in one_line_error(
        cli("audit", str(pyproject), base_url=server.base_url), 2
    )
    assert len(server.hits) == start  # a bad file fails before the crawl


# -- errors, base URL, start-up ----------------------------------------------------------
def test_not_found_is_one_line_and_status_1(server: LiveServer) -> None:
    error = one_line_error(cli("package", "no-such-package", base_url=server.base_url), 1)
    assert error.startswith("djangopackages: not found: No Package matches the given query.")


def test_a_wrong_base_url_is_named(server: LiveServer) -> None:
    root = f"http://127.0.0.1:{server.port}/"
    error = one_line_error(cli("package", "django-otp", "--base-url", root), 1)
    assert error.startswith("djangopackages: wrong base URL")


def test_a_network_error_is_named() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = one_line_error(cli("search", "x", base_url=f"http://127.0.0.1:{port}/api/v4/"), 1)
    assert error.startswith("djangopackages: network error: ")


def test_base_url_option_beats_the_environment(server: LiveServer) -> None:
    result = cli("package", "1867", "--json", "--base-url", server.base_url, base_url="http://bad")
    assert json.loads(result.stdout)["id"] == 1867
    for command in (["package", "1867"], ["search", "otp"]):  # async and sync clients
        error = one_line_error(cli(*command, base_url="not a url"), 2)
        assert "'--base-url'" in error
    assert "'--every'" in one_line_error(cli("watch", "--every", "0", "--state", "s.jsonl"), 2)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["package"], "Missing argument 'SLUG_OR_ID'"),
        (["nope"], "No such command 'nope'"),
        (["search", "x", "--colour"], "--colour"),
        (["history", "series", "a.db"], "does not exist"),
    ],
)
def test_usage_errors_exit_2(args: list[str], says: str) -> None:
    assert says in one_line_error(cli(*args), 2)


def test_version_help_and_completion() -> None:
    assert cli("--version").stdout == f"djangopackages {__version__}\n"
    script = Path(sys.executable).with_name("djangopackages")
    import subprocess

    assert subprocess.run(
        [script, "--version"], capture_output=True, text=True, check=True
    ).stdout == (f"djangopackages {__version__}\n")
    helped = cli("--help").stdout
    for command in ("audit", "diff", "grid", "history", "package", "search", "snapshot", "watch"):
        assert f"\n  {command} " in helped
    bare = cli()
    assert bare.returncode == 2
    assert bare.stderr.startswith("Usage: djangopackages")
    from cli_run import environ

    completion = cli(env=environ(_DJANGOPACKAGES_COMPLETE="bash_source"))
    assert completion.returncode == 0
    assert "_djangopackages_completion()" in completion.stdout


def test_history_refuses_a_time_before_its_last_snapshot(
    server: LiveServer, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from djangopackages_sdk import History

    db = tmp_path / "h.db"
    with Client(server.base_url) as dp, History(db) as history:
        history.record(dp.catalog(), at=datetime(2100, 1, 1, tzinfo=UTC))
    error = one_line_error(cli("history", "record", str(db), base_url=server.base_url), 1)
    assert error.startswith(f"djangopackages: {db}: ")


def test_options_go_before_the_command_too(server: LiveServer) -> None:
    before = cli("--base-url", server.base_url, "--json", "package", "1867", base_url="http://bad")
    assert json.loads(before.stdout)["id"] == 1867
    after = cli("--base-url", "http://bad", "package", "1867", "--base-url", server.base_url)
    assert after.returncode == 0
    assert after.stdout.startswith("django-otp")
