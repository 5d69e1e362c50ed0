"""The data folder the app was started with, and the only way from a typed name to a path in it.

Every name that reaches the app from outside (an episode named in the query string, a folder
typed for an export, a Minari dataset id) goes through `DataFolder`, which refuses anything that
would leave the folder: absolute paths, `..`, and symlinks whose target lies outside. Episodes
are the folder's own episode files, as the dataset library lists a folder (not its subfolders,
as `qwop-data ls DIR`). A name is checked for length and depth before the file system sees it,
and a symlink loop is a file that cannot be read, so no name or entry can make a view fail.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from qwopkit.dataset import DEFAULT_DATA, NO_DEFAULT_DATA, EpisodeError, resolve_paths

# A file name longer than the file system allows gives an OSError on every use; a folder nested
# thousands deep makes path resolution recurse until Python gives up. Both are refused first.
NAME_MAX = 255  # bytes, per name (Linux, macOS, Windows)
MAX_DEPTH = 32  # folders below the data folder


class UnsafePathError(EpisodeError):
    """A name that would reach outside the data folder (or is not a name at all)."""


@dataclass(frozen=True)
class Entry:
    """One episode file of the folder as listed: its stat, or why it is not read."""

    name: str
    stamp: tuple[int, int, int]  # size, mtime_ns, inode: changes with any rewrite
    problem: str = ""


class DataFolder:
    """The folder of episodes, resolved once; names are checked against it."""

    def __init__(self, path: str | Path) -> None:
        given = Path(path).expanduser()
        if not given.exists():
            raise EpisodeError(given, "no such folder")
        if not given.is_dir():
            raise EpisodeError(given, "not a folder")
        self.root = given.resolve()

    def __repr__(self) -> str:
        return f"DataFolder({str(self.root)!r})"

    # ------------------------------------------------------------------ names -> paths
    def inside(self, relative: str, *, what: str = "path") -> Path:
        """`root / relative` if it stays inside the folder (symlinks resolved); else UnsafePathError."""
        if not isinstance(relative, str) or not relative.strip() or "\x00" in relative:
            raise UnsafePathError(what, f"not a usable name: {relative!r}")
        text = relative.strip().replace("\\", "/")
        pure = PurePosixPath(text)
        if pure.is_absolute() or Path(text).is_absolute() or Path(text).drive:
            raise UnsafePathError(relative, f"an absolute {what} is not allowed: give one inside {self.root}")
        if ".." in pure.parts:
            raise UnsafePathError(relative, f"'..' is not allowed in a {what}: it must stay inside "
                                            f"{self.root}")
        if len(pure.parts) > MAX_DEPTH:
            raise UnsafePathError(f"{text[:60]}...", f"a {what} nested deeper than {MAX_DEPTH} folders is "
                                                     "not allowed")
        if any(len(os.fsencode(part)) > NAME_MAX for part in pure.parts):
            raise UnsafePathError(f"{text[:60]}...", f"a {what} with a name longer than {NAME_MAX} bytes "
                                                     "is not allowed")
        path = self.root.joinpath(*pure.parts)
        real = _resolve(path)
        if real is None:
            raise UnsafePathError(relative, "cannot be resolved (a symlink loop)")
        if not _within(real, self.root):
            raise UnsafePathError(relative, f"leads outside the data folder {self.root} (a symlink)")
        return path

    def episode(self, name: str) -> Path:
        """The path of the episode file `name` (a bare file name in the folder)."""
        path = self.inside(name, what="episode name")
        if path.parent != self.root or path.name.startswith("."):
            raise UnsafePathError(name, "not an episode file name of the data folder (a file directly in it)")
        try:
            is_file = path.is_file()
        except OSError as exc:
            raise EpisodeError(name, f"cannot be read ({exc.strerror})") from None
        if not is_file:
            raise EpisodeError(name, f"no such episode in {self.root}")
        return path

    # ------------------------------------------------------------------ listing
    def listing(self) -> tuple[Entry, ...]:
        """The folder's episode files, sorted, with stats (the index's cache key).

        A symlink pointing outside the folder is listed with a problem and never opened.
        """
        try:
            paths = resolve_paths(self.root)
        except EpisodeError:  # no episode files (yet)
            return ()
        out = []
        for path in paths:
            problem = ""
            real = _resolve(path)
            if real is not None and path.is_symlink() and not _within(real, self.root):
                problem = "a symlink to a file outside the data folder: not read"
            try:
                st = path.lstat() if problem else path.stat()
                stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
            except OSError as exc:  # removed since it was listed, or a dangling symlink
                stamp, problem = (0, 0, 0), problem or f"cannot be read ({exc.strerror})"
            out.append(Entry(path.name, stamp, problem))
        return tuple(out)


def _resolve(path: Path) -> Path | None:
    """The real path, or None for a symlink loop (Python 3.11 raises RuntimeError, 3.13 OSError)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return None


def _within(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def default_data() -> Path:
    """The one default data folder (data/ of the current folder), where qwop-record writes."""
    return DEFAULT_DATA


def missing_default_data() -> str:
    """What to say when the default data folder is not there (yet)."""
    return NO_DEFAULT_DATA + " (qwop-app --data examples/data)"
