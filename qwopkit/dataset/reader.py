"""Reading episode files: one file, a folder or a glob; arrays on demand; one-line errors.

    with open_episode("data/kurodo-s1-0003.h5") as ep:
        ep.meta["outcome"], ep.steps
        obs = ep.read("observations")      # read now
        ep["state"][::30]                  # an h5py dataset: read only what is sliced

A file that cannot be used raises EpisodeError naming it and the problem (never a raw h5py
traceback). Reading many files (`iter_episodes`, `load_episodes`) warns and skips bad ones.
"""

from __future__ import annotations

import glob
import re
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from qwopkit.adapter.features import SEED_OBS_FIELDS, seed_observation

from .atomic import is_temp_name
from .curation import apply_marks, marks_for
from .episode import Episode
from .schema import (
    DECISION_DATASETS,
    N_ACTIONS,
    RAW_DATASETS,
    SUFFIX,
    EpisodeError,
    EpisodeWarning,
    check_layout,
    check_meta,
    decision_bounds,
    decode_attrs,
)

PathSpec = str | Path | Iterable[str | Path]


def h5_reason(exc: OSError) -> str:
    # h5py says e.g. "Unable to synchronously open file (file signature not found)": keep the cause.
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    match = re.search(r"\((.*)\)\s*$", text)
    return match.group(1) if match else text


def open_h5(path: Path) -> h5py.File:
    """Open an HDF5 file read-only, or raise EpisodeError saying why not."""
    if is_temp_name(path):
        raise EpisodeError(path, "still being written (temporary file); not read")
    if not path.exists():
        raise EpisodeError(path, "no such file")
    if not path.is_file():
        raise EpisodeError(path, "not a file")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise EpisodeError(path, f"not a readable HDF5 file ({h5_reason(exc)})") from None


def file_layout(f: h5py.File) -> tuple[dict[str, tuple[int, ...]], dict[str, np.dtype]]:
    """Shapes and dtypes of the format's datasets present in an open file."""
    shapes: dict[str, tuple[int, ...]] = {}
    dtypes: dict[str, np.dtype] = {}
    for name in (*DECISION_DATASETS, *RAW_DATASETS):
        obj = f.get(name)
        if obj is None:
            continue
        if not isinstance(obj, h5py.Dataset):
            raise ValueError(f"{name!r} is not a dataset")
        shapes[name] = obj.shape
        dtypes[name] = obj.dtype
    return shapes, dtypes


def dataset_ids(f: h5py.File, names: Iterable[str]) -> dict[str, h5py.h5d.DatasetID]:
    """Open datasets of an open file with h5py's low-level API, checking each one's dtype.

    Loading thousands of short episodes is limited by per-file overhead, not bytes; the
    low-level calls halve it. Raises ValueError for a missing or mistyped dataset.
    """
    out = {}
    for name in names:
        try:
            dsid = h5py.h5d.open(f.id, name.encode())
        except KeyError:
            raise ValueError(f"missing dataset {name!r}") from None
        expected = {**DECISION_DATASETS, **RAW_DATASETS}[name]
        if dsid.dtype != expected:
            raise ValueError(f"dataset {name!r} has dtype {dsid.dtype}, expected {expected}")
        out[name] = dsid
    return out


def read_into(dsid: h5py.h5d.DatasetID, out: np.ndarray) -> None:
    """Read a whole dataset into `out`, a C-contiguous array (or slice) of exactly its shape.

    The shape check is what makes the low-level read safe: HDF5 writes the whole dataset.
    """
    if out.shape != dsid.shape or not out.flags.c_contiguous:
        raise ValueError(f"buffer of shape {out.shape} for a dataset of shape {dsid.shape}")
    if out.size:
        dsid.read(h5py.h5s.ALL, h5py.h5s.ALL, out)


def read_attrs(path: Path, keys: tuple[str, ...]) -> dict[str, Any]:
    """Some root attributes of a file, decoded, after checking its format and version.

    The pseudo-key "obs_shape" gives the shape of `observations` (T+1, D). Raises EpisodeError.
    """
    f = open_h5(path)
    try:
        with f:
            out = decode_attrs(f.attrs, tuple(k for k in keys if k != "obs_shape"))
            if "obs_shape" in keys:
                out["obs_shape"] = list(dataset_ids(f, ("observations",))["observations"].shape)
    except ValueError as exc:
        raise EpisodeError(path, str(exc)) from None
    except (OSError, RuntimeError, KeyError) as exc:
        raise EpisodeError(path, f"unreadable ({h5_reason(exc)})") from None
    return out


