"""Actions and observations: the action set, key masks, and features derived from the raw state.

The default observation is the seed's 71 columns in the seed's order and units
(docs/seed-system.md), so the seed's real recordings are valid observations:
head (angle, vx, vy, x - torso x, y), the 11 joint angles in alphabetical order, then ten limbs
and the torso in alphabetical order, each angle, vx, vy, x - torso x, y.
"""

from __future__ import annotations

import numpy as np

from qwopkit.adapter.openqwop.layout import STATE_INDEX
from qwopkit.adapter.openqwop.physics import O, P, Q, W, dominant_keys
from qwopkit.spaces import (  # noqa: F401  (re-exported: the adapter's names for them)
    ACTION_NAMES,
    ACTION_TO_SEED,
    SEED_ACTION_NAMES,
    SEED_BODY_FIELDS,
    SEED_LIMBS,
    SEED_OBS_FIELDS,
    SEED_OBS_SIZE,
    SEED_TO_ACTION,
)

_KEY_BITS = {"Q": Q, "W": W, "O": O, "P": P}


def keys_of(action_name: str) -> int:
    """The key mask an action holds, e.g. keys_of("QO") == Q | O."""
    return 0 if action_name == "none" else sum(_KEY_BITS[c] for c in action_name)


ACTION_KEYS = np.array([keys_of(n) for n in ACTION_NAMES], dtype=np.uint8)
KEYS_TO_ACTION = {int(k): i for i, k in enumerate(ACTION_KEYS)}


def action_of_keys(keys: int) -> int:
    """The action index for a held key mask. The 5 masks outside the action set (three or four
    keys held) map to the action with the same effect: Q beats W and O beats P."""
    keys = int(keys) & 0xF
    if keys in KEYS_TO_ACTION:
        return KEYS_TO_ACTION[keys]
    thigh, knee = dominant_keys(keys)
    return KEYS_TO_ACTION[thigh | knee]


# The seed's columns are named in qwopkit.spaces; here they are found in the raw state (a name
# the engine lacks fails at import with a KeyError naming it).
_SEED_INDEX = np.array([STATE_INDEX[name] for name in SEED_OBS_FIELDS])
# Columns holding an x position: the torso's x is subtracted from them.
_SEED_X_COLUMNS = np.array([i for i, n in enumerate(SEED_OBS_FIELDS) if n.endswith(".x")])
_TORSO_X = STATE_INDEX["torso.x"]
_SEED_X_MASK = np.isin(np.arange(SEED_OBS_SIZE), _SEED_X_COLUMNS).astype(np.float64)
# The 24 body-position columns (x relative to the torso, y) used by the fidelity check.
SEED_POSITION_COLUMNS = np.array(
    [i for i, n in enumerate(SEED_OBS_FIELDS) if n.endswith(".x") or n.endswith(".y")]
)


def seed_observation(states: np.ndarray) -> np.ndarray:
    """The seed's 71 features of one raw state (S,) or a batch (N, S), as float32."""
    states = np.asarray(states, dtype=np.float64)
    obs = states[..., _SEED_INDEX]  # fancy indexing copies: the state is not touched
    if obs.ndim == 1:  # one state, the environment's hot path: subtract where needed only
        obs[_SEED_X_COLUMNS] -= states[_TORSO_X]
    else:
        obs -= states[..., _TORSO_X, None] * _SEED_X_MASK
    return obs.astype(np.float32)


def states_from_seed_observations(observations: np.ndarray, torso_x: np.ndarray, *,
                                  distance: np.ndarray | None = None, hud_time: np.ndarray | None = None,
                                  keys: np.ndarray | None = None) -> np.ndarray:
    """Raw-state rows (layout.STATE_FIELDS) rebuilt from the seed's 71 features, for drawing only.

    Runs imported from the seed keep no raw state, but their features hold every body's angle,
    velocity, y and x relative to the torso, and every joint angle: enough for the game's page
    to draw the runner. What the features lack is filled in: the torso's world x comes from the
    caller (`torso_x`, e.g. an estimate), angular velocities and joint speeds are 0, and the tail
    (distance, HUD time, keys; fallen and finished stay 0) from the optional arrays.
    """
    obs = np.asarray(observations, dtype=np.float64)
    n = len(obs)
    out = np.zeros((n, len(STATE_INDEX)), dtype=np.float64)
    torso_x = np.broadcast_to(np.asarray(torso_x, dtype=np.float64), (n,))
    for column, name in enumerate(SEED_OBS_FIELDS):
        value = obs[:, column] + (torso_x if name.endswith(".x") else 0.0)
        out[:, STATE_INDEX[name]] = value
    for name, values in (("distance", distance), ("hud_time", hud_time), ("keys", keys)):
        if values is not None:
            out[:, STATE_INDEX[name]] = np.broadcast_to(np.asarray(values, dtype=np.float64), (n,))
    return out
