"""An episode in memory, and how a run's per-update record becomes per-decision data.

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
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qwopkit.adapter.env import forward_velocity_reward
from qwopkit.adapter.features import seed_observation
from qwopkit.adapter.openqwop.layout import STATE_INDEX

from .mu import smoothed_mu
from .schema import (
    DECISION_DATASETS,
    MASK_TO_ACTION,
    NO_SEED,
    RAW_DATASETS,
    TERMINAL_OUTCOMES,
    EpisodeError,
    check_layout,
    check_meta,
    decision_bounds,
    default_meta,
)

RewardFn = Callable[[np.ndarray, np.ndarray], float]
DEFAULT_MU_EPS = 0.1

_DISTANCE = STATE_INDEX["distance"]
_HUD_TIME = STATE_INDEX["hud_time"]
_FALLEN = STATE_INDEX["fallen"]
_FINISHED = STATE_INDEX["finished"]


@dataclass(eq=False)
class Episode:
    """One run: per-decision arrays, optional raw per-update arrays, and the root attributes."""

    meta: dict[str, Any]
    observations: np.ndarray  # (T+1, 71) float32
    actions: np.ndarray  # (T,) uint8
    rewards: np.ndarray  # (T,) float32
    terminations: np.ndarray  # (T,) bool
    truncations: np.ndarray  # (T,) bool
    mu: np.ndarray  # (T, 11) float32
    infos: dict[str, np.ndarray] = field(default_factory=dict)  # distance, hud_time: (T+1,)
    state: np.ndarray | None = None  # (N+1, 99) float64
    keys: np.ndarray | None = None  # (N,) uint8

    def __post_init__(self) -> None:
        # Cast once here so that the writer stores exactly the format's dtypes.
        for name, dtype in DECISION_DATASETS.items():
            if name.startswith("infos/"):
                key = name[len("infos/"):]
                if key in self.infos:
                    self.infos[key] = np.asarray(self.infos[key], dtype=dtype)
            else:
                setattr(self, name, np.asarray(getattr(self, name), dtype=dtype))
        for name, dtype in RAW_DATASETS.items():
            if getattr(self, name) is not None:
                setattr(self, name, np.asarray(getattr(self, name), dtype=dtype))

    @property
    def steps(self) -> int:
        """Number of decisions T."""
        return len(self.actions)

    @property
    def has_state(self) -> bool:
        return self.state is not None

    def arrays(self) -> dict[str, np.ndarray]:
        """Every dataset by its name in the file (`infos/distance` etc.)."""
        out = {name: getattr(self, name) for name in DECISION_DATASETS if not name.startswith("infos/")}
        out.update({f"infos/{k}": v for k, v in self.infos.items()})
        if self.state is not None:
            out["state"] = self.state
        if self.keys is not None:
            out["keys"] = self.keys
        return out

    def check(self, where: object = "episode") -> None:
        """Raise EpisodeError unless the arrays and attributes form a valid version-1 episode."""
        try:
            check_meta(self.meta)
            arrays = self.arrays()
            check_layout({k: v.shape for k, v in arrays.items()},
                         {k: v.dtype for k, v in arrays.items()}, self.meta)
        except ValueError as exc:
            raise EpisodeError(where, str(exc)) from None

    @classmethod
    def from_updates(
        cls,
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
        keys = np.asarray(keys, dtype=np.uint8)
        n = len(keys)
        if state.ndim != 2 or len(state) != n + 1:
            raise EpisodeError("episode", f"state has shape {state.shape}, expected ({n + 1}, S) "
                                          f"for {n} keys")
        if frame_skip < 1:
            raise EpisodeError("episode", f"frame_skip must be >= 1, got {frame_skip}")
        if keys.size and keys.max() > 15:
            raise EpisodeError("episode", "keys must be 4-bit masks (0-15)")
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
            "mu_method": "smoothed",
            "mu_params": {"eps": mu_eps},
        }
        attrs = default_meta(player, session, episode_index, **{**derived, **meta})
        return cls(
            meta=attrs,
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
