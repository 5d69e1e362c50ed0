"""Curation marks (kept / excluded with a reason, tags, rating 0-5, note) in a sidecar file.

Marks live in `marks.json` beside the episodes, keyed by file name, and override the marks in
each file's root attributes (the values it was recorded with). Why a sidecar and not in-place
HDF5 attribute writes: HDF5 has no journal, so a process killed while it rewrites an object
header or the superblock of a file opened 'r+' can leave the whole file unreadable, arrays
included. Marking never opens an episode for writing, so it cannot damage one; the sidecar is
replaced atomically (temporary file + os.replace) under a folder lock, so concurrent markers
never lose each other's updates. Nothing is ever deleted by marking. `qwop-data merge` folds
the marks into the copies it writes (new files, written under temporary names).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .atomic import folder_lock, write_json_atomic
from .schema import MARK_FIELDS, EpisodeError, now_iso

MARKS_FILE = "marks.json"
MARKS_FORMAT = "qwopkit-marks"
MARKS_VERSION = 1

_cache: dict[Path, tuple[int, int, dict[str, dict[str, Any]]]] = {}


def marks_path(folder: str | Path) -> Path:
    return Path(folder) / MARKS_FILE


def _check_entry(where: Path, name: str, entry: Any) -> None:
    if not isinstance(entry, dict):
        raise EpisodeError(where, f"entry {name!r} is not an object")
    kinds = {"kept": bool, "exclude_reason": str, "tags": list, "rating": int, "note": str}
    for key, value in entry.items():
        if key in kinds and not isinstance(value, kinds[key]):
            raise EpisodeError(where, f"entry {name!r}: {key} must be {kinds[key].__name__}")


def read_marks(folder: str | Path) -> dict[str, dict[str, Any]]:
    """The marks of a folder's episodes, by file name ({} without a marks file)."""
    path = marks_path(folder).resolve()
    try:
        st = path.stat()
    except FileNotFoundError:
        return {}
    cached = _cache.get(path)
    if cached and cached[:2] == (st.st_mtime_ns, st.st_size):
        return cached[2]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EpisodeError(path, f"unreadable marks file ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != MARKS_FORMAT:
        raise EpisodeError(path, f"not a {MARKS_FORMAT} file")
    if data.get("version") != MARKS_VERSION:
        raise EpisodeError(path, f"marks version {data.get('version')}; this qwopkit reads {MARKS_VERSION}")
    marks = data.get("marks", {})
    if not isinstance(marks, dict):
        raise EpisodeError(path, "'marks' is not an object")
    for name, entry in marks.items():
        _check_entry(path, name, entry)
    _cache[path] = (st.st_mtime_ns, st.st_size, marks)
    return marks


def marks_for(episode_path: str | Path) -> dict[str, Any]:
    """The sidecar marks of one episode file ({} if it has none)."""
    p = Path(episode_path)
    return read_marks(p.parent).get(p.name, {})


def apply_marks(meta: Mapping[str, Any], entry: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `meta` with the mark fields of `entry` laid over it."""
    out = dict(meta)
    out.update({k: entry[k] for k in MARK_FIELDS if k in entry})
    return out


def _clean_tags(tags: Iterable[str]) -> list[str]:
    out: list[str] = []
    for tag in tags:
        tag = tag.strip()
        if not tag or any(c in tag for c in ",\x00"):
            raise EpisodeError("--tag", f"bad tag {tag!r} (empty, or contains a comma)")
        if tag not in out:
            out.append(tag)
    return out


def mark(paths: Iterable[str | Path], *, kept: bool | None = None, exclude_reason: str | None = None,
         add_tags: Iterable[str] = (), remove_tags: Iterable[str] = (), rating: int | None = None,
         note: str | None = None) -> dict[Path, dict[str, Any]]:
    """Mark episodes; returns each file's resulting marks.

    `exclude_reason` excludes (kept = False) with that reason; `kept=True` keeps and clears the
    reason. Every file is checked as a readable episode before anything is written.
    """
    from .reader import EpisodeFile  # the reader applies marks, so import it lazily

    if rating is not None and not (isinstance(rating, int) and 0 <= rating <= 5):
        raise EpisodeError("--rating", f"must be an integer 0-5, got {rating!r}")
    if kept is True and exclude_reason is not None:
        raise EpisodeError("--keep", "cannot keep and exclude at once")
    if note is not None and "\x00" in note:
        raise EpisodeError("--note", "contains a NUL character")
    add, remove = _clean_tags(add_tags), _clean_tags(remove_tags)

    current: dict[Path, dict[str, Any]] = {}
    for p in paths:
        with EpisodeFile(p) as ep:  # raises EpisodeError for anything that is not an episode
            current[ep.path] = {k: ep.meta[k] for k in MARK_FIELDS}

    by_folder: dict[Path, list[Path]] = {}
    for p in current:
        by_folder.setdefault(p.parent, []).append(p)
    result: dict[Path, dict[str, Any]] = {}
    for folder, files in by_folder.items():
        with folder_lock(folder, MARKS_FILE):
            marks = dict(read_marks(folder))  # re-read under the lock: another marker may have written
            for p in files:
                entry = {**current[p], **marks.get(p.name, {})}
                if exclude_reason is not None:
                    entry["kept"], entry["exclude_reason"] = False, exclude_reason
                elif kept is not None:
                    entry["kept"] = kept
                    if kept:
                        entry["exclude_reason"] = ""
                tags = [t for t in entry["tags"] if t not in remove]
                entry["tags"] = tags + [t for t in add if t not in tags]
                if rating is not None:
                    entry["rating"] = rating
                if note is not None:
                    entry["note"] = note
                entry["updated"] = now_iso()
                marks[p.name] = entry
                result[p] = {k: entry[k] for k in MARK_FIELDS}
            write_json_atomic(marks_path(folder),
                              {"format": MARKS_FORMAT, "version": MARKS_VERSION, "marks": marks})
    return result
