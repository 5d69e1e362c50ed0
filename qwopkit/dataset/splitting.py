"""Making named train / valid splits of episodes (stored by splits.py in `splits.json`).

A split shares out the kept episodes; the excluded ones are listed under "excluded" and are in
neither part, so that the validation fraction is a fraction of what is learnt from (an
excluded episode in a part would be dropped at load time, and a part could end up empty).
Episodes recorded, or re-included, after a split was made are in neither part until the split
is made again. `include_excluded` shares out every readable episode instead (readers still
skip the excluded ones).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from qwopkit.dataset.errors import DatasetParameterError, EpisodeError
from qwopkit.dataset.index import build_index
from qwopkit.dataset.paths import PathSpec
from qwopkit.dataset.schema import now_iso
from qwopkit.dataset.splits import common_folder, write_split


def _n_valid(n: int, fraction: float) -> int:
    """How many of n go to valid: the rounded fraction, but both parts non-empty when n >= 2."""
    k = int(round(fraction * n))
    if fraction > 0 and n >= 2:
        k = min(max(k, 1), n - 1)
    return k


def make_split(specs: PathSpec, name: str, *, by: str = "episode", valid_fraction: float = 0.2,
               seed: int = 0, folder: str | Path | None = None, overwrite: bool = False,
               include_excluded: bool = False) -> dict[str, Any]:
    """Make a seeded train / valid split of the kept episodes and store it under `name`.

    :param by: "episode" (episodes shuffled) or "player" (players shuffled, so that no player
        is in both parts: validation then measures generalisation to new people).
    :param folder: where splits.json goes; default the folder holding all the episodes.
    :param include_excluded: share out the excluded episodes too.
    """
    if by not in ("episode", "player"):
        raise DatasetParameterError("by", f"must be 'episode' or 'player', got {by!r}")
    if not 0 <= valid_fraction < 1:
        raise DatasetParameterError("valid_fraction", f"must be in [0, 1), got {valid_fraction}")
    if not isinstance(name, str) or not name or "\x00" in name:
        raise DatasetParameterError("name", f"bad split name {name!r}")
    every = build_index(specs, marks=not include_excluded)
    if every.empty:
        raise EpisodeError(name, "no readable episodes to split")
    paths = [Path(p) for p in every["path"]]
    root = Path(folder) if folder is not None else common_folder(paths)
    real_root = os.path.realpath(root)
    every_rel = [os.path.relpath(os.path.realpath(p), real_root).replace(os.sep, "/") for p in paths]
    if any(r.startswith("../") for r in every_rel):
        raise DatasetParameterError("folder", f"{root}: the episodes must be inside the splits folder")
    shared = [bool(k) or include_excluded for k in every["kept"]]
    df = every[shared]
    rel = [r for r, s in zip(every_rel, shared) if s]
    if df.empty:
        raise EpisodeError(name, f"all {len(every)} episodes are excluded: nothing to split")
    rng = np.random.default_rng(seed)
    split: dict[str, Any] = {"by": by, "seed": seed, "valid_fraction": valid_fraction, "created": now_iso()}
    if by == "episode":
        order = sorted(rel)
        perm = rng.permutation(len(order))
        valid = {order[i] for i in perm[:_n_valid(len(order), valid_fraction)]}
    else:
        players = sorted(set(df["player"]))
        if len(players) < 2 and valid_fraction > 0:
            raise DatasetParameterError("by", f"'player' needs at least 2 players, found {len(players)}")
        perm = rng.permutation(len(players))
        valid_players = sorted(players[i] for i in perm[:_n_valid(len(players), valid_fraction)])
        valid = {r for r, player in zip(rel, df["player"], strict=True) if player in valid_players}
        split["valid_players"] = valid_players
    split["train"] = sorted(r for r in rel if r not in valid)
    split["valid"] = sorted(valid)
    split["excluded"] = sorted(r for r, s in zip(every_rel, shared) if not s)
    write_split(root, name, split, overwrite=overwrite)
    return split
