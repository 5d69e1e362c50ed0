"""Interop: export episodes as a Minari dataset; import the seed's SB2 expert `.npz` files.

Export copies the core datasets, whose names are already Minari's (observations, actions,
rewards, terminations, truncations, infos/*). Observation space Box(71,) float32, action space
Discrete(11) in our action order; the environment (and the evaluation environment) is
`qwopkit/QWOP-v0` with the episodes' frame_skip, stored so that `recover_environment()` works.

Import turns each episode of an `.npz` (obs, actions, rewards, episode_returns,
episode_starts) into an episode file marked `imported`, with no raw state (docs/episode-format.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import tokenize
import warnings
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from qwopkit.dataset.attributes import default_meta, episode_source
from qwopkit.dataset.episode import Episode
from qwopkit.dataset.episodes import iter_episodes
from qwopkit.dataset.errors import DatasetParameterError, EpisodeError, EpisodeExistsError, EpisodeWarning
from qwopkit.dataset.mu import DEFAULT_EPS, smoothed_mu
from qwopkit.dataset.paths import PathSpec
from qwopkit.dataset.progress import track
from qwopkit.dataset.schema import (
    DEFAULT_FRAME_SKIP,
    GAME_ORIGINAL,
    N_ACTIONS,
    OBS_SIZE,
    PHYSICS_ORIGINAL,
    UNKNOWN_OUTCOME,
)
from qwopkit.dataset.transitions import select_paths
from qwopkit.dataset.writer import destination, write_episode
from qwopkit.spaces import ACTION_NAMES, SEED_OBS_FIELDS, SEED_TO_ACTION

NPZ_KEYS = ("obs", "actions", "rewards", "episode_returns", "episode_starts")
X_COLUMNS = np.array([i for i, name in enumerate(SEED_OBS_FIELDS) if name.endswith(".x")])
TORSO_X = SEED_OBS_FIELDS.index("torso.x")  # column 69
UNITS_PER_METRE = 10.0
# The seed stopped a run after 120 s; at its ~10 decisions per second a run this long was cut.
SEED_TIME_LIMIT_DECISIONS = 1200
DEFAULT_MINARI_ID = "qwopkit/demos-v0"
ENV_ID = "qwopkit/QWOP-v0"


# ----------------------------------------------------------------------------- Minari
@contextlib.contextmanager
def _minari_root(path: str | Path | None) -> Iterator[None]:
    """Point Minari at `path` for the duration (it reads MINARI_DATASETS_PATH at each call)."""
    if path is None:
        yield
        return
    old = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(Path(path).resolve())
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("MINARI_DATASETS_PATH", None)
        else:
            os.environ["MINARI_DATASETS_PATH"] = old


def check_minari_id(dataset_id: str) -> None:
    """Refuse an id outside Minari's own grammar, `namespace/name-vN`, before anything is made.

    Minari joins the id to its datasets folder and creates the namespace folders before it checks
    the id, so an absolute path (`/tmp/x/demos-v0`) made folders outside that folder.
    """
    from minari.dataset.minari_dataset import DATASET_ID_RE

    match = DATASET_ID_RE.fullmatch(dataset_id) if isinstance(dataset_id, str) else None
    if match is None or match.group("version") is None:
        raise DatasetParameterError("dataset_id", f"{dataset_id!r} is not a Minari dataset id: give "
                                    f"namespace/name-vN, e.g. {DEFAULT_MINARI_ID} (a path is not an id)")


def export_minari(specs: PathSpec, dataset_id: str = DEFAULT_MINARI_ID, *, path: str | Path | None = None,
                  split: str | None = None, part: str = "train", include_excluded: bool = False,
                  description: str | None = None, progress: bool = False) -> Any:
    """Export the kept episodes (of one split part, if given) to a new local Minari dataset.

    :param path: Minari's datasets root (default: MINARI_DATASETS_PATH or ~/.minari/datasets).
    Returns the `minari.MinariDataset`; load it again with `minari.load_dataset(dataset_id)`.
    """
    import gymnasium as gym
    import minari
    from minari.data_collector import EpisodeBuffer

    import qwopkit  # noqa: F401  (registers qwopkit/QWOP-v0, the evaluation environment)

    check_minari_id(dataset_id)

    buffers: list[EpisodeBuffer] = []
    frame_skips: dict[int, Path] = {}
    sources: set[str] = set()
    for ep in track(iter_episodes(select_paths(specs, split=split, part=part)), "reading episodes",
                    enabled=progress):
        if (not include_excluded and not ep.meta["kept"]) or ep.steps == 0:
            continue
        if ep.meta["observation_fields"] != list(SEED_OBS_FIELDS):
            warnings.warn(f"{ep.path}: not exported: only the seed's 71 observation features can be",
                          EpisodeWarning, stacklevel=2)
            continue
        frame_skips.setdefault(ep.meta["frame_skip"], ep.path)
        if len(frame_skips) > 1:
            (a, first), (b, _) = frame_skips.items()
            raise EpisodeError(ep.path, f"frame_skip {b}, but {first} has {a}: one Minari dataset has one "
                               "environment; export them separately")
        sources.add(episode_source(ep.meta["player"], ep.meta["imported"]))
        seed = ep.meta["seed"]
        buffers.append(EpisodeBuffer(
            id=len(buffers),
            seed=None if seed < 0 else seed,
            observations=ep.read("observations"),
            actions=ep.read("actions").astype(np.int64),
            rewards=ep.read("rewards"),
            terminations=ep.read("terminations"),
            truncations=ep.read("truncations"),
            infos={"distance": ep.read("infos/distance"), "hud_time": ep.read("infos/hud_time")},
        ))
    if not buffers:
        raise EpisodeError(dataset_id, "no kept episodes with decisions to export")
    # The environment the episodes were recorded in, with its arguments, so that Minari's
    # recover_environment() (and eval_env=True) makes it: the bundled game at their frame_skip.
    env_spec = dataclasses.replace(gym.spec(ENV_ID), kwargs={"frame_skip": next(iter(frame_skips)),
                                                              "observation": "seed"})
    description = description or (
        f"qwopkit episodes ({len(buffers)}). Actions index the action set "
        f"{', '.join(f'{i} {n}' for i, n in enumerate(ACTION_NAMES))}; "
        "observations are the seed's 71 features.")
    with _minari_root(path), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Minari warns about every unset metadata field
        try:
            return minari.create_dataset_from_buffers(
                dataset_id=dataset_id,
                buffer=buffers,
                env=env_spec,
                eval_env=env_spec,
                algorithm_name=algorithm_name(sources),
                author="qwopkit",
                description=description,
                observation_space=gym.spaces.Box(-np.inf, np.inf, (OBS_SIZE,), np.float32),
                action_space=gym.spaces.Discrete(N_ACTIONS),
                data_format="hdf5",
            )
        except ValueError as exc:
            raise EpisodeError(dataset_id, str(exc).splitlines()[0]) from None


def algorithm_name(sources: set[str]) -> str:
    """Minari's "algorithm" of a dataset: who played its episodes (people or scripted bots)."""
    people = "human demonstrations" if sources - {"bot"} else ""
    bots = "scripted bots (qwopkit's bot players)" if "bot" in sources else ""
    return " and ".join(who for who in (people, bots) if who)


