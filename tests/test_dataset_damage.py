"""The damage sweep: damaged files mixed into a good folder, through every command and the API.

Each case damages a copy of a good, recorded episode in one way: every dataset of the format
(NaN, inf, out-of-range values, wrong dtype, wrong shape, missing, a group, links, rows declared
but not stored), every root attribute (missing, wrong type, out of range, too big for 64 bits,
an array), and the file itself (truncation, bit flips, random bytes, links and special files).
For each, and for every `qwop-data` command, `qwop-pretrain` and the Python API, the promise is:
one clear line naming the damaged file (a skipped file's warning in multi-file commands), the
good files' bytes unchanged, the good files' transitions unchanged, and nothing non-finite or
out of range reaching a learner or being written. Bit flips and truncations are drawn by
hypothesis (bounded examples).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qwopkit.bench.synthetic import engine_episode, random_keys, synthetic_episode
from qwopkit.commands.data import main as qwop_data_main
from qwopkit.dataset import (
    ATTRIBUTES,
    EpisodeError,
    EpisodeWarning,
    build_index,
    estimate_mu,
    export_minari,
    load_episodes,
    make_split,
    mark,
    merge,
    open_episode,
    read_episode,
    to_transitions,
    validate,
    write_episode,
)
from qwopkit.dataset.schema import ALL_DATASETS, N_ACTIONS
from qwopkit.imitation import load_demos
from qwopkit.recorder.verify import features_problem, resimulate

Damage = Callable[[Path], None]  # edits a copy of a good file in place (or replaces it)


# ----------------------------------------------------------------------------- the good files
def _good_files(folder: Path) -> list[Path]:
    rng = np.random.default_rng(11)
    paths = [write_episode(engine_episode(random_keys(rng, 90 + 30 * i), player=f"p{i % 2}", session="g",
                                          episode_index=i), folder, fsync=False) for i in range(4)]
    imported = synthetic_episode(np.random.default_rng(5), player="imp", session="g", index=0, steps=20,
                                 with_state=False)
    imported.meta.update(imported=True, game="qwop-original", outcome="unknown")
    paths.append(write_episode(imported, folder, fsync=False))
    return paths


def _replace(f: h5py.File, name: str, data: np.ndarray, **kwargs) -> None:
    del f[name]
    f.create_dataset(name, data=data, **kwargs)


def _edit(name: str, change: Callable[[np.ndarray], np.ndarray]) -> Damage:
    def damage(path: Path) -> None:
        with h5py.File(path, "r+") as f:
            data = f[name][()]
            _replace(f, name, change(data.copy()))
    return damage


def _set_first(value: float) -> Callable[[np.ndarray], np.ndarray]:
    def change(a: np.ndarray) -> np.ndarray:
        a.reshape(-1)[min(1, a.size - 1)] = value  # row 0 or 1: a state row between decisions too
        return a
    return change


def _unstored(name: str, rows: int) -> Damage:
    """The dataset re-made chunked and resized to `rows` without writing them (HDF5 reads zeros)."""
    def damage(path: Path) -> None:
        with h5py.File(path, "r+") as f:
            data = f[name][()]
            del f[name]
            ds = f.create_dataset(name, data=data, maxshape=(None, *data.shape[1:]),
                                  chunks=(4, *data.shape[1:]) if data.ndim > 1 else (4,))
            ds.resize((rows, *data.shape[1:]))
    return damage


def _link(name: str, kind: str) -> Damage:
    def damage(path: Path) -> None:
        with h5py.File(path, "r+") as f:
            if kind == "soft":  # to a dataset of the same shape and dtype (a twin of it if none)
                partner = {"terminations": "truncations", "truncations": "terminations"}.get(name)
                if partner is None:
                    partner = name.replace("/", "_") + "_twin"
                    f.copy(f[name], partner)
                del f[name]
                f[name] = h5py.SoftLink(f"/{partner}")
            elif kind == "external":  # valid data, but in another file
                del f[name]
                f[name] = h5py.ExternalLink(str(GOOD_SOURCE[0]), f"/{name}")
            else:
                del f[name]
                f.create_group(name)
    return damage


GOOD_SOURCE: list[Path] = []  # the good file external links point at (set by the fixture)


def _dataset_cases() -> dict[str, Damage]:
    cases: dict[str, Damage] = {}
    wrong_dtype = {"f": np.int64, "u": np.float64, "b": np.int8, "i": np.float32}
    for name, dtype in ALL_DATASETS.items():
        if dtype.kind == "f":
            cases[f"{name} NaN"] = _edit(name, _set_first(np.nan))
            cases[f"{name} inf"] = _edit(name, _set_first(np.inf))
        cases[f"{name} dtype"] = _edit(name, partial(np.ndarray.astype, dtype=wrong_dtype[dtype.kind]))
        cases[f"{name} one row more"] = _edit(name, lambda a: np.concatenate([a, a[-1:]]))
        cases[f"{name} one row less"] = _edit(name, lambda a: a[:-1])
        cases[f"{name} other rank"] = _edit(name, lambda a: a.reshape(len(a), -1)[:, :1].copy()
                                            if a.ndim > 1 else a[:, None])
        cases[f"{name} missing"] = partial(_delete, name=name)
        cases[f"{name} a group"] = _link(name, "group")
        cases[f"{name} soft link"] = _link(name, "soft")
        cases[f"{name} external link"] = _link(name, "external")
        cases[f"{name} rows declared, not stored"] = partial(_unstored_thrice, name=name)
        cases[f"{name} enormous declared length"] = _unstored(name, 10**12)
    cases["actions out of the action set"] = _edit("actions", _set_first(200))
    cases["keys outside 0-15"] = _edit("keys", _set_first(99))
    cases["mu negative (row sums to 1)"] = _edit("mu", lambda a: _row0(a, [2.0, -1.0]))
    cases["mu not summing to 1"] = _edit("mu", lambda a: a * 0.5)
    cases["termination in the middle"] = _edit("terminations", _set_first(True))
    cases["truncation in the middle"] = _edit("truncations", _set_first(True))
    cases["both flags at the end"] = _flags(True)
    cases["no flag at the end"] = _flags(False)
    return cases


def _flags(value: bool) -> Damage:
    def damage(path: Path) -> None:
        for name in ("terminations", "truncations"):
            _edit(name, lambda a: np.concatenate([a[:-1] & False, [value]]))(path)
    return damage


def _row0(a: np.ndarray, values: list[float]) -> np.ndarray:
    a[0] = 0
    a[0, : len(values)] = values
    return a


def _unstored_thrice(path: Path, name: str) -> None:
    """Declare three times the rows `name` has, storing none of them."""
    _unstored(name, _rows(path, name) * 3)(path)


def _rows(path: Path, name: str) -> int:
    with h5py.File(path) as f:
        return len(f[name])


def _delete(path: Path, name: str) -> None:
    with h5py.File(path, "r+") as f:
        del f[name]


def _attr(name: str, value: object) -> Damage:
    def damage(path: Path) -> None:
        with h5py.File(path, "r+") as f:
            if value is None:
                del f.attrs[name]
            else:
                f.attrs[name] = value
    return damage


# Out-of-range values for the attributes that have a range or a fixed value.
OUT_OF_RANGE = {
    "format": "other-format", "format_version": np.int64(2), "episode_index": np.int64(-5),
    "outcome": "won", "distance": np.float64(np.inf), "hud_time": np.float64(-np.inf),
    "tags": '{"not": "a list"}', "rating": np.int64(9), "frame_skip": np.int64(0),
    "seed": np.int64(-7), "updates_per_second": np.int64(0), "kept": np.int64(2),
    "imported": np.int64(3), "mu_params": "[1, 2]",
    "action_set": np.array(["none", "W", "Q", "O", "P", "QW", "QO", "QP", "WO", "WP", "OP"],
                           dtype=h5py.string_dtype()),
    "state_fields": np.array(["x"] * 5, dtype=h5py.string_dtype()),
    "observation_fields": np.array(["x"] * 70, dtype=h5py.string_dtype()),
}
WRONG_TYPE = {"str": np.int64(5), "int": "five", "float": "far", "bool": "yes",
              "list": np.int64(3), "json": np.float64(1.5)}


def _attribute_cases() -> dict[str, Damage]:
    cases: dict[str, Damage] = {}
    for attr in ATTRIBUTES:
        if attr.legacy is None:  # an attribute newer than the format reads its legacy value instead
            cases[f"attribute {attr.name} missing"] = _attr(attr.name, None)
        cases[f"attribute {attr.name} wrong type"] = _attr(attr.name, WRONG_TYPE[attr.kind])
        cases[f"attribute {attr.name} an array"] = _attr(attr.name, np.array([1, 2]))
        if attr.kind in ("str", "json"):
            cases[f"attribute {attr.name} not UTF-8"] = _attr(attr.name, np.bytes_(b"\xff\xfe"))
        if attr.kind == "int":
            cases[f"attribute {attr.name} beyond 64 bits"] = _attr(attr.name, np.uint64(2**64 - 1))
        if attr.name in OUT_OF_RANGE:
            cases[f"attribute {attr.name} out of range"] = _attr(attr.name, OUT_OF_RANGE[attr.name])
    return cases


def _truncate(fraction: float) -> Damage:
    def damage(path: Path) -> None:
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * fraction)])
    return damage


def _file_cases() -> dict[str, Damage]:
    return {
        "truncated to 10%": _truncate(0.1), "truncated to 60%": _truncate(0.6),
        "truncated to 95%": _truncate(0.95), "empty": _truncate(0.0),
        "random bytes": lambda p: p.write_bytes(np.random.default_rng(0).bytes(4000)),
        "not an episode": lambda p: (p.unlink(), h5py.File(p, "w").close()),
    }


def _special_cases(folder: Path) -> dict[str, Path]:
    """Links and special files named like episodes (made in place, not from a copy)."""
    loop = folder / "special-loop-0000.h5"
    loop.symlink_to(loop.name)
    dangling = folder / "special-dangling-0000.h5"
    dangling.symlink_to("nowhere.h5")
    fifo = folder / "special-fifo-0000.h5"
    os.mkfifo(fifo)
    return {"symlink loop": loop, "dangling symlink": dangling, "a named pipe": fifo}


CASES: dict[str, Damage] = {**_dataset_cases(), **_attribute_cases(), **_file_cases()}


# ----------------------------------------------------------------------------- the mixed folder
class Mixed:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.data.mkdir()
        self.good = _good_files(self.data)
        GOOD_SOURCE[:] = [self.good[0]]
        self.reference = root / "reference"  # the good files alone, for comparisons
        self.reference.mkdir()
        for p in self.good:
            shutil.copyfile(p, self.reference / p.name)
        self.bad: dict[str, Path] = {}
        for i, (case, damage) in enumerate(CASES.items()):
            path = self.data / f"damaged-c{i:03d}-0000.h5"
            shutil.copyfile(self.good[0], path)
            damage(path)
            self.bad[case] = path
        self.bad.update(_special_cases(self.data))
        # A link to a good file reaches it twice: it must still count once.
        (self.data / "zz-alias-0000.h5").symlink_to(self.good[1].name)
        self.bytes = {p: p.read_bytes() for p in self.good}
        # Damage to the raw state and keys only is found by deep reads (they decompress the
        # state); the readers of decisions, which never pass the state on, may still load such a
        # file, whose decisions are then exactly those of the good file it was copied from.
        self.raw_only = {case for case, path in self.bad.items() if _opens(path)}
        self.refused = {case: path for case, path in self.bad.items() if case not in self.raw_only}
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            self.baseline = to_transitions(self.reference, cache=False)

    def assert_good_untouched(self) -> None:
        assert {p: p.read_bytes() for p in self.good} == self.bytes

    def assert_raw_only_rows(self, data) -> None:
        """Files damaged in their raw data only, if loaded, give the rows of their original."""
        original = to_transitions(self.good[0], cache=False)
        for case in self.raw_only:
            if self.bad[case] in data.paths:
                e = data.paths.index(self.bad[case])
                np.testing.assert_array_equal(data.observations[data.episode == e], original.observations)
                np.testing.assert_array_equal(data.mu[data.episode == e], original.mu)

    def names_bad(self, line: str) -> bool:
        return any(str(p) in line for p in self.bad.values())


def _opens(path: Path) -> bool:
    try:
        open_episode(path).close()
        return True
    except EpisodeError:
        return False


def _copy_folder(src: Path, dest: Path) -> None:
    """A copy keeping links and named pipes as they are."""
    dest.mkdir()
    for entry in src.iterdir():
        target = dest / entry.name
        if entry.is_symlink():
            target.symlink_to(os.readlink(entry))
        elif entry.is_fifo():
            os.mkfifo(target)
        elif entry.is_dir():
            target.mkdir()
        else:
            shutil.copyfile(entry, target)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Mixed:
    return Mixed(tmp_path_factory.mktemp("damage"))


def assert_clean_values(data) -> None:
    """Nothing non-finite or out of range in what a learner gets."""
    assert np.isfinite(data.observations).all() and np.isfinite(data.next_observations).all()
    assert np.isfinite(data.rewards).all()
    assert data.actions.min(initial=0) >= 0 and data.actions.max(initial=0) < N_ACTIONS
    assert np.isfinite(data.mu).all() and (data.mu >= 0).all()
    np.testing.assert_allclose(data.mu.sum(1), 1, atol=1e-4)
    for e in range(len(data.paths)):
        rows = np.flatnonzero(data.episode == e)
        assert not data.dones[rows[:-1]].any() and data.dones[rows[-1]]


def assert_same_good_rows(data, baseline) -> None:
    """Each good episode's transitions are exactly what it gives alone."""
    by_name = {p.name: i for i, p in enumerate(data.paths)}
    for e, path in enumerate(baseline.paths):
        assert path.name in by_name, f"{path.name} went missing"
        got, want = data.episode == by_name[path.name], baseline.episode == e
        for field in ("observations", "next_observations", "actions", "rewards", "mu", "terminations",
                      "truncations"):
            np.testing.assert_array_equal(getattr(data, field)[got], getattr(baseline, field)[want])


