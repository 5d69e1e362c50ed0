"""Writing episode files: whole episodes from memory, runs update by update, atomic rewrites.

Every write goes through qwopkit.atomic: a hidden temporary file in the destination folder,
flushed and closed, checked, then published as `<player>-<session>-<nnnn>.h5`. A crash leaves
at most a hidden `.*.h5.tmp` file that no `*.h5` glob sees (`qwop-data validate --clean`
removes those of dead writers). Nothing is published that the read path would refuse.

Storage: per-decision datasets are contiguous and uncompressed (learners read them all, and
fast); the raw per-update `state` and `keys` are chunked, resizable and gzip-compressed (they are
the bulk of a file and are read only to recompute features or to re-simulate).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from qwopkit.atomic import atomic_write, fsync_path, publish, temp_path
from qwopkit.dataset.attributes import decode_attrs, encode_attrs
from qwopkit.dataset.episode import Episode
from qwopkit.dataset.errors import EpisodeError, EpisodeExistsError
from qwopkit.dataset.reader import check_open_file
from qwopkit.dataset.schema import RAW_DATASETS, SUFFIX, episode_filename

RAW_CHUNK_ROWS = 512  # 512 states = 400 KB per chunk: within HDF5's default 1 MB chunk cache
_RAW_FILTERS = {"compression": "gzip", "compression_opts": 4, "shuffle": True}


def _create_raw(f: h5py.File, name: str, data: np.ndarray) -> h5py.Dataset:
    # Resizable so that EpisodeWriter can append; chunked datasets cannot have 0-row chunks.
    tail = data.shape[1:]
    return f.create_dataset(name, data=data, maxshape=(None, *tail),
                            chunks=(RAW_CHUNK_ROWS, *tail), **_RAW_FILTERS)


def _write_decisions(f: h5py.File, episode: Episode) -> None:
    for name, data in episode.arrays().items():
        if name not in RAW_DATASETS:
            f.create_dataset(name, data=data)


def _write_attrs(f: h5py.File, meta: dict[str, Any]) -> None:
    for key, value in encode_attrs(meta).items():
        f.attrs[key] = value


def destination(episode_meta: dict[str, Any], dest: str | Path) -> Path:
    """The file an episode goes to: `dest` itself if it names a .h5 file, else a file in folder `dest`."""
    dest = Path(dest)
    if dest.suffix == SUFFIX:
        return dest
    return dest / episode_filename(episode_meta["player"], episode_meta["session"],
                                   episode_meta["episode_index"])


def next_episode_index(folder: str | Path, player: str, session: str) -> int:
    """The first episode index after every file of this player and session in `folder`
    (finished or still being written), so that a recorder never reuses a name."""
    prefix = episode_filename(player, session, 0)[: -len("0000" + SUFFIX)]
    pattern = re.compile(rf"^\.?{re.escape(prefix)}(\d+)(\.h5$|\.[0-9a-f-]+\.h5\.tmp$)")
    indices = [int(m.group(1)) for name in (os.listdir(folder) if Path(folder).is_dir() else [])
               if (m := pattern.match(name))]
    return max(indices, default=-1) + 1


def write_episode(episode: Episode, dest: str | Path, *, overwrite: bool = False,
                  fsync: bool = True) -> Path:
    """Write a complete episode atomically; returns its path.

    :param dest: a folder (the file is named `<player>-<session>-<nnnn>.h5`) or a `.h5` path.
    :param overwrite: replace an existing file; otherwise an existing name is an EpisodeError.
    :param fsync: force the data to disk before the rename (off only for bulk synthetic data).
    """
    final = destination(episode.meta, dest)
    episode.check(final)
    if final.exists() and not overwrite:
        raise EpisodeExistsError(final)
    try:
        with atomic_write(final, overwrite=overwrite, fsync=fsync) as tmp, h5py.File(tmp, "w") as f:
            _write_decisions(f, episode)
            if episode.state is not None and episode.keys is not None:  # both or neither (check)
                _create_raw(f, "state", episode.state)
                _create_raw(f, "keys", episode.keys)
            _write_attrs(f, episode.meta)
    except FileExistsError:
        raise EpisodeExistsError(final) from None
    return final


class EpisodeWriter:
    """Writes one run's raw updates into a temporary file as they happen; `finish` adds the
    decisions and publishes it.

        with EpisodeWriter("data", player="kurodo", session="s1", episode_index=0,
                           initial_state=engine.state()) as w:
            for keys in ...:
                engine.update(keys)
                w.add_update(keys, engine.state())
            state, keys = w.updates()
            w.finish(episode_from_updates(state, keys, ...))   # qwopkit.recorder.decisions

    Leaving the block by an exception removes the temporary file (the run is lost, nothing else).
    Rows are buffered and appended every `flush_every` updates, so memory stays small and the
    data reaches the file during the run. (`frame_skip`, `seed` and `meta` are kept as
    `self.run_meta` for whoever derives the decisions.)
    """

    def __init__(self, folder: str | Path, *, player: str, session: str, episode_index: int,
                 initial_state: np.ndarray, frame_skip: int = 3, seed: int | None = None,
                 flush_every: int = 300, **meta: Any) -> None:
        self.path = Path(folder) / episode_filename(player, session, episode_index)
        if self.path.exists():
            raise EpisodeExistsError(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.run_meta = {"player": player, "session": session, "episode_index": episode_index,
                         "frame_skip": frame_skip, "seed": seed, **meta}
        self._flush_every = flush_every
        self._tmp = temp_path(self.path)
        self._file: h5py.File | None = h5py.File(self._tmp, "w")
        first = np.asarray(initial_state, dtype=np.float64).reshape(1, -1)
        self._width = first.shape[1]
        self._state = _create_raw(self._file, "state", first)
        self._keys = _create_raw(self._file, "keys", np.zeros(0, dtype=np.uint8))
        self._pending_states: list[np.ndarray] = []
        self._pending_keys: list[int] = []
        self.done = False

    @property
    def temp_file(self) -> Path:
        return self._tmp

    def add_update(self, keys: int, state: np.ndarray) -> None:
        """Record one game update: the key mask held during it and the state after it."""
        if self._file is None:
            raise RuntimeError("the writer is closed")
        self._pending_keys.append(int(keys))
        self._pending_states.append(np.asarray(state, dtype=np.float64).reshape(self._width))
        if len(self._pending_keys) >= self._flush_every:
            self.flush()

    def flush(self) -> None:
        """Append buffered updates to the temporary file and flush it."""
        if not self._pending_keys or self._file is None:
            return
        n, m = len(self._keys), len(self._pending_keys)
        self._keys.resize((n + m,))
        self._keys[n:] = np.array(self._pending_keys, dtype=np.uint8)
        self._state.resize((n + m + 1, self._width))
        self._state[n + 1:] = np.stack(self._pending_states)
        self._pending_keys.clear()
        self._pending_states.clear()
        self._file.flush()

    def updates(self) -> tuple[np.ndarray, np.ndarray]:
        """Everything recorded so far: states (N+1, S) and keys (N,)."""
        if self._file is None:
            raise RuntimeError("the writer is closed")
        self.flush()
        return self._state[:], self._keys[:]

    def finish(self, episode: Episode) -> Path:
        """Write `episode`'s decisions and attributes beside the recorded updates, check the
        file as a reader would, and publish it. `episode` must be derived from `updates()`."""
        if self._file is None:
            raise RuntimeError("the writer is closed")
        try:
            state, keys = self.updates()
            if episode.state is None or episode.keys is None or not (
                    np.array_equal(episode.state, state) and np.array_equal(episode.keys, keys)):
                raise EpisodeError(self.path, "the episode's updates are not the ones recorded")
            episode.check(self.path)
            _write_decisions(self._file, episode)
            _write_attrs(self._file, episode.meta)
            check_open_file(self._file, self.path)
            self._file.close()
            self._file = None
            fsync_path(self._tmp)
            publish(self._tmp, self.path, overwrite=False)
        except FileExistsError:
            self.abort()
            raise EpisodeExistsError(self.path) from None
        except BaseException:
            self.abort()
            raise
        self.done = True
        return self.path

    def abort(self) -> None:
        """Drop the run: close and remove the temporary file."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> EpisodeWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None or not self.done:
            self.abort()


