"""The root attributes of an episode file: one declarative table, and everything that follows.

`ATTRIBUTES` says, for each attribute, how it is stored, its default for a new recording, the
rule its value must follow, its column in the index (if any) and whether it is a curation mark
(which marks.json may override). From it: `default_meta`, `check_meta`, `encode_attrs` /
`decode_attrs`, the index's columns (index.py) and the checks of marks.json (curation.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import h5py
import numpy as np

from qwopkit.dataset.schema import (
    ACTION_SET,
    DEFAULT_FRAME_SKIP,
    FORMAT,
    FORMAT_VERSION,
    GAME_OPENQWOP,
    GAME_ORIGINAL,
    NO_SEED,
    OBSERVATION_FIELDS,
    OUTCOMES,
    PHYSICS_OPENQWOP,
    PHYSICS_OPENQWOP_1,
    PHYSICS_ORIGINAL,
    UNKNOWN_OUTCOME,
    UPDATES_PER_SECOND,
    now_iso,
)
from qwopkit.version import __version__ as qwopkit_version

KINDS = ("str", "int", "float", "bool", "list", "json")
INT64 = (-(2**63), 2**63 - 1)
Rule = Callable[[Any, Mapping[str, Any]], "str | None"]


def _any(value: Any, meta: Mapping[str, Any]) -> str | None:
    return None


def _equals(expected: Any) -> Rule:
    return lambda v, meta: None if v == expected else f"is {v!r}, expected {expected!r}"


def _at_least(low: int) -> Rule:
    return lambda v, meta: None if v >= low else f"must be >= {low}, got {v}"


def _outcome(value: str, meta: Mapping[str, Any]) -> str | None:
    allowed = OUTCOMES + ((UNKNOWN_OUTCOME,) if meta.get("imported") is True else ())
    return None if value in allowed else f"{value!r} is not one of {', '.join(allowed)}"


def _rating(value: int, meta: Mapping[str, Any]) -> str | None:
    return None if 0 <= value <= 5 else f"must be 0-5, got {value}"


def _string_list(value: Any, meta: Mapping[str, Any]) -> str | None:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        return "must be a list of strings"
    return next((p for p in map(_text_problem, value) if p), None)


def _json_object(value: Any, meta: Mapping[str, Any]) -> str | None:
    return None if isinstance(value, dict) else "must be a JSON object"


def _not_empty(value: list, meta: Mapping[str, Any]) -> str | None:
    return None if value else "must not be empty"


@dataclass(frozen=True)
class Attr:
    """One root attribute: name, storage kind, default, rule, index column, curation mark."""

    name: str
    kind: str
    default: Callable[[], Any] | None  # None: the caller must give it (player, session, index)
    rule: Rule = _any
    column: str | None = None
    mark: bool = False
    # For files written before the attribute existed: its value from the other raw attributes.
    legacy: Callable[[Mapping[str, Any]], Any] | None = None


def _legacy_physics(attrs: Mapping[str, Any]) -> str:
    game = attrs.get("game")
    game = game.decode("utf-8", "replace") if isinstance(game, bytes) else game
    return PHYSICS_ORIGINAL if game == GAME_ORIGINAL else PHYSICS_OPENQWOP_1


# In index-column order first (the index lists these columns in this order, `steps` after
# `hud_time`), then the attributes the index leaves out.
ATTRIBUTES: tuple[Attr, ...] = (
    Attr("format", "str", lambda: FORMAT, _equals(FORMAT)),
    Attr("format_version", "int", lambda: FORMAT_VERSION, _equals(FORMAT_VERSION)),
    Attr("player", "str", None, column="player"),
    Attr("session", "str", None, column="session"),
    Attr("episode_index", "int", None, _at_least(0), column="index"),
    Attr("start_time", "str", now_iso, column="start_time"),
    Attr("outcome", "str", lambda: "aborted", _outcome, column="outcome"),
    Attr("distance", "float", lambda: math.nan, column="distance"),
    Attr("hud_time", "float", lambda: math.nan, column="hud_time"),
    Attr("kept", "bool", lambda: True, column="kept", mark=True),
    Attr("exclude_reason", "str", lambda: "", column="exclude_reason", mark=True),
    Attr("tags", "json", list, _string_list, column="tags", mark=True),
    Attr("rating", "int", lambda: 0, _rating, column="rating", mark=True),
    Attr("note", "str", lambda: "", column="note", mark=True),
    Attr("mu_method", "str", lambda: "smoothed", column="mu_method"),
    Attr("imported", "bool", lambda: False, column="imported"),
    Attr("game", "str", lambda: GAME_OPENQWOP, column="game"),
    Attr("physics", "str", lambda: PHYSICS_OPENQWOP, column="physics", legacy=_legacy_physics),
    Attr("frame_skip", "int", lambda: DEFAULT_FRAME_SKIP, _at_least(1), column="frame_skip"),
    Attr("game_version", "str", lambda: qwopkit_version),
    Attr("seed", "int", lambda: NO_SEED, _at_least(NO_SEED)),
    Attr("updates_per_second", "int", lambda: UPDATES_PER_SECOND, _at_least(1)),
    Attr("action_set", "list", lambda: list(ACTION_SET), _equals(list(ACTION_SET))),
    Attr("state_fields", "list", list),  # the recorder names the engine's columns
    Attr("observation_fields", "list", lambda: list(OBSERVATION_FIELDS), _not_empty),
    Attr("mu_params", "json", dict, _json_object),
    Attr("source", "str", lambda: ""),
)
BY_NAME: dict[str, Attr] = {a.name: a for a in ATTRIBUTES}
ATTR_KINDS: dict[str, str] = {a.name: a.kind for a in ATTRIBUTES}
MARK_FIELDS: tuple[str, ...] = tuple(a.name for a in ATTRIBUTES if a.mark)


def episode_source(player: str, imported: bool) -> str:
    """Where a run came from, derived (no attribute names it): "imported" (the seed's files),
    "bot" (a scripted player: `qwop-record --bot NAME` records as player bot-NAME) or "recorded"."""
    if imported:
        return "imported"
    return "bot" if player.startswith(("bot-", "bot:")) else "recorded"


def default_meta(player: str, session: str, episode_index: int, **overrides: Any) -> dict[str, Any]:
    """Complete root attributes for a new openqwop episode; `overrides` replace any of them."""
    unknown = set(overrides) - set(BY_NAME)
    if unknown:
        raise ValueError(f"unknown episode attributes: {', '.join(sorted(unknown))}")
    given = {"player": player, "session": session, "episode_index": episode_index}
    meta = {a.name: given[a.name] if a.default is None else a.default() for a in ATTRIBUTES}
    meta.update(overrides)
    return meta


# ----------------------------------------------------------------------------- checks
def _text_problem(value: str) -> str | None:
    # HDF5 stores strings NUL-terminated and as UTF-8: either would silently change the text.
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text"
    return None


def kind_problem(kind: str, value: Any) -> str | None:
    """What is wrong with `value` as a Python value of this storage kind, or None."""
    if kind == "str":
        return _text_problem(value) if isinstance(value, str) else f"must be text, got {type(value).__name__}"
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            return f"must be an integer, got {type(value).__name__}"
        return None if INT64[0] <= value <= INT64[1] else f"{value} does not fit in 64 bits"
    if kind == "float":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return f"must be a number, got {type(value).__name__}"
        return "must be finite (or NaN when unknown)" if math.isinf(value) else None
    if kind == "bool":
        return None if isinstance(value, bool) else f"must be true or false, got {type(value).__name__}"
    if kind == "list":
        return _string_list(value, {})
    try:  # json: any value JSON can hold exactly (no NaN), its shape is the attribute's rule
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return "is not JSON-serialisable"
    return None


def attribute_problem(name: str, value: Any, meta: Mapping[str, Any]) -> str | None:
    """What is wrong with one attribute's value (`meta` for rules that depend on others), or None."""
    attr = BY_NAME[name]
    return kind_problem(attr.kind, value) or attr.rule(value, meta)


def check_meta(meta: Mapping[str, Any]) -> None:
    """Raise ValueError (one line) if the attributes break the format's rules."""
    missing = [a.name for a in ATTRIBUTES if a.name not in meta]
    if missing:
        raise ValueError(f"missing attributes: {', '.join(missing)}")
    unknown = [k for k in meta if k not in BY_NAME]
    if unknown:  # they would not be written: refuse rather than drop them silently
        raise ValueError(f"unknown attributes: {', '.join(unknown)}")
    for attr in ATTRIBUTES:
        problem = attribute_problem(attr.name, meta[attr.name], meta)
        if problem:
            raise ValueError(f"attribute {attr.name!r} {problem}")


def apply_marks(meta: Mapping[str, Any], entry: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `meta` with the mark fields of `entry` (checked by curation.py) laid over it."""
    out = dict(meta)
    out.update({k: entry[k] for k in MARK_FIELDS if k in entry})
    return out


# ----------------------------------------------------------------------------- storage
def encode_attrs(meta: Mapping[str, Any]) -> dict[str, Any]:
    """Attributes ready for h5py, after `check_meta`."""
    check_meta(meta)
    out: dict[str, Any] = {}
    for attr in ATTRIBUTES:
        value = meta[attr.name]
        if attr.kind == "str":
            out[attr.name] = str(value)
        elif attr.kind == "int":
            out[attr.name] = np.int64(value)
        elif attr.kind == "float":
            out[attr.name] = np.float64(value)
        elif attr.kind == "bool":
            out[attr.name] = np.bool_(value)
        elif attr.kind == "list":
            out[attr.name] = np.array(list(value), dtype=h5py.string_dtype())
        else:
            out[attr.name] = json.dumps(value, ensure_ascii=False, sort_keys=True, allow_nan=False)
    return out


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if not isinstance(value, str):
        raise TypeError
    return value


def decode_attr(name: str, stored: Any) -> Any:
    """One stored attribute as a Python value; ValueError naming it if its type is not its kind's."""
    kind = BY_NAME[name].kind
    try:
        if isinstance(stored, np.ndarray) and kind != "list":
            if stored.shape not in ((), (1,)):
                raise TypeError
            stored = stored.reshape(()).item() if stored.dtype.kind != "O" else stored.reshape(-1)[0]
        if kind == "str":
            return _text(stored)
        if kind == "int":
            if not isinstance(stored, (int, np.integer)) or isinstance(stored, (bool, np.bool_)):
                raise TypeError
            return int(stored)
        if kind == "float":
            number = isinstance(stored, (float, int, np.floating, np.integer))
            if not number or isinstance(stored, (bool, np.bool_)):
                raise TypeError
            return float(stored)
        if kind == "bool":
            if isinstance(stored, (bool, np.bool_)):
                return bool(stored)
            if isinstance(stored, (int, np.integer)) and int(stored) in (0, 1):
                return bool(stored)
            raise TypeError
        if kind == "list":
            arr = np.asarray(stored)
            if arr.ndim != 1 or arr.dtype.kind not in "OSU":
                raise TypeError
            return [_text(v) for v in arr.tolist()]
        return json.loads(_text(stored))
    except (TypeError, ValueError, UnicodeDecodeError, RecursionError, OverflowError):
        raise ValueError(f"attribute {name!r} is not a valid {kind}") from None


def decode_attrs(attrs: Mapping[str, Any], names: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Decode root attributes (all, or only `names`), checking the format name and version first
    so that a future version gets a clear message."""
    fmt = attrs.get("format")
    if isinstance(fmt, bytes):
        fmt = fmt.decode("utf-8", "replace")
    if not isinstance(fmt, str) or fmt != FORMAT:
        what = "no 'format' attribute" if fmt is None else f"format attribute is {fmt!r}"
        raise ValueError(f"not a {FORMAT} file ({what})")
    version = attrs.get("format_version")
    if isinstance(version, (int, np.integer)) and not isinstance(version, (bool, np.bool_)):
        version = int(version)
    if not (isinstance(version, int) and not isinstance(version, bool) and version == FORMAT_VERSION):
        shown = version if isinstance(version, int) else repr(version)[:40]
        raise ValueError(f"format version {shown}; this qwopkit reads version {FORMAT_VERSION}")
    meta: dict[str, Any] = {}
    for name in tuple(BY_NAME) if names is None else names:
        if name not in attrs:
            legacy = BY_NAME[name].legacy
            if legacy is None:
                raise ValueError(f"missing attribute {name!r}")
            meta[name] = legacy(attrs)
            continue
        meta[name] = decode_attr(name, attrs[name])
    return meta
