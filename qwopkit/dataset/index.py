"""The index: one DataFrame row per episode, from root attributes only (fast on thousands).

The index reads attributes and the shape of `observations`, through the attribute cache
(cache.py), and no arrays: it does not catch every damaged file (`validate` does). Files whose
attributes cannot be read are skipped with a warning.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from .cache import AttrCache
from .curation import apply_marks, marks_for
from .progress import track
from .reader import PathSpec, read_attrs, resolve_paths
from .schema import EpisodeError, EpisodeWarning

COLUMNS = ["path", "file", "player", "session", "index", "start_time", "outcome", "distance",
           "hud_time", "steps", "kept", "exclude_reason", "tags", "rating", "note", "mu_method",
           "imported", "game", "frame_skip"]
_KEYS = ("player", "session", "episode_index", "start_time", "outcome", "distance", "hud_time",
         "kept", "exclude_reason", "tags", "rating", "note", "mu_method", "imported", "game", "frame_skip",
         "obs_shape", "observation_fields")  # the last two: steps, and for to_transitions' later use


def index_row(path: str | Path, *, marks: bool = True, cache: AttrCache | None = None) -> dict[str, Any]:
    """One episode's index row. Raises EpisodeError."""
    path = Path(path)
    meta = (cache or AttrCache(enabled=False)).get(path, _KEYS, read_attrs)
    if marks:
        meta = apply_marks(meta, marks_for(path))
    row = {k: v for k, v in meta.items() if k not in ("episode_index", "obs_shape", "observation_fields")}
    return {"path": str(path), "file": path.name, "index": meta["episode_index"],
            "steps": meta["obs_shape"][0] - 1, **row}


def build_index(specs: PathSpec, *, marks: bool = True, cache: bool = True,
                progress: bool = False) -> pd.DataFrame:
    """A DataFrame with one row per readable episode (columns: COLUMNS); bad files warn and skip.

    :param cache: use and update the folders' attribute caches (cache.py); off reads every file.
    """
    rows = []
    paths = resolve_paths(specs)
    attr_cache = AttrCache(enabled=cache)
    for path in track(paths, "indexing", total=len(paths), enabled=progress):
        try:
            rows.append(index_row(path, marks=marks, cache=attr_cache))
        except EpisodeError as exc:
            warnings.warn(str(exc), EpisodeWarning, stacklevel=2)
    attr_cache.save()
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["start_time"] = pd.to_datetime(df["start_time"], utc=True, errors="coerce", format="ISO8601")
    return df


def filter_index(df: pd.DataFrame, *, player: str | Iterable[str] | None = None,
                 session: str | None = None, outcome: str | Iterable[str] | None = None,
                 kept: bool | None = None, tag: str | None = None, imported: bool | None = None,
                 min_distance: float | None = None, min_rating: int | None = None,
                 query: str | None = None) -> pd.DataFrame:
    """Rows matching every given condition; `query` is a pandas `DataFrame.query` expression."""
    mask = pd.Series(True, index=df.index)
    if player is not None:
        mask &= df["player"].isin([player] if isinstance(player, str) else list(player))
    if session is not None:
        mask &= df["session"] == session
    if outcome is not None:
        mask &= df["outcome"].isin([outcome] if isinstance(outcome, str) else list(outcome))
    if kept is not None:
        mask &= df["kept"] == kept
    if tag is not None:
        mask &= df["tags"].apply(lambda tags: tag in tags)
    if imported is not None:
        mask &= df["imported"] == imported
    if min_distance is not None:
        mask &= df["distance"] >= min_distance
    if min_rating is not None:
        mask &= df["rating"] >= min_rating
    out = df[mask]
    if query:
        try:
            out = out.query(query)
        except Exception as exc:  # pandas raises many types for a bad expression
            raise EpisodeError("--query", f"bad expression ({exc})") from None
    return out
