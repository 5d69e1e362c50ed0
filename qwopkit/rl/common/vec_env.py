"""QWOP-v0's batched vector environment as a Stable-Baselines3 VecEnv.

    from qwopkit.rl.common.vec_env import QWOPVecEnv
    env = QWOPVecEnv(16)                       # in place of make_vec_env("qwopkit/QWOP-v0", 16)
    model = ACER("MlpPolicy", env)

Every step advances all games in one call to the physics core (qwopkit.adapter.vector_env);
episodes that end are reset in the same step, with SB3's `terminal_observation` and
`TimeLimit.truncated` in their info, as DummyVecEnv reports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv

from qwopkit.adapter.vector_env import QWOPVectorEnv


class QWOPVecEnv(VecEnv):
    """`num_envs` QWOP games for SB3; `env_kwargs` go to QWOPVectorEnv (frame_skip, time_limit...)."""

    def __init__(self, num_envs: int, **env_kwargs: Any) -> None:
        self.venv = QWOPVectorEnv(num_envs, **env_kwargs)
        super().__init__(num_envs, self.venv.single_observation_space, self.venv.single_action_space)
        self._actions = np.zeros(num_envs, dtype=np.int64)
        self._next_seed: int | None = None

    def reset(self) -> np.ndarray:
        obs, _ = self.venv.reset(seed=self._next_seed)
        self._next_seed = None
        return obs

    def seed(self, seed: int | None = None) -> Sequence[None | int]:
        self._next_seed = seed
        return [None if seed is None else seed + i for i in range(self.num_envs)]

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions).reshape(self.num_envs)

    def step_wait(self):
        obs, rewards, terminations, truncations, info = self.venv.step(self._actions)
        dones = terminations | truncations
        infos: list[dict[str, Any]] = []
        for i in range(self.num_envs):
            entry = {"distance": float(info["distance"][i]), "hud_time": float(info["hud_time"][i]),
                     "outcome": str(info["outcome"][i])}
            if dones[i]:
                entry["terminal_observation"] = info["final_obs"][i]
                entry["TimeLimit.truncated"] = bool(truncations[i] and not terminations[i])
            infos.append(entry)
        return obs, rewards.astype(np.float32), dones, infos

    def close(self) -> None:
        pass

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        return [getattr(self.venv, attr_name)] * len(self._indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        setattr(self.venv, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list[Any]:
        raise NotImplementedError("QWOPVecEnv runs all games in one batch: it has no per-game env objects")

    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        return [False] * len(self._indices(indices))

    def _indices(self, indices) -> list[int]:
        if indices is None:
            return list(range(self.num_envs))
        return [indices] if isinstance(indices, int) else list(indices)


__all__ = ["QWOPVecEnv"]