# ----------------------------------------------------------------------------- the Python API
def test_every_damaged_file_is_one_clear_error(mixed: Mixed) -> None:
    assert mixed.raw_only == {"state NaN", "state inf", "keys outside 0-15"}
    for path in mixed.refused.values():
        with pytest.raises(EpisodeError, match="^" + str(path).replace(".", r"\.")):
            open_episode(path)
    for case, path in mixed.bad.items():
        with pytest.raises(EpisodeError) as info:
            with open_episode(path, deep=True) as ep:
                ep.read("state")
        message = str(info.value)
        assert message.startswith(f"{path}: ") and "\n" not in message, (case, message)
        with pytest.raises(EpisodeError, match="^" + str(path).replace(".", r"\.")):
            read_episode(path)
    mixed.assert_good_untouched()


def test_multi_file_readers_skip_the_damaged_and_keep_the_good(mixed: Mixed) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = to_transitions(mixed.data)
        index = build_index(mixed.data)
        episodes = load_episodes(mixed.data)
        verdicts = dict(validate(mixed.data, deep=True, checks=[features_problem]))
    assert all(issubclass(w.category, EpisodeWarning) for w in caught)
    assert all(mixed.names_bad(str(w.message)) for w in caught)
    assert_clean_values(data)
    raw_damaged = {mixed.bad[case].name for case in mixed.raw_only}
    assert sorted(p.name for p in data.paths) == sorted([p.name for p in mixed.good] + [*raw_damaged])
    assert_same_good_rows(data, mixed.baseline)
    mixed.assert_raw_only_rows(data)
    assert sorted(index["file"]) == sorted([p.name for p in mixed.good] + [*raw_damaged])
    # Reading whole episodes reads their raw data too: only the good ones load.
    players = sorted(read_episode(p).meta["player"] for p in mixed.good)
    assert sorted(e.meta["player"] for e in episodes) == players
    assert all(verdicts[p] is None for p in mixed.good)
    assert all(verdicts[p] is not None for p in mixed.bad.values())
    # The cache remembers the good files only: a second, cached run gives the same answer.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same_good_rows(to_transitions(mixed.data), mixed.baseline)
    mixed.assert_good_untouched()