# ----------------------------------------------------------------------------- SB2 .npz import
FLOAT32_MAX = float(np.finfo(np.float32).max)
ZIP_MAGIC = b"PK\x03\x04"  # an .npz is a zip archive of .npy files
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    with open(path, "rb") as f:  # a missing file or a folder: the OSError names it
        magic = f.read(8)
    if magic == HDF5_MAGIC:
        raise EpisodeError(path, "an HDF5 file, not an .npz (episode files need no import: "
                                 "qwop-data and the learners read them as they are)")
    if not magic.startswith(ZIP_MAGIC):
        raise EpisodeError(path, "not an .npz file (an SB2 expert file is a zip archive of arrays)")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in NPZ_KEYS if k not in data.files]
            if missing:
                raise EpisodeError(path, f"missing array(s) {', '.join(missing)} (not an SB2 expert file)")
            arrays = {k: data[k] for k in NPZ_KEYS}
    except EpisodeError:
        raise
    # zip or .npy damage, pickles; a garbled .npy header fails in numpy's parser (SyntaxError,
    # TokenError), a header claiming a huge shape in the allocation (MemoryError).
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, SyntaxError, TypeError,
            tokenize.TokenError, MemoryError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else repr(exc)
        raise EpisodeError(path, f"not a readable .npz file ({first})") from None
    obs, actions = arrays["obs"], arrays["actions"].reshape(-1)
    n = len(obs)
    if obs.ndim != 2 or obs.shape[1] != OBS_SIZE:
        raise EpisodeError(path, f"obs has shape {obs.shape}, expected (N, {OBS_SIZE})")
    for key in ("actions", "rewards", "episode_starts"):
        arr = actions if key == "actions" else arrays[key]
        if arr.ndim != 1 or len(arr) != n:
            raise EpisodeError(path, f"length mismatch: {key} has {len(arr)} rows, obs has {n}")
    if n == 0 or not arrays["episode_starts"][0]:
        raise EpisodeError(path, "episode_starts must be True on the first row")
    if not np.issubdtype(actions.dtype, np.integer) or actions.min() < 0 or actions.max() >= N_ACTIONS:
        raise EpisodeError(path, "actions are not seed action indices 0-10")
    for key in ("obs", "rewards"):
        if not np.issubdtype(arrays[key].dtype, np.number) or arrays[key].dtype.kind == "c":
            raise EpisodeError(path, f"{key} are not real numbers")
        if not np.isfinite(arrays[key]).all():
            row = int(np.argmin(np.isfinite(arrays[key]).reshape(n, -1).all(1)))
            raise EpisodeError(path, f"non-finite {key} (row {row})")
        # Episodes store float32: a larger value would be stored as infinity (and the run's
        # estimates from its features overflow long before).
        fits = np.abs(arrays[key]) <= FLOAT32_MAX
        if not fits.all():
            row = int(np.argmin(fits.reshape(n, -1).all(1)))
            raise EpisodeError(path, f"{key} beyond float32's range (row {row})")
    if arrays["episode_starts"].dtype.kind not in "bui":
        raise EpisodeError(path, "episode_starts are not flags")
    arrays["actions"] = actions
    return arrays


