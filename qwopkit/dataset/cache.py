"""A cache of checked episode files' attributes, keyed by each file's size, modification time
and inode.

Reading an HDF5 attribute costs about 50 us whatever its size, so listing or loading thousands
of episodes is dominated by attribute reads. The index and the transition loader ask this cache
instead; it reads a file only when the file is new or changed (any rewrite changes its stat: a
new episode file, `rewrite_episode`'s replacement, an in-place edit), and then through the read
path's checks (reader.py). An entry records the decoded attributes, the layout's counts and
whether the per-decision values passed too. Each folder's cache is the hidden file
`.qwopkit-cache.json`, replaced atomically; losing or damaging it only costs time, and a folder
that cannot be written is simply not cached. Curation marks are not cached: they are applied
from marks.json after the cache. Files that fail are not cached (they are read again, and
warned about, every time).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qwopkit.atomic import write_json_atomic
from qwopkit.dataset.attributes import check_meta
from qwopkit.dataset.reader import inspect_file, regular_file_stat

CACHE_FILE = ".qwopkit-cache.json"
CACHE_VERSION = 2  # 2: entries are whole checked files (version 1 cached some attributes only)


@dataclass
class Entry:
    """What the cache knows of one checked file."""

    meta: dict[str, Any]
    steps: int  # decisions T
    updates: int | None  # game updates N (None without raw state)
    values_ok: bool  # the per-decision values passed the checks too


class EpisodeCache:
    """Checked entries per file; `save()` writes the folders that changed."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._folders: dict[Path, dict[str, dict[str, Any]]] = {}
        self._dirty: set[Path] = set()

    def _entries(self, folder: Path) -> dict[str, dict[str, Any]]:
        if folder not in self._folders:
            entries: dict[str, dict[str, Any]] = {}
            if self.enabled:
                try:
                    data = json.loads((folder / CACHE_FILE).read_text(encoding="utf-8"))
                    if data.get("version") == CACHE_VERSION and isinstance(data.get("files"), dict):
                        entries = data["files"]
                except (OSError, ValueError, AttributeError, RecursionError):  # absent or damaged
                    pass
            self._folders[folder] = entries
        return self._folders[folder]

    def get(self, path: Path, *, values: bool = True) -> Entry:
        """The checked entry of one file (values checked too unless `values=False`): cached if
        the file is unchanged, else read through the read path. Raises EpisodeError."""
        st = regular_file_stat(path)
        stamp = [st.st_size, st.st_mtime_ns, st.st_ino]
        entries = self._entries(path.parent)
        raw = entries.get(path.name)
        if isinstance(raw, dict) and raw.get("stat") == stamp:
            try:  # the cache file is not trusted: its entry must pass the attribute checks too
                entry = Entry(dict(raw["meta"]), int(raw["steps"]), raw["updates"], bool(raw["values_ok"]))
                check_meta(entry.meta)
                if entry.values_ok or not values:
                    return entry
            except (KeyError, TypeError, ValueError):  # a damaged entry: read the file again
                pass
        checked = inspect_file(path, values=values)
        entry = Entry(checked.meta, checked.steps, checked.shapes["keys"][0] if checked.has_state else None,
                      values)
        entries[path.name] = {"stat": stamp, "meta": entry.meta, "steps": entry.steps,
                              "updates": entry.updates, "values_ok": entry.values_ok}
        self._dirty.add(path.parent)
        return entry

    def save(self) -> None:
        """Write the caches of folders that gained entries (dropping files that are gone)."""
        if not self.enabled:
            return
        for folder in self._dirty:
            entries = self._folders[folder]
            try:
                present = set(os.listdir(folder))
                files = {name: e for name, e in entries.items() if name in present}
                write_json_atomic(folder / CACHE_FILE, {"version": CACHE_VERSION, "files": files},
                                  indent=None)
            except (OSError, ValueError):  # a read-only dataset is still readable, just not cached
                pass
        self._dirty.clear()