def test_learners_demos_and_operations_see_only_good_data(mixed: Mixed, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EpisodeWarning)
        demos = load_demos(mixed.data)
        loadable = to_transitions(mixed.data, raw=True)  # the learners' read: raw data checked too
    assert sorted(p.name for p in loadable.paths) == sorted(p.name for p in mixed.good)
    assert len(demos.train_actions) + len(demos.valid_actions) == len(loadable)
    for obs, actions in ((demos.train_obs, demos.train_actions), (demos.valid_obs, demos.valid_actions)):
        assert np.isfinite(obs).all() and actions.min() >= 0 and actions.max() < N_ACTIONS
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EpisodeWarning)
        report = merge(mixed.data, tmp_path / "merged")
        split = make_split(mixed.data, "s", valid_fraction=0.4, seed=0, folder=mixed.data)
        exported = export_minari(mixed.data, "qwopkit/damage-v0", path=tmp_path / "minari")
    raw_damaged = [mixed.bad[case].name for case in mixed.raw_only]
    assert sorted(p.name for p in report.copied) == sorted(p.name for p in mixed.good)
    assert len(report.errors) == len(mixed.bad) and all(mixed.names_bad(e) for e in report.errors)
    for copy in report.copied:
        assert validate(copy, deep=True, checks=[features_problem]) == [(copy, None)]
        np.testing.assert_array_equal(read_episode(copy).observations,
                                      read_episode(mixed.data / copy.name).observations)
    assert sorted(split["train"] + split["valid"]) == sorted([p.name for p in mixed.good] + raw_damaged)
    assert exported.total_episodes == len(mixed.good) + len(raw_damaged)  # no state is exported
    (mixed.data / "splits.json").unlink()
    mixed.assert_good_untouched()


