"""Re-simulation: recorded keys replay to the recorded states exactly; tampering shows."""

from __future__ import annotations

import h5py
import numpy as np

from qwopkit.adapter.openqwop.layout import STATE_INDEX
from qwopkit.bench.synthetic import engine_episode, random_keys, synthetic_episode
from qwopkit.dataset import write_episode
from qwopkit.recorder.verify import resimulate


def _recorded(folder, seed=0, n=150):
    return write_episode(engine_episode(random_keys(np.random.default_rng(seed), n)), folder)


def test_replay_of_a_recorded_run_is_exact(tmp_path):
    for seed in range(3):
        report = resimulate(_recorded(tmp_path / str(seed), seed))
        assert report.replayed and report.updates > 0
        assert report.max_deviation == 0.0, report.line()


def test_tampered_state_is_found(tmp_path):
    path = _recorded(tmp_path)
    with h5py.File(path, "r+") as f:
        f["state"][7, STATE_INDEX["torso.vx"]] += 0.5
    report = resimulate(path)
    assert report.max_deviation == 0.5 or abs(report.max_deviation - 0.5) < 1e-9
    assert (report.worst_update, report.worst_field) == (7, "torso.vx")
    assert "update 7, torso.vx" in report.line()


def test_tampered_keys_are_found(tmp_path):
    path = _recorded(tmp_path)
    with h5py.File(path, "r+") as f:
        keys = f["keys"][:]
        f["keys"][:] = np.where(keys == 0, 5, 0)  # a different key sequence
    assert resimulate(path).max_deviation > 0.01


def test_no_raw_state_is_reported_not_replayed(tmp_path):
    ep = synthetic_episode(np.random.default_rng(0), player="p", session="s", index=0, steps=4,
                           with_state=False)
    ep.meta.update(imported=True, game="qwop-original", outcome="unknown")
    report = resimulate(write_episode(ep, tmp_path))
    assert not report.replayed and report.max_deviation is None
    assert report.line().endswith("not replayed: no raw state (an imported episode)")
