"""The overview: every episode of the folder in one sortable table, filters, a search box and charts.

Filters live in the sidebar and keep their values across views (`persist_state`). The rows
ticked in the table are the selection that the marks panel under it, the compare view and the
curate view work on; ticks follow the episodes (not the row numbers) when the filters change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from qwopkit.app import charts, data, state
from qwopkit.app.curate import mark_panel
from qwopkit.app.data import ERROR, SOURCE, Index
from qwopkit.app.folder import DataFolder
from qwopkit.dataset import EpisodeError, filter_index

ANY = "(any)"
SEARCHED = ("file", "player", "session", "outcome", "exclude_reason", "note", "mu_method", SOURCE)
DISTANCE_MAX = 100.0  # m: the track's length
HUD_TIME_MAX = 180.0  # s: the recorder's default time limit (physics.TIME_LIMIT; the app loads no engine)

# Widths in pixels: the default columns (and the error column when a file cannot be read) fit a
# 1400-pixel window beside the sidebar (Streamlit's 336 and the page's margins leave about 900);
# the rest show with "all columns", and the table then scrolls sideways.
COLUMNS = {
    "file": st.column_config.TextColumn("file", pinned=True, width=200),
    "player": st.column_config.TextColumn("player", width=80),
    "session": st.column_config.TextColumn("session", width=110),
    "start_time": st.column_config.DatetimeColumn("recorded at (UTC)", format="YYYY-MM-DD HH:mm:ss",
                                                  width=150),
    "outcome": st.column_config.TextColumn("outcome", width=70),
    "distance": st.column_config.NumberColumn("distance", format="%.1f m", width=70),
    "hud_time": st.column_config.NumberColumn("HUD time", format="%.1f s", width=70),
    "steps": st.column_config.NumberColumn("decisions", format="%d", width=70),
    "kept": st.column_config.CheckboxColumn("kept", width=45),
    "exclude_reason": st.column_config.TextColumn("why excluded", width=110),
    "tags": st.column_config.ListColumn("tags", width=90),
    "rating": st.column_config.NumberColumn("rating", format="%d", width=50),
    "note": st.column_config.TextColumn("note", width=120),
    "mu_method": st.column_config.TextColumn("mu method", width=90),
    SOURCE: st.column_config.TextColumn("source", width=65),
    ERROR: st.column_config.TextColumn("error", width=90),
}
DEFAULT_COLUMNS = ("file", "player", "outcome", "distance", "hud_time", "steps", "kept", "tags", "rating",
                   SOURCE)
TABLE_WIDTH = 900  # px a 1400-pixel window leaves the table beside the sidebar


@dataclass
class Filters:
    """What the sidebar asks for; empty means no condition."""

    search: str = ""
    players: list[str] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    kept: str = "all"  # "all", "kept", "excluded"
    tags: list[str] = field(default_factory=list)  # any of
    distance: tuple[float, float] | None = None  # None: any (also no distance at all)
    hud_time: tuple[float, float] | None = None
    split_part: set[str] | None = None  # file names in one part of a split


def apply_filters(df: pd.DataFrame, f: Filters) -> pd.DataFrame:
    """The rows matching every condition. Bad files (error rows) show unless a condition excludes them."""
    good, bad = df[df[ERROR] == ""], df[df[ERROR] != ""]
    kept = {"kept": True, "excluded": False}.get(f.kept)
    outcomes = [o for o in f.outcomes if o != "error"]
    if f.outcomes and not outcomes:  # only "error" asked for
        good = good.iloc[0:0]
    good = filter_index(good, player=f.players or None, outcome=outcomes or None, kept=kept)
    mask = pd.Series(True, index=good.index)
    if f.sources:
        mask &= good[SOURCE].isin(f.sources)
    if f.tags:
        wanted = set(f.tags)
        mask &= good["tags"].apply(lambda tags: bool(wanted & set(tags)))
    for column, bounds in (("distance", f.distance), ("hud_time", f.hud_time)):
        if bounds is not None:
            mask &= good[column].between(*bounds)
    if f.split_part is not None:
        mask &= good["file"].isin(f.split_part)
    good = good[mask]
    # Bad files have no player, outcome or marks: only conditions on those let them through.
    narrowed = bool(f.players or f.sources or kept is not None or f.tags or f.distance or f.hud_time
                    or f.split_part is not None)
    with_bad = not narrowed and (not f.outcomes or "error" in f.outcomes)
    out = pd.concat([good, bad]) if with_bad and len(bad) else good
    if f.search.strip():
        out = out[_haystack(out).str.contains(f.search.strip().lower(), regex=False)]
    return out.sort_values("file", kind="stable")


def _haystack(df: pd.DataFrame) -> pd.Series:
    text = df[list(SEARCHED)].astype(str).agg(" ".join, axis=1)
    tags = df["tags"].apply(lambda t: " ".join(t) if isinstance(t, list) else "")
    return (text + " " + tags + " " + df[ERROR].astype(str)).str.lower()


# ----------------------------------------------------------------------------- the sidebar's filters
def _top(values: pd.Series, floor: float) -> float:
    """The slider's upper end: `floor`, or the largest value rounded up if that is larger."""
    largest = pd.to_numeric(values, errors="coerce").max()
    return max(floor, float(np.ceil(largest))) if pd.notna(largest) else floor


def _range(where, label: str, key: str, top: float, fmt: str) -> tuple[float, float] | None:
    """A range slider from 0 to `top`; its full range means "any" (rows without a value included)."""
    bounds = (0.0, float(top))
    old = st.session_state.get(key)
    if old is not None and not (0.0 <= old[0] <= old[1] <= top):  # the slider would refuse it
        del st.session_state[key]
    value = where.slider(label, 0.0, float(top), bounds, step=1.0, format=fmt, key=key,
                         persist_state="session")
    return None if tuple(value) == bounds else (float(value[0]), float(value[1]))