def test_mu_estimates_of_good_files_ignore_the_damaged(mixed: Mixed, tmp_path: Path) -> None:
    # Issue 9's first finding: a NaN file's fold spread NaN mu into good files.
    mixed_copy, alone = tmp_path / "mixed", tmp_path / "alone"
    _copy_folder(mixed.data, mixed_copy)
    shutil.copytree(mixed.reference, alone)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EpisodeWarning)
        written = estimate_mu(mixed_copy, "bc-crossfit", k=3, seed=0)
    estimate_mu(alone, "bc-crossfit", k=3, seed=0)
    assert sorted(p.name for p in written) == sorted(p.name for p in mixed.good)
    for p in mixed.good:
        got, want = read_episode(mixed_copy / p.name), read_episode(alone / p.name)
        assert np.isfinite(got.mu).all()
        np.testing.assert_array_equal(got.mu, want.mu)
    for p in mixed.bad.values():  # the damaged copies were not rewritten either
        twin = mixed_copy / p.name
        if twin.is_file() and not twin.is_symlink():
            assert twin.read_bytes() == p.read_bytes()


def test_marking_a_damaged_file_writes_nothing(mixed: Mixed) -> None:
    for path in list(mixed.refused.values())[::7]:
        with pytest.raises(EpisodeError, match="^" + str(path).replace(".", r"\.")):
            mark([mixed.good[0], path], rating=3)
    assert not (mixed.data / "marks.json").exists()  # all or nothing: not even the good one


