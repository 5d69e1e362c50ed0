"""The one atomic writer: every file qwopkit writes goes through `atomic_write`, plus a portable
folder lock and the cleaning of leftovers.

A file is written under a hidden temporary name in its destination folder (same file system,
so the rename is atomic), flushed and fsync'ed, then published under its final name and the
folder fsync'ed, so that a crash or a concurrent reader never sees a half-written file: at
worst a temporary file is left behind. Its name carries the writer's process id,
`.<stem>.<pid>-<random><suffix>.tmp`, so that `leftovers` can tell a dead writer's file from
one being written right now.

    with atomic_write("models/bc.zip") as tmp:        # any library writing to a path
        save(tmp)
    with atomic_open("report.json", "w") as f:         # or to an open file
        f.write(text)

Imports nothing from qwopkit's parts, so that every part may use it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from filelock import FileLock

TMP_SUFFIX = ".tmp"
_TMP_NAME = re.compile(r"^\.(?P<stem>.*)\.(?P<pid>\d+)-[0-9a-f]{8}(?P<suffix>\.[^.]*)?\.tmp$")


def temp_path(final: str | Path) -> Path:
    """A unique temporary name beside `final`: `x.h5` -> `.x.<pid>-<random>.h5.tmp`.

    The leading dot and the `.tmp` ending hide it from `*.h5` globs; the random part lets two
    writers of one process work side by side.
    """
    final = Path(final)
    return final.with_name(f".{final.stem}.{os.getpid()}-{uuid.uuid4().hex[:8]}{final.suffix}{TMP_SUFFIX}")


def is_temp_name(path: str | Path) -> bool:
    """True for a file that is still being written (or was left by a crash)."""
    name = Path(path).name
    return name.startswith(".") and name.endswith(TMP_SUFFIX)


def temp_writer_pid(path: str | Path) -> int | None:
    """The process id in a temporary file's name (None for other names)."""
    match = _TMP_NAME.match(Path(path).name)
    return int(match.group("pid")) if match else None


def fsync_path(path: str | Path) -> None:
    """Flush a closed file's data to disk (h5py's and zipfile's flush only reach the OS cache)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: str | Path) -> None:
    """Make a rename in `folder` durable."""
    with contextlib.suppress(OSError):  # some systems cannot open folders: best effort
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def publish(tmp: Path, final: Path, *, overwrite: bool, fsync: bool = True) -> None:
    """Move a complete temporary file to its final name, durably.

    Without `overwrite` a hard link is made first: linking fails if `final` exists, so two
    writers racing for one name can never clobber each other's file (FileExistsError).
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
    if fsync:
        fsync_dir(final.parent)


@contextlib.contextmanager
def atomic_write(path: str | Path, *, overwrite: bool = True, fsync: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside `path`; when the block ends normally, publish it as `path`.

    The caller writes the whole file to the temporary path (and closes it). If the block
    raises, the temporary file is removed and `path` is untouched. Without `overwrite`, an
    existing `path` raises FileExistsError and nothing is replaced. `fsync=False` only for
    throwaway data (benchmarks).
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(final)
    try:
        yield tmp
        if fsync:
            fsync_path(tmp)
        publish(tmp, final, overwrite=overwrite, fsync=fsync)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", *, overwrite: bool = True,
                encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """`open()` for writing through `atomic_write`: mode "w" (text) or "wb" (bytes)."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes whole files: mode 'w' or 'wb', not {mode!r}")
    with atomic_write(path, overwrite=overwrite) as tmp:
        with open(tmp, mode, encoding=None if mode == "wb" else encoding) as fh:
            yield fh


def write_text_atomic(path: str | Path, text: str, *, overwrite: bool = True) -> Path:
    """Write a text file (UTF-8) atomically; returns its path."""
    with atomic_open(path, "w", overwrite=overwrite) as fh:
        fh.write(text)
    return Path(path)


def write_json_atomic(path: str | Path, data: Any, *, indent: int | None = 1) -> Path:
    """Write JSON atomically (sorted keys; compact with indent=None); returns its path."""
    text = json.dumps(data, indent=indent, sort_keys=True, ensure_ascii=False)
    return write_text_atomic(path, text + "\n")


@contextlib.contextmanager
def folder_lock(folder: str | Path, name: str, timeout: float = 60.0) -> Iterator[None]:
    """An exclusive lock for a read-modify-write of one sidecar file in `folder`.

    The app and the CLI may mark episodes at the same time; without the lock one of two
    concurrent updates would be lost (both read the old sidecar, the later write wins). The
    `filelock` package makes it work on every platform; the lock file `.<name>.lock` stays.
    """
    with FileLock(str(Path(folder) / f".{name}.lock"), timeout=timeout):
        yield


def _writer_alive(pid: int, written: float) -> bool:
    """Whether process `pid` runs and is old enough to have written a file last changed at `written`."""
    import psutil

    try:
        started = psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.Error:  # exists but cannot be inspected: assume it is the writer
        return True
    return started <= written + 1.0  # a process started after the last write reused the id


def leftovers(folder: str | Path) -> list[Path]:
    """Temporary files in `folder` whose writer is gone: its process id is free, or now belongs
    to a process started after the file was last written. Files being written are not listed."""
    out = []
    folder = Path(folder)
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    for path in entries:
        pid = temp_writer_pid(path)
        if pid is None or not path.is_file() or path.is_symlink():
            continue
        try:
            written = path.stat().st_mtime
        except OSError:
            continue
        if pid != os.getpid() and not _writer_alive(pid, written):
            out.append(path)
    return out


def clean_leftovers(folder: str | Path) -> list[Path]:
    """Remove `leftovers(folder)`; returns what was removed."""
    removed = []
    for path in leftovers(folder):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed
