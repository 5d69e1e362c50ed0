"""Reading episode files: the one set of checks every reader runs, and the fast array reads.

`open_checked(path)` is the read path: the file must be a regular HDF5 file (not a temporary
one); its format and version, then every attribute (attributes.py); its datasets must be real
datasets of this file (hard links, no external or virtual storage) whose declared rows are all
stored, with the format's dtypes and lengths (schema.py); and the per-decision values must pass
values.py (the raw state and keys too, with `raw=True`). Anything else is an EpisodeError
naming the file, one line; h5py's own exceptions never escape.

Higher layers build on it: episodes.py (EpisodeFile with curation marks), the cache, the
index, and transitions.py, which runs the same checks on the arrays it reads in bulk.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from qwopkit.atomic import is_temp_name
from qwopkit.dataset.attributes import check_meta, decode_attrs
from qwopkit.dataset.errors import EpisodeError
from qwopkit.dataset.schema import ALL_DATASETS, DECISION_DATASETS, RAW_DATASETS, check_layout
from qwopkit.dataset.values import check_decision_values

# What h5py raises for a damaged file besides OSError: the C library's errors surface as any of
# these (a bit flip in a header can make a shape, a type or a name unreadable).
H5_ERRORS = (OSError, RuntimeError, KeyError, ValueError, TypeError, IndexError, OverflowError,
             AttributeError, SystemError, MemoryError)


def h5_reason(exc: BaseException) -> str:
    # h5py says e.g. "Unable to synchronously open file (file signature not found)": keep the cause.
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    match = re.search(r"\((.*)\)\s*$", text)
    return match.group(1) if match else text


def regular_file_stat(path: Path) -> os.stat_result:
    """The stat of a regular file (following symlinks), or EpisodeError saying what it is."""
    if is_temp_name(path):
        raise EpisodeError(path, "still being written (temporary file); not read")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        what = "a dangling symlink" if os.path.islink(path) else "no such file"
        raise EpisodeError(path, what) from None
    except OSError as exc:
        what = "a symlink loop" if exc.errno == errno.ELOOP else (exc.strerror or str(exc))
        raise EpisodeError(path, what) from None
    if not stat.S_ISREG(st.st_mode):
        kind = ("a folder" if stat.S_ISDIR(st.st_mode) else "a named pipe" if stat.S_ISFIFO(st.st_mode)
                else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "a socket"
                if stat.S_ISSOCK(st.st_mode) else "not a regular file")
        raise EpisodeError(path, f"not a regular file ({kind})")
    return st


def open_h5(path: Path) -> h5py.File:
    """Open a regular HDF5 file read-only (never a pipe or a device: opening one could block),
    or raise EpisodeError saying why not."""
    regular_file_stat(path)
    try:
        return h5py.File(path, "r")
    except H5_ERRORS as exc:
        raise EpisodeError(path, f"not a readable HDF5 file ({h5_reason(exc)})") from None


@contextlib.contextmanager
def episode_errors(path: Path) -> Iterator[None]:
    """Turn every way a damaged file can fail into one EpisodeError line naming it."""
    try:
        yield
    except EpisodeError:
        raise
    except ValueError as exc:  # our checks: already one line about the file's content
        raise EpisodeError(path, str(exc).splitlines()[0] if str(exc) else "invalid") from None
    except H5_ERRORS as exc:
        raise EpisodeError(path, f"unreadable ({h5_reason(exc)})") from None


def _stored_completely(dsid: h5py.h5d.DatasetID) -> bool:
    """Whether every declared element is in the file: HDF5 returns zeros (the fill value) for
    rows that were declared but never written, as in a file cut short or resized by hand."""
    plist = dsid.get_create_plist()
    layout = plist.get_layout()
    if layout == h5py.h5d.CHUNKED:
        shape, chunk = dsid.shape, plist.get_chunk()
        needed = int(np.prod([-(-s // c) for s, c in zip(shape, chunk)])) if all(shape) else 0
        return dsid.get_num_chunks() == needed
    nbytes = int(np.prod(dsid.shape, dtype=np.int64)) * dsid.dtype.itemsize
    return dsid.get_storage_size() == nbytes


def open_datasets(f: h5py.File) -> dict[str, h5py.h5d.DatasetID]:
    """The format's datasets present in an open file, opened with h5py's low-level API (per-file
    overhead, not bytes, limits reading thousands of short episodes); ValueError for a foreign
    layout: a link, a group, external or virtual storage, rows declared but not stored."""
    links = f.id.links
    if links.exists(b"infos") and links.get_info(b"infos").type != h5py.h5l.TYPE_HARD:
        raise ValueError("'infos' is a link, not a group of this file")
    out: dict[str, h5py.h5d.DatasetID] = {}
    for name in ALL_DATASETS:
        key = name.encode()
        if "/" in name and not links.exists(key.split(b"/")[0]):
            continue
        if not links.exists(key):
            continue
        if links.get_info(key).type != h5py.h5l.TYPE_HARD:
            raise ValueError(f"{name!r} is a link, not a dataset of this file")
        if h5py.h5o.get_info(f.id, key).type != h5py.h5o.TYPE_DATASET:
            raise ValueError(f"{name!r} is not a dataset")
        dsid = h5py.h5d.open(f.id, key)
        plist = dsid.get_create_plist()
        if plist.get_layout() == h5py.h5d.VIRTUAL or plist.get_external_count():
            raise ValueError(f"dataset {name!r} keeps its data outside this file")
        if not _stored_completely(dsid):
            rows = dsid.shape[0] if dsid.shape else 0
            raise ValueError(f"dataset {name!r} declares {rows} rows but does not store them all")
        out[name] = dsid
    return out


@dataclass
class CheckedFile:
    """An open episode file that passed the checks: its attributes as stored, layout, and the
    per-decision arrays read while checking them."""

    path: Path
    file: h5py.File
    meta: dict[str, Any]
    shapes: dict[str, tuple[int, ...]]
    dtypes: dict[str, np.dtype]
    arrays: dict[str, np.ndarray]

    @property
    def steps(self) -> int:
        return self.shapes["actions"][0]

    @property
    def has_state(self) -> bool:
        return "state" in self.shapes


Structure = tuple[dict[str, Any], dict[str, tuple[int, ...]], dict[str, np.dtype],
                  dict[str, h5py.h5d.DatasetID]]


def check_structure(f: h5py.File) -> Structure:
    """Attributes and layout of an open file (and its datasets, opened); ValueError (one line)
    on the first problem."""
    meta = decode_attrs(f.attrs)
    check_meta(meta)
    ids = open_datasets(f)
    shapes, dtypes = {k: v.shape for k, v in ids.items()}, {k: v.dtype for k, v in ids.items()}
    check_layout(shapes, dtypes, meta)
    return meta, shapes, dtypes, ids


def read_checked(ids: dict[str, h5py.h5d.DatasetID], meta: dict[str, Any],
                 names: Iterable[str]) -> dict[str, np.ndarray]:
    """Read whole datasets and check their values; ValueError on the first problem."""
    arrays = {}
    for name in names:
        arrays[name] = np.empty(ids[name].shape, ids[name].dtype)
        read_into(ids[name], arrays[name])
    check_decision_values(meta, arrays)
    return arrays


def check_open_file(f: h5py.File, path: Path, *, raw: bool = False) -> CheckedFile:
    """Run the read path's checks on an open file (also one not yet published). Raises EpisodeError."""
    with episode_errors(path):
        meta, shapes, dtypes, ids = check_structure(f)
        names = [*DECISION_DATASETS, *(RAW_DATASETS if raw and "state" in shapes else ())]
        arrays = read_checked(ids, meta, names)
    return CheckedFile(path, f, meta, shapes, dtypes, arrays)