def rewrite_episode(path: str | Path, *, datasets: dict[str, np.ndarray] | None = None,
                    attrs: dict[str, Any] | None = None) -> None:
    """Replace some datasets and root attributes of an episode file atomically.

    A new file is built beside the old one (unchanged datasets copied by HDF5 with their
    filters), checked as a reader would (raw state and keys included), then renamed over it: a
    crash or a failed check leaves the old file as it was.
    """
    path = Path(path)
    datasets = datasets or {}
    try:
        with atomic_write(path) as tmp:
            with h5py.File(path, "r") as src, h5py.File(tmp, "w") as dst:
                for name in src:
                    if isinstance(src[name], h5py.Group):
                        dst.create_group(name)
                        for sub in src[name]:
                            full = f"{name}/{sub}"
                            if full not in datasets:
                                src.copy(src[full], dst[name], sub)
                    elif name not in datasets:
                        src.copy(src[name], dst, name)
                for name, data in datasets.items():
                    dst.create_dataset(name, data=data)
                for key, value in src.attrs.items():
                    dst.attrs[key] = value
                meta = decode_attrs(dst.attrs)
                meta.update(attrs or {})
                _write_attrs(dst, meta)
                check_open_file(dst, path, raw=True)
    except ValueError as exc:
        raise EpisodeError(path, str(exc).splitlines()[0]) from None
    except OSError as exc:
        raise EpisodeError(path, f"cannot rewrite ({exc.strerror or exc})") from None
