"""Flat transition arrays for learners, honouring curation marks and named splits.

    data = to_transitions("data/", split="by-player", part="train")
    data.observations[i], data.actions[i], data.rewards[i], data.next_observations[i],
    data.dones[i], data.mu[i]

Transition i of an episode is decision t: (observations[t], actions[t], rewards[t],
observations[t+1]). `dones` is True where the episode ends (terminated or truncated, as in SB2/
SB3 buffers); `terminations` alone says where there is no next state to bootstrap from.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .cache import AttrCache
from .curation import apply_marks, read_marks
from .reader import PathSpec, dataset_ids, h5_reason, open_h5, read_attrs, read_into, resolve_paths
from .schema import N_ACTIONS, EpisodeError, EpisodeWarning, check_decisions
from .splits import common_folder, split_members


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
    return [p for p in paths if p.resolve() in members]


_KEYS = ("kept", "rating", "observation_fields", "obs_shape")
_DATASETS = ("observations", "actions", "rewards", "terminations", "truncations", "mu")


def _scan(path: Path, marks: dict[str, dict], cache: AttrCache) -> tuple[dict, int]:
    """Attributes (with marks) and decision count of one file. Raises EpisodeError.

    Loading is two passes: this scan, then reading straight into the preallocated output. The
    scan goes through the attribute cache and opens only `observations` on a miss: per-file
    overhead, not bytes, limits loading many episodes (docs/dataset.md). The other datasets are
    checked when they are read.
    """
    meta = cache.get(path, _KEYS, read_attrs)
    try:
        t = check_decisions({"observations": tuple(meta["obs_shape"])}, len(meta["observation_fields"]))
    except ValueError as exc:
        raise EpisodeError(path, str(exc)) from None
    return apply_marks(meta, marks.get(path.name, {})), t


def _read(path: Path, t: int, obs: np.ndarray, out: dict[str, np.ndarray], off: int) -> None:
    """Read one episode's T decisions into the outputs at row `off`. Raises EpisodeError."""
    try:
        with open_h5(path) as f:
            ids = dataset_ids(f, _DATASETS)
            check_decisions({k: v.shape for k, v in ids.items()}, obs.shape[1])
            if ids["actions"].shape != (t,):
                raise ValueError("changed while loading")
            read_into(ids["observations"], obs[off:off + t + 1])
            for name, arr in out.items():
                read_into(ids[name], arr[off:off + t])
    except ValueError as exc:
        raise EpisodeError(path, str(exc)) from None
    except (OSError, RuntimeError) as exc:
        raise EpisodeError(path, f"unreadable ({h5_reason(exc)})") from None


def to_transitions(specs: PathSpec, *, split: str | None = None, part: str = "train",
                   splits_folder: str | Path | None = None, include_excluded: bool = False,
                   min_rating: int = 0, cache: bool = True) -> Transitions:
    """Load the transitions of the kept episodes (all with `include_excluded`).

    :param split: name of a split in splits.json; only its `part` ("train" or "valid") is loaded.
    :param splits_folder: where splits.json is; default the folder holding all the episodes.
    :param min_rating: leave out episodes rated below this (0 keeps unrated ones).
    :param cache: use and update the folders' attribute caches (cache.py).
    Bad files are skipped with a warning.
    """
    chosen: list[tuple[Path, int]] = []
    fields: list[str] | None = None
    folder_marks: dict[Path, dict[str, dict]] = {}
    attr_cache = AttrCache(enabled=cache)
    for path in select_paths(specs, split=split, part=part, splits_folder=splits_folder):
        try:
            if path.parent not in folder_marks:
                folder_marks[path.parent] = read_marks(path.parent)
            meta, t = _scan(path, folder_marks[path.parent], attr_cache)
        except EpisodeError as exc:
            warnings.warn(str(exc), EpisodeWarning, stacklevel=2)
            continue
        if (not include_excluded and not meta["kept"]) or meta["rating"] < min_rating:
            continue
        if fields is None:
            fields = meta["observation_fields"]
        elif meta["observation_fields"] != fields:
            raise EpisodeError(path, "observation fields differ from the other episodes'")
        if t:
            chosen.append((path, t))
    attr_cache.save()

    capacity = sum(t for _, t in chosen)
    d = len(fields) if fields else 0
    # One spare row: each episode's T+1 observations are read in place, and its last row is
    # then overwritten by the next episode's first.
    obs = np.empty((capacity + 1, d), np.float32)
    out = {"actions": np.empty(capacity, np.int64), "rewards": np.empty(capacity, np.float32),
           "terminations": np.empty(capacity, bool), "truncations": np.empty(capacity, bool),
           "mu": np.empty((capacity, N_ACTIONS), np.float32)}
    next_obs = np.empty((capacity, d), np.float32)
    loaded: list[tuple[Path, int]] = []
    m = 0
    for path, t in chosen:
        try:
            _read(path, t, obs, out, m)
        except EpisodeError as exc:  # a file whose other datasets are bad: skipped, rows reused
            warnings.warn(str(exc), EpisodeWarning, stacklevel=2)
            continue
        next_obs[m:m + t] = obs[m + 1:m + t + 1]
        loaded.append((path, t))
        m += t
    out = {k: v[:m] for k, v in out.items()}
    next_obs = next_obs[:m]
    chosen = loaded

    return Transitions(
        observations=obs[:m],
        actions=out["actions"],
        rewards=out["rewards"],
        next_observations=next_obs,
        dones=out["terminations"] | out["truncations"],
        terminations=out["terminations"],
        truncations=out["truncations"],
        mu=out["mu"],
        episode=np.repeat(np.arange(len(chosen), dtype=np.int32), [t for _, t in chosen]),
        paths=[p for p, _ in chosen],
        observation_fields=list(fields or []),
    )
