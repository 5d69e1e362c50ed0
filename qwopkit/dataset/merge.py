"""Merging datasets: copy valid episodes into one folder, curation marks included.

Each copy is written under a temporary name, its root attributes updated with the marks the
source had in its folder's marks.json (safe: nobody else can see the copy yet), then published.
Sources are never modified. A name already taken by the same episode is skipped; by a
different one, it is an error for that file only.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from .atomic import fsync_path, publish, temp_path
from .progress import track
from .reader import EpisodeFile, PathSpec, resolve_paths
from .schema import DECISION_DATASETS, MARK_FIELDS, RAW_DATASETS, EpisodeError, encode_attrs


@dataclass
class MergeReport:
    copied: list[Path] = field(default_factory=list)
    already_there: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one line per file that was not merged


def same_episode(a: EpisodeFile, b: EpisodeFile) -> bool:
    """Same attributes (marks aside) and identical arrays."""
    strip = [k for k in a.file_meta if k not in MARK_FIELDS]
    if any(a.file_meta[k] != b.file_meta.get(k) for k in strip):
        return False
    names = [n for n in (*DECISION_DATASETS, *RAW_DATASETS) if n in a.shapes]
    if set(names) != {n for n in (*DECISION_DATASETS, *RAW_DATASETS) if n in b.shapes}:
        return False
    return all(np.array_equal(a.read(n), b.read(n), equal_nan=True) for n in names)


def _copy_one(ep: EpisodeFile, out: Path) -> Path | None:
    """Copy one episode with its marks into `out`; None if the same episode is already there."""
    dest = out / ep.path.name
    if dest.exists():
        with EpisodeFile(dest, marks=False) as other:
            if same_episode(ep, other):
                return None
        raise EpisodeError(ep.path, f"a different episode is already named {dest}")
    tmp = temp_path(dest)
    try:
        shutil.copyfile(ep.path, tmp)
        with h5py.File(tmp, "r+") as f:
            for key, value in encode_attrs(ep.meta).items():
                if key in MARK_FIELDS:
                    f.attrs[key] = value
        fsync_path(tmp)
        publish(tmp, dest, overwrite=False)
    except FileExistsError:
        tmp.unlink(missing_ok=True)
        raise EpisodeError(ep.path, f"{dest} appeared while copying") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest


def merge(specs: PathSpec, out_folder: str | Path, *, progress: bool = False) -> MergeReport:
    """Copy every valid episode the specs name into `out_folder` (bad ones are reported, not copied)."""
    out = Path(out_folder)
    out.mkdir(parents=True, exist_ok=True)
    report = MergeReport()
    paths = resolve_paths(specs)
    for path in track(paths, "merging", total=len(paths), enabled=progress):
        try:
            if path.resolve().parent == out.resolve():
                report.already_there.append(path)
                continue
            with EpisodeFile(path) as ep:
                dest = _copy_one(ep, out)
            (report.copied if dest else report.already_there).append(dest or path)
        except (EpisodeError, OSError) as exc:
            report.errors.append(str(exc))
    return report