def open_checked(path: str | Path, *, raw: bool = False) -> CheckedFile:
    """Open an episode file through the read path; the caller closes `.file`. Raises EpisodeError."""
    path = Path(path)
    f = open_h5(path)
    try:
        return check_open_file(f, path, raw=raw)
    except BaseException:
        f.close()
        raise


def inspect_file(path: str | Path, *, values: bool = True) -> CheckedFile:
    """The checks of `open_checked` (values optional), file closed afterwards. Raises EpisodeError."""
    path = Path(path)
    with open_h5(path) as f, episode_errors(path):
        meta, shapes, dtypes, ids = check_structure(f)
        arrays = read_checked(ids, meta, DECISION_DATASETS) if values else {}
        return CheckedFile(path, f, meta, shapes, dtypes, arrays)


# ----------------------------------------------------------------------------- bulk reads
def dataset_ids(f: h5py.File, names: Iterable[str]) -> dict[str, h5py.h5d.DatasetID]:
    """Open datasets of an open file with h5py's low-level API, checking each one's dtype.

    Loading thousands of short episodes is limited by per-file overhead, not bytes; the
    low-level calls halve it. Raises ValueError for a missing or mistyped dataset.
    """
    out = {}
    for name in names:
        try:
            dsid = h5py.h5d.open(f.id, name.encode())
        except KeyError:
            raise ValueError(f"missing dataset {name!r}") from None
        expected = ALL_DATASETS[name]
        if dsid.dtype != expected:
            raise ValueError(f"dataset {name!r} has dtype {dsid.dtype}, expected {expected}")
        out[name] = dsid
    return out


def read_into(dsid: h5py.h5d.DatasetID, out: np.ndarray) -> None:
    """Read a whole dataset into `out`, a C-contiguous array (or slice) of exactly its shape.

    The shape check is what makes the low-level read safe: HDF5 writes the whole dataset.
    """
    if out.shape != dsid.shape or not out.flags.c_contiguous:
        raise ValueError(f"buffer of shape {out.shape} for a dataset of shape {dsid.shape}")
    if out.size:
        dsid.read(h5py.h5s.ALL, h5py.h5s.ALL, out)
