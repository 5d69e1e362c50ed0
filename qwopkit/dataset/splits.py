"""Named train / valid splits, stored in `splits.json` in the dataset folder.

    {"by-player": {"train": ["kurodo-s1-0000.h5", ...], "valid": [...], "by": "player",
                   "seed": 0, "valid_fraction": 0.2, "valid_players": [...], "created": "..."}}

Entries are paths relative to the folder holding splits.json (plain file names for a flat
dataset). A split lists every readable episode, excluded ones too: marks are honoured when the
data is loaded, so re-including an episode later does not move it between parts. Episodes
recorded after a split was made are in neither part until the split is made again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import folder_lock, write_json_atomic
from .index import build_index
from .reader import PathSpec, resolve_paths
from .schema import EpisodeError, now_iso

SPLITS_FILE = "splits.json"
PARTS = ("train", "valid")


def splits_path(folder: str | Path) -> Path:
    return Path(folder) / SPLITS_FILE


def common_folder(paths: list[Path]) -> Path:
    """The deepest folder holding all the files: where their splits.json lives by default."""
    return Path(os.path.commonpath([str(p.resolve().parent) for p in paths]))


def read_splits(folder: str | Path) -> dict[str, dict[str, Any]]:
    """All splits of a folder ({} without a splits file)."""
    path = splits_path(folder)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EpisodeError(path, f"unreadable splits file ({exc})") from None
    if not isinstance(data, dict):
        raise EpisodeError(path, "not a JSON object of named splits")
    for name, split in data.items():
        if not isinstance(split, dict) or not all(isinstance(split.get(p), list) for p in PARTS):
            raise EpisodeError(path, f"split {name!r} lacks 'train' and 'valid' lists")
    return data


def _n_valid(n: int, fraction: float) -> int:
    """How many of n go to valid: the rounded fraction, but both parts non-empty when n >= 2."""
    k = int(round(fraction * n))
    if fraction > 0 and n >= 2:
        k = min(max(k, 1), n - 1)
    return k


def make_split(specs: PathSpec, name: str, *, by: str = "episode", valid_fraction: float = 0.2,
               seed: int = 0, folder: str | Path | None = None, overwrite: bool = False) -> dict[str, Any]:
    """Make a seeded train / valid split of the episodes and store it under `name`.

    :param by: "episode" (episodes shuffled) or "player" (players shuffled, so that no player
        is in both parts: validation then measures generalisation to new people).
    :param folder: where splits.json goes; default the folder holding all the episodes.
    """
    if by not in ("episode", "player"):
        raise EpisodeError("--by", f"must be 'episode' or 'player', got {by!r}")
    if not 0 <= valid_fraction < 1:
        raise EpisodeError("--valid", f"must be in [0, 1), got {valid_fraction}")
    if not name or "\x00" in name:
        raise EpisodeError("split name", f"bad name {name!r}")
    df = build_index(resolve_paths(specs), marks=False)
    if df.empty:
        raise EpisodeError(name, "no readable episodes to split")
    paths = [Path(p) for p in df["path"]]
    root = Path(folder) if folder is not None else common_folder(paths)
    rel = [os.path.relpath(p.resolve(), root.resolve()).replace(os.sep, "/") for p in paths]
    if any(r.startswith("../") for r in rel):
        raise EpisodeError(root, "the episodes must be inside the splits folder")
    rng = np.random.default_rng(seed)
    split: dict[str, Any] = {"by": by, "seed": seed, "valid_fraction": valid_fraction, "created": now_iso()}
    if by == "episode":
        order = sorted(rel)
        perm = rng.permutation(len(order))
        valid = {order[i] for i in perm[:_n_valid(len(order), valid_fraction)]}
    else:
        players = sorted(set(df["player"]))
        if len(players) < 2 and valid_fraction > 0:
            raise EpisodeError("--by player", f"needs at least 2 players, found {len(players)}")
        perm = rng.permutation(len(players))
        valid_players = sorted(players[i] for i in perm[:_n_valid(len(players), valid_fraction)])
        valid = {r for r, player in zip(rel, df["player"], strict=True) if player in valid_players}
        split["valid_players"] = valid_players
    split["train"] = sorted(r for r in rel if r not in valid)
    split["valid"] = sorted(valid)
    root.mkdir(parents=True, exist_ok=True)
    with folder_lock(root, SPLITS_FILE):
        splits = read_splits(root)
        if name in splits and not overwrite:
            raise EpisodeError(splits_path(root), f"split {name!r} exists (use overwrite / --force)")
        splits[name] = split
        write_json_atomic(splits_path(root), splits)
    return split


def split_members(folder: str | Path, name: str, part: str) -> set[Path]:
    """Resolved paths of the episodes in one part of a named split."""
    if part not in PARTS:
        raise EpisodeError("--part", f"must be 'train' or 'valid', got {part!r}")
    splits = read_splits(folder)
    if name not in splits:
        raise EpisodeError(splits_path(folder), f"no split named {name!r}")
    return {(Path(folder) / r).resolve() for r in splits[name][part]}
