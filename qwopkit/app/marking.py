"""Curation changes with undo, on top of the dataset library's `mark` (no Streamlit here).

Every write goes through `qwopkit.dataset.mark`: atomic, under the folder's lock, re-reading the
marks file inside the lock, so a recorder or `qwop-data mark` working on the same folder at the
same time loses nothing. A `Change` remembers each file's marks from just before it; undoing it
writes those back (again through `mark`), grouping files that had the same marks so that a
change to 500 episodes is undone in a few locked writes, not 500.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from qwopkit.app.folder import DataFolder
from qwopkit.dataset import EpisodeError, mark, open_episode

# The mark fields, as `mark` takes and returns them (kept, exclusion reason, tags, rating, note).
FIELDS = ("kept", "exclude_reason", "tags", "rating", "note")


@dataclass
class Change:
    """One curation change: what it did, and each file's marks before and after."""

    description: str
    before: dict[str, dict[str, Any]] = field(default_factory=dict)  # by file name
    after: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def files(self) -> list[str]:
        return list(self.before)


def describe(n: int, *, kept: bool | None = None, exclude_reason: str | None = None,
             add_tags: Iterable[str] = (), remove_tags: Iterable[str] = (), rating: int | None = None,
             note: str | None = None) -> str:
    parts = []
    if exclude_reason is not None:
        parts.append("excluded" + (f" ({exclude_reason})" if exclude_reason else ""))
    elif kept:
        parts.append("kept")
    if list(add_tags):
        parts.append("tagged " + ", ".join(add_tags))
    if list(remove_tags):
        parts.append("untagged " + ", ".join(remove_tags))
    if rating is not None:
        parts.append(f"rated {rating}" if rating else "rating cleared")
    if note is not None:
        parts.append("note set" if note else "note cleared")
    return f"{' and '.join(parts) or 'marked'}: {n} episode{'s' if n != 1 else ''}"


def current_marks(folder: DataFolder, names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Each file's marks now (the file's own, with the marks file laid over them)."""
    out = {}
    for name in names:
        with open_episode(folder.episode(name)) as ep:
            out[name] = {k: ep.meta[k] for k in FIELDS}
    return out


def apply(folder: DataFolder, names: Iterable[str], *, kept: bool | None = None,
          exclude_reason: str | None = None, add_tags: Iterable[str] = (), remove_tags: Iterable[str] = (),
          rating: int | None = None, note: str | None = None) -> Change:
    """Mark the named episodes of the folder (all or nothing is checked first); returns the Change.

    Raises EpisodeError: a name outside the folder, a bad file, a bad tag or rating.
    """
    names = list(dict.fromkeys(names))
    if not names:
        raise EpisodeError("selection", "no episodes selected")
    add_tags, remove_tags = list(add_tags), list(remove_tags)
    paths = {name: folder.episode(name) for name in names}
    before = current_marks(folder, names)
    result = mark(list(paths.values()), kept=kept, exclude_reason=exclude_reason, add_tags=add_tags,
                  remove_tags=remove_tags, rating=rating, note=note)
    after = {p.name: dict(m) for p, m in result.items()}
    text = describe(len(names), kept=kept, exclude_reason=exclude_reason, add_tags=add_tags,
                    remove_tags=remove_tags, rating=rating, note=note)
    return Change(text, before, after)


def undo(folder: DataFolder, change: Change) -> None:
    """Write back each file's marks from before the change."""
    groups: dict[str, list[str]] = {}
    for name, marks in change.before.items():
        key = repr(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in marks.items()))
        groups.setdefault(key, []).append(name)
    for names in groups.values():
        old = change.before[names[0]]
        added = {t for n in names for t in change.after.get(n, {}).get("tags", [])} - set(old["tags"])
        restore_kept: dict[str, Any] = ({"kept": True} if old["kept"]
                                        else {"exclude_reason": old["exclude_reason"]})
        mark([folder.episode(n) for n in names], **restore_kept, add_tags=old["tags"],
             remove_tags=sorted(added), rating=old["rating"], note=old["note"])
