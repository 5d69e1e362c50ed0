"""Turning a run's game updates into decisions: features, reward, action and mu (the recorder's
job, as Minari's collector does it; the dataset only stores the result).

With frame_skip k, decision t covers updates t*k .. t*k+k-1; the last decision is cut short when
the run ends inside it (N updates make T = ceil(N / k) decisions). Decision boundaries are the
updates b = 0, k, ..., (T-1)k and N, so that:

- observations[t] = features(state[b[t]]) for t = 0..T (the last row is the final state),
- rewards[t] = reward_fn(state[b[t]], state[b[t+1]]) (a speed, so a short last decision is fair),
- actions[t] = the key combination held for most of the decision's updates (ties: the first held),
- infos/distance[t], infos/hud_time[t] = the HUD's values at state[b[t]].
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from qwopkit.adapter.env import forward_velocity_reward
from qwopkit.adapter.features import action_of_keys, seed_observation
from qwopkit.adapter.openqwop.layout import STATE_FIELDS, STATE_INDEX
from qwopkit.dataset import Episode, EpisodeError, decision_bounds, default_meta
from qwopkit.dataset.mu import DEFAULT_EPS, smoothed_mu
from qwopkit.dataset.schema import NO_SEED, TERMINAL_OUTCOMES

RewardFn = Callable[[np.ndarray, np.ndarray], float]
DEFAULT_MU_EPS = DEFAULT_EPS

# Action index for each of the 16 key masks (three or four keys act like two: Q beats W, O beats P).
MASK_TO_ACTION = np.array([action_of_keys(m) for m in range(16)], dtype=np.uint8)

_DISTANCE = STATE_INDEX["distance"]
_HUD_TIME = STATE_INDEX["hud_time"]
_FALLEN = STATE_INDEX["fallen"]
_FINISHED = STATE_INDEX["finished"]


def episode_from_updates(
    state: np.ndarray,
    keys: np.ndarray,
    *,
    player: str,
    session: str,
    episode_index: int,
    frame_skip: int = 3,
    seed: int | None = None,
    outcome: str | None = None,
    reward_fn: RewardFn | None = None,
    mu_eps: float = DEFAULT_MU_EPS,
    **meta: Any,
) -> Episode:
    """Build an episode from a run's raw states (N+1, S) and the keys held at each update (N,).

    `outcome` defaults to what the last state's flags say (finished / fell), else "aborted";
    pass "timeout" for a run stopped by the time limit. `meta` overrides other attributes.
    """
    state = np.asarray(state, dtype=np.float64)
    keys = np.asarray(keys)
    n = len(keys)
    if state.ndim != 2 or len(state) != n + 1 or state.shape[1] != len(STATE_FIELDS):
        raise EpisodeError("episode", f"state has shape {state.shape}, expected ({n + 1}, "
                                      f"{len(STATE_FIELDS)}) for {n} keys")
    if frame_skip < 1:
        raise EpisodeError("episode", f"frame_skip must be >= 1, got {frame_skip}")
    if keys.size and (keys.min() < 0 or keys.max() > 15):
        raise EpisodeError("episode", "keys must be 4-bit masks (0-15)")
    keys = keys.astype(np.uint8)
    flagged = "finished" if state[-1, _FINISHED] else ("fell" if state[-1, _FALLEN] else None)
    if outcome is None:
        outcome = flagged or "aborted"
    elif flagged and outcome != flagged:
        raise EpisodeError("episode", f"outcome {outcome!r} but the last state says {flagged!r}")

    b = decision_bounds(n, frame_skip)
    t = len(b) - 1
    effective = MASK_TO_ACTION[keys]
    actions = np.empty(t, dtype=np.uint8)
    for i in range(t):
        actions[i] = _majority(effective[b[i]:b[i + 1]])
    reward_fn = reward_fn or forward_velocity_reward
    rewards = np.array([reward_fn(state[b[i]], state[b[i + 1]]) for i in range(t)], dtype=np.float32)
    terminations = np.zeros(t, dtype=bool)
    truncations = np.zeros(t, dtype=bool)
    if t:
        # An aborted run is cut short from outside the game: like a time limit, not a terminal state.
        (terminations if outcome in TERMINAL_OUTCOMES else truncations)[-1] = True

    derived = {
        "frame_skip": frame_skip,
        "seed": NO_SEED if seed is None else int(seed),
        "outcome": outcome,
        "distance": float(state[-1, _DISTANCE]),
        "hud_time": float(state[-1, _HUD_TIME]),
        "state_fields": list(STATE_FIELDS),
        "mu_method": "smoothed",
        "mu_params": {"eps": mu_eps},
    }
    return Episode(
        meta=default_meta(player, session, episode_index, **{**derived, **meta}),
        observations=seed_observation(state[b]),
        actions=actions,
        rewards=rewards,
        terminations=terminations,
        truncations=truncations,
        mu=smoothed_mu(actions, mu_eps),
        infos={"distance": state[b, _DISTANCE], "hud_time": state[b, _HUD_TIME]},
        state=state,
        keys=keys,
    )


def _majority(segment: np.ndarray) -> int:
    """The most frequent action in a decision's updates; ties go to the one held first."""
    counts = np.bincount(segment, minlength=16)
    best = counts.max()
    for a in segment:
        if counts[a] == best:
            return int(a)
    raise AssertionError("empty decision")  # decision_bounds never makes one