def sidebar_filters(folder: DataFolder, index: Index) -> Filters:
    good = index.good
    side = st.sidebar
    side.subheader("Filters")
    search = side.text_input("Search", key="f:search", persist_state="session",
                             placeholder="file, player, tag, note...",
                             help="case-insensitive text in the file name, player, session, outcome, "
                                  "tags, note, exclusion reason, mu method or error")
    keep: dict[str, Any] = {"persist_state": "session"}  # filters keep their values in other views
    players = side.multiselect("player", sorted(good["player"].unique()), key="f:player", **keep)
    outcome_options = sorted(good["outcome"].unique()) + (["error"] if len(index.bad) else [])
    outcomes = side.multiselect("outcome", outcome_options, key="f:outcome", **keep)
    sources = side.multiselect("source", ["recorded", "bot", "imported"], key="f:source", **keep)
    kept = side.radio("kept", ["all", "kept", "excluded"], key="f:kept", horizontal=True, **keep)
    all_tags = sorted({t for tags in good["tags"] for t in tags})
    tags = side.multiselect("tag (any of)", all_tags, key="f:tag", **keep)
    distance = _range(side, "distance (m)", "f:distance", _top(good["distance"], DISTANCE_MAX), "%.0f m")
    hud_time = _range(side, "HUD time (s)", "f:hud_time", _top(good["hud_time"], HUD_TIME_MAX), "%.0f s")
    split_part = _split_filter(folder, side)
    return Filters(search, players, outcomes, sources, kept, tags, distance, hud_time, split_part)


def _split_filter(folder: DataFolder, side) -> set[str] | None:
    try:
        splits = data.load_splits(folder)
    except EpisodeError as exc:
        side.caption(f"splits: {exc}")
        return None
    options = [ANY] + [f"{name}: {part}" for name in splits for part in ("train", "valid")]
    pick = side.selectbox("split part", options, key="f:split", persist_state="session")
    if pick in (ANY, None):
        return None
    name, part = pick.rsplit(": ", 1)
    return data.split_part_names(folder, name, part)


# ----------------------------------------------------------------------------- the table
def _table(shown: pd.DataFrame) -> list[str]:
    """Draw the table; returns the ticked file names (kept across filter changes by name)."""
    files = shown["file"].tolist()
    signature = hash(tuple(files))
    if st.session_state.get("table:signature") != signature:
        # The table's selection is by row position: re-tick the same episodes in the new rows.
        ticked = set(state.selection())
        rows = [i for i, f in enumerate(files) if f in ticked]
        st.session_state["table"] = {"selection": {"rows": rows, "columns": [], "cells": []}}
        st.session_state["table:signature"] = signature
    every = st.toggle("all columns", key="overview:all-columns", persist_state="session",
                      help="also session, recording time, why excluded, note and mu method")
    columns = [c for c in COLUMNS if c in shown.columns and c != ERROR and (every or c in DEFAULT_COLUMNS)]
    if (shown[ERROR] != "").any():  # the reason next to the name, where it is seen
        columns.insert(1, ERROR)
    event = st.dataframe(shown[columns], key="table", on_select="rerun", selection_mode="multi-row",
                         hide_index=True, column_config=COLUMNS, height=min(38 + 35 * len(shown), 460))
    names = [files[i] for i in event.selection.rows if i < len(files)]
    state.set_selection(names)
    return names


def render(folder: DataFolder, index: Index) -> None:
    filters = sidebar_filters(folder, index)
    shown = apply_filters(index.df, filters)
    st.session_state["filtered"] = shown["file"].tolist()
    st.header("Overview")
    n_bad = len(index.bad)
    bad_text = f", {n_bad} file{'s' if n_bad != 1 else ''} that cannot be read (error rows)" if n_bad else ""
    st.caption(f"{len(shown)} of {len(index.df)} files shown; {len(index.good)} episodes{bad_text} "
               f"in {folder.root}")
    ticked = _table(shown)
    good_shown = shown[shown[ERROR] == ""]

    c1, c2, c3, c4 = st.columns([3, 1, 1, 1], vertical_alignment="bottom")
    options = good_shown["file"].tolist()
    first = options.index(ticked[0]) if ticked and ticked[0] in options else 0
    c1.selectbox("episode", options, index=first if options else None, key="overview:open",
                 placeholder="no episodes")
    c2.button("Open episode", key="overview:open-button", disabled=not options, width="stretch",
              on_click=lambda: state.go("Episode", episode=st.session_state["overview:open"]))
    c3.button(f"Compare ticked ({len(ticked)})", key="overview:compare", disabled=len(ticked) < 2,
              width="stretch", on_click=lambda: state.go("Compare", compare=list(ticked)))
    c4.button("Curate ticked", key="overview:curate", disabled=not ticked, width="stretch",
              on_click=lambda: state.go("Curate"))

    with st.expander(f"Mark the ticked episodes ({len(ticked)})", expanded=bool(ticked)):
        mark_panel(folder, ticked, "overview", note="" if ticked else "tick rows in the table to mark them")

    if len(good_shown):
        colours = charts.player_colours(index.good["player"].unique().tolist())
        left, right = st.columns(2)
        for where, chart in ((left, charts.per_player(good_shown, "distance", "distance (m)", colours)),
                             (right, charts.per_player(good_shown, "hud_time", "HUD time (s)", colours)),
                             (left, charts.runs_over_time(good_shown, colours)),
                             (right, charts.finish_rate(good_shown, colours))):
            where.altair_chart(chart, width="stretch")
