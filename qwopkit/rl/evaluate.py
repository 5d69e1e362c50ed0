"""Evaluating a policy in the environment, and watching its runs in the game page.

    report = evaluate(load_policy("models/bc.zip"), episodes=5, deterministic=True)
    report.summary()   # finish rate, mean / best distance, best / median finish time, falls
    watch(report.episodes)  # each run replayed in the browser page, in real time

The bundled game has no randomness: deterministic runs of one policy are identical, so only
stochastic evaluation (actions sampled from pi, seeded) spreads over outcomes.

Watching replays the evaluated runs rather than driving the live host: the agent's actions are
turned back into the keys it held (each for `frame_skip` updates) and replayed from the spawn
with `run_keys`, which gives exactly the states the evaluation saw (the game is deterministic);
the page then plays them at 30 updates per second with the game page's own renderer
(`host.replay_html`). A live host steps on its own wall clock, so a decision arriving a few
milliseconds late would change the run, and what is watched would no longer be what was measured.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.policies import BasePolicy
from tqdm import tqdm

import qwopkit  # noqa: F401  (registers qwopkit/QWOP-v0)
from qwopkit.adapter.features import ACTION_KEYS
from qwopkit.adapter.openqwop.physics import TIME_LIMIT

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
             time_limit: float = TIME_LIMIT, progress: bool = False) -> EvalReport:
    """Run `episodes` runs of the policy in `qwopkit/QWOP-v0` (sampling seeded by `seed`)."""
    if episodes < 1:
        raise ValueError(f"--episodes: must be at least 1, got {episodes}")
    env = gym.make(ENV_ID, time_limit=time_limit)
    check_spaces(policy, env)
    was_training = policy.training
    policy.set_training_mode(False)
    runs = tqdm(range(episodes), desc="evaluating", unit="run", disable=None if progress else True,
                leave=False)
    # SB3 samples actions with torch's global generator: seed a copy of it, so that evaluating in
    # the middle of training neither depends on nor disturbs the training run's random stream.
    with th.random.fork_rng():
        th.manual_seed(seed)
        results = [run_episode(policy, env, deterministic, seed + i) for i in runs]
    env.close()
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


def watch(results: list[EpisodeResult], *, headless: bool = False, fps: float = 30.0,
          log: Any = print) -> list[dict[str, Any]]:
    """Replay runs one after another in the game page in Chromium; returns the page's last state of each.

    Returns early (with what was shown) if the browser window is closed.
    """
    from selenium.common.exceptions import WebDriverException

    from qwopkit.adapter.browser import BrowserGame, open_browser
    from qwopkit.adapter.openqwop.host import replay_html

    shown: list[dict[str, Any]] = []
    driver = open_browser(headless=headless)
    try:
        with tempfile.TemporaryDirectory(prefix="qwop-eval-") as folder:
            for i, result in enumerate(results):
                states = episode_states(result)
                page = Path(folder) / f"run{i}.html"
                title = f"qwop-eval run {i + 1}: {result.outcome} at {result.distance:.1f} m"
                page.write_text(replay_html(states, fps=fps, title=title), encoding="utf-8")
                log(f"watching run {i + 1}/{len(results)}: {result.outcome}, {result.distance:.1f} m "
                    f"in {result.hud_time:.1f} s ({len(states) / fps:.0f} s replay)")
                game = BrowserGame(driver, page.as_uri())
                deadline = time.monotonic() + len(states) / fps + 30
                try:
                    game.wait_for(lambda: _replay_done(driver), timeout=deadline - time.monotonic(),
                                  what="the replay to end")
                except WebDriverException:
                    break  # the window was closed
                shown.append(game.state() or {})
    finally:
        try:
            driver.quit()
        except WebDriverException:
            pass
    return shown


def _replay_done(driver: Any) -> bool:
    done = driver.execute_script("const r = window.qwopAdapter && window.qwopAdapter.replay;"
                                 "return !!r && r.length() > 0 && r.frame() === r.length() - 1;")
    return bool(done)
