"""The task's vocabulary, shared by the game, the dataset format and the learners.

The 11 actions (names, in the fixed index order of docs/episode-format.md) and the seed's 71 observation
columns (names, in the seed's order). Pure data with no game code, so every part may import it:
the adapter derives its key masks and feature indices from these names, and the dataset format
declares them as the layout every episode is checked against (never a file's own claim).
"""

from __future__ import annotations

import numpy as np

# Our action set, index order fixed (docs/episode-format.md). QW acts as Q and OP as O, as in the original.
ACTION_NAMES: tuple[str, ...] = ("none", "Q", "W", "O", "P", "QW", "QO", "QP", "WO", "WP", "OP")
N_ACTIONS = len(ACTION_NAMES)

# The seed's action indices, mapped by key combination (never by index).
SEED_ACTION_NAMES: tuple[str, ...] = ("QW", "QO", "QP", "Q", "WO", "WP", "W", "OP", "O", "P", "none")
SEED_TO_ACTION = np.array([ACTION_NAMES.index(n) for n in SEED_ACTION_NAMES], dtype=np.int64)
ACTION_TO_SEED = np.argsort(SEED_TO_ACTION)

# The seed's 71 observation columns (docs/seed-system.md): the head, the 11 joint
# angles in alphabetical order, then ten limbs and the torso in alphabetical order.
SEED_JOINTS = ("leftAnkle", "leftElbow", "leftHip", "leftKnee", "leftShoulder", "neck", "rightAnkle",
               "rightElbow", "rightHip", "rightKnee", "rightShoulder")
SEED_LIMBS = ("leftArm", "leftCalf", "leftFoot", "leftForearm", "leftThigh", "rightArm",
              "rightCalf", "rightFoot", "rightForearm", "rightThigh", "torso")
SEED_BODY_FIELDS = ("angle", "vx", "vy", "x", "y")
SEED_OBS_FIELDS: tuple[str, ...] = (
    tuple(f"head.{f}" for f in SEED_BODY_FIELDS)
    + tuple(f"{j}.angle" for j in SEED_JOINTS)
    + tuple(f"{b}.{f}" for b in SEED_LIMBS for f in SEED_BODY_FIELDS)
)
SEED_OBS_SIZE = len(SEED_OBS_FIELDS)  # 71
