"""The index: one DataFrame row per episode, for browsing and filtering thousands quickly.

Each file goes through the read path's checks (attributes, layout and per-decision values)
once, after which the attribute cache (cache.py) answers until the file changes. Files that
fail are skipped with a warning. The columns follow from the attribute table (attributes.py).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from qwopkit.dataset.attributes import ATTRIBUTES, apply_marks
from qwopkit.dataset.cache import EpisodeCache
from qwopkit.dataset.curation import marks_for
from qwopkit.dataset.errors import DatasetParameterError, EpisodeError, EpisodeWarning
from qwopkit.dataset.paths import PathSpec, resolve_paths
from qwopkit.dataset.progress import track

_ATTR_COLUMNS = [(a.column, a.name) for a in ATTRIBUTES if a.column]
COLUMNS = ["path", "file", *(column for column, _ in _ATTR_COLUMNS)]
COLUMNS.insert(COLUMNS.index("hud_time") + 1, "steps")


def index_row(path: str | Path, *, marks: bool = True, cache: EpisodeCache | None = None) -> dict[str, Any]:
    """One episode's index row. Raises EpisodeError."""
    path = Path(path)
    entry = (cache or EpisodeCache(enabled=False)).get(path)
    meta = apply_marks(entry.meta, marks_for(path)) if marks else entry.meta
    row = {"path": str(path), "file": path.name, "steps": entry.steps}
    row.update({column: meta[name] for column, name in _ATTR_COLUMNS})
    return row


def build_index(specs: PathSpec, *, marks: bool = True, cache: bool = True,
                progress: bool = False) -> pd.DataFrame:
    """A DataFrame with one row per readable episode (columns: COLUMNS); bad files warn and skip.

    :param cache: use and update the folders' attribute caches (cache.py); off reads every file.
    """
    rows = []
    paths = resolve_paths(specs)
    episode_cache = EpisodeCache(enabled=cache)
    for path in track(paths, "indexing", total=len(paths), enabled=progress):
        try:
            rows.append(index_row(path, marks=marks, cache=episode_cache))
        except EpisodeError as exc:
            warnings.warn(str(exc), EpisodeWarning, stacklevel=2)
    episode_cache.save()
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
            reason = str(exc).splitlines()[0][:100] if str(exc) else type(exc).__name__
            raise DatasetParameterError("query", f"bad expression ({reason})") from None
    return out
