"""The index: one DataFrame row per episode, read from root attributes only (fast on thousands).

The index does not read arrays, so it does not catch every damaged file: `validate` does.
Files whose attributes cannot be read are skipped with a warning.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from .curation import apply_marks, marks_for
from .progress import track
from .reader import PathSpec, h5_reason, open_h5, resolve_paths
from .schema import EpisodeError, EpisodeWarning, decode_attrs

COLUMNS = ["path", "file", "player", "session", "index", "start_time", "outcome", "distance",
           "hud_time", "steps", "kept", "exclude_reason", "tags", "rating", "note", "mu_method",
           "imported", "game", "frame_skip"]
_ATTRS = ("player", "session", "episode_index", "start_time", "outcome", "distance", "hud_time",
          "kept", "exclude_reason", "tags", "rating", "note", "mu_method", "imported", "game", "frame_skip")


def index_row(path: str | Path, *, marks: bool = True) -> dict[str, Any]:
    """One episode's index row. Raises EpisodeError."""
    path = Path(path)
    f = open_h5(path)
    try:
        with f:
            meta = decode_attrs(f.attrs, _ATTRS)
            actions = f.get("actions")
            if actions is None:
                raise ValueError("missing dataset 'actions'")
            steps = actions.shape[0]
    except ValueError as exc:
        raise EpisodeError(path, str(exc)) from None
    except (OSError, RuntimeError, KeyError) as exc:
        raise EpisodeError(path, f"unreadable ({h5_reason(exc)})") from None
    if marks:
        meta = apply_marks(meta, marks_for(path))
    meta["index"] = meta.pop("episode_index")
    return {"path": str(path), "file": path.name, "steps": steps, **meta}


def build_index(specs: PathSpec, *, marks: bool = True, progress: bool = False) -> pd.DataFrame:
    """A DataFrame with one row per readable episode (columns: COLUMNS); bad files warn and skip."""
    rows = []
    paths = resolve_paths(specs)
    for path in track(paths, "indexing", total=len(paths), enabled=progress):
        try:
            rows.append(index_row(path, marks=marks))
        except EpisodeError as exc:
            warnings.warn(str(exc), EpisodeWarning, stacklevel=2)
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
