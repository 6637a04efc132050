"""Catalogue files on disk: atomic writes, and gzip for paths ending in ``.gz``."""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import secrets
import stat
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Final, cast

from ._exceptions import PayloadError

__all__ = ["GZIP_MAGIC", "reading", "write_atomically"]

GZIP_MAGIC: Final = b"\x1f\x8b"
"""The first two bytes of every gzip file."""
_O_BINARY: Final[int] = getattr(os, "O_BINARY", 0)  # Windows: no newline translation by os


def write_atomically(path: str | Path, write: Callable[[IO[str]], None]) -> None:
    """Call ``write(stream)`` on a UTF-8 text stream and put what it wrote at ``path``.

    It goes to a temporary file beside ``path``, synced to disk, then renamed over
    ``path``; if anything fails, the temporary file is removed and the old file is
    left as it was. A symlink is followed and the file it points to keeps its mode.
    A path ending in ``.gz`` is written gzip-compressed.
    """
    target = os.path.realpath(path)
    folder, name = os.path.split(target)
    fd, temp = _create_beside(folder, name)
    try:
        with open(fd, "wb") as raw:
            with contextlib.suppress(FileNotFoundError):  # keep the old file's mode
                os.chmod(temp, stat.S_IMODE(os.stat(target).st_mode))
            with _compressed(raw, str(path)) as binary:
                stream = io.TextIOWrapper(binary, encoding="utf-8")
                try:
                    write(stream)
                finally:
                    stream.detach()  # flushes; the binary stream stays open
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


@contextlib.contextmanager
def reading(path: str | Path) -> Iterator[IO[bytes]]:
    """The file's bytes, decompressed when it is gzip (known by its first bytes).

    A gzip file that does not decompress raises `PayloadError` naming ``path``.
    """
    with open(path, "rb") as stream:
        gzipped = stream.read(2) == GZIP_MAGIC
        stream.seek(0)
        if not gzipped:
            yield stream
            return
        try:
            with gzip.GzipFile(fileobj=stream) as unzipped:
                yield cast(IO[bytes], unzipped)
        except (gzip.BadGzipFile, EOFError, zlib.error) as error:
            raise PayloadError(str(path), f"not a readable gzip file: {error}") from None


def _compressed(raw: IO[bytes], path: str) -> contextlib.AbstractContextManager[IO[bytes]]:
    """``raw`` itself, or a gzip stream into it for a path ending in ``.gz`` (closing
    it writes the gzip trailer and leaves ``raw`` open)."""
    if not path.endswith(".gz"):
        return contextlib.nullcontext(raw)
    compressor = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)
    return cast(contextlib.AbstractContextManager[IO[bytes]], compressor)


def _create_beside(folder: str, name: str) -> tuple[int, str]:
    """A new, empty file in ``folder``: its descriptor and path.

    Not ``mkstemp``: that makes the file private (0600), and a catalogue saved
    for the first time should get the usual mode (0666 less the umask).
    """
    for _ in range(100):
        temp = os.path.join(folder, f".{name}.{secrets.token_hex(6)}.tmp")
        with contextlib.suppress(FileExistsError):
            return os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666), temp
    raise FileExistsError(f"no free temporary name beside {os.path.join(folder, name)}")
