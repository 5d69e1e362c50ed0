"""The episode file, format version 1: names, types, attributes and the checks every reader runs.

docs/episode-format.md is the human-readable spec; this module is the same spec as code. Both
the writer and the reader check layouts with `check_layout` and attributes with
`decode_attrs` / `encode_attrs`, so what one accepts the other reads.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import h5py
import numpy as np

from qwopkit import __version__ as qwopkit_version
from qwopkit.adapter.features import ACTION_NAMES, SEED_OBS_FIELDS, action_of_keys
from qwopkit.adapter.openqwop.layout import STATE_FIELDS

FORMAT = "qwopkit-episode"
FORMAT_VERSION = 1
SUFFIX = ".h5"

N_ACTIONS = len(ACTION_NAMES)
OBS_SIZE = len(SEED_OBS_FIELDS)
STATE_SIZE = len(STATE_FIELDS)
UPDATES_PER_SECOND = 30
DEFAULT_FRAME_SKIP = 3

GAME_OPENQWOP = "openqwop"
GAME_ORIGINAL = "qwop-original"

OUTCOMES = ("finished", "fell", "timeout", "aborted")
TERMINAL_OUTCOMES = ("finished", "fell")
# Imports from the seed cannot tell a fall from a finish: only imported episodes may say so.
UNKNOWN_OUTCOME = "unknown"

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
INFO_KEYS = ("distance", "hud_time")

# Root attributes and how each is stored. "list" is an HDF5 array of strings, "json" a JSON string.
ATTR_KINDS: dict[str, str] = {
    "format": "str",
    "format_version": "int",
    "game": "str",
    "game_version": "str",
    "player": "str",
    "session": "str",
    "episode_index": "int",
    "start_time": "str",
    "seed": "int",
    "frame_skip": "int",
    "updates_per_second": "int",
    "action_set": "list",
    "state_fields": "list",
    "observation_fields": "list",
    "outcome": "str",
    "distance": "float",
    "hud_time": "float",
    "kept": "bool",
    "exclude_reason": "str",
    "tags": "json",
    "rating": "int",
    "note": "str",
    "mu_method": "str",
    "mu_params": "json",
    "imported": "bool",
    "source": "str",
}
MARK_FIELDS = ("kept", "exclude_reason", "tags", "rating", "note")
NO_SEED = -1  # HDF5 attributes cannot be None: -1 stands for "no seed"


class EpisodeError(ValueError):
    """A file (or flag) that cannot be used; the message is one line naming it and the problem."""

    def __init__(self, where: object, what: str) -> None:
        self.where = str(where)
        self.what = what
        super().__init__(f"{where}: {what}")


class EpisodeWarning(UserWarning):
    """A bad file skipped while loading many: the others still load."""


def now_iso() -> str:
    """The current time as ISO 8601 UTC with a Z, to the second."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_meta(player: str, session: str, episode_index: int, **overrides: Any) -> dict[str, Any]:
    """Complete root attributes for a recorded openqwop episode; `overrides` replace any of them."""
    meta: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "game": GAME_OPENQWOP,
        "game_version": qwopkit_version,
        "player": player,
        "session": session,
        "episode_index": episode_index,
        "start_time": now_iso(),
        "seed": NO_SEED,
        "frame_skip": DEFAULT_FRAME_SKIP,
        "updates_per_second": UPDATES_PER_SECOND,
        "action_set": list(ACTION_NAMES),
        "state_fields": list(STATE_FIELDS),
        "observation_fields": list(SEED_OBS_FIELDS),
        "outcome": "aborted",
        "distance": math.nan,
        "hud_time": math.nan,
        "kept": True,
        "exclude_reason": "",
        "tags": [],
        "rating": 0,
        "note": "",
        "mu_method": "smoothed",
        "mu_params": {},
        "imported": False,
        "source": "",
    }
    unknown = set(overrides) - set(ATTR_KINDS)
    if unknown:
        raise ValueError(f"unknown episode attributes: {', '.join(sorted(unknown))}")
    meta.update(overrides)
    return meta


