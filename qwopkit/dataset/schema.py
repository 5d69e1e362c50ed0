"""The episode file, format version 1: names, datasets, layout rules and decision boundaries.

docs/episode-format.md is the human-readable spec; this module, attributes.py (the root
attributes) and values.py (the values) are the same spec as code. The action set and the
default observation columns are declared in qwopkit.spaces: every episode is checked against
them, never against another file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np

from qwopkit.spaces import ACTION_NAMES, N_ACTIONS, SEED_OBS_FIELDS, SEED_OBS_SIZE

FORMAT = "qwopkit-episode"
FORMAT_VERSION = 1
SUFFIX = ".h5"

ACTION_SET = ACTION_NAMES
OBSERVATION_FIELDS = SEED_OBS_FIELDS  # the declared default layout of `observations`
OBS_SIZE = SEED_OBS_SIZE
UPDATES_PER_SECOND = 30
DEFAULT_FRAME_SKIP = 3
MAX_KEY_MASK = 15  # keys are 4-bit masks: Q=1 W=2 O=4 P=8

GAME_OPENQWOP = "openqwop"
GAME_ORIGINAL = "qwop-original"
# The physics a run was made with (attribute `physics`): a recording is checked by replaying it
# only against its own physics. openqwop-1: the Box2D 2.3 re-creation (until 2026-12), which no
# longer ships; openqwop-2: the exact core (the original's physics, update for update).
PHYSICS_OPENQWOP_1 = "openqwop-1"
PHYSICS_OPENQWOP = "openqwop-2"
PHYSICS_ORIGINAL = "qwop-original"

OUTCOMES = ("finished", "fell", "timeout", "aborted")
TERMINAL_OUTCOMES = ("finished", "fell")
# Imports from the seed cannot tell a fall from a finish: only imported episodes may say so.
UNKNOWN_OUTCOME = "unknown"
NO_SEED = -1  # HDF5 attributes cannot be None: -1 stands for "no seed"

# Datasets with one row per decision (T) or per decision boundary (T + 1), and their dtypes.
DECISION_DATASETS: dict[str, np.dtype] = {
    "observations": np.dtype(np.float32),
    "actions": np.dtype(np.uint8),
    "rewards": np.dtype(np.float32),
    "terminations": np.dtype(np.bool_),
    "truncations": np.dtype(np.bool_),
    "mu": np.dtype(np.float32),
    "infos/distance": np.dtype(np.float64),
    "infos/hud_time": np.dtype(np.float64),
}
# Raw per-update data; absent in imported episodes (both or neither).
RAW_DATASETS: dict[str, np.dtype] = {"state": np.dtype(np.float64), "keys": np.dtype(np.uint8)}
ALL_DATASETS: dict[str, np.dtype] = {**DECISION_DATASETS, **RAW_DATASETS}
INFO_KEYS = ("distance", "hud_time")


def now_iso() -> str:
    """The current time as ISO 8601 UTC with a Z, to the second."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def n_decisions(n_updates: int, frame_skip: int) -> int:
    """Decisions covering `n_updates` updates: the last one may be cut short by the end of the run."""
    return -(-n_updates // frame_skip)


def decision_bounds(n_updates: int, frame_skip: int) -> np.ndarray:
    """Update index at each decision boundary: 0, k, 2k, ..., and N last (T + 1 values)."""
    t = n_decisions(n_updates, frame_skip)
    return np.minimum(np.arange(t + 1, dtype=np.int64) * frame_skip, n_updates)


def check_decisions(shapes: Mapping[str, tuple[int, ...]], n_obs: int) -> int:
    """Check the per-decision datasets' shapes against each other; returns T."""
    obs = tuple(shapes["observations"])
    if len(obs) != 2 or obs[0] < 1 or obs[1] != n_obs:
        raise ValueError(f"observations have shape {obs}, expected (T+1, {n_obs})")
    t = obs[0] - 1
    expect = {"actions": (t,), "rewards": (t,), "terminations": (t,), "truncations": (t,),
              "mu": (t, N_ACTIONS), "infos/distance": (t + 1,), "infos/hud_time": (t + 1,)}
    for name, shape in expect.items():
        if name in shapes and tuple(shapes[name]) != shape:
            raise ValueError(f"length mismatch: {name} has shape {tuple(shapes[name])}, "
                             f"expected {shape} for {t} decisions")
    return t


def check_layout(shapes: Mapping[str, tuple[int, ...]], dtypes: Mapping[str, np.dtype],
                 meta: Mapping[str, Any]) -> int:
    """Raise ValueError (one line) unless the datasets' shapes and dtypes fit each other and
    `meta`; returns T."""
    for name in DECISION_DATASETS:
        if name not in shapes:
            raise ValueError(f"missing dataset {name!r}")
    raw = [name for name in RAW_DATASETS if name in shapes]
    if len(raw) == 1:
        raise ValueError(f"dataset {raw[0]!r} without its partner ('state' and 'keys' go together)")
    for name, dtype in ALL_DATASETS.items():
        if name in dtypes and np.dtype(dtypes[name]) != dtype:
            raise ValueError(f"dataset {name!r} has dtype {np.dtype(dtypes[name])}, expected {dtype}")

    t = check_decisions(shapes, len(meta["observation_fields"]))
    if raw:
        keys, state = tuple(shapes["keys"]), tuple(shapes["state"])
        n_state = len(meta["state_fields"])
        if len(keys) != 1:
            raise ValueError(f"keys have shape {keys}, expected (N,)")
        if state != (keys[0] + 1, n_state):
            raise ValueError(f"length mismatch: state has shape {state}, expected ({keys[0] + 1}, {n_state})")
        want = n_decisions(keys[0], meta["frame_skip"])
        if want != t:
            raise ValueError(f"length mismatch: {keys[0]} updates at frame_skip {meta['frame_skip']} "
                             f"make {want} decisions, the file has {t}")
    elif meta["state_fields"]:
        raise ValueError(f"state_fields names {len(meta['state_fields'])} columns but there is no 'state'")
    return t


def _name_part(text: str) -> str:
    # '-' separates the parts of a file name and ':' (as in "bot:greedy") is unsafe on some systems.
    return re.sub(r"[^A-Za-z0-9_.]+", "_", text).strip("_.") or "x"


def episode_filename(player: str, session: str, episode_index: int) -> str:
    """`<player>-<session>-<nnnn>.h5`, with characters other than letters, digits, _ and . as _."""
    return f"{_name_part(player)}-{_name_part(session)}-{episode_index:04d}{SUFFIX}"
