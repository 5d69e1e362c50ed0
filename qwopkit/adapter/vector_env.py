"""QWOP-v0 as a Gymnasium vector environment: N games stepped in one compiled call.

    envs = gym.make_vec("qwopkit/QWOP-v0", num_envs=16, vectorization_mode="vector_entry_point")
    obs, info = envs.reset(seed=0)
    obs, rewards, terminations, truncations, info = envs.step(envs.action_space.sample())

Each sub-environment is exactly QWOPEnv (same spaces, features, reward, frame skip and time
limit); the difference is that one call to the physics core advances every world, so the Python
cost of a step is paid once per batch instead of once per environment. A world whose episode
ended is reset within the same step (Gymnasium's SAME_STEP autoreset): its last observation is
in info["final_obs"] and info["final_info"], as SB3's vectorised environments also expect.
`qwopkit.rl` wraps it for Stable-Baselines3 (`QWOPVecEnv`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from qwopkit.adapter.env import _DISTANCE, _HUD_TIME, batched_forward_velocity_reward
from qwopkit.adapter.features import ACTION_KEYS, ACTION_NAMES, SEED_OBS_SIZE, seed_observation
from qwopkit.adapter.openqwop.engine import Worlds
from qwopkit.adapter.openqwop.layout import STATE_SIZE
from qwopkit.adapter.openqwop.physics import TIME_LIMIT, UPDATES_PER_SECOND

OUTCOMES = ("running", "fell", "finished")


class QWOPVectorEnv(VectorEnv):
    """`num_envs` QWOP games in one batch (see the module doc).

    :param reward_fn: f(previous states (N, S), states (N, S)) -> (N,) rewards; default the
        batched forward-velocity reward of QWOP-v0.
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(self, num_envs: int = 1, frame_skip: int = 3, observation: str = "seed",
                 reward_fn: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
                 time_limit: float = TIME_LIMIT, **kwargs) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        if frame_skip < 1:
            raise ValueError(f"frame_skip must be >= 1, got {frame_skip}")
        if observation not in ("seed", "raw"):
            raise ValueError(f"observation must be 'seed' or 'raw', got {observation!r}")
        if kwargs.get("render_mode") is not None:
            raise ValueError("render_mode: the vector environment does not render; use QWOP-v0")
        self.num_envs = num_envs
        self.frame_skip = frame_skip
        self.observation = observation
        self.reward_fn = reward_fn or batched_forward_velocity_reward
        self.max_updates = int(round(time_limit * UPDATES_PER_SECOND))
        self.single_action_space = spaces.Discrete(len(ACTION_NAMES))
        if observation == "seed":
            self.single_observation_space = spaces.Box(-np.inf, np.inf, (SEED_OBS_SIZE,), np.float32)
        else:
            self.single_observation_space = spaces.Box(-np.inf, np.inf, (STATE_SIZE,), np.float64)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.worlds = Worlds(num_envs)
        self._states = self.worlds.states.copy()

    def _observe(self, states: np.ndarray) -> np.ndarray:
        return seed_observation(states) if self.observation == "seed" else states.copy()

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        for i in range(self.num_envs):
            self.worlds.reset(i)
        self._states = self.worlds.states.copy()
        n = self.num_envs
        info = {"distance": self._states[:, _DISTANCE].copy(), "hud_time": self._states[:, _HUD_TIME].copy(),
                "outcome": np.array(["running"] * n, dtype=object)}
        return self._observe(self._states), info

    def step(self, actions):
        keys = ACTION_KEYS[np.asarray(actions, dtype=np.int64)]
        states, status = self.worlds.step(keys, self.frame_skip)
        rewards = self.reward_fn(self._states, states).astype(np.float64)
        terminations = status != 0
        updates = np.rint(states[:, _HUD_TIME] * UPDATES_PER_SECOND)
        truncations = ~terminations & (updates >= self.max_updates)
        outcome = np.array([OUTCOMES[s] for s in status], dtype=object)
        outcome[truncations] = "timeout"
        info = {"distance": states[:, _DISTANCE].copy(), "hud_time": states[:, _HUD_TIME].copy(),
                "outcome": outcome}
        obs = self._observe(states)
        ended = np.flatnonzero(terminations | truncations)
        if len(ended):
            final = [obs[i].copy() if i in ended else None for i in range(self.num_envs)]
            info["final_obs"] = np.array(final, dtype=object)
            info["final_info"] = {k: v.copy() for k, v in info.items() if k != "final_obs"}
            info["_final_obs"] = terminations | truncations
            info["_final_info"] = terminations | truncations
            for i in ended:
                self.worlds.reset(int(i))
            obs[ended] = self._observe(self.worlds.states[ended])
        self._states = self.worlds.states.copy()
        return obs, rewards, terminations, truncations, info


__all__ = ["QWOPVectorEnv"]
