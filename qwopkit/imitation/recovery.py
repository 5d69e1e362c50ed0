"""Recovery decisions: what a clone should do just after it got a decision wrong.

A clone of recorded runs sees, once it runs, states the player never showed it: each mistake
takes it a little off his path, and the next decisions are then guessed from states no
recording covers (the compounding error of behaviour cloning). A player cannot be asked what
he would have done there, but the bundled engine can go there: from a recorded state, hold
one to `depth` other actions for the decisions that follow, then label the state reached with
the action the player took at that point of his run. The label assumes he would have done the
same a little off his path, as noise-injection methods do (DART: Laskey et al., 2017, inject
noise into the demonstrator's actions and keep its intended ones as labels); here the noise is
put into the replay of his actions by the engine, after the recording.

Recorded runs from the original game keep only the seed's 71 features: the engine is set to
each state rebuilt from them (adapter/openqwop/recorded.py: angular velocities from the
joints, each decision's length fitted from the features).

    obs, actions = recovery_decisions(episode_obs, episode_actions, per_decision=4, depth=3,
                                      rng=np.random.default_rng(0))
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from tqdm import tqdm

from qwopkit.adapter.features import ACTION_KEYS, seed_observation
from qwopkit.adapter.openqwop import Engine
from qwopkit.adapter.openqwop.recorded import decision_starts, decision_updates, whole_updates
from qwopkit.errors import ParameterError
from qwopkit.imitation.bc import Demos
from qwopkit.spaces import N_ACTIONS


def settling_mask(actions: np.ndarray) -> np.ndarray:
    """(T,) True for the decisions of a run before its first key press: the runner settling
    from the spawn while the player waits (nothing a clone can learn when to stop doing)."""
    actions = np.asarray(actions)
    pressed = np.flatnonzero(actions != 0)
    first = int(pressed[0]) if len(pressed) else len(actions)
    return np.arange(len(actions)) < first


def recovery_decisions(observations: np.ndarray, actions: np.ndarray, *, per_decision: int = 4,
                       depth: int = 3, rng: np.random.Generator, engine: Engine | None = None,
                       skip: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Off-path states of one recorded run, labelled with the player's next action.

    :param observations: (T, 71) the run's decision observations (the seed's features).
    :param actions: (T,) the actions he took (our action set).
    :param per_decision: off-path states made for each recorded decision.
    :param depth: at most this many decisions are replayed with other actions (drawn uniformly;
        the first one always differs from his) before the labelled state.
    :param skip: (T,) decisions to make no states for (e.g. `settling_mask`).
    Returns (observations (M, 71) float32, actions (M,) int64).
    """
    if per_decision < 0:
        raise ParameterError("per_decision", f"must be >= 0, got {per_decision}")
    if depth < 1:
        raise ParameterError("depth", f"must be >= 1, got {depth}")
    obs = np.asarray(observations, dtype=np.float64)
    actions = np.asarray(actions, dtype=np.int64)
    if len(obs) < 2 or per_decision == 0:
        return np.zeros((0, obs.shape[1]), np.float32), np.zeros(0, np.int64)
    engine = engine or Engine()
    fitted = decision_updates(obs)
    lengths = whole_updates(fitted)
    states, knees = decision_starts(obs, ACTION_KEYS[actions], fitted)
    skip = np.zeros(len(obs), bool) if skip is None else np.asarray(skip, bool)
    out_obs, out_actions = [], []
    for t in range(1, len(obs)):
        if skip[t]:
            continue
        for _ in range(per_decision):
            back = int(rng.integers(1, min(depth, t) + 1))
            start = t - back
            engine.set_state(states[start], knee_keys=int(knees[start]))
            for step in range(back):
                other = int(rng.integers(N_ACTIONS - 1)) if step == 0 else int(rng.integers(N_ACTIONS))
                if step == 0 and other >= actions[start]:
                    other += 1  # the first one is never his own
                engine.advance(int(ACTION_KEYS[other]), int(lengths[start + step]))
            out_obs.append(seed_observation(engine.state()))
            out_actions.append(actions[t])
    if not out_obs:
        return np.zeros((0, obs.shape[1]), np.float32), np.zeros(0, np.int64)
    return np.array(out_obs, dtype=np.float32), np.array(out_actions, dtype=np.int64)


def _by_episode(groups: np.ndarray | None, n: int) -> list[np.ndarray]:
    if groups is None:  # one run, as far as we know
        return [np.arange(n)]
    return [np.flatnonzero(groups == g) for g in np.unique(groups)]


def shape_demos(demos: Demos, *, drop_settling: bool = False, recovery: int = 0, recovery_depth: int = 3,
                seed: int = 0, progress: bool = False) -> Demos:
    """The demonstrations a clone is trained on: without the settling decisions (both parts,
    so validation measures the same kind of decision) and with `recovery` recovery decisions
    per recorded training decision (`recovery_decisions`; the validation part stays as
    recorded). Returns a new Demos whose `shaping` says what was done."""
    rng = np.random.default_rng(seed)
    parts = {}
    dropped = 0
    for name in ("train", "valid"):
        obs, actions = getattr(demos, f"{name}_obs"), getattr(demos, f"{name}_actions")
        groups = getattr(demos, f"{name}_groups")
        keep = np.ones(len(actions), bool)
        if drop_settling:
            for idx in _by_episode(groups, len(actions)):
                keep[idx[settling_mask(actions[idx])]] = False
        dropped += int((~keep).sum())
        parts[name] = (obs[keep], actions[keep], None if groups is None else groups[keep])
    obs, actions, groups = parts["train"]
    extra_obs, extra_actions = [obs], [actions]
    if recovery:
        engine = Engine()
        episodes = _by_episode(groups, len(actions))
        bar = tqdm(episodes, desc="recovery decisions", unit="run", disable=None if progress else True,
                   leave=False)
        for idx in bar:
            more_obs, more_actions = recovery_decisions(obs[idx], actions[idx], per_decision=recovery,
                                                        depth=recovery_depth, rng=rng, engine=engine)
            extra_obs.append(more_obs)
            extra_actions.append(more_actions)
    train_obs, train_actions = np.concatenate(extra_obs), np.concatenate(extra_actions)
    shaping = {"drop_settling": drop_settling, "settling_dropped": dropped, "recovery": recovery,
               "recovery_depth": recovery_depth, "recovery_decisions": int(len(train_actions) - len(actions)),
               "seed": seed}
    valid_obs, valid_actions, valid_groups = parts["valid"]
    return replace(demos, train_obs=train_obs, train_actions=train_actions, train_groups=None,
                   valid_obs=valid_obs, valid_actions=valid_actions, valid_groups=valid_groups,
                   shaping=shaping, train_recorded=int(len(actions)))


__all__ = ["recovery_decisions", "settling_mask", "shape_demos"]
