"""Everything the app reads, and the only module that caches (Streamlit's `st.cache_data`).

The index is cached under a key made of the folder, the stat of every episode file in it and
the content of its curation marks (read through `qwopkit.dataset.read_marks`, which re-reads
the marks file only when it changed): a new recording, a rewritten file or a new mark gives a
new key, anything else is answered from memory without opening a file. Under the app's cache
the dataset library keeps its own per-folder attribute cache, so even a new key costs little
on a large folder. One episode's arrays are cached by the file's stat.

Bad files are rows too: `error` holds the one-line reason and the other columns are empty.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from qwopkit.adapter.features import ACTION_KEYS, SEED_OBS_FIELDS, states_from_seed_observations
from qwopkit.adapter.openqwop.layout import STATE_INDEX
from qwopkit.adapter.openqwop.physics import GROUND_TOP_Y, UNITS_PER_METRE
from qwopkit.app.folder import DataFolder, Entry
from qwopkit.dataset import (
    EpisodeError,
    EpisodeWarning,
    build_index,
    read_episode,
    read_marks,
    read_splits,
    split_members,
)
from qwopkit.dataset.attributes import episode_source

# Columns the app adds to the dataset library's index.
SOURCE, ERROR = "source", "error"
# The library's index columns the app reads (docs/dataset.md), for an index with no rows.
EMPTY_COLUMNS = ("path", "file", "player", "session", "index", "start_time", "outcome", "distance",
                 "hud_time", "steps", "kept", "exclude_reason", "tags", "rating", "note", "mu_method",
                 "imported")


@dataclass
class Index:
    """The folder's index: one row per file (bad ones with `error` set) and what went wrong."""

    df: pd.DataFrame
    marks_error: str = ""  # the marks file is damaged: marks shown are those stored in the files

    @property
    def good(self) -> pd.DataFrame:
        return self.df[self.df[ERROR] == ""]

    @property
    def bad(self) -> pd.DataFrame:
        return self.df[self.df[ERROR] != ""]


def source_of(player: str, imported: bool) -> str:
    """"imported" (from the seed's files), "bot" (a scripted player: bot-NAME) or "recorded"."""
    return episode_source(player, imported)


def load_index(folder: DataFolder) -> Index:
    """The index of the folder, from memory unless a file or a mark changed."""
    listing = folder.listing()
    marks_error = ""
    try:
        marks = read_marks(folder.root)
    except EpisodeError as exc:
        marks, marks_error = {}, str(exc)
    digest = hashlib.sha1(repr(listing).encode())
    digest.update(json.dumps(marks, sort_keys=True, default=str).encode())
    df = _index(str(folder.root), digest.hexdigest(), not marks_error, _listing=listing)
    return Index(df, marks_error)


@st.cache_data(max_entries=16, show_spinner="reading the folder's index...")
def _index(root: str, key: str, marks: bool, _listing: tuple[Entry, ...]) -> pd.DataFrame:
    # `key` stands for the listing and the marks (a leading underscore keeps an argument out of
    # Streamlit's hash: hashing 2,000 entries costs more than this digest).
    readable = [f"{root}/{e.name}" for e in _listing if not e.problem]
    problems = {f"{root}/{e.name}": e.problem for e in _listing if e.problem}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EpisodeWarning)
        df = build_index(readable, marks=marks) if readable else build_index_empty()
    reasons = _reasons(caught, set(readable) - set(df["path"]))
    problems.update(reasons)
    df[SOURCE] = [source_of(p, i) for p, i in zip(df["player"], df["imported"])]
    df[ERROR] = ""
    if problems:
        bad = pd.DataFrame({"path": list(problems), "file": [p.rsplit("/", 1)[1] for p in problems],
                            ERROR: list(problems.values())})
        for column in ("player", "session", "outcome", "exclude_reason", "note", "mu_method", SOURCE):
            bad[column] = ""  # text cells of an error row read as blank, not "None"
        bad["tags"] = [[] for _ in range(len(bad))]
        df = pd.concat([df, bad], ignore_index=True)
        df = df.sort_values("file", kind="stable", ignore_index=True)
    return df


def build_index_empty() -> pd.DataFrame:
    """An index with no rows (`build_index` wants at least one file), with the columns the app uses."""
    df = pd.DataFrame({c: [] for c in EMPTY_COLUMNS})
    df["start_time"] = pd.to_datetime(df["start_time"], utc=True)
    return df


def _reasons(caught: list[warnings.WarningMessage], missing: set[str]) -> dict[str, str]:
    """Each skipped file's reason, from the one-line warning the library gave for it."""
    out = {}
    for w in caught:
        text = str(w.message)
        for path in missing:
            if text.startswith(path + ": "):
                out[path] = text[len(path) + 2:]
    for path in missing - set(out):
        out[path] = "could not be indexed"
    return out


