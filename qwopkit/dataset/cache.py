"""A cache of episode attributes, keyed by each file's size, modification time and inode.

Reading an HDF5 attribute costs about 50 us whatever its size, so listing or loading thousands
of episodes is dominated by attribute reads. The index and the transition loader ask this cache
instead; it reads a file only when the file is new or changed (any rewrite changes its stat: a
new episode file, `rewrite_episode`'s replacement, an in-place edit). Each folder's cache is the
hidden file `.qwopkit-cache.json`, replaced atomically; losing or damaging it only costs time,
and a folder that cannot be written is simply not cached. Curation marks are not cached: they
are applied from marks.json after the cache.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .atomic import write_json_atomic
from .schema import EpisodeError

CACHE_FILE = ".qwopkit-cache.json"
CACHE_VERSION = 1

Reader = Callable[[Path, tuple[str, ...]], dict[str, Any]]


class AttrCache:
    """Cached attribute values per file; `save()` writes the folders that changed."""

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
                except (OSError, ValueError, AttributeError):  # absent or damaged: start afresh
                    pass
            self._folders[folder] = entries
        return self._folders[folder]

    def get(self, path: Path, keys: tuple[str, ...], read: Reader) -> dict[str, Any]:
        """The values of `keys` for one file: cached if the file is unchanged, else `read(path, missing)`."""
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise EpisodeError(path, "no such file") from None
        stamp = [st.st_size, st.st_mtime_ns, st.st_ino]
        entries = self._entries(path.parent)
        entry = entries.get(path.name)
        valid = isinstance(entry, dict) and isinstance(entry.get("attrs"), dict)
        if not valid or entry.get("stat") != stamp:
            entry = {"stat": stamp, "attrs": {}}
        missing = tuple(k for k in keys if k not in entry["attrs"])
        if missing:
            entry["attrs"].update(read(path, missing))
            entries[path.name] = entry
            self._dirty.add(path.parent)
        return {k: entry["attrs"][k] for k in keys}

    def save(self) -> None:
        """Write the caches of folders that gained entries (dropping files that are gone)."""
        if not self.enabled:
            return
        for folder in self._dirty:
            entries = self._folders[folder]
            try:
                present = set(os.listdir(folder))
                files = {name: e for name, e in entries.items() if name in present}
                data = {"version": CACHE_VERSION, "files": files}
                write_json_atomic(folder / CACHE_FILE, data, indent=None)
            except OSError:  # a read-only dataset is still readable, just not cached
                pass
        self._dirty.clear()
