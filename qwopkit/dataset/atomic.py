"""Atomic file updates: temporary names, durable renames, JSON sidecars and a folder lock.

Everything the dataset library writes goes through here, so that a crash or a concurrent reader
never sees a half-written file: data is written under a dot-prefixed temporary name in the same
folder (same file system, so the rename is atomic), flushed to disk, then renamed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TMP_SUFFIX = ".tmp"


def temp_path(final: Path) -> Path:
    """A unique temporary name beside `final`: `x.h5` -> `.x.<random>.h5.tmp`.

    The leading dot and the `.tmp` ending hide it from `*.h5` globs; the random part lets two
    writers work side by side.
    """
    final = Path(final)
    return final.with_name(f".{final.stem}.{uuid.uuid4().hex[:8]}{final.suffix}{TMP_SUFFIX}")


def is_temp_name(path: Path) -> bool:
    """True for a file that is still being written (or was left by a crash)."""
    name = Path(path).name
    return name.startswith(".") and name.endswith(TMP_SUFFIX)


def fsync_path(path: Path) -> None:
    """Flush a closed file's data to disk (h5py's flush only reaches the OS cache)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable."""
    with contextlib.suppress(OSError):  # some file systems cannot open folders; best effort
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def publish(tmp: Path, final: Path, *, overwrite: bool) -> None:
    """Move a complete temporary file to its final name.

    Without `overwrite` a hard link is made first: linking fails if `final` exists, so two
    writers racing for one name can never clobber each other's episode.
    """
    if overwrite:
        os.replace(tmp, final)
    else:
        try:
            os.link(tmp, final)
        except FileExistsError:
            raise
        except OSError:  # no hard links on this file system: check, then rename
            if final.exists():
                raise FileExistsError(str(final)) from None
            os.replace(tmp, final)
        else:
            os.unlink(tmp)
    fsync_dir(final.parent)


def write_json_atomic(path: Path, data: Any, *, indent: int | None = 1) -> None:
    """Write JSON to `path` via a temporary file and `os.replace` (compact with indent=None)."""
    path = Path(path)
    tmp = temp_path(path)
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=indent, sort_keys=True, ensure_ascii=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


@contextlib.contextmanager
def folder_lock(folder: Path, name: str) -> Iterator[None]:
    """An exclusive advisory lock for a read-modify-write of one sidecar file in `folder`.

    The app and the CLI may mark episodes at the same time; without the lock one of two
    concurrent updates would be lost (both read the old sidecar, the later write wins).
    """
    lock = Path(folder) / f".{name}.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
