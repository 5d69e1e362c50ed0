"""Runs recorded in the original game, seen from the engine: raw states rebuilt from the seed's
71 features, the timing of each decision, and the runner set to a recorded state.

The seed's features hold every body's angle, linear velocity, y and x relative to the torso,
but no angular velocity and no absolute x. Both can be recovered:

- Angular velocities from the joints: the two bodies of a revolute joint move their common
  anchor point at the same velocity, v_A + w_A x r_A = v_B + w_B x r_B (r the anchor's offset
  from each body's centre). The 11 joints give 22 linear equations for the 12 unknown w, solved
  by least squares for every recorded decision (`angular_velocities`).
- The time a decision lasted, from the same features: over a decision every body's y and
  relative x change by about the mean of the velocities at its two ends times its duration,
  so a least-squares fit over the 12 bodies gives each decision's length in game updates
  (`decision_updates`). On the beginner's files, which kept absolute x, the torso distance
  integrated with these lengths matches the recorded one within 0.2 m; on the top player's,
  his finished runs integrate to 99.4-101.2 m (docs/kuro.md).
- The torso's absolute x is then that integral from the spawn (`torso_x_estimate`).

`describe_run` reads how a run ended (fell, finished, unknown) and its distance and HUD times
(the importer's outcomes). `predict_decision` sets the runner to a recorded state
(Engine.set_state), holds an action for a decision and returns the features it reaches:
fidelity.teacher_forced compares them with the next recorded ones over whole runs;
qwopkit.imitation.recovery sets the runner the same way to hold other actions than his.
"""

from __future__ import annotations

import numpy as np

from qwopkit.adapter.features import SEED_OBS_FIELDS, seed_observation, states_from_seed_observations
from qwopkit.adapter.openqwop import physics as ph
from qwopkit.adapter.openqwop.engine import Engine
from qwopkit.adapter.openqwop.layout import STATE_INDEX

_OBS = {name: i for i, name in enumerate(SEED_OBS_FIELDS)}
_BODIES = ph.BODY_NAMES
_OBS_X = np.array([_OBS[f"{b}.x"] for b in _BODIES])
_OBS_Y = np.array([_OBS[f"{b}.y"] for b in _BODIES])
_OBS_ANGLE = np.array([_OBS[f"{b}.angle"] for b in _BODIES])
_OBS_VX = np.array([_OBS[f"{b}.vx"] for b in _BODIES])
_OBS_VY = np.array([_OBS[f"{b}.vy"] for b in _BODIES])
_TORSO = _BODIES.index("torso")
_STATE_OMEGA = np.array([STATE_INDEX[f"{b}.omega"] for b in _BODIES])
_STATE_JOINT_SPEED = np.array([STATE_INDEX[f"{j.name}.speed"] for j in ph.JOINTS])
_STATE_JOINT_ANGLE = np.array([STATE_INDEX[f"{j.name}.angle"] for j in ph.JOINTS])
_STATE_ANGLE = np.array([STATE_INDEX[f"{b}.angle"] for b in _BODIES])
_JOINT_A = np.array([_BODIES.index(j.body_a) for j in ph.JOINTS])
_JOINT_B = np.array([_BODIES.index(j.body_b) for j in ph.JOINTS])
_JOINT_REFERENCE = np.array([j.reference for j in ph.JOINTS])
SECONDS_PER_UPDATE = ph.TIME_STEP  # Box2D velocities are per simulated second


