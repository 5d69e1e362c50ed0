"""Episodes made on the spot, for tests and benchmarks (not part of any pipeline).

- `engine_episode`: a real run of the bundled engine under a key sequence (re-simulates exactly).
- `synthetic_episode`: random numbers in a valid layout (fast; not a run of the game; its
  observations are the features of its random states, so every check passes).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qwopkit.adapter.features import seed_observation
from qwopkit.adapter.openqwop.engine import run_keys
from qwopkit.adapter.openqwop.layout import STATE_FIELDS, STATE_INDEX, STATE_SIZE
from qwopkit.dataset import Episode, decision_bounds, default_meta, smoothed_mu
from qwopkit.dataset.schema import N_ACTIONS, OBS_SIZE
from qwopkit.recorder.decisions import episode_from_updates


def random_keys(rng: np.random.Generator, n_updates: int, hold: int = 3) -> np.ndarray:
    """Key masks (0-15) that change every `hold` updates, like a player pressing combinations."""
    masks = rng.integers(0, 16, -(-n_updates // hold))
    return np.repeat(masks, hold)[:n_updates].astype(np.uint8)


def engine_episode(keys: np.ndarray, *, player: str = "bot:test", session: str = "s1",
                   episode_index: int = 0, frame_skip: int = 3, seed: int | None = 0,
                   outcome: str | None = None, **meta: Any) -> Episode:
    """Run the openqwop engine from the spawn under `keys` (one mask per update) and build the episode.

    Updates after the run ends (a fall or a finish) are not played: the run stops there.
    """
    state = run_keys(keys, seed)
    flags = state[1:, [STATE_INDEX["fallen"], STATE_INDEX["finished"]]]
    ended = np.flatnonzero(flags.any(axis=1))  # the run ended with update i
    n = int(ended[0]) + 1 if len(ended) else len(keys)
    return episode_from_updates(state[:n + 1], np.asarray(keys[:n], np.uint8), player=player,
                                session=session, episode_index=episode_index, frame_skip=frame_skip,
                                seed=seed, outcome=outcome, **meta)


def synthetic_episode(rng: np.random.Generator, *, player: str, session: str, index: int, steps: int,
                      frame_skip: int = 3, with_state: bool = True) -> Episode:
    """A layout-valid episode of random numbers (not a run of the game)."""
    n = steps * frame_skip
    actions = rng.integers(0, N_ACTIONS, steps).astype(np.uint8)
    term = np.zeros(steps, bool)
    if steps:
        term[-1] = True
    meta = default_meta(player, session, index, outcome="fell", frame_skip=frame_skip,
                        distance=float(rng.uniform(0, 100)), hud_time=steps * frame_skip / 30,
                        mu_params={"eps": 0.1})
    if with_state:
        meta["state_fields"] = list(STATE_FIELDS)
        state = rng.standard_normal((n + 1, STATE_SIZE)).cumsum(0)
        # Observations are the features of the states, as in a recording (validate --deep checks).
        observations = seed_observation(state[decision_bounds(n, frame_skip)])
    else:
        state = None
        observations = rng.standard_normal((steps + 1, OBS_SIZE), dtype=np.float32)
    return Episode(
        meta=meta,
        observations=observations,
        actions=actions,
        rewards=rng.standard_normal(steps, dtype=np.float32),
        terminations=term,
        truncations=np.zeros(steps, bool),
        mu=smoothed_mu(actions),
        infos={"distance": np.linspace(0, 10, steps + 1), "hud_time": np.arange(steps + 1) * 0.1},
        state=state,
        keys=rng.integers(0, 16, n).astype(np.uint8) if with_state else None,
    )