# ----------------------------------------------------------------------------- attributes
def _check_text(key: str, value: str) -> None:
    # HDF5 stores strings NUL-terminated and as UTF-8: either would silently change the text.
    if "\x00" in value:
        raise ValueError(f"attribute {key!r} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"attribute {key!r} is not valid Unicode text") from None


def check_meta(meta: Mapping[str, Any]) -> None:
    """Raise ValueError (one line) if the attributes break the format's rules."""
    missing = [k for k in ATTR_KINDS if k not in meta]
    if missing:
        raise ValueError(f"missing attributes: {', '.join(missing)}")
    unknown = [k for k in meta if k not in ATTR_KINDS]
    if unknown:  # they would not be written: refuse rather than drop them silently
        raise ValueError(f"unknown attributes: {', '.join(unknown)}")
    if meta["format"] != FORMAT:
        raise ValueError(f"format is {meta['format']!r}, not {FORMAT!r}")
    if meta["format_version"] != FORMAT_VERSION:
        raise ValueError(f"format version {meta['format_version']}; "
                         f"this qwopkit reads version {FORMAT_VERSION}")
    if tuple(meta["action_set"]) != ACTION_NAMES:
        raise ValueError(f"action set {list(meta['action_set'])} differs from {list(ACTION_NAMES)}")
    outcomes = OUTCOMES + ((UNKNOWN_OUTCOME,) if meta["imported"] else ())
    if meta["outcome"] not in outcomes:
        raise ValueError(f"outcome {meta['outcome']!r} is not one of {', '.join(outcomes)}")
    if not isinstance(meta["frame_skip"], int) or meta["frame_skip"] < 1:
        raise ValueError(f"frame_skip must be an integer >= 1, got {meta['frame_skip']!r}")
    if not 0 <= meta["rating"] <= 5:
        raise ValueError(f"rating must be 0-5, got {meta['rating']}")
    if not isinstance(meta["tags"], list) or not all(isinstance(t, str) for t in meta["tags"]):
        raise ValueError("tags must be a list of strings")
    if not isinstance(meta["mu_params"], dict):
        raise ValueError("mu_params must be a JSON object")
    for key, kind in ATTR_KINDS.items():
        value = meta[key]
        if kind == "str":
            if not isinstance(value, str):
                raise ValueError(f"attribute {key!r} must be text, got {type(value).__name__}")
            _check_text(key, value)
        elif kind == "list":
            for item in value:
                _check_text(key, item)
        elif kind == "json":
            for item in value if isinstance(value, list) else [json.dumps(value)]:
                _check_text(key, item)


def encode_attrs(meta: Mapping[str, Any]) -> dict[str, Any]:
    """Attributes ready for h5py, after `check_meta`."""
    check_meta(meta)
    out: dict[str, Any] = {}
    for key, kind in ATTR_KINDS.items():
        value = meta[key]
        if kind == "str":
            out[key] = str(value)
        elif kind == "int":
            out[key] = np.int64(value)
        elif kind == "float":
            out[key] = np.float64(value)
        elif kind == "bool":
            out[key] = np.bool_(value)
        elif kind == "list":
            out[key] = np.array(list(value), dtype=h5py.string_dtype())
        else:
            out[key] = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return out


def decode_attr(key: str, kind: str, value: Any) -> Any:
    """One stored attribute as a Python value; ValueError naming it if it has the wrong type."""
    try:
        if kind == "str":
            if isinstance(value, bytes):
                value = value.decode("utf-8")
            if not isinstance(value, str):
                raise TypeError
            return value
        if kind == "int":
            if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)):
                raise TypeError
            return int(value)
        if kind == "float":
            if not isinstance(value, (float, int, np.floating, np.integer)):
                raise TypeError
            return float(value)
        if kind == "bool":
            if not isinstance(value, (bool, np.bool_, np.integer)):
                raise TypeError
            return bool(value)
        if kind == "list":
            arr = np.asarray(value)
            if arr.ndim != 1:
                raise TypeError
            return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in arr.tolist()]
        return json.loads(decode_attr(key, "str", value))
    except (TypeError, ValueError, UnicodeDecodeError):
        raise ValueError(f"attribute {key!r} is not a valid {kind}") from None


def decode_attrs(attrs: Mapping[str, Any], keys: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Decode root attributes (all, or only `keys`) and check the format name and version first."""
    fmt = attrs.get("format")
    if isinstance(fmt, bytes):
        fmt = fmt.decode("utf-8", "replace")
    if fmt != FORMAT:
        what = "no 'format' attribute" if fmt is None else f"format attribute is {fmt!r}"
        raise ValueError(f"not a {FORMAT} file ({what})")
    version = attrs.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(f"format version {version}; this qwopkit reads version {FORMAT_VERSION}")
    meta: dict[str, Any] = {}
    for key in tuple(ATTR_KINDS) if keys is None else keys:
        if key not in attrs:
            raise ValueError(f"missing attribute {key!r}")
        meta[key] = decode_attr(key, ATTR_KINDS[key], attrs[key])
    return meta


# ----------------------------------------------------------------------------- layout
def n_decisions(n_updates: int, frame_skip: int) -> int:
    """Decisions covering `n_updates` updates: the last one may be cut short by the end of the run."""
    return -(-n_updates // frame_skip)


def decision_bounds(n_updates: int, frame_skip: int) -> np.ndarray:
    """Update index at each decision boundary: 0, k, 2k, ..., and N last (T + 1 values)."""
    t = n_decisions(n_updates, frame_skip)
    return np.minimum(np.arange(t + 1) * frame_skip, n_updates)


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
                 meta: Mapping[str, Any]) -> None:
    """Raise ValueError (one line) unless the datasets' shapes and dtypes fit each other and `meta`."""
    for name in DECISION_DATASETS:
        if name not in shapes:
            raise ValueError(f"missing dataset {name!r}")
    raw = [name for name in RAW_DATASETS if name in shapes]
    if len(raw) == 1:
        raise ValueError(f"dataset {raw[0]!r} without its partner ('state' and 'keys' go together)")
    for name, dtype in {**DECISION_DATASETS, **RAW_DATASETS}.items():
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


# ----------------------------------------------------------------------------- names and keys
def _name_part(text: str) -> str:
    # '-' separates the parts of a file name and ':' (as in "bot:greedy") is unsafe on some systems.
    return re.sub(r"[^A-Za-z0-9_.]+", "_", text).strip("_.") or "x"


def episode_filename(player: str, session: str, episode_index: int) -> str:
    """`<player>-<session>-<nnnn>.h5`, with characters other than letters, digits, _ and . as _."""
    return f"{_name_part(player)}-{_name_part(session)}-{episode_index:04d}{SUFFIX}"


# Action index for each of the 16 key masks (three or four keys act like two: Q beats W, O beats P).
MASK_TO_ACTION = np.array([action_of_keys(m) for m in range(16)], dtype=np.uint8)
