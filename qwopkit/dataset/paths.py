"""Which files the specs name: files, folders (their `*.h5`) and globs (`**` allowed).

Each file is listed once, however many ways it is reached (a symlinked folder inside a
glob's `**`, or a symlink loop, reaches the same file many times). Folders never list hidden
or temporary files; a glob may match temporary files so that the readers can warn about them.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from pathlib import Path

from qwopkit.atomic import is_temp_name
from qwopkit.dataset.errors import EpisodeError
from qwopkit.dataset.schema import SUFFIX

PathSpec = str | Path | Iterable[str | Path]

# The one default data folder, relative to the current folder: where `qwop-record` writes runs
# and where `qwop-data` and `qwop-app` look when given none.
DEFAULT_DATA = Path("data")
NO_DEFAULT_DATA = ("there is no data/ folder here yet: qwop-record writes runs into it; "
                   "the bundled runs are in examples/data")


def _listing(folder: Path) -> list[Path]:
    # Sub-folders are not listed, even named *.h5, so that resolving a listing again gives it back.
    try:
        return sorted(q for q in folder.iterdir()
                      if q.suffix == SUFFIX and not q.name.startswith(".") and not q.is_dir())
    except OSError as exc:
        raise EpisodeError(folder, f"cannot list the folder ({exc.strerror or exc})") from None


def resolve_paths(specs: PathSpec) -> list[Path]:
    """Episode files named by paths, folders and globs, in order; each file once.

    A spec that matches nothing is an EpisodeError. A path that exists but is not a regular
    file (a pipe, a device, a symlink loop) is returned, so that the readers can say what it
    is; a folder is listed instead (its sub-folders are not).
    """
    if isinstance(specs, (str, Path)):
        specs = [specs]
    out: dict[str, Path] = {}  # real path -> the shortest way found to it
    for spec in specs:
        p = Path(spec)
        if p.is_dir():
            found = _listing(p)
        elif os.path.lexists(p):
            found = [p]
        else:
            found = sorted(Path(m) for m in glob.glob(str(spec), recursive=True)
                           if m.endswith(SUFFIX) or (is_temp_name(Path(m)) and SUFFIX in Path(m).name))
            found = [q for q in found if not q.is_dir()]
        if not found:
            raise EpisodeError(spec, "no episode files match")
        for q in found:
            real = os.path.realpath(q)  # never raises: a loop resolves as far as it can
            if real not in out or len(q.parts) < len(out[real].parts):
                out[real] = q
    return list(dict.fromkeys(out.values()))
