"""Catalogue files under damage and hostility: counts, line numbers, atomic saves, key types.

A file records how many records it holds, so a file cut at a line boundary (or
holding only its header) is an error, never a smaller catalogue; every failure
to read one is a `PayloadError` naming the line; `save` never leaves a half
written file in place of the previous one.
"""

from __future__ import annotations

import io
import json
import os
import stat
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pytest

from djangopackages_sdk import Catalog, PayloadError
from djangopackages_sdk.testing import sample_categories, sample_grids, sample_packages
from helpers import API_ROOT as API

WHEN = datetime(2026, 1, 1, tzinfo=UTC)
COUNTS = {"packages": 5, "grids": 8, "categories": 1}
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes and symlinks")


@pytest.fixture
def catalog() -> Catalog:
    """The sample catalogue (5 packages, 8 grids, 1 category), as in test_catalog.py."""
    return Catalog(API, sample_packages(), sample_grids(), sample_categories(), fetched_at=WHEN)


@pytest.fixture
def saved(catalog: Catalog, tmp_path: Path) -> Path:
    """The sample catalogue saved to ``catalog.jsonl``."""
    path = tmp_path / "catalog.jsonl"
    catalog.save(path)
    return path


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _load_error(path: Path) -> PayloadError:
    with pytest.raises(PayloadError) as info:
        Catalog.load(path)
    assert info.value.url == str(path)  # the error names the file
    return info.value


# -- the file records its counts -----------------------------------------------------------
def test_the_header_records_the_counts(saved: Path) -> None:
    header = json.loads(_lines(saved)[0])
    assert header["version"] == 2
    assert header["counts"] == COUNTS


@pytest.mark.parametrize(
    ("dropped", "missing"),
    [
        (1, "header says 5 packages, found 4"),
        (5, "header says 5 packages, found 0"),
        (7, "header says 5 packages, found 0; header says 8 grids, found 6"),
    ],
)
def test_a_file_cut_at_a_line_boundary_is_rejected(saved: Path, dropped: int, missing: str) -> None:
    lines = _lines(saved)
    saved.write_bytes(b"".join(lines[:-dropped]))
    error = _load_error(saved)
    assert f"the file is cut short after line {len(lines) - dropped}: {missing}" in str(error)


def test_a_file_with_only_its_header_is_rejected(saved: Path) -> None:
    saved.write_bytes(_lines(saved)[0])
    error = _load_error(saved)
    assert "cut short after line 1" in str(error)
    assert "header says 5 packages, found 0" in str(error)
    assert "header says 1 categories, found 0" in str(error)


def test_more_records_than_the_header_says_are_rejected(saved: Path) -> None:
    lines = _lines(saved)
    saved.write_bytes(b"".join([*lines, lines[-1]]))
    error = _load_error(saved)
    assert "more records than its header says" in str(error)
    assert "header says 5 packages, found 6" in str(error)


def test_a_file_cut_inside_a_line_names_the_line(saved: Path) -> None:
    data = saved.read_bytes()
    saved.write_bytes(data[:-40])
    error = _load_error(saved)
    assert error.path == "line 15"
    assert "line 15" in str(error)


@pytest.mark.parametrize(
    "counts",
    [
        None,
        [5, 8, 1],
        {"packages": 5, "grids": 8},
        {"packages": 5, "grids": 8, "categories": -1},
        {"packages": 5, "grids": 8, "categories": "1"},
        {"packages": 5, "grids": 8, "categories": True},
    ],
)
def test_a_version_2_header_needs_valid_counts(saved: Path, counts: Any) -> None:
    lines = _lines(saved)
    header = json.loads(lines[0])
    if counts is None:
        del header["counts"]
    else:
        header["counts"] = counts
    saved.write_bytes(json.dumps(header).encode() + b"\n" + b"".join(lines[1:]))
    error = _load_error(saved)
    assert "counts" in str(error)
    assert "line 1" in str(error)


def test_a_version_1_file_without_counts_still_loads(catalog: Catalog, saved: Path) -> None:
    lines = _lines(saved)
    header = json.loads(lines[0])
    header["version"] = 1
    del header["counts"]
    old = json.dumps(header).encode() + b"\n"
    saved.write_bytes(old + b"".join(lines[1:]))
    assert Catalog.load(saved) == catalog
    # Version 1 never said how many records it held: nothing to check against.
    saved.write_bytes(old + b"".join(lines[1:-1]))
    assert len(Catalog.load(saved).packages) == 4


# -- every failure is a PayloadError naming the line ----------------------------------------
def test_deep_nesting_on_a_record_line_is_a_payload_error(saved: Path) -> None:
    lines = _lines(saved)
    deep = b"[" * 100_000 + b"]" * 100_000 + b"\n"
    saved.write_bytes(lines[0] + deep + b"".join(lines[1:]))
    error = _load_error(saved)
    assert error.path == "line 2"
    assert "line 2" in str(error)
    assert "nested too deeply" in str(error)


