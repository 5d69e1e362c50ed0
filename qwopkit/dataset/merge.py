"""Merging datasets: copy valid episodes into one folder, curation marks included.

Each source goes through the read path with its raw data checked too; its copy is written
through the atomic writer, its root attributes updated with the marks the source had in its
folder's marks.json (safe: nobody else can see the copy yet), checked again as a reader would,
then published. Sources are never modified. A name already taken by the same episode is
skipped; by a different one, it is an error for that file only.
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from qwopkit.atomic import atomic_write
from qwopkit.dataset.attributes import MARK_FIELDS, encode_attrs
from qwopkit.dataset.episodes import EpisodeFile
from qwopkit.dataset.errors import EpisodeError
from qwopkit.dataset.paths import PathSpec, resolve_paths
from qwopkit.dataset.progress import track
from qwopkit.dataset.reader import check_open_file
from qwopkit.dataset.schema import ALL_DATASETS


@dataclass
class MergeReport:
    copied: list[Path] = field(default_factory=list)
    already_there: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one line per file that was not merged


def _same_value(x: object, y: object) -> bool:
    nan = isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y)
    return nan or x == y


def same_episode(a: EpisodeFile, b: EpisodeFile) -> bool:
    """Same attributes (marks aside) and identical arrays."""
    strip = [k for k in a.file_meta if k not in MARK_FIELDS]
    if not all(_same_value(a.file_meta[k], b.file_meta.get(k)) for k in strip):
        return False
    names = [n for n in ALL_DATASETS if n in a.shapes]
    if set(names) != {n for n in ALL_DATASETS if n in b.shapes}:
        return False
    return all(np.array_equal(a.read(n), b.read(n), equal_nan=True) for n in names)


def _copy_one(ep: EpisodeFile, out: Path) -> Path | None:
    """Copy one episode with its marks into `out`; None if the same episode is already there."""
    dest = out / ep.path.name
    if os.path.lexists(dest):
        with EpisodeFile(dest, marks=False, deep=True) as other:
            if same_episode(ep, other):
                return None
        raise EpisodeError(ep.path, f"a different episode is already named {dest}")
    try:
        with atomic_write(dest, overwrite=False) as tmp:
            shutil.copyfile(ep.path, tmp)
            with h5py.File(tmp, "r+") as f:
                for key, value in encode_attrs(ep.meta).items():
                    if key in MARK_FIELDS:
                        f.attrs[key] = value
                check_open_file(f, ep.path, raw=True)  # what is published is what was checked
    except FileExistsError:
        raise EpisodeError(ep.path, f"{dest} appeared while copying") from None
    return dest


def merge(specs: PathSpec, out_folder: str | Path, *, progress: bool = False) -> MergeReport:
    """Copy every valid episode the specs name into `out_folder` (bad ones are reported, not copied)."""
    out = Path(out_folder)
    out.mkdir(parents=True, exist_ok=True)
    report = MergeReport()
    paths = resolve_paths(specs)
    for path in track(paths, "merging", total=len(paths), enabled=progress):
        try:
            if os.path.realpath(path.parent) == os.path.realpath(out):
                report.already_there.append(path)
                continue
            with EpisodeFile(path, deep=True) as ep:
                dest = _copy_one(ep, out)
            (report.copied if dest else report.already_there).append(dest or path)
        except EpisodeError as exc:
            report.errors.append(str(exc))
        except OSError as exc:
            report.errors.append(f"{exc.filename or path}: {exc.strerror or exc}")
    return report
