"""ACER's replay: segments of consecutive steps, each step with the behaviour policy mu it was taken under.

    replay = SegmentReplayBuffer(capacity=2000, n_steps=20, obs_shape=(71,), n_actions=11)
    replay.add(segments)                    # a Segments batch: on-policy, or demonstrations
    batch = replay.sample(8, rng)           # 8 stored segments, uniformly
    demos = DemoStore(obs, next_obs, ...)   # demonstration decisions as one stream (rl/common/demos.py)
    demos.sample(8, 20, rng)                # 8 windows of 20 consecutive decisions

A segment is what ACER learns from: n consecutive steps of one environment (or of the
demonstrations) and the observation after them, so that Retrace can run backwards through it.
A segment may hold the end of one episode and the start of the next, as a vectorised
environment's rollout does; `dones[t]` marks the last step of an episode, and the chain of
returns is cut there. What follows a last step is then decided by how the episode ended:
`terminations[t]` (a fall or a finish: nothing follows) or a truncation (the time limit: the
episode could have gone on, and its true last observation, `final_observations[t]`, is
bootstrapped from). That observation is kept only because a vectorised environment has already
replaced it by the next episode's first one.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np


@dataclass
class Segments:
    """B segments of n steps, batch-major.

    observations (B, n+1, D): the observation at each step and the one after the last step.
    actions (B, n) int64; rewards (B, n) float32; mu (B, n, A) float32: behaviour probabilities.
    dones (B, n) bool: the step ended an episode. terminations (B, n) bool: it ended by a fall or
    finish (no bootstrap). final_observations (B, n, D): the true last observation of a truncated
    episode (zeros elsewhere). demo (B,) bool: the segment comes from the demonstrations.
    """

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    mu: np.ndarray
    dones: np.ndarray
    terminations: np.ndarray
    final_observations: np.ndarray
    demo: np.ndarray

    def __len__(self) -> int:
        return len(self.actions)

    @property
    def n_steps(self) -> int:
        return self.actions.shape[1]

    @property
    def truncations(self) -> np.ndarray:
        return self.dones & ~self.terminations

    def with_mu(self, mu: np.ndarray) -> Segments:
        return Segments(**{**self.arrays(), "mu": np.asarray(mu, np.float32)})

    def arrays(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def concatenate(cls, parts: list[Segments]) -> Segments:
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)})


class SegmentReplayBuffer:
    """A ring of `capacity` segments of `n_steps` steps; the oldest is overwritten first.

    :param capacity: segments held (ACER's buffer_size // n_steps per environment, times the
        number of environments).
    """

    def __init__(self, capacity: int, n_steps: int, obs_shape: tuple[int, ...], n_actions: int,
                 obs_dtype: Any = np.float32) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least one segment, got {capacity}")
        if n_steps < 1:
            raise ValueError(f"n_steps must be at least 1, got {n_steps}")
        self.capacity = capacity
        self.n_steps = n_steps
        self.obs_shape = tuple(obs_shape)
        self.n_actions = n_actions
        shape = (capacity, n_steps)
        self._store = Segments(
            observations=np.zeros((capacity, n_steps + 1, *self.obs_shape), obs_dtype),
            actions=np.zeros(shape, np.int64),
            rewards=np.zeros(shape, np.float32),
            mu=np.zeros((*shape, n_actions), np.float32),
            dones=np.zeros(shape, bool),
            terminations=np.zeros(shape, bool),
            final_observations=np.zeros((*shape, *self.obs_shape), obs_dtype),
            demo=np.zeros(capacity, bool),
        )
        self.pos = 0  # next slot to write
        self.size = 0  # slots filled

    def __len__(self) -> int:
        return self.size

    @property
    def steps(self) -> int:
        """Steps held (segments times n_steps)."""
        return self.size * self.n_steps

    @property
    def demo_share(self) -> float:
        """Share of the held segments that are demonstrations."""
        return float(self._store.demo[:self.size].mean()) if self.size else 0.0

    def add(self, segments: Segments) -> None:
        """Store a batch of segments (each of this buffer's n_steps)."""
        if segments.n_steps != self.n_steps:
            raise ValueError(f"segments of {segments.n_steps} steps do not fit a replay of "
                             f"{self.n_steps}-step segments")
        slots = (self.pos + np.arange(len(segments))) % self.capacity
        for name, values in segments.arrays().items():
            getattr(self._store, name)[slots] = values
        self.pos = int((self.pos + len(segments)) % self.capacity)
        self.size = min(self.size + len(segments), self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> Segments:
        """`batch_size` segments drawn uniformly (with replacement) from those held."""
        if self.size == 0:
            raise ValueError("the replay is empty")
        slots = rng.integers(0, self.size, batch_size)
        return Segments(**{name: values[slots] for name, values in self._store.arrays().items()})


class DemoStore:
    """Demonstration decisions, episode after episode, as one stream to cut windows from.

    The stream is what a single environment would have produced playing the episodes one after
    another: step i's observation, action, reward, mu, and whether it ended an episode. A window
    of n steps that runs past an episode's end continues into the next episode, the boundary
    marked as in a vectorised rollout (see the module docstring), so every window is valid and
    every decision can be drawn.

    :param observations: (M, D) the observation at each decision.
    :param next_observations: (M, D) the observation after it (the final one at an episode's end).
    :param actions, rewards: (M,) ; mu: (M, A) the stored behaviour estimate.
    :param dones: (M,) the decision ended its episode; terminations: (M,) by a fall or finish.
    """

    def __init__(self, observations: np.ndarray, next_observations: np.ndarray, actions: np.ndarray,
                 rewards: np.ndarray, mu: np.ndarray, dones: np.ndarray, terminations: np.ndarray,
                 sources: list[str] | None = None) -> None:
        m = len(actions)
        if m == 0:
            raise ValueError("demonstrations: no decisions")
        for name, arr in (("observations", observations), ("next_observations", next_observations),
                          ("rewards", rewards), ("mu", mu), ("dones", dones), ("terminations", terminations)):
            if len(arr) != m:
                raise ValueError(f"demonstrations: {name} has {len(arr)} rows, actions {m}")
        if not bool(dones[-1]):
            raise ValueError("demonstrations: the last decision must end an episode")
        if bool(np.any(terminations & ~dones)):
            raise ValueError("demonstrations: a termination that does not end its episode")
        self.observations = np.asarray(observations, np.float32)
        self.next_observations = np.asarray(next_observations, np.float32)
        self.actions = np.asarray(actions, np.int64)
        self.rewards = np.asarray(rewards, np.float32)
        self.mu = np.asarray(mu, np.float32)
        self.dones = np.asarray(dones, bool)
        self.terminations = np.asarray(terminations, bool)
        self.sources = list(sources or [])
        # The observation after stream step i: the next step's, except at an episode's end,
        # where a rollout would show the next episode's first (and keep the true last apart).
        self._following = np.concatenate([self.observations[1:], self.next_observations[-1:]])

    def __len__(self) -> int:
        return len(self.actions)

    @property
    def episodes(self) -> int:
        return int(self.dones.sum())

    def sample(self, count: int, n_steps: int, rng: np.random.Generator) -> Segments:
        """`count` windows of `n_steps` consecutive decisions, starts drawn uniformly."""
        m = len(self)
        if n_steps > m:
            raise ValueError(f"demonstrations: {m} decisions are fewer than one segment of {n_steps}")
        starts = rng.integers(0, m - n_steps + 1, count)
        idx = starts[:, None] + np.arange(n_steps)[None, :]  # (count, n_steps)
        observations = np.concatenate([self.observations[idx], self._following[idx[:, -1:]]], axis=1)
        truncated = self.dones[idx] & ~self.terminations[idx]
        final = np.where(truncated[..., None], self.next_observations[idx], 0.0).astype(np.float32)
        return Segments(observations=observations, actions=self.actions[idx], rewards=self.rewards[idx],
                        mu=self.mu[idx], dones=self.dones[idx], terminations=self.terminations[idx],
                        final_observations=final, demo=np.ones(count, bool))
