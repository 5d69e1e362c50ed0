"""`qwop-data`, run as a subprocess (`python -m qwopkit.dataset.cli`) on real files."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from qwopkit.bench.synthetic import engine_episode, random_keys
from qwopkit.dataset import read_episode, read_splits, write_episode


def qwop_data(*args, cwd, ok=True, env=None):
    env = {**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning", **(env or {})}
    r = subprocess.run([sys.executable, "-m", "qwopkit.commands.data", *map(str, args)], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=120)
    assert "Traceback" not in r.stderr, r.stderr
    if ok:
        assert r.returncode == 0, r.stderr
    return r


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    for i in range(6):
        ep = engine_episode(random_keys(rng, 90), player=("ann", "bob")[i % 2], session="s1", episode_index=i)
        write_episode(ep, root / "data")
    return root


def _rows(stdout):
    return list(csv.DictReader(io.StringIO(stdout)))


def test_ls_info_and_filters(data):
    rows = _rows(qwop_data("ls", "--csv", "data", cwd=data).stdout)
    assert len(rows) == 6 and {r["player"] for r in rows} == {"ann", "bob"}
    rows = _rows(qwop_data("ls", "--csv", "--player", "ann", "--sort", "steps", "data/*.h5", cwd=data).stdout)
    assert [r["player"] for r in rows] == ["ann"] * 3
    assert [int(r["steps"]) for r in rows] == sorted(int(r["steps"]) for r in rows)
    table = qwop_data("ls", "data", cwd=data).stdout
    assert "6 episode(s)" in table and "ann-s1-0000.h5" in table
    assert qwop_data("ls", cwd=data).stdout == table  # data/ is the default folder, as the recorder's
    r = qwop_data("ls", cwd=data / "data", ok=False)  # a folder without data/ in it
    assert r.returncode == 1 and r.stderr.startswith("qwop-data: error: data: there is no data/ folder here "
                                                     "yet: qwop-record writes runs into it")
    info = qwop_data("info", "data/ann-s1-0000.h5", cwd=data).stdout
    ep = read_episode(data / "data" / "ann-s1-0000.h5")
    assert "qwopkit-episode" in info
    assert f"({ep.steps + 1}, 71)" in info and f"({len(ep.keys) + 1}, 99)" in info


def test_validate_and_replay(data):
    r = qwop_data("validate", "--deep", "data", cwd=data)
    assert r.stdout.strip() == "6 valid, 0 invalid"
    r = qwop_data("replay", "data/bob-s1-0001.h5", cwd=data)
    assert "max deviation 0" in r.stdout


def test_mark_then_ls_shows_marks(data):
    r = qwop_data("mark", "data/ann-s1-0002.h5", "--exclude", "tripped", "--tag", "short", "--rating", "1",
                  cwd=data)
    assert "excluded (tripped)" in r.stdout
    rows = _rows(qwop_data("ls", "--csv", "--excluded", "data", cwd=data).stdout)
    assert [(r["file"], r["exclude_reason"], r["tags"], r["rating"]) for r in rows] == [
        ("ann-s1-0002.h5", "tripped", "short", "1")]
    qwop_data("mark", "data/ann-s1-0002.h5", "--keep", cwd=data)
    assert _rows(qwop_data("ls", "--csv", "--excluded", "data", cwd=data).stdout) == []
    r = qwop_data("mark", "data/ann-s1-0002.h5", cwd=data, ok=False)
    assert r.returncode == 1 and r.stderr.startswith("qwop-data: error: mark: nothing to do")


def test_split_merge_and_estimate_mu(data, tmp_path):
    r = qwop_data("split", "people", "data", "--by", "player", "--valid", "0.5", "--seed", "1", cwd=data)
    assert "3 train, 3 valid" in r.stdout
    assert set(read_splits(data / "data")["people"]) >= {"train", "valid", "valid_players"}
    r = qwop_data("split", "people", "data", cwd=data, ok=False)
    assert r.returncode == 1
    assert r.stderr.endswith("splits.json: split 'people' exists (not replaced; --force replaces it)\n")
    out = tmp_path / "merged"
    r = qwop_data("merge", "data", "--out", out, cwd=data)
    assert r.stdout.startswith("6 copied, 0 already there, 0 not merged")
    r = qwop_data("estimate-mu", out, "--method", "bc-crossfit", "--k", "3", cwd=data,
                  env={"QWOPKIT_PROGRESS_SECONDS": "0.2"})
    assert "written to 6 episode(s)" in r.stdout
    # Not a terminal: plain progress lines on stderr while the folds train.
    assert "bc-crossfit folds: 0/3 after 0 s" in r.stderr and "bc-crossfit folds: 3/3 after" in r.stderr
    ep = read_episode(next(out.glob("*.h5")))
    assert ep.meta["mu_method"] == "bc-crossfit" and ep.meta["mu_params"]["k"] == 3


def test_import_and_export(data, tmp_path):
    rng = np.random.default_rng(1)
    npz = tmp_path / "kuro_try7.npz"
    n = 12
    starts = np.zeros(n, bool)
    starts[[0, 5]] = True
    np.savez(npz, obs=rng.standard_normal((n, 71)), actions=rng.integers(0, 11, (n, 1)),
             rewards=np.ones(n), episode_returns=np.zeros(2), episode_starts=starts)
    r = qwop_data("import-npz", npz, "--out", tmp_path / "imported", cwd=data)
    assert "2 episode(s)" in r.stdout
    rows = _rows(qwop_data("ls", "--csv", "--imported", tmp_path / "imported", cwd=data).stdout)
    assert [(r["player"], r["session"], r["outcome"]) for r in rows] == [("kuro", "try7", "unknown")] * 2
    # Imports carry the decision length read from their features (1 update for this noise), the
    # recordings 3: one Minari dataset holds one environment, so they export apart.
    r = qwop_data("export-minari", "data", tmp_path / "imported", "--id", "qwopkit/mixed-v0",
                  "--path", tmp_path / "minari", cwd=data, ok=False)
    assert r.returncode == 1 and "export them separately" in r.stderr and "Traceback" not in r.stderr
    r = qwop_data("export-minari", tmp_path / "imported", "--id", "qwopkit/cli-v0",
                  "--path", tmp_path / "minari", cwd=data)
    assert "2 episodes" in r.stdout
    meta = json.loads((tmp_path / "minari" / "qwopkit" / "cli-v0" / "data" / "metadata.json").read_text())
    assert meta["total_episodes"] == 2 and meta["action_space"]


def test_split_leaves_excluded_episodes_out_and_says_so(data, tmp_path):
    folder = tmp_path / "d"
    qwop_data("merge", "data", "--out", folder, cwd=data)
    qwop_data("mark", folder / "ann-s1-0000.h5", "--exclude", "tripped", cwd=data)
    r = qwop_data("split", "s", folder, "--valid", "0.4", cwd=data)
    assert r.stdout == ("split 's': 3 train, 2 valid; 1 excluded episode(s) left out "
                        "(--include-excluded splits them too)\n")
    split = read_splits(folder)["s"]
    assert "ann-s1-0000.h5" not in split["train"] + split["valid"]
    r = qwop_data("split", "s", folder, "--include-excluded", "--force", cwd=data)
    assert r.stdout.startswith("split 's': 5 train, 1 valid\n")


def test_import_npz_names_force_and_refuses_episode_files(data, tmp_path):
    npz = tmp_path / "kuro_try9.npz"
    n = 12
    np.savez(npz, obs=np.zeros((n, 71)), actions=np.zeros((n, 1), np.int64), rewards=np.zeros(n),
             episode_returns=np.zeros(1), episode_starts=np.eye(1, n, dtype=bool)[0])
    qwop_data("import-npz", npz, "--out", tmp_path / "out", cwd=data)
    r = qwop_data("import-npz", npz, "--out", tmp_path / "out", cwd=data, ok=False)
    assert r.returncode == 1 and r.stderr == (f"qwop-data: error: {tmp_path / 'out' / 'kuro-try9-0000.h5'}: "
                                              "already exists (not replaced; --force replaces it)\n")
    qwop_data("import-npz", npz, "--out", tmp_path / "out", "--force", cwd=data)
    episode = next((data / "data").glob("*.h5"))
    r = qwop_data("import-npz", episode, "--out", tmp_path / "out", cwd=data, ok=False)
    assert r.returncode == 1
    assert r.stderr.startswith(f"qwop-data: error: {episode}: an HDF5 file, not an .npz")
    assert "pickle" not in r.stderr
