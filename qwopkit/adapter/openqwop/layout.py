"""The raw state vector's layout: one float64 vector per game update.

Per body (physics.BODY_NAMES order): x, y, angle, vx, vy, omega.
Per joint (physics.JOINT_NAMES order): angle, speed (Box2D's joint angle: angle(B) - angle(A) - reference).
Then: distance (metres), hud_time (seconds), keys (Q=1 W=2 O=4 P=8), fallen, finished (0/1).
Datasets store exactly this vector, so observations and rewards can be recomputed later.
"""

from __future__ import annotations

from qwopkit.adapter.openqwop.physics import BODY_NAMES, JOINT_NAMES

BODY_FIELDS = ("x", "y", "angle", "vx", "vy", "omega")
JOINT_FIELDS = ("angle", "speed")
TAIL_FIELDS = ("distance", "hud_time", "keys", "fallen", "finished")

STATE_FIELDS: tuple[str, ...] = (
    tuple(f"{b}.{f}" for b in BODY_NAMES for f in BODY_FIELDS)
    + tuple(f"{j}.{f}" for j in JOINT_NAMES for f in JOINT_FIELDS)
    + TAIL_FIELDS
)
STATE_SIZE = len(STATE_FIELDS)
STATE_INDEX = {name: i for i, name in enumerate(STATE_FIELDS)}

BODY_BLOCK = len(BODY_NAMES) * len(BODY_FIELDS)  # where the joint block starts
JOINT_BLOCK_END = BODY_BLOCK + len(JOINT_NAMES) * len(JOINT_FIELDS)


def body_index(body: str, field: str) -> int:
    return STATE_INDEX[f"{body}.{field}"]