# What a run's features show about itself (outcome, distance, HUD time, timing): the game's
# knowledge, so the caller hands it in (qwop-data passes qwopkit.adapter.openqwop.recorded's
# describe_run); without it, imports keep outcome "unknown" and no estimates.
RunDescriber = Callable[[np.ndarray, "np.ndarray | None"], dict]
ORIGINAL_GAME_TAG = "original-game"


def import_npz(npz_path: str | Path, out_folder: str | Path, *, player: str | None = None,
               session: str | None = None, mu_eps: float = DEFAULT_EPS,
               overwrite: bool = False, describe: RunDescriber | None = None) -> list[Path]:
    """Write each episode of a seed `.npz` as an episode file; returns the files written.

    `player` and `session` default to the file name split at its first underscore
    (kuro_try1.npz -> player "kuro", session "try1"). Every episode is marked imported from the
    original game (`imported`, `game` qwop-original, `source`, the tag "original-game").
    :param describe: f(observations (T, 71), torso x (T,) or None) -> {"outcome", "reason",
        "distance" (T,), "hud_time" (T,), "updates_per_decision"}: the run's outcome and
        estimates (docs/dataset.md#imports-outcome-distance-and-time): they become the
        episode's outcome, `distance`, `hud_time`, `frame_skip` (the rounded updates per
        decision) and `infos/*`.
    """
    path = Path(npz_path)
    data = _load_npz(path)
    stem_player, _, stem_session = path.stem.partition("_")
    player = player or stem_player
    session = session or stem_session or "import"

    obs = data["obs"].astype(np.float64)
    torso_x = obs[:, TORSO_X].copy()
    absolute = bool(np.any(np.abs(torso_x) > 1e-9))
    if absolute:  # early recordings kept absolute x: make every x relative to the torso
        obs[:, X_COLUMNS] -= torso_x[:, None]
    actions = SEED_TO_ACTION[data["actions"]].astype(np.uint8)
    starts = np.flatnonzero(data["episode_starts"])
    ends = np.append(starts[1:], len(obs))

    episodes = []
    for i, (a, b) in enumerate(zip(starts, ends, strict=True)):
        t = int(b - a)
        # SB2 files hold the observation before each action but none after the last one:
        # the final observation repeats the last recorded one (only a bootstrap could read it,
        # and these episodes end terminated, so none does).
        ep_obs = np.vstack([obs[a:b], obs[b - 1:b]])
        distance = (np.append(torso_x[a:b], torso_x[b - 1]) / UNITS_PER_METRE if absolute
                    else np.full(t + 1, math.nan))
        hud_time = np.full(t + 1, math.nan)
        outcome = "timeout" if t >= SEED_TIME_LIMIT_DECISIONS else UNKNOWN_OUTCOME
        frame_skip = DEFAULT_FRAME_SKIP
        if describe is not None:
            with np.errstate(all="ignore"):  # a run the estimates cannot read is one error, below
                run = describe(obs[a:b], torso_x[a:b] if absolute else None)
            if not all(np.isfinite(run[k]).all() for k in ("distance", "hud_time", "updates_per_decision")):
                raise EpisodeError(path, f"episode {i} (rows {a}-{b - 1}): its distance and time cannot be "
                                         "estimated from its features (values out of any run's range)")
            distance = np.append(run["distance"], run["distance"][-1]).astype(np.float64)
            hud_time = np.append(run["hud_time"], run["hud_time"][-1]).astype(np.float64)
            if outcome == UNKNOWN_OUTCOME:
                outcome = run["outcome"]
            frame_skip = max(int(round(run["updates_per_decision"])), 1)
        truncated = outcome == "timeout"
        terminations = np.zeros(t, bool)
        truncations = np.zeros(t, bool)
        (truncations if truncated else terminations)[-1] = True
        meta = default_meta(
            player, session, i,
            game=GAME_ORIGINAL, physics=PHYSICS_ORIGINAL, game_version="", start_time="",
            state_fields=[], outcome=outcome,
            distance=float(distance[-1]), hud_time=float(hud_time[-1]), frame_skip=frame_skip,
            mu_method="smoothed", mu_params={"eps": mu_eps},
            imported=True, source=path.name, tags=[ORIGINAL_GAME_TAG],
        )
        episodes.append(Episode(
            meta=meta, observations=ep_obs, actions=actions[a:b], rewards=data["rewards"][a:b],
            terminations=terminations, truncations=truncations, mu=smoothed_mu(actions[a:b], mu_eps),
            infos={"distance": distance, "hud_time": hud_time},
        ))
    # Every episode is built and checked (values, and that its name is free) before the first
    # file is written: a bad file leaves nothing behind.
    for i, episode in enumerate(episodes):
        episode.check(f"{path}: episode {i}")
        final = destination(episode.meta, out_folder)
        if final.exists() and not overwrite:
            raise EpisodeExistsError(final)
    return [write_episode(episode, out_folder, overwrite=overwrite) for episode in episodes]
