"""One rule for damaged demonstrations in both learners: a demo whose raw state is NaN or
unreadable, whose keys are not 4-bit masks, or whose observations are finite but absurd is
skipped with one warning naming it, by qwop-finetune's loader (rl/demos.py) and by
qwop-pretrain's (imitation/bc.py) alike; the good demos still load. Real files from
examples/data, damaged in place with h5py as a disk or a buggy tool would."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

from qwopkit.dataset import EpisodeError, EpisodeWarning, validate_file
from qwopkit.imitation import load_demos
from qwopkit.rl.common.demos import load_demonstrations

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "data"
GOOD = sorted(EXAMPLES.glob("bot_stride-*.h5"))
DAMAGED = "bot_stride-example-0009.h5"


def _damage(path: Path, kind: str) -> None:
    with h5py.File(path, "r+") as f:
        f.attrs["episode_index"] = 9
        if kind == "nan-state":
            row = f["state"][5]
            row[3] = np.nan
            f["state"][5] = row
        elif kind == "bad-keys":
            f["keys"][7] = 200
        elif kind == "absurd-observation":
            row = f["observations"][4]
            row[10] = 12345.0
            f["observations"][4] = row
        chunk = f["state"].id.get_chunk_info(0)
    if kind == "unreadable-state":  # a damaged compressed chunk: the decompression fails
        with open(path, "r+b") as fh:
            fh.seek(chunk.byte_offset + 10)
            fh.write(b"\xff" * 64)


@pytest.fixture(params=["nan-state", "unreadable-state", "bad-keys", "absurd-observation"])
def demos(request, tmp_path) -> Path:
    folder = tmp_path / "demos"
    folder.mkdir()
    for p in GOOD:
        shutil.copy(p, folder / p.name)
    shutil.copy(GOOD[0], folder / DAMAGED)
    _damage(folder / DAMAGED, request.param)
    return folder


def _skipped(load) -> tuple[object, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = load()
    return result, [str(w.message) for w in caught if issubclass(w.category, EpisodeWarning)]


def test_finetune_skips_a_damaged_demo_with_one_warning(demos):
    store, lines = _skipped(lambda: load_demonstrations(demos, observation_shape=(71,), n_actions=11))
    assert [line.split(": ", 1)[0] for line in lines] == [str(demos / DAMAGED)], lines
    assert sorted(Path(s).name for s in store.sources) == [p.name for p in GOOD]


def test_pretrain_skips_a_damaged_demo_with_one_warning(demos):
    data, lines = _skipped(lambda: load_demos(demos, valid_fraction=0.5))
    assert [line.split(": ", 1)[0] for line in lines] == [str(demos / DAMAGED)], lines
    assert sorted(Path(s).name for s in data.train_episodes + data.valid_episodes) == [p.name for p in GOOD]


def test_an_absurd_observation_fails_every_read_not_only_a_deep_one(tmp_path):
    path = tmp_path / DAMAGED
    shutil.copy(GOOD[0], path)
    _damage(path, "absurd-observation")
    with pytest.raises(EpisodeError, match=r"observations beyond .* \(row 4\)"):
        validate_file(path)


def test_both_commands_train_on_with_a_warning_naming_the_damaged_demo(tmp_path):
    import subprocess
    import sys

    folder = tmp_path / "demos"
    folder.mkdir()
    for p in GOOD:
        shutil.copy(p, folder / p.name)
    shutil.copy(GOOD[0], folder / DAMAGED)
    _damage(folder / DAMAGED, "nan-state")
    runs = {"qwop-pretrain": ["qwopkit.training.pretrain_cli", "--demos", folder, "--out",
                              tmp_path / "bc.zip",
                              "--epochs", "2", "--quiet"],
            "qwop-finetune": ["qwopkit.training.finetune_cli", "--demos", folder, "--schedule", "demos:200",
                              "--out", tmp_path / "run", "--n-envs", "1", "--eval-every", "200",
                              "--eval-episodes", "1", "--checkpoint-every", "200", "--replay-start", "50"]}
    for prog, args in runs.items():
        r = subprocess.run([sys.executable, "-m", *map(str, args)], capture_output=True, text=True,
                           timeout=300)
        assert r.returncode == 0, r.stderr
        assert f"{prog}: warning: {folder / DAMAGED}: non-finite state (row 5)" in r.stderr.splitlines()
        assert "Traceback" not in r.stderr and "error" not in r.stderr