def test_a_number_too_long_for_int_is_a_payload_error(saved: Path) -> None:
    lines = _lines(saved)
    huge = b'{"kind": "category", "data": {"id": ' + b"9" * 10_000 + b"}}\n"
    saved.write_bytes(lines[0] + huge + b"".join(lines[1:]))
    error = _load_error(saved)
    assert error.path == "line 2"
    assert "line 2" in str(error)


def test_invalid_json_names_its_line_not_the_decoder_line(saved: Path) -> None:
    lines = _lines(saved)
    saved.write_bytes(b"".join([*lines[:3], b"{oops\n", *lines[3:]]))
    error = _load_error(saved)
    assert error.path == "line 4"
    assert "line 4: not a catalogue record: not JSON" in str(error)
    assert "line 1" not in str(error)


def test_deep_nesting_in_the_header_is_a_payload_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_bytes(b'{"format":' * 100_000 + b"\n")
    error = _load_error(path)
    assert "line 1" in str(error)
    assert "nested too deeply" in str(error)


def test_invalid_utf8_on_line_2_names_line_2(saved: Path) -> None:
    lines = _lines(saved)
    saved.write_bytes(
        lines[0] + b'{"kind": "category", "data": "\xff\xfe"}\n' + b"".join(lines[1:])
    )
    error = _load_error(saved)
    assert error.path == "line 2"
    assert "line 2: not valid UTF-8" in str(error)
    assert "no header line" not in str(error)


def test_invalid_utf8_in_the_header_names_line_1(saved: Path) -> None:
    lines = _lines(saved)
    saved.write_bytes(b"\xc3(" + b"".join(lines))
    assert "line 1: not valid UTF-8" in str(_load_error(saved))


def test_invalid_utf8_from_a_text_stream_is_a_payload_error(saved: Path) -> None:
    lines = _lines(saved)
    raw = io.BytesIO(lines[0] + b"\xff\n" + b"".join(lines[1:]))
    with pytest.raises(PayloadError, match="not valid UTF-8") as info:
        Catalog.read(io.TextIOWrapper(raw, encoding="utf-8"), source="text.jsonl")
    assert info.value.url == "text.jsonl"
    assert "line " in str(info.value)


def test_an_empty_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    error = _load_error(path)
    assert "line 1" in str(error)
    assert "empty" in str(error)


@pytest.mark.parametrize(
    "first",
    [
        b"\n",
        b"not json\n",
        b'{"kind": "category", "data": {}}\n',
        b'{"format": "djangopackages-sdk-catalog", "version": 3}\n',
        b'{"format": "djangopackages-sdk-catalog", "version": true}\n',
    ],
)
def test_a_missing_or_foreign_header_names_line_1(saved: Path, first: bytes) -> None:
    saved.write_bytes(first + b"".join(_lines(saved)[1:]))
    error = _load_error(saved)
    assert error.path == "$"
    assert "line 1" in str(error)


def test_read_takes_lines_of_bytes_too(catalog: Catalog, saved: Path) -> None:
    assert Catalog.read(_lines(saved)) == catalog
    assert Catalog.read(saved.read_text(encoding="utf-8").splitlines()) == catalog


# -- save is atomic -------------------------------------------------------------------------
def test_round_trip_is_still_equal(catalog: Catalog, saved: Path) -> None:
    loaded = Catalog.load(saved)
    assert loaded == catalog
    assert loaded.packages == catalog.packages
    assert loaded.fetched_at == catalog.fetched_at
    again = saved.with_name("again.jsonl")
    loaded.save(again)
    assert again.read_bytes() == saved.read_bytes()


def test_save_replaces_a_previous_file(catalog: Catalog, saved: Path) -> None:
    smaller = Catalog(API, (), sample_grids(), (), fetched_at=WHEN)
    smaller.save(saved)
    assert Catalog.load(saved) == smaller
    assert sorted(os.listdir(saved.parent)) == ["catalog.jsonl"]


def test_a_save_failing_midway_leaves_the_previous_file(
    catalog: Catalog, saved: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = saved.read_bytes()
    real_dump = Catalog.dump

    def dump_then_fail(self: Catalog, stream: IO[str]) -> None:
        buffer = io.StringIO()
        real_dump(self, buffer)
        stream.writelines(buffer.getvalue().splitlines(keepends=True)[:3])
        stream.flush()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Catalog, "dump", dump_then_fail)
    smaller = Catalog(API, (), sample_grids(), (), fetched_at=WHEN)
    with pytest.raises(OSError, match="No space left"):
        smaller.save(saved)
    assert saved.read_bytes() == before
    assert sorted(os.listdir(saved.parent)) == ["catalog.jsonl"]


