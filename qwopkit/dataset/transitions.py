"""Flat transition arrays for learners, honouring curation marks and named splits.

    data = to_transitions("data/", split="by-player", part="train")
    data.observations[i], data.actions[i], data.rewards[i], data.next_observations[i],
    data.dones[i], data.mu[i]

Transition i of an episode is decision t: (observations[t], actions[t], rewards[t],
observations[t+1]). `dones` is True where the episode ends (terminated or truncated, as in SB2/
SB3 buffers); `terminations` alone says where there is no next state to bootstrap from.

Every file goes through the read path's checks: its attributes and layout (through the
cache), then the per-decision values of exactly the arrays loaded (values.py), and with
`raw=True` (what the learners ask for) its raw state and keys too, by the checks a deep
validation runs. A file that fails any of them is skipped with a warning naming it; the others
load as if it were absent.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qwopkit.dataset.attributes import apply_marks
from qwopkit.dataset.cache import EpisodeCache
from qwopkit.dataset.curation import read_marks
from qwopkit.dataset.errors import EpisodeError, EpisodeWarning
from qwopkit.dataset.paths import PathSpec, resolve_paths
from qwopkit.dataset.reader import dataset_ids, episode_errors, open_h5, read_into
from qwopkit.dataset.schema import N_ACTIONS, OBSERVATION_FIELDS, check_decisions
from qwopkit.dataset.splits import common_folder, split_members
from qwopkit.dataset.values import decision_problem, raw_problem


@dataclass
class Transitions:
    """M transitions from several episodes, in file order."""

    observations: np.ndarray  # (M, D) float32
    actions: np.ndarray  # (M,) int64
    rewards: np.ndarray  # (M,) float32
    next_observations: np.ndarray  # (M, D) float32
    dones: np.ndarray  # (M,) bool: terminations | truncations
    terminations: np.ndarray  # (M,) bool
    truncations: np.ndarray  # (M,) bool
    mu: np.ndarray  # (M, 11) float32
    episode: np.ndarray  # (M,) int32: index into `paths`
    paths: list[Path] = field(default_factory=list)
    observation_fields: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.actions)


def select_paths(specs: PathSpec, *, split: str | None = None, part: str = "train",
                 splits_folder: str | Path | None = None) -> list[Path]:
    """The episode files the specs name, restricted to one part of a named split if given."""
    paths = resolve_paths(specs)
    if split is None:
        return paths
    members = split_members(splits_folder or common_folder(paths), split, part)
    return [p for p in paths if Path(os.path.realpath(p)) in members]


_DATASETS = ("observations", "actions", "rewards", "terminations", "truncations", "mu")


def _read(path: Path, t: int, obs: np.ndarray, out: dict[str, np.ndarray], off: int, raw: bool) -> None:
    """Read one episode's T decisions into the outputs at row `off` (and check its raw state and
    keys, if it has them and `raw`). Raises EpisodeError."""
    with episode_errors(path), open_h5(path) as f:
        ids = dataset_ids(f, _DATASETS)
        check_decisions({k: v.shape for k, v in ids.items()}, obs.shape[1])
        if ids["actions"].shape != (t,):
            raise ValueError("changed while loading")
        read_into(ids["observations"], obs[off:off + t + 1])
        for name, arr in out.items():
            read_into(ids[name], arr[off:off + t])
        if raw and "state" in f and "keys" in f:
            problem = raw_problem(f["state"][()], f["keys"][()])
            if problem:
                raise ValueError(problem)


def to_transitions(specs: PathSpec, *, split: str | None = None, part: str = "train",
                   splits_folder: str | Path | None = None, include_excluded: bool = False,
                   min_rating: int = 0, cache: bool = True,
                   observation_fields: Sequence[str] | None = None, raw: bool = False) -> Transitions:
    """Load the transitions of the kept episodes (all with `include_excluded`).

    :param split: name of a split in splits.json; only its `part` ("train" or "valid") is loaded.
    :param splits_folder: where splits.json is; default the folder holding all the episodes.
    :param min_rating: leave out episodes rated below this (0 keeps unrated ones).
    :param cache: use and update the folders' attribute caches (cache.py).
    :param observation_fields: the observation columns to load (default the seed's 71); an
        episode with other columns is skipped with a warning.
    :param raw: also check each episode's raw state and keys (values.raw_problem, as a deep
        validation does; decompressing the states costs about 1 s per hour of play): the
        learners skip a demonstration whose recording is damaged even where they do not use it.
    Bad files are skipped with a warning.
    """
    fields = list(OBSERVATION_FIELDS if observation_fields is None else observation_fields)
    chosen: list[tuple[Path, int, dict]] = []
    folder_marks: dict[Path, dict[str, dict]] = {}
    episode_cache = EpisodeCache(enabled=cache)
    for path in select_paths(specs, split=split, part=part, splits_folder=splits_folder):
        try:
            if path.parent not in folder_marks:
                folder_marks[path.parent] = read_marks(path.parent)
            entry = episode_cache.get(path)  # attributes, layout and values: the one read path
            if entry.meta["observation_fields"] != fields:
                raise EpisodeError(path, "observation fields differ from the ones loaded "
                                         f"({len(entry.meta['observation_fields'])} columns)")
        except EpisodeError as exc:
            warnings.warn(str(exc), EpisodeWarning, stacklevel=2)
            continue
        meta = apply_marks(entry.meta, folder_marks[path.parent].get(path.name, {}))
        if (not include_excluded and not meta["kept"]) or meta["rating"] < min_rating:
            continue
        if entry.steps:
            chosen.append((path, entry.steps, meta))
    episode_cache.save()

    capacity = sum(t for _, t, _ in chosen)
    d = len(fields)
    # One spare row: each episode's T+1 observations are read in place, and its last row is
    # then overwritten by the next episode's first.
    obs = np.empty((capacity + 1, d), np.float32)
    out: dict[str, np.ndarray] = {"actions": np.empty(capacity, np.int64),
                                  "rewards": np.empty(capacity, np.float32),
           "terminations": np.empty(capacity, bool), "truncations": np.empty(capacity, bool),
           "mu": np.empty((capacity, N_ACTIONS), np.float32)}
    next_obs = np.empty((capacity, d), np.float32)
    loaded: list[tuple[Path, int]] = []
    m = 0
    for path, t, meta in chosen:
        try:
            _read(path, t, obs, out, m, raw)
            rows = {name: arr[m:m + t] for name, arr in out.items()}
            problem = decision_problem(meta, observations=obs[m:m + t + 1], actions=rows["actions"],
                                       rewards=rows["rewards"], terminations=rows["terminations"],
                                       truncations=rows["truncations"], mu=rows["mu"])
            if problem:
                raise EpisodeError(path, problem)
        except EpisodeError as exc:  # a file found bad while reading: skipped, rows reused
            warnings.warn(str(exc), EpisodeWarning, stacklevel=2)
            continue
        next_obs[m:m + t] = obs[m + 1:m + t + 1]
        loaded.append((path, t))
        m += t
    out = {k: v[:m] for k, v in out.items()}

    return Transitions(
        observations=obs[:m],
        actions=out["actions"],
        rewards=out["rewards"],
        next_observations=next_obs[:m],
        dones=out["terminations"] | out["truncations"],
        terminations=out["terminations"],
        truncations=out["truncations"],
        mu=out["mu"],
        episode=np.repeat(np.arange(len(loaded), dtype=np.int32), [t for _, t in loaded]),
        paths=[p for p, _ in loaded],
        observation_fields=fields,
    )
