"""The Gymnasium environment `qwopkit/QWOP-v0` on the bundled game.

One action picks one of the 11 key combinations (features.ACTION_NAMES) and holds it for
`frame_skip` game updates (default 3 = 0.1 s of real time, the seed's 10 decisions per second).
The default observation is the seed's 71 columns; `observation="raw"` gives the raw state vector.
The reward is a function of two consecutive raw states, so it can be recomputed from datasets.
"""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from qwopkit.adapter.features import (
    ACTION_KEYS,
    ACTION_NAMES,
    SEED_OBS_FIELDS,
    SEED_OBS_SIZE,
    seed_observation,
)
from qwopkit.adapter.openqwop import FELL, FINISHED, Engine
from qwopkit.adapter.openqwop.layout import STATE_INDEX, STATE_SIZE
from qwopkit.adapter.openqwop.physics import TIME_LIMIT, TIME_STEP, UNITS_PER_METRE, UPDATES_PER_SECOND

_TORSO_X = STATE_INDEX["torso.x"]
_TORSO_Y = STATE_INDEX["torso.y"]
_HUD_TIME = STATE_INDEX["hud_time"]
_DISTANCE = STATE_INDEX["distance"]
_KEYS_OF_ACTION = [int(k) for k in ACTION_KEYS]  # plain ints: indexing numpy costs more per step
LOW_TORSO_Y = 0.0  # below this (y grows downward) the torso counts as low, as in the seed
LOW_TORSO_PENALTY = 0.2  # per unit of depth below LOW_TORSO_Y


def forward_velocity_reward(prev: np.ndarray, state: np.ndarray) -> float:
    """Torso forward speed in metres per HUD second, minus a penalty when the torso is low."""
    dt = state[_HUD_TIME] - prev[_HUD_TIME]
    speed = (state[_TORSO_X] - prev[_TORSO_X]) / UNITS_PER_METRE / dt if dt > 0 else 0.0
    low = max(state[_TORSO_Y] - LOW_TORSO_Y, 0.0)
    return float(speed - LOW_TORSO_PENALTY * low)


def batched_forward_velocity_reward(prev: np.ndarray, states: np.ndarray) -> np.ndarray:
    """forward_velocity_reward for (N, S) state batches (the vector environment's), the same formula."""
    dt = states[:, _HUD_TIME] - prev[:, _HUD_TIME]
    moved = (states[:, _TORSO_X] - prev[:, _TORSO_X]) / UNITS_PER_METRE
    speed = np.divide(moved, dt, out=np.zeros_like(moved), where=dt > 0)
    low = np.maximum(states[:, _TORSO_Y] - LOW_TORSO_Y, 0.0)
    return speed - LOW_TORSO_PENALTY * low


_OBS_TORSO_VX = SEED_OBS_FIELDS.index("torso.vx")
_OBS_TORSO_Y = SEED_OBS_FIELDS.index("torso.y")
# Box2D velocities are units per physics second (TIME_STEP per update); the HUD counts
# UPDATES_PER_SECOND updates per second.
_VX_TO_METRES_PER_HUD_SECOND = TIME_STEP * UPDATES_PER_SECOND / UNITS_PER_METRE


def forward_velocity_reward_from_features(observations: np.ndarray,
                                          next_observations: np.ndarray) -> np.ndarray:
    """forward_velocity_reward for runs without raw state, from the seed's 71 features (batched).

    The features keep no absolute position (every x is relative to the torso), so the speed is
    the torso's velocity at the end of the decision instead of its displacement over it; the
    low-torso penalty is the same. On the bundled recordings it follows the state-based reward
    with a correlation of 0.95-0.99 (docs/acer.md).
    """
    speed = np.asarray(next_observations)[..., _OBS_TORSO_VX] * _VX_TO_METRES_PER_HUD_SECOND
    low = np.maximum(np.asarray(next_observations)[..., _OBS_TORSO_Y] - LOW_TORSO_Y, 0.0)
    return (speed - LOW_TORSO_PENALTY * low).astype(np.float32)


class QWOPEnv(gym.Env):
    """QWOP on the bundled openqwop engine.

    :param frame_skip: game updates each action holds its keys for.
    :param observation: "seed" (the seed's 71 features, float32) or "raw" (the raw state, float64).
    :param reward_fn: f(previous raw state, raw state) -> float; default forward_velocity_reward.
    :param time_limit: HUD seconds after which an episode is truncated.
    :param render_mode: "rgb_array" for frames of the runner (see render.py).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": UPDATES_PER_SECOND}

    def __init__(
        self,
        frame_skip: int = 3,
        observation: str = "seed",
        reward_fn: Callable[[np.ndarray, np.ndarray], float] | None = None,
        time_limit: float = TIME_LIMIT,
        render_mode: str | None = None,
    ) -> None:
        if frame_skip < 1:
            raise ValueError(f"frame_skip must be >= 1, got {frame_skip}")
        if observation not in ("seed", "raw"):
            raise ValueError(f"observation must be 'seed' or 'raw', got {observation!r}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.frame_skip = frame_skip
        self.observation = observation
        self.reward_fn = reward_fn or forward_velocity_reward
        self.max_updates = int(round(time_limit * UPDATES_PER_SECOND))
        self.render_mode = render_mode
        self.action_space = spaces.Discrete(len(ACTION_NAMES))
        if observation == "seed":
            self.observation_space = spaces.Box(-np.inf, np.inf, (SEED_OBS_SIZE,), np.float32)
        else:
            self.observation_space = spaces.Box(-np.inf, np.inf, (STATE_SIZE,), np.float64)
        self.engine = Engine()
        self._state = self.engine.state()

    def _observe(self) -> np.ndarray:
        if self.observation == "seed":
            return seed_observation(self._state)
        return self._state.copy()

    def _info(self, outcome: str) -> dict:
        return {"distance": float(self._state[_DISTANCE]), "hud_time": float(self._state[_HUD_TIME]),
                "outcome": outcome}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.engine.reset(seed)
        self._state = self.engine.state()
        return self._observe(), self._info("running")

    def step(self, action):
        keys = _KEYS_OF_ACTION[int(action)]
        engine = self.engine
        status = engine.advance(keys, self.frame_skip, self.max_updates)
        prev, self._state = self._state, engine.state()
        reward = self.reward_fn(prev, self._state)
        terminated = status in (FELL, FINISHED)
        truncated = not terminated and engine.updates >= self.max_updates
        outcome = status if terminated else ("timeout" if truncated else "running")
        return self._observe(), reward, terminated, truncated, self._info(outcome)

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        from qwopkit.adapter.render import draw_frame

        return draw_frame(self.engine)