def _rotate(angle: np.ndarray, vec: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.stack([c * vec[..., 0] - s * vec[..., 1], s * vec[..., 0] + c * vec[..., 1]], -1)


def _local_anchors() -> tuple[np.ndarray, np.ndarray]:
    """Each joint's anchor in the frames of its bodies A and B (from the spawn pose)."""
    spec = {b.name: b for b in ph.BODIES}
    local = []
    for body_name in ("body_a", "body_b"):
        rows = []
        for j in ph.JOINTS:
            b = spec[getattr(j, body_name)]
            offset = np.array(j.anchor) - np.array([b.x, b.y])
            rows.append(_rotate(np.array(-b.angle), offset))
        local.append(np.array(rows))
    return local[0], local[1]


_LOCAL_A, _LOCAL_B = _local_anchors()


def angular_velocities(observations: np.ndarray) -> np.ndarray:
    """(N, 12) angular velocities (physics.BODY_NAMES order) that best fit the joints, from the
    seed's features (N, 71), by least squares per row (see the module's docstring)."""
    obs = np.atleast_2d(np.asarray(observations, dtype=np.float64))
    centre = np.stack([obs[:, _OBS_X], obs[:, _OBS_Y]], -1)  # (N, 12, 2), x relative to the torso
    angle = obs[:, _OBS_ANGLE]
    velocity = np.stack([obs[:, _OBS_VX], obs[:, _OBS_VY]], -1)
    # Offsets of each joint's anchor from the centres of A and B: the anchor as each body places
    # it, then their mean (they differ only by the solver's small joint error).
    anchor_a = centre[:, _JOINT_A] + _rotate(angle[:, _JOINT_A], _LOCAL_A)
    anchor_b = centre[:, _JOINT_B] + _rotate(angle[:, _JOINT_B], _LOCAL_B)
    anchor = 0.5 * (anchor_a + anchor_b)
    r_a, r_b = anchor - centre[:, _JOINT_A], anchor - centre[:, _JOINT_B]
    n, joints = len(obs), len(ph.JOINTS)
    # w x r = w * (-r_y, r_x); rows: x and y of v_A + w_A x r_A - v_B - w_B x r_B = 0.
    matrix = np.zeros((n, 2 * joints, len(_BODIES)))
    rows = np.arange(joints)
    matrix[:, 2 * rows, _JOINT_A] = -r_a[..., 1]
    matrix[:, 2 * rows + 1, _JOINT_A] = r_a[..., 0]
    matrix[:, 2 * rows, _JOINT_B] = r_b[..., 1]
    matrix[:, 2 * rows + 1, _JOINT_B] = -r_b[..., 0]
    rhs = (velocity[:, _JOINT_B] - velocity[:, _JOINT_A]).reshape(n, 2 * joints)
    # Normal equations per row: 12 x 12, well conditioned for this tree of joints.
    normal = np.einsum("nji,njk->nik", matrix, matrix)
    return np.linalg.solve(normal, np.einsum("nji,nj->ni", matrix, rhs)[..., None])[..., 0]


def decision_updates(observations: np.ndarray) -> np.ndarray:
    """(N-1,) game updates each recorded decision lasted (a real number), fitted from the
    features at its two ends: every body's y and relative x change by the mean of their
    velocities times the duration (least squares over the 12 bodies)."""
    obs = np.asarray(observations, dtype=np.float64)
    vx = obs[:, _OBS_VX] - obs[:, [_OBS_VX[_TORSO]]]
    moved = np.concatenate([np.diff(obs[:, _OBS_Y], axis=0), np.diff(obs[:, _OBS_X], axis=0)], 1)
    speed = np.concatenate([0.5 * (obs[1:, _OBS_VY] + obs[:-1, _OBS_VY]), 0.5 * (vx[1:] + vx[:-1])], 1)
    seconds = (moved * speed).sum(1) / np.maximum((speed * speed).sum(1), 1e-12)
    return seconds / SECONDS_PER_UPDATE


def torso_x_estimate(observations: np.ndarray, updates: np.ndarray | None = None,
                     start: float | None = None) -> np.ndarray:
    """(N,) the torso's world x at each decision: the spawn x plus its velocity integrated over
    the fitted decision lengths (trapezoids)."""
    obs = np.asarray(observations, dtype=np.float64)
    updates = decision_updates(obs) if updates is None else np.asarray(updates, dtype=np.float64)
    vx = obs[:, _OBS_VX[_TORSO]]
    steps = 0.5 * (vx[1:] + vx[:-1]) * updates * SECONDS_PER_UPDATE
    origin = ph.BODIES[_TORSO].x if start is None else start
    return origin + np.concatenate([[0.0], np.cumsum(steps)])


# How a recorded run ended, from its last features (docs/dataset.md#imported-episodes):
_FALL_PARTS = tuple(sorted(ph.FALL_PARTS))
_REACH = {b.name: 0.5 * (b.width**2 + b.height**2) ** 0.5 for b in ph.BODIES}  # centre to farthest corner
FALL_GAP = 1.0  # a fall part whose farthest corner comes this close to the ground: a fall
FINISH_MARGIN = 10.0  # units (1 m): a run's last decision starts this close to the line, or past it
_FEET = ("leftFoot", "rightFoot")


def ground_gap(observation: np.ndarray, seconds: float) -> tuple[float, str]:
    """(smallest gap, part): how far above the ground the head, arms and forearms can be at the
    end of a decision of `seconds` that starts at `observation` (each part's lowest corner,
    its centre carried on at its velocity under gravity, the lower of start and end)."""
    obs = np.asarray(observation, dtype=np.float64)
    g = ph.GRAVITY[1]
    gaps = {}
    for part in _FALL_PARTS:
        y, vy = obs[_OBS[f"{part}.y"]], obs[_OBS[f"{part}.vy"]]
        lowest = max(y, y + vy * seconds + 0.5 * g * seconds**2)
        gaps[part] = ph.GROUND_TOP_Y - (lowest + _REACH[part])
    part = min(gaps, key=gaps.__getitem__)
    return float(gaps[part]), part


def describe_run(observations: np.ndarray, torso_x: np.ndarray | None = None) -> dict:
    """What a run recorded in the original game shows about itself, from its features alone.

    :param observations: (T, 71) the seed's features, x relative to the torso, one row per decision.
    :param torso_x: (T,) the torso's world x where the file kept it (early recordings); else it
        is estimated by integrating the torso's speed over the fitted decision lengths.
    Returns a dict: `outcome` ("finished", "fell" or "unknown"), `reason` (one line), `distance`
    and `hud_time` per decision (T,) (metres; HUD seconds from the fitted lengths), and
    `updates_per_decision` (their mean). The outcome: "fell" when the head, an arm or a forearm
    comes within FALL_GAP of the ground by the end of the last decision (a run ends only by a
    fall, a finish or the time limit); "finished" when none does and the front foot is within
    FINISH_MARGIN of the 100 m line or past it; "unknown" otherwise.
    """
    obs = np.asarray(observations, dtype=np.float64)
    updates = decision_updates(obs) if len(obs) > 1 else np.zeros(0)
    per_decision = float(np.mean(updates)) if len(updates) else float(ph.UPDATES_PER_SECOND) / 10
    x = torso_x_estimate(obs, updates) if torso_x is None else np.asarray(torso_x, dtype=np.float64)
    hud = np.concatenate([[0.0], np.cumsum(np.maximum(updates, 0.0))]) / ph.UPDATES_PER_SECOND
    last = obs[-1]
    gap, part = ground_gap(last, per_decision * SECONDS_PER_UPDATE)
    front = x[-1] + max(last[_OBS[f"{f}.x"]] for f in _FEET)
    if gap < FALL_GAP:
        outcome, reason = "fell", f"{part} {max(gap, 0.0):.2f} units from the ground at the end"
    elif front >= ph.FINISH_X - FINISH_MARGIN:
        outcome, reason = "finished", f"front foot at {front / ph.UNITS_PER_METRE:.1f} m, upright"
    else:
        outcome, reason = "unknown", (f"upright ({part} {gap:.2f} units above the ground) "
                                      f"at {front / ph.UNITS_PER_METRE:.1f} m")
    return {"outcome": outcome, "reason": reason, "distance": x / ph.UNITS_PER_METRE, "hud_time": hud,
            "updates_per_decision": per_decision}


def states_from_features(observations: np.ndarray, torso_x: np.ndarray | float) -> np.ndarray:
    """Raw states (N, 99) from the seed's features: positions, angles and velocities as recorded,
    angular velocities from the joints, joint angles and speeds from the bodies (as Box2D has
    them), the torso at `torso_x`; the tail (distance from torso_x, HUD time 0, keys 0) left
    for the caller."""
    obs = np.atleast_2d(np.asarray(observations, dtype=np.float64))
    x = np.broadcast_to(np.asarray(torso_x, dtype=np.float64), (len(obs),))
    states = states_from_seed_observations(obs, x, distance=x / ph.UNITS_PER_METRE)
    omega = angular_velocities(obs)
    states[:, _STATE_OMEGA] = omega
    angles = states[:, _STATE_ANGLE]
    states[:, _STATE_JOINT_ANGLE] = angles[:, _JOINT_B] - angles[:, _JOINT_A] - _JOINT_REFERENCE
    states[:, _STATE_JOINT_SPEED] = omega[:, _JOINT_B] - omega[:, _JOINT_A]
    return states


def knee_history(keys: np.ndarray) -> np.ndarray:
    """(N,) the last knee key (O, P or 0) pressed before each decision, from the key masks (N,)
    held at each: what the hip limits are when the decision starts."""
    out = np.zeros(len(keys), dtype=np.int64)
    last = 0
    for t, k in enumerate(np.asarray(keys, dtype=np.int64)):
        out[t] = last
        knee = ph.dominant_keys(int(k))[1]
        last = knee or last
    return out


MAX_DECISION_UPDATES = 8  # a fitted decision length is rounded and kept within 1..8 updates


def whole_updates(fitted: np.ndarray) -> np.ndarray:
    """Fitted decision lengths (`decision_updates`) as whole game updates, 1..MAX_DECISION_UPDATES."""
    return np.clip(np.round(fitted), 1, MAX_DECISION_UPDATES).astype(np.int64)


def decision_starts(observations: np.ndarray, keys: np.ndarray,
                    fitted: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """What the runner is set to before each recorded decision: raw states (N, 99) rebuilt from
    the features (the torso's x integrated over the fitted lengths) holding the keys of the
    decision before, and the knee-key history (N,) that sets the hip limits (`knee_history`).

    :param keys: (N,) the key mask held at each decision.
    """
    obs = np.asarray(observations, dtype=np.float64)
    keys = np.asarray(keys, dtype=np.int64)
    fitted = decision_updates(obs) if fitted is None else fitted
    states = states_from_features(obs, torso_x_estimate(obs, fitted))
    states[1:, STATE_INDEX["keys"]] = keys[:-1]
    return states, knee_history(keys)


def predict_decision(engine: Engine, state: np.ndarray, keys: int, updates: int,
                     knee_keys: int) -> np.ndarray:
    """The seed features reached from `state` by holding `keys` for `updates` game updates."""
    engine.set_state(state, knee_keys=knee_keys)
    engine.advance(keys, updates)
    return seed_observation(engine.state()).astype(np.float64)


def constant_velocity(observations: np.ndarray, updates: np.ndarray | float) -> np.ndarray:
    """The baseline prediction of the next features: every body's y and relative x carried on at
    its recorded velocity for the decision's duration; other columns unchanged."""
    obs = np.atleast_2d(np.asarray(observations, dtype=np.float64))
    updates = np.broadcast_to(np.asarray(updates, dtype=np.float64), (len(obs),))
    seconds = updates[:, None] * SECONDS_PER_UPDATE
    out = obs.copy()
    out[:, _OBS_Y] += obs[:, _OBS_VY] * seconds
    out[:, _OBS_X] += (obs[:, _OBS_VX] - obs[:, [_OBS_VX[_TORSO]]]) * seconds
    return out


__all__ = ["angular_velocities", "decision_updates", "torso_x_estimate", "states_from_features",
           "knee_history", "whole_updates", "decision_starts", "predict_decision", "constant_velocity",
           "ground_gap", "describe_run"]