def test_a_failing_replace_leaves_the_previous_file(
    catalog: Catalog, saved: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = saved.read_bytes()

    def fail(src: str, dst: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(PermissionError):
        Catalog(API, (), (), (), fetched_at=WHEN).save(saved)
    assert saved.read_bytes() == before
    assert sorted(os.listdir(saved.parent)) == ["catalog.jsonl"]


def test_an_interrupted_save_leaves_no_temporary_file(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupt(self: Catalog, stream: IO[str]) -> None:
        stream.write("{}\n")
        raise KeyboardInterrupt

    monkeypatch.setattr(Catalog, "dump", interrupt)
    with pytest.raises(KeyboardInterrupt):
        catalog.save(tmp_path / "new.jsonl")
    assert os.listdir(tmp_path) == []


def test_save_syncs_the_data_before_replacing(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        calls.append("fsync")
        real_fsync(fd)

    def replace(src: str, dst: str) -> None:
        calls.append("replace")
        assert Path(src).parent == tmp_path  # the temporary file sits beside the target
        assert Catalog.load(src) == catalog  # complete before it replaces anything
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    catalog.save(tmp_path / "catalog.jsonl")
    assert calls[-2:] == ["fsync", "replace"]


@posix_only
def test_save_keeps_the_mode_of_the_previous_file(catalog: Catalog, saved: Path) -> None:
    saved.chmod(0o640)
    catalog.save(saved)
    assert stat.S_IMODE(saved.stat().st_mode) == 0o640


@posix_only
def test_a_new_file_gets_the_usual_mode(catalog: Catalog, tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        catalog.save(tmp_path / "new.jsonl")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.jsonl").stat().st_mode) == 0o644


@posix_only
def test_save_through_a_symlink_replaces_the_file_it_points_to(
    catalog: Catalog, saved: Path
) -> None:
    link = saved.with_name("link.jsonl")
    link.symlink_to(saved.name)
    smaller = Catalog(API, (), (), sample_categories(), fetched_at=WHEN)
    smaller.save(link)
    assert link.is_symlink()
    assert Catalog.load(saved) == smaller


# -- lookup keys ----------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["package", "grid", "category"])
@pytest.mark.parametrize("key", [None, 1.5, [1], True, False, b"1", (1,)])
def test_a_lookup_key_that_is_not_int_or_str_is_a_type_error(
    catalog: Catalog, method: str, key: Any
) -> None:
    with pytest.raises(TypeError, match=r"\bkey\b"):
        getattr(catalog, method)(key)


# -- gzip -------------------------------------------------------------------------------------
def test_save_to_a_gz_path_writes_gzip(catalog: Catalog, tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "catalog.jsonl.gz"
    catalog.save(path)
    assert path.read_bytes()[:2] == b"\x1f\x8b"  # not plain text
    plain = tmp_path / "catalog.jsonl"
    catalog.save(plain)
    assert gzip.decompress(path.read_bytes()) == plain.read_bytes()
    assert Catalog.load(path) == catalog
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_load_sniffs_gzip_whatever_the_name(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "catalog.jsonl.gz"
    catalog.save(path)
    renamed = path.rename(tmp_path / "catalog.data")
    assert Catalog.load(renamed) == catalog


def test_load_reads_plain_text_under_a_gz_name(catalog: Catalog, saved: Path) -> None:
    """An older SDK wrote plain text to ``x.jsonl.gz``: such a file still loads."""
    misnamed = saved.rename(saved.with_name("old.jsonl.gz"))
    assert Catalog.load(misnamed) == catalog


@pytest.mark.parametrize("cut", [5, 30, -12])
def test_a_corrupt_gzip_file_is_a_payload_error(catalog: Catalog, tmp_path: Path, cut: int) -> None:
    path = tmp_path / "catalog.jsonl.gz"
    catalog.save(path)
    path.write_bytes(path.read_bytes()[:cut])
    error = _load_error(path)
    assert "gzip" in error.message


def test_a_damaged_gzip_body_is_a_payload_error(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "catalog.jsonl.gz"
    catalog.save(path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    error = _load_error(path)
    assert "gzip" in error.message or "line" in error.message


def test_a_gz_save_that_fails_keeps_the_old_file(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "catalog.jsonl.gz"
    catalog.save(path)
    before = path.read_bytes()

    def broken(self: Catalog, stream: IO[str]) -> None:
        stream.write("half")
        raise OSError("disk full")

    monkeypatch.setattr(Catalog, "dump", broken)
    with pytest.raises(OSError, match="disk full"):
        catalog.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalog.jsonl.gz"]