# ----------------------------------------------------------------------------- one episode
@dataclass
class Run:
    """What the episode and compare views draw, per game update (or per decision when imported)."""

    name: str
    meta: dict[str, Any]
    steps: int
    has_state: bool
    time: np.ndarray  # seconds since the spawn, at each row of the curves
    torso_speed: np.ndarray  # m/s, forward
    torso_height: np.ndarray  # m above the track
    distance: np.ndarray  # m
    distance_estimated: bool  # imported without positions: integrated from the torso's speed
    key_time: np.ndarray  # start of each key row (updates, or decisions when imported)
    keys: np.ndarray  # mask held (Q=1 W=2 O=4 P=8)
    key_step: float  # how long each key row lasts, s
    actions: np.ndarray  # (T,)
    mu: np.ndarray  # (T, 11)
    decision_time: np.ndarray  # (T,) s
    replay_states: np.ndarray = field(repr=False)  # rows to draw (raw states or rebuilt)
    replay_fps: float = 30.0
    replay_note: str = ""


def load_run(folder: DataFolder, name: str) -> Run:
    """One episode, ready to draw. Raises EpisodeError (also for a name outside the folder)."""
    path = folder.episode(name)
    st_ = path.stat()
    return _run(str(path), (st_.st_size, st_.st_mtime_ns, st_.st_ino), _marks_key(folder, name))


def _marks_key(folder: DataFolder, name: str) -> str | None:
    """The episode's own marks as text (part of its cache key); None if the marks file is damaged."""
    try:
        return json.dumps(read_marks(folder.root).get(name, {}), sort_keys=True, default=str)
    except EpisodeError:
        return None


@st.cache_data(max_entries=24, show_spinner="reading the episode...")
def _run(path: str, stamp: tuple[int, int, int], marks: str | None) -> Run:
    ep = read_episode(path, marks=marks is not None)
    meta = ep.meta
    ups = float(meta["updates_per_second"])
    frame_skip = int(meta["frame_skip"])
    dt = frame_skip / ups
    t = len(ep.actions)
    decision_time = np.arange(t) * dt
    name = path.rsplit("/", 1)[1]
    if ep.state is not None and ep.keys is not None:  # both or neither (the format's rule)
        s = ep.state
        time: np.ndarray = np.arange(len(s)) / ups
        return Run(
            name=name, meta=meta, steps=t, has_state=True, time=time,
            torso_speed=s[:, STATE_INDEX["torso.vx"]] / UNITS_PER_METRE,
            torso_height=(GROUND_TOP_Y - s[:, STATE_INDEX["torso.y"]]) / UNITS_PER_METRE,
            distance=s[:, STATE_INDEX["distance"]], distance_estimated=False,
            key_time=np.arange(len(ep.keys)) / ups, keys=ep.keys.astype(np.uint8), key_step=1 / ups,
            actions=ep.actions, mu=ep.mu, decision_time=decision_time,
            replay_states=s, replay_fps=ups,
        )
    obs = ep.observations.astype(np.float64)
    time = np.arange(len(obs)) * dt
    # An imported run's decisions lasted what the player's recorder took (the seed's: 3.39
    # updates on average, not frame_skip's 3): its HUD time per decision, where the import
    # inferred one, sets the time axis and the replay's pace, so that the replay lasts as long
    # as the run's HUD time says.
    hud = np.asarray(ep.infos.get("hud_time", np.full(len(obs), np.nan)), dtype=np.float64)
    if len(hud) == len(obs) and np.isfinite(hud).all() and hud[-1] > hud[0] and t:
        time = hud - hud[0]
        dt = float(time[-1] / t)
        decision_time = time[:-1]
    vx = obs[:, SEED_OBS_FIELDS.index("torso.vx")]
    distance = np.asarray(ep.infos["distance"], dtype=np.float64)
    estimated = not np.isfinite(distance).all()
    note = ""
    if ep.meta["observation_fields"] != list(SEED_OBS_FIELDS):
        replay = np.zeros((0, len(STATE_INDEX)))
        note = "This imported run has no raw state and not the seed's 71 features: it cannot be replayed."
    else:
        if estimated:  # positions along the track were not recorded: integrate the torso's speed
            distance = np.concatenate([[0.0], np.cumsum(vx[:-1] * np.diff(time))]) / UNITS_PER_METRE
        keys = np.append(ACTION_KEYS[ep.actions], 0)
        replay = states_from_seed_observations(obs, distance * UNITS_PER_METRE, distance=distance,
                                               hud_time=time, keys=keys)
        note = ("Imported run without raw state: the runner is drawn from its 71 recorded features "
                f"(one frame per decision, {1 / dt:.1f} per second)"
                + ("; its place on the track is estimated from the torso's speed." if estimated else "."))
    return Run(
        name=name, meta=meta, steps=t, has_state=False, time=time, torso_speed=vx / UNITS_PER_METRE,
        torso_height=(GROUND_TOP_Y - obs[:, SEED_OBS_FIELDS.index("torso.y")]) / UNITS_PER_METRE,
        distance=distance, distance_estimated=estimated,
        key_time=decision_time, keys=ACTION_KEYS[ep.actions].astype(np.uint8), key_step=dt,
        actions=ep.actions, mu=ep.mu, decision_time=decision_time,
        replay_states=replay, replay_fps=1 / dt, replay_note=note,
    )


# ----------------------------------------------------------------------------- splits
def load_splits(folder: DataFolder) -> dict[str, dict[str, Any]]:
    """The folder's named splits (raises EpisodeError for a damaged splits file)."""
    return read_splits(folder.root)


def split_part_names(folder: DataFolder, name: str, part: str) -> set[str]:
    """File names in one part of a split (only those directly in the folder)."""
    return {p.name for p in split_members(folder.root, name, part) if p.parent == folder.root}

