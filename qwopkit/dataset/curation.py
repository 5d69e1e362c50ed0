"""Curation marks (kept / excluded with a reason, tags, rating 0-5, note) in a sidecar file.

Marks live in `marks.json` beside the episodes, keyed by file name, and override the marks in
each file's root attributes (the values it was recorded with). Why a sidecar and not in-place
HDF5 attribute writes: HDF5 has no journal, so a process killed while it rewrites an object
header or the superblock of a file opened 'r+' can leave the whole file unreadable, arrays
included. Marking never opens an episode for writing, so it cannot damage one; the sidecar is
replaced atomically (qwopkit.atomic) under a folder lock, so concurrent markers never lose
each other's updates. Nothing is ever deleted by marking. The entries are checked with the
same rules as the attributes they override (attributes.py); a marks file that breaks them is
an error for its whole folder, since its exclusions cannot be trusted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from qwopkit.atomic import folder_lock, write_json_atomic
from qwopkit.dataset.attributes import MARK_FIELDS, attribute_problem
from qwopkit.dataset.errors import DatasetParameterError, EpisodeError
from qwopkit.dataset.reader import open_checked
from qwopkit.dataset.schema import now_iso

MARKS_FILE = "marks.json"
MARKS_FORMAT = "qwopkit-marks"
MARKS_VERSION = 1

_cache: dict[Path, tuple[int, int, int, dict[str, dict[str, Any]]]] = {}


def marks_path(folder: str | Path) -> Path:
    return Path(folder) / MARKS_FILE


def _entry_problem(name: Any, entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return f"entry {name!r} is not an object"
    for key in MARK_FIELDS:
        if key in entry:
            problem = attribute_problem(key, entry[key], {})
            if problem:
                return f"entry {name!r}: {key} {problem}"
    if "updated" in entry and not isinstance(entry["updated"], str):
        return f"entry {name!r}: updated must be text"
    return None


def _load(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0][:80]
        raise EpisodeError(path, f"unreadable marks file ({reason})") from None
    if not isinstance(data, dict) or data.get("format") != MARKS_FORMAT:
        raise EpisodeError(path, f"not a {MARKS_FORMAT} file")
    if data.get("version") != MARKS_VERSION or isinstance(data.get("version"), bool):
        raise EpisodeError(path, f"marks version {data.get('version')!r}; this qwopkit reads {MARKS_VERSION}")
    marks = data.get("marks", {})
    if not isinstance(marks, dict):
        raise EpisodeError(path, "'marks' is not an object")
    for name, entry in marks.items():
        problem = _entry_problem(name, entry)
        if problem:
            raise EpisodeError(path, problem)
    return marks


def read_marks(folder: str | Path) -> dict[str, dict[str, Any]]:
    """The marks of a folder's episodes, by file name ({} without a marks file)."""
    path = marks_path(folder)
    try:
        st = path.stat()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise EpisodeError(path, f"unreadable marks file ({exc.strerror or exc})") from None
    key = Path(folder).absolute()
    cached = _cache.get(key)
    stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
    if cached and cached[:3] == stamp:
        return cached[3]
    marks = _load(path)
    _cache[key] = (*stamp, marks)
    return marks


def marks_for(episode_path: str | Path) -> dict[str, Any]:
    """The sidecar marks of one episode file ({} if it has none)."""
    p = Path(episode_path)
    return read_marks(p.parent).get(p.name, {})


def _clean_tags(tags: Iterable[str], parameter: str) -> list[str]:
    out: list[str] = []
    for tag in tags:
        if not isinstance(tag, str):
            raise DatasetParameterError(parameter, f"bad tag {tag!r} (not text)")
        tag = tag.strip()
        if not tag or any(c in tag for c in ",\x00"):
            raise DatasetParameterError(parameter, f"bad tag {tag!r} (empty, or contains a comma)")
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
    bad_rating = isinstance(rating, bool) or not (isinstance(rating, int) and 0 <= rating <= 5)
    if rating is not None and bad_rating:
        raise DatasetParameterError("rating", f"must be an integer 0-5, got {rating!r}")
    if kept is True and exclude_reason is not None:
        raise DatasetParameterError("kept", "cannot keep and exclude at once")
    for name, text in (("note", note), ("exclude_reason", exclude_reason)):
        if text is not None and attribute_problem(name, text, {}):
            raise DatasetParameterError(name, attribute_problem(name, text, {}) or "")
    add, remove = _clean_tags(add_tags, "add_tags"), _clean_tags(remove_tags, "remove_tags")

    current: dict[Path, dict[str, Any]] = {}
    for p in paths:
        checked = open_checked(p)  # raises EpisodeError for anything that is not a good episode
        checked.file.close()
        current[checked.path] = {k: checked.meta[k] for k in MARK_FIELDS}

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
