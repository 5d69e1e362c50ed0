"""Episodes as the library presents them: checked files with their folder's curation marks.

    with open_episode("data/kurodo-s1-0003.h5") as ep:
        ep.meta["outcome"], ep.steps
        obs = ep.read("observations")      # checked when the file was opened
        ep["state"][::30]                  # an h5py dataset: read only what is sliced

Opening runs the read path (reader.open_checked): a file that cannot be used raises
EpisodeError naming it and the problem (never a raw h5py traceback). Reading many files
(`iter_episodes`, `load_episodes`, `validate`) warns about and skips bad ones.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from qwopkit.dataset.attributes import apply_marks
from qwopkit.dataset.curation import marks_for
from qwopkit.dataset.episode import Episode
from qwopkit.dataset.errors import EpisodeError, EpisodeWarning
from qwopkit.dataset.paths import PathSpec, resolve_paths
from qwopkit.dataset.reader import episode_errors, open_checked
from qwopkit.dataset.schema import DECISION_DATASETS, RAW_DATASETS
from qwopkit.dataset.values import keys_problem, raw_problem, state_problem

# A check that needs more than the dataset knows (the game's features, a re-simulation):
# given an open episode, the problem found, or None.
ExtraCheck = Callable[["EpisodeFile"], "str | None"]


class EpisodeFile:
    """An open, checked episode file. Attributes and per-decision arrays were read and checked
    on opening; raw state and keys are read on demand (checked too with `deep=True`).

    `meta` is the root attributes with the folder's curation marks applied (curation.py);
    `file_meta` is the attributes exactly as stored.
    """

    def __init__(self, path: str | Path, *, marks: bool = True, deep: bool = False) -> None:
        checked = open_checked(path, raw=deep)
        self.path = checked.path
        self._f = checked.file
        self._arrays = checked.arrays
        self.shapes, self.dtypes = checked.shapes, checked.dtypes
        self.file_meta = checked.meta
        try:
            self.meta = apply_marks(checked.meta, marks_for(self.path)) if marks else dict(checked.meta)
        except BaseException:
            self._f.close()
            raise

    @property
    def steps(self) -> int:
        """Number of decisions T."""
        return self.shapes["actions"][0]

    @property
    def updates(self) -> int | None:
        """Number of game updates N, or None without raw state."""
        return self.shapes["keys"][0] if self.has_state else None

    @property
    def has_state(self) -> bool:
        return "state" in self.shapes

    def __getitem__(self, name: str) -> h5py.Dataset:
        if name not in self.shapes:
            what = "no raw state (an imported episode)" if name in RAW_DATASETS else f"no dataset {name!r}"
            raise EpisodeError(self.path, what)
        return self._f[name]

    def read(self, name: str) -> np.ndarray:
        """A whole dataset as a numpy array: per-decision data as checked on opening (a copy),
        raw state and keys checked as they are read."""
        if name in self._arrays:
            return self._arrays[name].copy()
        dataset = self[name]
        with episode_errors(self.path):
            data = dataset[()]
            problem = {"state": state_problem, "keys": keys_problem}[name](data) if name in RAW_DATASETS \
                else None
        if problem:
            raise EpisodeError(self.path, problem)
        return data

    def read_into(self, name: str, out: np.ndarray) -> None:
        """Read a whole dataset into a preallocated array."""
        out[...] = self.read(name)

    def raw_problem(self) -> str | None:
        """What is wrong with the raw state and keys (None if fine or absent)."""
        if not self.has_state:
            return None
        return raw_problem(self.read("state"), self.read("keys"))

    def load(self) -> Episode:
        """Everything in memory, as an Episode."""
        infos = {name.split("/", 1)[1]: self.read(name) for name in DECISION_DATASETS
                 if name.startswith("infos/")}
        return Episode(
            meta=dict(self.meta),
            observations=self.read("observations"),
            actions=self.read("actions"),
            rewards=self.read("rewards"),
            terminations=self.read("terminations"),
            truncations=self.read("truncations"),
            mu=self.read("mu"),
            infos=infos,
            state=self.read("state") if self.has_state else None,
            keys=self.read("keys") if self.has_state else None,
        )

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> EpisodeFile:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EpisodeFile({str(self.path)!r}, steps={self.steps})"


def open_episode(path: str | Path, *, marks: bool = True, deep: bool = False) -> EpisodeFile:
    """Open one episode file (checked; raw arrays read on demand). Raises EpisodeError."""
    return EpisodeFile(path, marks=marks, deep=deep)


def read_episode(path: str | Path, *, marks: bool = True) -> Episode:
    """Read one whole episode into memory (raw state checked too). Raises EpisodeError."""
    with EpisodeFile(path, marks=marks, deep=True) as ep:
        return ep.load()


def iter_episodes(specs: PathSpec, *, marks: bool = True, on_error: str = "warn",
                  deep: bool = False) -> Iterator[EpisodeFile]:
    """Open each episode in turn (closed when the loop moves on).

    :param on_error: "warn" (skip a bad file with an EpisodeWarning) or "raise".
    :param deep: check the raw state and keys too.
    """
    for path in resolve_paths(specs):
        try:
            ep = EpisodeFile(path, marks=marks, deep=deep)
        except EpisodeError as exc:
            if on_error == "raise":
                raise
            warnings.warn(str(exc), EpisodeWarning, stacklevel=2)
            continue
        with ep:
            yield ep


def load_episodes(specs: PathSpec, *, marks: bool = True, on_error: str = "warn") -> list[Episode]:
    """Read every episode into memory; bad files are skipped with a warning (or raise)."""
    out = []
    for ep in iter_episodes(specs, marks=marks, on_error=on_error, deep=True):
        out.append(ep.load())
    return out


def validate_file(path: str | Path, *, deep: bool = False, checks: Iterable[ExtraCheck] = ()) -> None:
    """Raise EpisodeError if the file is not a valid episode. Every open checks the attributes,
    the layout and the per-decision values; `deep` also checks the raw state and keys and runs
    `checks` (e.g. the recorder's features and re-simulation checks)."""
    with EpisodeFile(path, marks=False, deep=deep) as ep:
        if deep:
            for check in checks:
                problem = check(ep)
                if problem:
                    raise EpisodeError(ep.path, problem)


def validate(specs: PathSpec, *, deep: bool = False,
             checks: Iterable[ExtraCheck] = ()) -> list[tuple[Path, str | None]]:
    """(path, None if valid else the one-line error) for every file the specs name."""
    out: list[tuple[Path, str | None]] = []
    checks = list(checks)
    for path in resolve_paths(specs):
        try:
            validate_file(path, deep=deep, checks=checks)
            out.append((path, None))
        except EpisodeError as exc:
            out.append((path, str(exc)))
    return out
