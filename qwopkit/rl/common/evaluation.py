"""Evaluating a policy in the environment, headless (qwopkit.training.watch shows the runs in Chromium).

    report = evaluate(load_policy("models/bc.zip"), episodes=5, deterministic=True)
    report.summary()   # finish rate, mean / best distance, best / median finish time, falls
    episode_states(report.episodes[0])   # the raw states of a run, re-simulated from its keys

The bundled game has no randomness: deterministic runs of one policy are identical, so only
stochastic evaluation (actions sampled from pi, seeded) spreads over outcomes.

Watching (qwopkit.training.watch) replays the evaluated runs rather than driving the live host:
the agent's actions are turned back into the keys it held (each for `frame_skip` updates) and
replayed from the spawn with `run_keys`, which gives exactly the states the evaluation saw (the
game is deterministic); the page then plays them at 30 updates per second with the game page's own renderer
(`host.replay_html`). A live host steps on its own wall clock, so a decision arriving a few
milliseconds late would change the run, and what is watched would no longer be what was measured.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.policies import BasePolicy
from tqdm import tqdm

import qwopkit  # noqa: F401  (registers qwopkit/QWOP-v0)
from qwopkit.adapter.features import ACTION_KEYS
from qwopkit.adapter.openqwop.physics import TIME_LIMIT
from qwopkit.errors import ParameterError

if TYPE_CHECKING:
    from qwopkit.adapter.env import QWOPEnv

ENV_ID = "qwopkit/QWOP-v0"
SETTLE_UPDATES = 45  # shown after a fall or a finish when watching (1.5 s of ragdoll)


@dataclass
class EpisodeResult:
    """One evaluated run."""

    outcome: str  # finished, fell or timeout
    distance: float  # metres at the end
    hud_time: float  # HUD seconds at the end
    steps: int  # decisions
    updates: int  # game updates
    actions: np.ndarray = field(repr=False)  # (steps,) the decisions taken
    frame_skip: int = 3


@dataclass
class EvalReport:
    """Results of several runs and their summary."""

    episodes: list[EpisodeResult]
    deterministic: bool
    seed: int

    def summary(self) -> dict[str, Any]:
        """Finish rate, mean and best distance, best and median HUD time of finished runs, falls."""
        finished = [e.hud_time for e in self.episodes if e.outcome == "finished"]
        distances = [e.distance for e in self.episodes]
        return {
            "episodes": len(self.episodes),
            "deterministic": self.deterministic,
            "seed": self.seed,
            "finish_rate": len(finished) / len(self.episodes) if self.episodes else 0.0,
            "mean_distance": float(np.mean(distances)) if distances else float("nan"),
            "best_distance": float(max(distances)) if distances else float("nan"),
            "best_time": min(finished) if finished else None,
            "median_time": statistics.median(finished) if finished else None,
            "falls": sum(e.outcome == "fell" for e in self.episodes),
            "timeouts": sum(e.outcome == "timeout" for e in self.episodes),
        }


def check_spaces(policy: BasePolicy, env: gym.Env) -> None:
    """Raise ValueError unless the policy was made for the environment's spaces."""
    for what in ("observation_space", "action_space"):
        if getattr(policy, what) != getattr(env, what):
            raise ValueError(f"the model's {what.replace('_', ' ')} {getattr(policy, what)} is not the "
                             f"environment's {getattr(env, what)}")


def run_episode(policy: BasePolicy, env: gym.Env, deterministic: bool,
                seed: int | None = None) -> EpisodeResult:
    """Play one run to its end (fall, finish or time limit)."""
    obs, info = env.reset(seed=seed)
    actions: list[int] = []
    while True:
        action, _ = policy.predict(obs, deterministic=deterministic)
        actions.append(int(action))
        obs, _, terminated, truncated, info = env.step(int(action))
        if terminated or truncated:
            break
    inner: QWOPEnv = env.unwrapped  # type: ignore[assignment]  # made from ENV_ID
    return EpisodeResult(info["outcome"], info["distance"], info["hud_time"], len(actions),
                         inner.engine.updates, np.array(actions, np.uint8), inner.frame_skip)


def evaluate(policy: BasePolicy, episodes: int = 10, *, deterministic: bool = False, seed: int = 0,
             time_limit: float = TIME_LIMIT, progress: bool = False, frame_skip: int = 3,
             env_id: str = ENV_ID, env_kwargs: dict[str, Any] | None = None) -> EvalReport:
    """Run `episodes` runs of the policy in `env_id` (default `qwopkit/QWOP-v0`; e.g.
    `qwopkit/QWOP-original-v0` with env_kwargs={"qwop": PATH}), sampling seeded by `seed`, each
    decision held for `frame_skip` game updates (3: 0.1 s, the toolkit's and the seed's ACER's)."""
    if episodes < 1:
        raise ParameterError("episodes", f"must be at least 1, got {episodes}")
    env = gym.make(env_id, time_limit=time_limit, frame_skip=frame_skip, **(env_kwargs or {}))
    was_training = policy.training
    try:
        check_spaces(policy, env)
        policy.set_training_mode(False)
        runs = tqdm(range(episodes), desc="evaluating", unit="run", disable=None if progress else True,
                    leave=False)
        # SB3 samples actions with torch's global generator: seed a copy of it, so that evaluating in
        # the middle of training neither depends on nor disturbs the training run's random stream.
        with th.random.fork_rng():
            th.manual_seed(seed)
            results = [run_episode(policy, env, deterministic, seed + i) for i in runs]
    finally:
        env.close()  # the original game's browser too
        policy.set_training_mode(was_training)
    return EvalReport(results, deterministic, seed)


def episode_keys(result: EpisodeResult, settle: int = 0) -> np.ndarray:
    """The key mask held at each game update of a run, then `settle` updates with no keys."""
    keys = np.repeat(ACTION_KEYS[result.actions], result.frame_skip)[:result.updates]
    return np.concatenate([keys, np.zeros(settle, np.uint8)])


def episode_states(result: EpisodeResult, settle: int = SETTLE_UPDATES) -> np.ndarray:
    """The (N+1, 99) raw states of a run, re-simulated exactly from its keys (plus `settle` updates)."""
    from qwopkit.adapter.openqwop import run_keys

    return run_keys(episode_keys(result, settle if result.outcome != "timeout" else 0))