def test_every_recorded_file_replays_and_damage_never_does(mixed: Mixed) -> None:
    for p in mixed.good[:4]:
        assert resimulate(p).max_deviation == 0.0
    for path in list(mixed.bad.values())[::5]:
        with pytest.raises(EpisodeError):
            resimulate(path)


# ----------------------------------------------------------------------------- the commands
def _qwop_data(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
        code = qwop_data_main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def _assert_lines_name_bad(mixed: Mixed, stderr: str, prefixes: tuple[str, ...]) -> None:
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr
    for line in lines:
        assert line.startswith(prefixes), line
        assert mixed.names_bad(line), line
        assert not any(str(p) in line for p in mixed.good), line


def test_every_command_on_the_mixed_folder(mixed: Mixed, tmp_path: Path) -> None:
    listed = sorted([p.name for p in mixed.good] + [mixed.bad[case].name for case in mixed.raw_only])
    code, out, err = _qwop_data("ls", "--csv", mixed.data)
    assert code == 0 and sorted(row.split(",")[1] for row in out.splitlines()[1:]) == listed
    _assert_lines_name_bad(mixed, err, ("qwop-data: warning: ",))

    code, out, err = _qwop_data("validate", "--deep", mixed.data)
    assert code == 1 and out.strip() == f"{len(mixed.good)} valid, {len(mixed.bad)} invalid"
    _assert_lines_name_bad(mixed, err, ("qwop-data: invalid: ",))

    code, out, err = _qwop_data("replay", mixed.data)
    assert code == 1  # files that could not be replayed fail the gate
    assert out.count("max deviation 0 ") + out.count("max deviation 0\n") == 4
    _assert_lines_name_bad(mixed, err, ("qwop-data: not replayed: ",))

    code, out, err = _qwop_data("merge", mixed.data, "--out", tmp_path / "merged")
    assert code == 1 and out.startswith(f"{len(mixed.good)} copied")
    _assert_lines_name_bad(mixed, err, ("qwop-data: not merged: ",))

    code, out, err = _qwop_data("split", "x", mixed.data, "--folder", mixed.root)
    assert code == 0 and f"{len(listed) - 2} train, 2 valid" in out
    _assert_lines_name_bad(mixed, err, ("qwop-data: warning: ",))
    (mixed.root / "splits.json").unlink()

    code, out, err = _qwop_data("export-minari", mixed.data, "--id", "qwopkit/cmd-v0", "--path",
                                tmp_path / "minari")
    assert code == 0 and f"{len(listed)} episodes" in out
    _assert_lines_name_bad(mixed, err, ("qwop-data: warning: ",))

    for path in list(mixed.refused.values())[::4]:
        for command in (["info", path], ["mark", path, "--rating", "2"], ["replay", path],
                        ["validate", "--deep", path]):
            code, out, err = _qwop_data(*command)
            assert code == 1 and err.count("\n") == 1 and str(path) in err and "Traceback" not in err, (
                command, err)
    assert not (mixed.data / "marks.json").exists()
    mixed.assert_good_untouched()


def _subprocess(*args, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning"}
    return subprocess.run([sys.executable, *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_real_processes_estimate_mu_and_pretrain(mixed: Mixed, tmp_path: Path) -> None:
    work = tmp_path / "mixed"
    _copy_folder(mixed.data, work)
    r = _subprocess("-m", "qwopkit.commands.data", "estimate-mu", work, "--classifier", "softmax", "--k", "3",
                    cwd=tmp_path)
    assert r.returncode == 0 and f"written to {len(mixed.good)} episode(s)" in r.stdout, r.stderr
    _assert_lines_name_bad_in(work, mixed, r.stderr)
    r = _subprocess("-m", "qwopkit.training.pretrain_cli", "--demos", work, "--out", tmp_path / "bc.zip",
                    "--epochs", "5", "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "nan" not in r.stdout.lower()
    report = json.loads((tmp_path / "bc.report.json").read_text())
    cloned = sorted(Path(p).name for part in report["episodes"].values() for p in part)
    assert cloned == sorted(p.name for p in mixed.good)  # damaged raw data: skipped by the learners too
    assert np.isfinite([report["train"]["loss"], report["valid"]["loss"]]).all()
    _assert_lines_name_bad_in(work, mixed, r.stderr)


def _assert_lines_name_bad_in(folder: Path, mixed: Mixed, stderr: str) -> None:
    bad_names = {p.name for p in mixed.bad.values()}
    assert "Traceback" not in stderr
    for line in stderr.strip().splitlines():
        if line.startswith("qwop-pretrain: WARNING: "):  # doubts about the clone (5 epochs), not a file
            continue
        assert line.startswith(("qwop-data: warning: ", "qwop-pretrain: warning: ")), line
        assert any(name in line for name in bad_names), line


# ----------------------------------------------------------------------------- drawn damage
@st.composite
def flips(draw) -> list[tuple[float, int]]:
    return draw(st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 7)), min_size=1,
                         max_size=4))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(bit_flips=flips(), cut=st.one_of(st.none(), st.floats(0.05, 1, exclude_max=True)))
def test_drawn_bit_flips_and_cuts(mixed: Mixed, tmp_path_factory, bit_flips, cut) -> None:
    folder = tmp_path_factory.mktemp("drawn")
    good = shutil.copyfile(mixed.good[1], folder / mixed.good[1].name)
    data = bytearray(mixed.good[0].read_bytes())
    for where, bit in bit_flips:
        data[int(where * len(data))] ^= 1 << bit
    bad = folder / "drawn-damage-0000.h5"
    bad.write_bytes(bytes(data[: int(len(data) * cut)] if cut else data))
    try:
        with open_episode(bad, deep=True) as ep:
            ep.read("state")
    except EpisodeError as exc:
        assert str(exc).startswith(f"{bad}: ") and "\n" not in str(exc)
    usable = _opens(bad)  # its decisions pass: the loaders may use it
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = to_transitions(folder, cache=False)
        build_index(folder, cache=False)
    assert all(str(bad) in str(w.message) for w in caught)
    assert_clean_values(loaded)
    alone = to_transitions(good, cache=False)
    assert_same_good_rows(loaded, alone)
    assert (bad in loaded.paths) <= usable
    assert good.read_bytes() == mixed.good[1].read_bytes()
    shutil.rmtree(folder)


# ----------------------------------------------------------------------------- sidecars
BAD_MARKS = {
    "not JSON": "{oops",
    "rating true": {"rating": True}, "rating 9": {"rating": 9}, "tags of numbers": {"tags": [1, 2]},
    "kept as 1": {"kept": 1}, "note a number": {"note": 5}, "entry a list": ["x"],
    "deeply nested": "[" * 100000 + "]" * 100000,
}


@pytest.mark.parametrize("case", BAD_MARKS)
def test_a_damaged_marks_file_is_named_and_never_overwritten(tmp_path: Path, case: str) -> None:
    paths = _good_files(tmp_path)
    entry = BAD_MARKS[case]
    text = entry if isinstance(entry, str) else json.dumps(
        {"format": "qwopkit-marks", "version": 1, "marks": {paths[0].name: entry}})
    marks = tmp_path / "marks.json"
    marks.write_text(text)
    with pytest.warns(EpisodeWarning, match=str(marks)):
        assert len(to_transitions(tmp_path)) == 0  # its exclusions cannot be trusted: nothing loads
    with pytest.raises(EpisodeError, match=str(marks)):
        mark(paths[:1], rating=1)
    assert marks.read_text() == text
    code, out, err = _qwop_data("ls", tmp_path)
    assert code == 0 and "Traceback" not in err and str(marks) in err


@pytest.mark.parametrize("content", [{"s": {"train": [1, 2], "valid": []}}, {"s": {"train": "a.h5"}},
                                     {"s": ["train"]}, "[[[[", {"s": {"train": ["\x00"], "valid": []}}])
def test_a_damaged_splits_file_is_named(tmp_path: Path, content) -> None:
    _good_files(tmp_path)
    splits = tmp_path / "splits.json"
    splits.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(EpisodeError, match=str(splits)):
        to_transitions(tmp_path, split="s")
    code, _, err = _qwop_data("export-minari", tmp_path, "--split", "s", "--id", "xx/y-v0",
                              "--path", tmp_path / "m")
    assert code == 1 and err.startswith(f"qwop-data: error: {splits}: ") and err.count("\n") == 1


def test_a_folder_named_like_an_episode(tmp_path: Path) -> None:
    paths = _good_files(tmp_path)
    (tmp_path / "x-y-0000.h5").mkdir()
    assert to_transitions(tmp_path).paths == sorted(paths)  # not listed
    with pytest.raises(EpisodeError, match=r"x-y-0000\.h5: not a regular file \(a folder\)"):
        open_episode(tmp_path / "x-y-0000.h5")
    code, _, err = _qwop_data("info", tmp_path / "x-y-0000.h5")
    folder = tmp_path / "x-y-0000.h5"
    assert code == 1 and err == f"qwop-data: error: {folder}: not a regular file (a folder)\n"


def test_a_glob_through_a_symlink_loop_reads_each_file_once(tmp_path: Path) -> None:
    paths = _good_files(tmp_path / "d")
    (tmp_path / "d" / "loop").symlink_to("..")
    data = to_transitions(str(tmp_path / "**" / "*.h5"))
    assert sorted(p.name for p in data.paths) == sorted(p.name for p in paths)
    assert len(data) == len(to_transitions(tmp_path / "d"))
