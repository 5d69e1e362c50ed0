"""Bad input: each case is one clear error naming the file (or a warning and a skip), never a
traceback, and never harm to the other files."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import h5py
import numpy as np
import pytest

from qwopkit.bench.synthetic import synthetic_episode
from qwopkit.dataset import (
    EpisodeError,
    EpisodeWarning,
    build_index,
    load_episodes,
    open_episode,
    resolve_paths,
    to_transitions,
    validate,
    write_episode,
)


def _good(folder, index, steps=6):
    ep = synthetic_episode(np.random.default_rng(index), player="p", session="s", index=index, steps=steps)
    return write_episode(ep, folder, fsync=False)


def _truncated(folder):
    path = _good(folder, 90)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _random_bytes(folder):
    path = folder / "p-s-0091.h5"
    path.write_bytes(np.random.default_rng(0).bytes(5000))
    return path


def _wrong_version(folder):
    path = _good(folder, 92)
    with h5py.File(path, "r+") as f:
        f.attrs["format_version"] = 2
    return path


def _missing_dataset(folder):
    path = _good(folder, 93)
    with h5py.File(path, "r+") as f:
        del f["mu"]
    return path


def _mismatched_lengths(folder):
    path = _good(folder, 94)
    with h5py.File(path, "r+") as f:
        del f["rewards"]
        f["rewards"] = np.zeros(3, np.float32)
    return path


def _not_an_episode(folder):
    path = folder / "p-s-0095.h5"
    with h5py.File(path, "w") as f:
        f["x"] = np.arange(3)
    return path


BAD = {
    "truncated": (_truncated, "not a readable HDF5 file (truncated file"),
    "random bytes": (_random_bytes, "not a readable HDF5 file (file signature not found)"),
    "wrong version": (_wrong_version, "format version 2; this qwopkit reads version 1"),
    "missing dataset": (_missing_dataset, "missing dataset 'mu'"),
    "mismatched lengths": (_mismatched_lengths, "length mismatch: rewards has shape (3,)"),
    "not an episode": (_not_an_episode, "not a qwopkit-episode file"),
}


@pytest.mark.parametrize("case", BAD)
def test_one_bad_file_one_clear_error(tmp_path, case):
    make, message = BAD[case]
    path = make(tmp_path)
    with pytest.raises(EpisodeError) as info:
        open_episode(path)
    assert str(info.value) == f"{path}: {info.value.what}"
    assert message in info.value.what
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("case", BAD)
def test_a_bad_file_never_stops_the_others(tmp_path, case):
    good = [_good(tmp_path, i) for i in range(3)]
    before = [p.read_bytes() for p in good]
    bad = BAD[case][0](tmp_path)
    with pytest.warns(EpisodeWarning, match=str(bad.name)):
        loaded = load_episodes(tmp_path)
    assert len(loaded) == 3
    with pytest.warns(EpisodeWarning):
        assert len(to_transitions(tmp_path)) == 3 * 6
    # The index goes through the same checks as every reader: the bad file is skipped, warned about.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = build_index(tmp_path)
    assert [issubclass(w.category, EpisodeWarning) for w in caught] == [True]
    assert set(df["path"]) == set(map(str, good))
    results = dict(validate(tmp_path))
    assert results[bad] is not None and all(results[p] is None for p in good)
    assert [p.read_bytes() for p in good] == before


def test_empty_glob_is_an_error(tmp_path):
    with pytest.raises(EpisodeError, match=r"no episode files match"):
        resolve_paths(str(tmp_path / "*.h5"))
    with pytest.raises(EpisodeError, match=r"no episode files match"):
        to_transitions(str(tmp_path / "nothing-*.h5"))


def test_file_being_written_is_skipped_with_a_warning(tmp_path):
    good = _good(tmp_path, 0)
    tmp = tmp_path / ".p-s-0001.1234abcd.h5.tmp"
    tmp.write_bytes(good.read_bytes()[:100])
    assert resolve_paths(tmp_path) == [good]  # a folder never lists it
    with pytest.raises(EpisodeError, match="still being written"):
        open_episode(tmp)
    with pytest.warns(EpisodeWarning, match="still being written"):
        assert len(load_episodes(str(tmp_path / ".*.tmp"))) == 0
    assert tmp.exists()  # never touched


def test_bad_marks_file_fails_loudly_without_touching_episodes(tmp_path):
    good = _good(tmp_path, 0)
    (tmp_path / "marks.json").write_text("{not json")
    with pytest.raises(EpisodeError, match="marks.json: unreadable marks file"):
        open_episode(good)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert validate(tmp_path) == [(good, None)]  # the episode itself is fine


def _cli(*args, cwd):
    env = {**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning"}
    return subprocess.run([sys.executable, "-m", "qwopkit.commands.data", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_bad_input_is_one_line_not_a_traceback(tmp_path):
    for i in range(2):
        _good(tmp_path, i)
    paths = {case: make(tmp_path) for case, (make, _) in BAD.items()}
    # One file: an error line naming it, exit 1.
    r = _cli("info", str(paths["random bytes"]), cwd=tmp_path)
    assert r.returncode == 1
    what = "not a readable HDF5 file (file signature not found)"
    assert r.stderr == f"qwop-data: error: {paths['random bytes']}: {what}\n"
    # Many files: one line per bad file, the good ones counted, exit 1.
    r = _cli("validate", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == len(BAD)
    assert r.stdout.strip() == f"2 valid, {len(BAD)} invalid"
    # ls lists what it can read and warns about the rest.
    r = _cli("ls", "--csv", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 0 and "Traceback" not in r.stderr
    assert all(line.startswith("qwop-data: warning: ") for line in r.stderr.strip().splitlines())
    # Empty glob and a bad flag value.
    r = _cli("validate", str(tmp_path / "none-*.h5"), cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr == f"qwop-data: error: {tmp_path / 'none-*.h5'}: no episode files match\n"
    r = _cli("mark", str(tmp_path / "p-s-0000.h5"), "--rating", "9", cwd=tmp_path)
    assert r.returncode == 2 and "must be 0-5" in r.stderr and "Traceback" not in r.stderr


def test_transitions_skip_a_file_found_bad_while_reading(tmp_path):
    # Its observations are fine (so the first pass counts it) but its mu is short: the second
    # pass must skip it and reuse its rows for the next file.
    good = [_good(tmp_path, 0, steps=5), _good(tmp_path, 2, steps=7)]
    bad = _good(tmp_path, 1, steps=6)
    with h5py.File(bad, "r+") as f:
        del f["mu"]
        f["mu"] = np.zeros((2, 11), np.float32)
    with pytest.warns(EpisodeWarning, match="length mismatch: mu"):
        data = to_transitions(tmp_path)
    assert data.paths == good and len(data) == 12
    episodes = load_episodes(good)
    np.testing.assert_array_equal(data.observations, np.concatenate([e.observations[:-1] for e in episodes]))
    following = np.concatenate([e.observations[1:] for e in episodes])
    np.testing.assert_array_equal(data.next_observations, following)
    np.testing.assert_array_equal(data.mu, np.concatenate([e.mu for e in episodes]))
    assert data.episode.tolist() == [0] * 5 + [1] * 7