class EpisodeFile:
    """An open, checked episode file. Attributes are decoded at once, arrays read on demand.

    `meta` is the root attributes with the folder's curation marks applied (curation.py);
    `file_meta` is the attributes exactly as stored.
    """

    def __init__(self, path: str | Path, *, marks: bool = True) -> None:
        self.path = Path(path)
        self._f = open_h5(self.path)
        try:
            meta = decode_attrs(self._f.attrs)
            check_meta(meta)
            self.shapes, self.dtypes = file_layout(self._f)
            check_layout(self.shapes, self.dtypes, meta)
            self.file_meta = meta
            self.meta = apply_marks(meta, marks_for(self.path)) if marks else dict(meta)
        except ValueError as exc:
            self._f.close()
            if isinstance(exc, EpisodeError):
                raise
            raise EpisodeError(self.path, str(exc)) from None
        except (OSError, RuntimeError, KeyError) as exc:  # damaged metadata inside a valid superblock
            self._f.close()
            raise EpisodeError(self.path, f"unreadable ({h5_reason(exc)})") from None

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
        """A whole dataset as a numpy array."""
        dataset = self[name]
        try:
            return dataset[()]
        except (OSError, RuntimeError) as exc:
            raise EpisodeError(self.path, f"cannot read {name!r} ({h5_reason(exc)})") from None

    def read_into(self, name: str, out: np.ndarray) -> None:
        """Read a whole dataset into a preallocated array (no intermediate copy)."""
        dataset = self[name]
        try:
            if dataset.size:
                dataset.read_direct(out)
        except (OSError, RuntimeError, TypeError) as exc:
            raise EpisodeError(self.path, f"cannot read {name!r} ({h5_reason(exc)})") from None

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


def open_episode(path: str | Path, *, marks: bool = True) -> EpisodeFile:
    """Open one episode file (checked; arrays read on demand). Raises EpisodeError."""
    return EpisodeFile(path, marks=marks)


def read_episode(path: str | Path, *, marks: bool = True) -> Episode:
    """Read one whole episode into memory. Raises EpisodeError."""
    with EpisodeFile(path, marks=marks) as ep:
        return ep.load()


def resolve_paths(specs: PathSpec) -> list[Path]:
    """Episode files named by paths, folders (their `*.h5`) and globs (`**` allowed), in order.

    A spec that matches nothing is an EpisodeError. Temporary files matched by a glob are
    returned so that the loaders can warn about them; folders never list them.
    """
    if isinstance(specs, (str, Path)):
        specs = [specs]
    out: dict[Path, None] = {}
    for spec in specs:
        p = Path(spec)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.suffix == SUFFIX and not q.name.startswith("."))
        elif p.is_file():
            found = [p]
        else:
            found = sorted(Path(m) for m in glob.glob(str(spec), recursive=True)
                           if m.endswith(SUFFIX) or (is_temp_name(Path(m)) and SUFFIX in Path(m).name))
            found = [q for q in found if q.is_file()]
        if not found:
            raise EpisodeError(spec, "no episode files match")
        out.update(dict.fromkeys(found))
    return list(out)


def iter_episodes(specs: PathSpec, *, marks: bool = True, on_error: str = "warn") -> Iterator[EpisodeFile]:
    """Open each episode in turn (closed when the loop moves on).

    :param on_error: "warn" (skip a bad file with an EpisodeWarning) or "raise".
    """
    for path in resolve_paths(specs):
        try:
            ep = EpisodeFile(path, marks=marks)
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
    for ep in iter_episodes(specs, marks=marks, on_error=on_error):
        try:
            out.append(ep.load())
        except EpisodeError as exc:
            if on_error == "raise":
                raise
            warnings.warn(str(exc), EpisodeWarning, stacklevel=2)
    return out


def _deep_problem(ep: EpisodeFile) -> str | None:
    """What is wrong with an episode's values (not only its layout), or None."""
    actions = ep.read("actions")
    if actions.size and actions.max() >= N_ACTIONS:
        return f"action {int(actions.max())} outside the action set (0-{N_ACTIONS - 1})"
    mu = ep.read("mu").astype(np.float64)
    if mu.size and (not np.isfinite(mu).all() or mu.min() < 0 or np.abs(mu.sum(1) - 1).max() > 1e-4):
        return "mu rows are not probability distributions"
    term, trunc = ep.read("terminations"), ep.read("truncations")
    if term[:-1].any() or trunc[:-1].any():
        return "a termination or truncation before the last decision"
    if term.size and term[-1] and trunc[-1]:
        return "the last decision is both terminated and truncated"
    obs = ep.read("observations")
    if not np.isfinite(obs).all() or not np.isfinite(ep.read("rewards")).all():
        return "non-finite observations or rewards"
    if ep.has_state:
        keys, state = ep.read("keys"), ep.read("state")
        if keys.size and keys.max() > 15:
            return "keys outside 0-15"
        if ep.meta["observation_fields"] == list(SEED_OBS_FIELDS):
            b = decision_bounds(len(keys), ep.meta["frame_skip"])
            if not np.array_equal(seed_observation(state[b]), obs):
                return "observations differ from the features of the stored states"
    return None


def validate_file(path: str | Path, *, deep: bool = False) -> None:
    """Raise EpisodeError if the file is not a valid episode; `deep` also checks the values."""
    with EpisodeFile(path, marks=False) as ep:
        if deep:
            problem = _deep_problem(ep)
            if problem:
                raise EpisodeError(ep.path, problem)


def validate(specs: PathSpec, *, deep: bool = False) -> list[tuple[Path, str | None]]:
    """(path, None if valid else the one-line error) for every file the specs name."""
    out = []
    for path in resolve_paths(specs):
        try:
            validate_file(path, deep=deep)
            out.append((path, None))
        except EpisodeError as exc:
            out.append((path, str(exc)))
    return out
