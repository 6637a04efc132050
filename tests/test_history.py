"""`History`: catalogues over time in an SQLite file, stored as their changes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest

from djangopackages_sdk import DEFAULT_BASE_URL, Catalog, History, PayloadError
from djangopackages_sdk.testing import sample_categories, sample_grids, sample_packages

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _catalog(at: datetime = T0, **stars: int) -> Catalog:
    """The bundled sample at ``at``, with ``slug=stars`` overrides (underscores as dashes)."""
    wanted = {slug.replace("_", "-"): n for slug, n in stars.items()}
    packages = tuple(
        attrs.evolve(p, repo_watchers=wanted[p.slug]) if p.slug in wanted else p
        for p in sample_packages()
    )
    return Catalog(DEFAULT_BASE_URL, packages, sample_grids(), sample_categories(), fetched_at=at)


def _versions(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT collection, id, valid_from, valid_to FROM versions ORDER BY collection, id,"
            " valid_from"
        ).fetchall()


def test_a_recorded_catalogue_comes_back_equal(tmp_path: Path) -> None:
    first = _catalog()
    second = _catalog(T0 + timedelta(days=1), django_otp=700)
    with History(tmp_path / "h.sqlite") as history:
        assert history.record(first) == T0
        assert history.record(second) == T0 + timedelta(days=1)
        assert history.snapshots() == (T0, T0 + timedelta(days=1))
        assert history.catalog_at(T0) == first
        back = history.catalog_at(T0 + timedelta(days=1))
        assert back == second
        assert back.package("django-otp").repo_watchers == 700
        # Between two snapshots: the one before; the order of each collection is kept.
        assert history.catalog_at(T0 + timedelta(hours=5)) == first
        assert [p.id for p in back.packages] == [p.id for p in second.packages]
        with pytest.raises(KeyError, match="nothing was recorded"):
            history.catalog_at(T0 - timedelta(seconds=1))


def test_only_what_changed_is_stored(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    with History(path) as history:
        history.record(_catalog())
        stored = len(_versions(path))
        assert stored == 5 + 8 + 1
        history.record(_catalog(T0 + timedelta(days=1)))  # nothing changed
        assert len(_versions(path)) == stored
        history.record(_catalog(T0 + timedelta(days=2), django_otp=1, django_messages=2))
    rows = _versions(path)
    assert len(rows) == stored + 2
    assert ("packages", 1867, 1, 3) in rows  # the old version closed at snapshot 3
    assert ("packages", 1867, 3, None) in rows
    assert ("packages", 1412, 1, None) in rows  # unchanged: still the first version


def test_removed_and_returning_resources(tmp_path: Path) -> None:
    full = _catalog()
    without = attrs.evolve(full, packages=full.packages[1:], fetched_at=T0 + timedelta(days=1))
    again = attrs.evolve(full, fetched_at=T0 + timedelta(days=2))
    path = tmp_path / "h.sqlite"
    with History(path) as history:
        for catalog in (full, without, again):
            history.record(catalog)
        assert history.catalog_at(T0 + timedelta(days=1)) == without
        assert history.catalog_at(T0 + timedelta(days=2)) == again
        assert [t for t, _ in history.series(359, "repo_watchers")] == [
            T0,
            T0 + timedelta(days=2),
        ]
    assert [r for r in _versions(path) if r[:2] == ("packages", 359)] == [
        ("packages", 359, 1, 2),
        ("packages", 359, 3, None),
    ]


def test_order_is_stored_only_when_not_the_apis(tmp_path: Path) -> None:
    sample = _catalog()  # the sample lists packages oldest first
    newest_first = attrs.evolve(
        sample,
        packages=tuple(sorted(sample.packages, key=lambda p: -p.id)),
        grids=tuple(sorted(sample.grids, key=lambda g: -g.id)),
        fetched_at=T0 + timedelta(days=1),
    )
    path = tmp_path / "h.sqlite"
    with History(path) as history:
        history.record(sample)
        history.record(newest_first)
        assert history.catalog_at(T0) == sample
        assert history.catalog_at(T0 + timedelta(days=1)) == newest_first
    with sqlite3.connect(path) as conn:
        orders = conn.execute(
            "SELECT package_order, grid_order, category_order FROM snapshots ORDER BY id"
        ).fetchall()
    assert orders[0][0] == "[359, 1306, 1412, 1672, 1867]"
    assert orders[1] == (None, None, None)


def test_at_defaults_to_fetched_at_and_must_move_forward(tmp_path: Path) -> None:
    eastern = timezone(timedelta(hours=-5))
    with History(tmp_path / "h.sqlite") as history:
        history.record(_catalog(T0.astimezone(eastern)))
        assert history.snapshots() == (T0,)
        assert history.snapshots()[0].tzinfo == UTC
        with pytest.raises(ValueError, match=r"^at .* must be later than the last snapshot"):
            history.record(_catalog(), at=T0)
        with pytest.raises(ValueError, match=r"at .* must be later"):
            history.record(_catalog(T0 - timedelta(days=1)))
        with pytest.raises(ValueError, match="at must be timezone-aware"):
            history.record(_catalog(), at=datetime(2030, 1, 1))
        with pytest.raises(ValueError, match=r"at \(by default the catalogue's fetched_at\)"):
            history.record(_catalog(datetime(2030, 1, 1)))
        with pytest.raises(TypeError, match="at must be a datetime, not str"):
            history.record(_catalog(), at="2030-01-01")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="catalog must be a Catalog, not list"):
            history.record([])  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="when must be timezone-aware"):
            history.catalog_at(datetime(2030, 1, 1))
        later = T0 + timedelta(hours=1)
        assert history.record(_catalog(), at=later) == later
        assert history.catalog_at(later).fetched_at == T0  # the catalogue's own, kept
        assert history.snapshots() == (T0, later)


def test_a_catalogue_holding_an_id_twice_is_refused(tmp_path: Path) -> None:
    sample = _catalog()
    twice = attrs.evolve(sample, packages=(*sample.packages, sample.packages[0]))
    with History(tmp_path / "h.sqlite") as history:
        with pytest.raises(ValueError, match=r"packages with the same id twice: \[359\]"):
            history.record(twice)
        assert history.snapshots() == ()


def test_series_of_one_field(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite") as history:
        for day, stars in enumerate((621, 625, 625, 640)):
            history.record(_catalog(T0 + timedelta(days=day), django_otp=stars))
        expected = tuple((T0 + timedelta(days=d), s) for d, s in enumerate((621, 625, 625, 640)))
        assert history.series("django-otp", "repo_watchers") == expected
        assert history.series(1867, "repo_watchers") == expected
        assert history.series("1867", "repo_watchers") == expected
        otp = history.catalog_at(T0).package("django-otp")
        assert history.series(otp, "repo_watchers") == expected
        updated = history.series(otp, "last_updated")
        assert {value for _, value in updated} == {otp.last_updated}
        assert isinstance(updated[0][1], datetime)
        grids = history.series(otp, "grids")[0][1]
        assert grids == otp.grids
        with pytest.raises(
            ValueError, match=r"field must be a Package field, one of .*repo_watchers"
        ):
            history.series("django-otp", "stars")
        with pytest.raises(KeyError, match="no package 'nope'"):
            history.series("nope", "repo_watchers")
        with pytest.raises(KeyError, match="no package 5"):
            history.series(5, "repo_watchers")
        with pytest.raises(TypeError, match="package must be a Package, an int id or a str"):
            history.series(True, "repo_watchers")


def test_series_finds_a_renamed_package_by_its_latest_slug(tmp_path: Path) -> None:
    sample = _catalog()
    renamed = attrs.evolve(
        sample,
        packages=tuple(
            attrs.evolve(p, slug="django-otp-2") if p.id == 1867 else p for p in sample.packages
        ),
        fetched_at=T0 + timedelta(days=1),
    )
    with History(tmp_path / "h.sqlite") as history:
        history.record(sample)
        history.record(renamed)
        assert len(history.series("django-otp", "slug")) == 2
        assert history.series("django-otp-2", "slug") == (
            (T0, "django-otp"),
            (T0 + timedelta(days=1), "django-otp-2"),
        )


def test_the_schema_reads_with_plain_sql(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    with History(path) as history:
        history.record(_catalog())
        history.record(_catalog(T0 + timedelta(days=1), django_otp=700))
    with sqlite3.connect(path) as conn:
        assert dict(conn.execute("SELECT key, value FROM meta")) == {
            "format": "djangopackages-sdk-history",
            "version": "1",
        }
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        stars = conn.execute(
            "SELECT s.at, json_extract(v.data, '$.repo_watchers') FROM versions v"
            " JOIN snapshots s ON s.id >= v.valid_from"
            " AND (v.valid_to IS NULL OR s.id < v.valid_to)"
            " WHERE v.collection = 'packages' AND v.slug = 'django-otp' ORDER BY s.at"
        ).fetchall()
        assert stars == [
            ("2026-03-01T12:00:00.000000+00:00", 621),
            ("2026-03-02T12:00:00.000000+00:00", 700),
        ]
        counts = conn.execute("SELECT packages, grids, categories FROM snapshots").fetchall()
        assert counts == [(5, 8, 1), (5, 8, 1)]


def test_files_that_are_not_a_history(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database, only some text that is long enough" * 20)
    with pytest.raises(PayloadError, match="is not an SQLite database") as caught:
        History(junk)
    assert caught.value.url == str(junk)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(PayloadError, match="is not a djangopackages-sdk-history database"):
        History(other)
    newer = tmp_path / "newer.sqlite"
    History(newer).close()
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE meta SET value = '9' WHERE key = 'version'")
    with pytest.raises(PayloadError, match="history version '9' is not one this SDK reads"):
        History(newer)
    with pytest.raises(TypeError, match="path must be a str or a Path, not int"):
        History(3)  # type: ignore[arg-type]


def test_an_empty_file_becomes_a_history(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite"
    path.touch()
    with History(str(path)) as history:
        history.record(_catalog())
    with History(path) as history:  # reopened: the schema is there already
        assert history.snapshots() == (T0,)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ('UPDATE versions SET data = \'{"id": "x"}\' WHERE id = 1867', "Package: .* at"),
        ("DELETE FROM versions WHERE id = 1867", "lists 5 packages but 4 are stored"),
        (
            "UPDATE snapshots SET package_order = '[359, 1306, 1412, 1672, 1868]'",
            "a snapshot's packages are not those it lists",
        ),
    ],
)
def test_a_damaged_snapshot_is_a_payload_error(tmp_path: Path, damage: str, message: str) -> None:
    path = tmp_path / "h.sqlite"
    with History(path) as history:
        history.record(_catalog())
    with sqlite3.connect(path) as conn:
        conn.execute(damage)
    with History(path) as history, pytest.raises(PayloadError, match=message) as caught:
        history.catalog_at(T0)
    assert caught.value.url == str(path)


def test_lifecycle(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite")
    assert repr(history) == f"<History {tmp_path / 'h.sqlite'} (open)>"
    history.close()
    history.close()
    assert "(closed)" in repr(history)
    with pytest.raises(RuntimeError, match="this History is closed"):
        history.snapshots()
    with History(tmp_path / "h.sqlite") as history:
        pass
    with pytest.raises(RuntimeError):
        history.record(_catalog())


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite") as history:
        history.record(_catalog())
        history._db.execute("DROP INDEX versions_slug")
        history._db.execute(
            "CREATE TRIGGER no BEFORE INSERT ON versions BEGIN SELECT RAISE(ABORT, 'full'); END"
        )
        with pytest.raises(sqlite3.IntegrityError, match="full"):
            history.record(_catalog(T0 + timedelta(days=1), django_otp=1))
        assert history.snapshots() == (T0,)  # the snapshot row was rolled back too
        assert history.catalog_at(T0 + timedelta(days=1)) == _catalog()


_WRITER = textwrap.dedent(
    """
    import sys
    from datetime import timedelta
    sys.path.insert(0, {tests!r})
    from test_history import T0, _catalog
    from djangopackages_sdk import History

    with History(sys.argv[1], timeout=60) as history:
        for day in range(int(sys.argv[2])):
            try:
                history.record(_catalog(T0 + timedelta(days=day), django_otp=day))
            except ValueError:
                pass  # the other process recorded this day (or a later one) first
    """
)


def test_two_processes_recording_into_one_file(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    days = 40
    script = _WRITER.format(tests=str(Path(__file__).parent))
    writers = [
        subprocess.Popen([sys.executable, "-c", script, str(path), str(days)]) for _ in range(2)
    ]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    with History(path) as history:
        times = history.snapshots()
        assert times == tuple(T0 + timedelta(days=d) for d in range(days))
        for day in (0, 17, days - 1):
            assert history.catalog_at(times[day]) == _catalog(times[day], django_otp=day)
        assert [v for _, v in history.series("django-otp", "repo_watchers")] == list(range(days))


def test_diff_between_two_snapshots(tmp_path: Path) -> None:
    first = _catalog()
    second = _catalog(T0 + timedelta(days=1), django_otp=700)
    gone = attrs.evolve(second, packages=second.packages[1:], fetched_at=T0 + timedelta(days=2))
    back = attrs.evolve(
        _catalog(T0 + timedelta(days=3), django_otp=700, django_stronghold=1),
        base_url="http://127.0.0.1:8000/api/v4/",  # another host: links differ, data not
    )
    catalogs = [first, second, gone, back]
    with History(tmp_path / "h.sqlite") as history:
        for catalog in catalogs:
            history.record(catalog)
        for since in range(4):
            for until in range(since, 4):
                expected = catalogs[since].diff(catalogs[until])
                got = history.diff(catalogs[since].fetched_at, catalogs[until].fetched_at)
                assert got == expected, (since, until)
        one = history.diff(T0, T0 + timedelta(hours=30))  # times pick the snapshot in force
        assert [(c.kind, c.slug, dict(c.fields)) for c in one] == [
            ("changed", "django-otp", {"repo_watchers": (621, 700)})
        ]
        assert one.since == T0
        assert one.until == T0 + timedelta(days=1)
        removed = history.diff(T0 + timedelta(days=1), T0 + timedelta(days=2))
        assert [c.slug for c in removed.removed_packages] == ["django-messages"]
        assert history.diff(T0 + timedelta(days=2)) == gone.diff(back)  # until: the last
        assert not history.diff(T0, T0)
        with pytest.raises(ValueError, match=r"since .* must not be later than until"):
            history.diff(T0 + timedelta(days=1), T0)
        with pytest.raises(KeyError, match="nothing was recorded at or before"):
            history.diff(T0 - timedelta(days=1))
        with pytest.raises(ValueError, match="until must be timezone-aware"):
            history.diff(T0, datetime(2030, 1, 1))


def test_diff_of_an_empty_history(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite") as history, pytest.raises(KeyError, match="at or before"):
        history.diff(T0)
