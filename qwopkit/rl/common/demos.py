"""Recorded runs as ACER's demonstrations: kept episodes read through the dataset library, rewards
recomputed with the environment's reward function.

    demos = load_demonstrations("data/*.h5", observation_shape=(71,), n_actions=11)
    demos = load_demonstrations("data/", split="by-player", part="train", reward_fn=my_reward)

Episodes come from `qwopkit.dataset.to_transitions`, so curation marks (kept / excluded, rating)
and named splits are honoured and bad files are skipped with a warning. The rewards stored in a
file are those of the reward function used when it was recorded; a learner's Q values must
mean one thing, so every demonstration reward is recomputed with the function the environment
uses now: from the raw states at the decision boundaries where the file has them
(`reward_fn(state[b_t], state[b_t+1])`, exactly what the environment computes), and otherwise
(runs imported from the original game keep only the 71 features) from the features
(`features_reward_fn(observations, next_observations)`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from qwopkit.adapter.env import forward_velocity_reward, forward_velocity_reward_from_features
from qwopkit.dataset import EpisodeError, decision_bounds, open_episode, to_transitions
from qwopkit.errors import ParameterError
from qwopkit.rl.acer.buffers import DemoStore

StateRewardFn = Callable[[np.ndarray, np.ndarray], float]
FeaturesRewardFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
PathSpec = str | Path | Sequence[str | Path]


def state_rewards(state: np.ndarray, frame_skip: int, reward_fn: StateRewardFn) -> np.ndarray:
    """The reward of every decision of a run from its raw states (N+1, S), as the environment gives it."""
    bounds = decision_bounds(len(state) - 1, frame_skip)
    return np.array([reward_fn(state[a], state[b]) for a, b in zip(bounds[:-1], bounds[1:])], np.float32)


def load_demonstrations(specs: PathSpec, *, observation_shape: tuple[int, ...], n_actions: int,
                        observation_fields: Sequence[str] | None = None,
                        reward_fn: StateRewardFn | None = forward_velocity_reward,
                        features_reward_fn: FeaturesRewardFn | None = forward_velocity_reward_from_features,
                        split: str | None = None, part: str = "train", min_rating: int = 0) -> DemoStore:
    """The kept decisions of the episodes `specs` names, ready to be injected into ACER's replay.

    :param observation_shape, n_actions: the environment's; episodes that do not fit are refused.
    :param observation_fields: the observation columns the environment gives (default the seed's
        71); episodes that declare others are skipped with a warning.
    :param reward_fn: the environment's reward of two raw states; None keeps the stored rewards.
    :param features_reward_fn: the same reward from features, for episodes without raw state;
        None refuses such episodes (when `reward_fn` is set).
    :param split, part, min_rating: as in `qwopkit.dataset.to_transitions`.
    Raises EpisodeError naming the episode (or "demos") when the demonstrations cannot be used.
    """
    data = to_transitions(specs, split=split, part=part, min_rating=min_rating,
                          observation_fields=observation_fields, raw=True)
    if len(data) == 0:
        raise ParameterError("demos", "no kept decisions in the episodes given")
    first = data.paths[0]
    if tuple(data.observations.shape[1:]) != tuple(observation_shape):
        raise EpisodeError(first, f"observations of shape {data.observations.shape[1:]} do not fit the "
                                  f"environment's {tuple(observation_shape)}")
    if data.mu.shape[1] != n_actions or int(data.actions.max()) >= n_actions:
        raise EpisodeError(first, f"its action set does not fit the environment's {n_actions} actions")

    rewards = data.rewards.copy()
    dones = data.dones.copy()
    starts = np.searchsorted(data.episode, np.arange(len(data.paths)))
    ends = np.append(starts[1:], len(data))
    for path, a, b in zip(data.paths, starts, ends):
        dones[b - 1] = True  # an episode's last decision ends it, whatever its flags say
        if reward_fn is not None:
            rewards[a:b] = _episode_rewards(Path(path), b - a, data.observations[a:b],
                                            data.next_observations[a:b], reward_fn, features_reward_fn)
    return DemoStore(data.observations, data.next_observations, data.actions, rewards, data.mu, dones,
                     data.terminations & dones, [str(p) for p in data.paths])


def _episode_rewards(path: Path, steps: int, observations: np.ndarray, next_observations: np.ndarray,
                     reward_fn: StateRewardFn, features_reward_fn: FeaturesRewardFn | None) -> np.ndarray:
    with open_episode(path) as episode:
        if episode.has_state:
            rewards = state_rewards(episode.read("state"), int(episode.meta["frame_skip"]), reward_fn)
            if len(rewards) != steps:
                raise EpisodeError(path, f"its raw state gives {len(rewards)} decisions, its actions {steps}")
            return rewards
    if features_reward_fn is None:
        raise EpisodeError(path, "no raw state to recompute its rewards from (and no reward from features)")
    return np.asarray(features_reward_fn(observations, next_observations), np.float32)
