"""Named train / valid splits, stored in `splits.json` in the dataset folder.

    {"by-player": {"train": ["kurodo-s1-0000.h5", ...], "valid": [...], "by": "player",
                   "seed": 0, "valid_fraction": 0.2, "valid_players": [...], "created": "..."}}

Entries are paths relative to the folder holding splits.json (plain file names for a flat
dataset). This module reads and writes the sidecar; splitting.py makes splits.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from qwopkit.atomic import folder_lock, write_json_atomic
from qwopkit.dataset.errors import DatasetParameterError, EpisodeError, EpisodeExistsError

SPLITS_FILE = "splits.json"
PARTS = ("train", "valid")


def splits_path(folder: str | Path) -> Path:
    return Path(folder) / SPLITS_FILE


def common_folder(paths: list[Path]) -> Path:
    """The deepest folder holding all the files: where their splits.json lives by default."""
    if not paths:
        raise DatasetParameterError("paths", "no episode files")
    return Path(os.path.commonpath([os.path.realpath(p.parent) for p in paths]))


def _entry_problem(entries: Any) -> bool:
    return not isinstance(entries, list) or not all(
        isinstance(e, str) and e and "\x00" not in e for e in entries)


def read_splits(folder: str | Path) -> dict[str, dict[str, Any]]:
    """All splits of a folder ({} without a splits file)."""
    path = splits_path(folder)
    if not os.path.lexists(path):
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0][:80]
        raise EpisodeError(path, f"unreadable splits file ({reason})") from None
    if not isinstance(data, dict):
        raise EpisodeError(path, "not a JSON object of named splits")
    for name, split in data.items():
        if not isinstance(split, dict) or any(_entry_problem(split.get(p)) for p in PARTS):
            raise EpisodeError(path, f"split {name!r} lacks 'train' and 'valid' lists of file names")
    return data


def write_split(folder: str | Path, name: str, split: dict[str, Any], *, overwrite: bool) -> None:
    """Store one split under `name` (atomically, under the folder's lock)."""
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    with folder_lock(root, SPLITS_FILE):
        splits = read_splits(root)
        if name in splits and not overwrite:
            raise EpisodeExistsError(splits_path(root), f"split {name!r} exists")
        splits[name] = split
        write_json_atomic(splits_path(root), splits)


def split_members(folder: str | Path, name: str, part: str) -> set[Path]:
    """Real paths of the episodes in one part of a named split."""
    if part not in PARTS:
        raise DatasetParameterError("part", f"must be 'train' or 'valid', got {part!r}")
    splits = read_splits(folder)
    if name not in splits:
        raise EpisodeError(splits_path(folder), f"no split named {name!r}")
    return {Path(os.path.realpath(Path(folder) / r)) for r in splits[name][part]}
