"""Cloning a player: class balance, input noise, the settling start, recovery decisions from the
engine (qwopkit.imitation.recovery), `qwop-pretrain`'s shaping flags, and the technique statistics
(qwopkit.bench.technique). Real engine runs and real (small) training runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qwopkit.adapter.features import action_of_keys, seed_observation
from qwopkit.adapter.openqwop import run_keys
from qwopkit.adapter.openqwop.bots import get_bot
from qwopkit.bench.synthetic import engine_episode
from qwopkit.bench.technique import KEY_STATES, Runs, closeness, phases, shares, statistics, wasserstein
from qwopkit.dataset import write_episode
from qwopkit.imitation import BCConfig, load_demos, train_bc
from qwopkit.imitation.bc import class_weights, cross_entropy
from qwopkit.imitation.recovery import recovery_decisions, settling_mask, shape_demos
from qwopkit.spaces import ACTION_NAMES
from qwopkit.training.pretrain_cli import main as pretrain_main

A = {name: i for i, name in enumerate(ACTION_NAMES)}


def _stride_run(updates: int = 900, wait: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The stride bot after `wait` decisions of no keys: (observations (T, 71), actions (T,))."""
    keys = np.concatenate([np.zeros(3 * wait, np.int64),
                           np.fromiter(get_bot("stride").keys(), dtype=np.int64, count=updates)])
    states = run_keys(keys)[:-1:3]
    actions = np.array([action_of_keys(int(k)) for k in keys[::3]])
    return seed_observation(states).astype(np.float64), actions


def test_class_weights_balance_the_actions_with_a_mean_of_one():
    actions = np.array([0] * 90 + [1] * 10)
    flat = class_weights(actions, 0.0)
    assert flat[0] == flat[1] == pytest.approx(1.0)
    balanced = class_weights(actions, 1.0)
    assert balanced[1] == pytest.approx(9 * balanced[0])
    assert (balanced[actions]).mean() == pytest.approx(1.0)
    assert balanced[5] == 0.0  # never recorded


def test_class_balance_and_input_noise_change_what_is_learned():
    rng = np.random.default_rng(0)
    obs = rng.standard_normal((2000, 8)).astype(np.float32)
    # A rare action (5%) with a weak signal in feature 0: unbalanced, the clone rarely predicts it.
    actions = np.where((obs[:, 0] + rng.standard_normal(2000) > 2.2), 1, 0)
    config = BCConfig(max_epochs=30, patience=30)
    plain = train_bc(obs, actions, config=config).policy
    balanced = train_bc(obs, actions, config=BCConfig(max_epochs=30, patience=30, class_balance=1.0)).policy
    predicted = [int((p.action_probabilities(obs).argmax(1) == 1).sum()) for p in (plain, balanced)]
    assert predicted[1] > 3 * max(predicted[0], 1)
    # Noise of many standard deviations drowns the signal: the clone falls to the majority class.
    separable = np.where(obs[:, 1] > 0, 1, 0)
    clean = train_bc(obs, separable, config=config).policy
    noisy = train_bc(obs, separable, config=BCConfig(max_epochs=30, patience=30, obs_noise=20.0)).policy
    assert cross_entropy(clean, obs, separable)[1] > 0.95
    assert cross_entropy(noisy, obs, separable)[1] < 0.8


def test_settling_is_the_wait_before_the_first_key():
    assert settling_mask(np.array([0, 0, 0, 8, 0, 3])).tolist() == [True, True, True, False, False, False]
    assert settling_mask(np.array([2, 0])).tolist() == [False, False]
    assert settling_mask(np.zeros(3, int)).all()


def test_recovery_decisions_are_off_his_path_and_labelled_with_his_next_action():
    obs, actions = _stride_run(600)
    rng = np.random.default_rng(0)
    more_obs, more_actions = recovery_decisions(obs, actions, per_decision=3, depth=1, rng=rng)
    assert len(more_obs) == len(more_actions) == 3 * (len(obs) - 1)
    np.testing.assert_array_equal(more_actions, np.repeat(actions[1:], 3))
    # Each is one other action away from the recorded state before it: off the recorded path,
    # but near it (a tenth of a second of different keys).
    recorded = np.repeat(obs[1:], 3, axis=0)
    offset = np.abs(more_obs - recorded).mean(1)
    assert (offset > 1e-4).mean() > 0.9
    assert np.median(offset) < 0.5 * np.abs(obs[1:] - obs[:-1]).mean() * 10
    deeper, _ = recovery_decisions(obs, actions, per_decision=3, depth=3, rng=np.random.default_rng(0))
    assert np.abs(deeper - recorded).mean() > np.abs(more_obs - recorded).mean()
    skip = np.ones(len(obs), bool)
    assert len(recovery_decisions(obs, actions, per_decision=2, rng=rng, skip=skip)[0]) == 0
    with pytest.raises(ValueError, match="depth"):
        recovery_decisions(obs, actions, depth=0, rng=rng)


@pytest.fixture(scope="module")
def waiting_runs(tmp_path_factory) -> Path:
    """Three engine runs of the stride bot, each starting with a wait of a few decisions."""
    folder = tmp_path_factory.mktemp("waiting")
    for i, wait in enumerate((3, 4, 5)):
        keys = np.concatenate([np.zeros(3 * wait, np.uint8),
                               np.fromiter(get_bot("stride").keys(), dtype=np.uint8, count=300)])
        write_episode(engine_episode(keys, player="kurodo", session="t", episode_index=i), folder)
    return folder


def test_shape_demos_drops_the_wait_and_adds_recovery_to_training_only(waiting_runs):
    demos = load_demos(waiting_runs, seed=0)
    shaped = shape_demos(demos, drop_settling=True, recovery=2, recovery_depth=1, seed=0)
    assert shaped.shaping["settling_dropped"] == 12  # 3 + 4 + 5 waiting decisions
    assert (shaped.train_actions[:shaped.train_recorded] != A["none"]).all()
    assert len(shaped.valid_actions) + shaped.train_recorded == len(demos.valid_actions) + len(
        demos.train_actions) - 12
    # Recovery decisions: two per recorded training decision but each run's first.
    runs = len(demos.train_episodes)
    assert shaped.shaping["recovery_decisions"] == 2 * (shaped.train_recorded - runs)
    assert len(shaped.train_actions) == shaped.train_recorded + shaped.shaping["recovery_decisions"]


def test_qwop_pretrain_shapes_the_demos_and_reports_it(waiting_runs, tmp_path):
    out = tmp_path / "clone.zip"
    code = pretrain_main(["--demos", str(waiting_runs), "--out", str(out), "--epochs", "20", "--quiet",
                          "--drop-settling", "--recovery", "2", "--recovery-depth", "2",
                          "--class-balance", "0.5", "--obs-noise", "0.1"])
    assert code == 0
    report = json.loads(out.with_name("clone.report.json").read_text())
    assert report["shaping"]["drop_settling"] and report["shaping"]["recovery"] == 2
    assert report["shaping"]["recovery_decisions"] > 0
    assert report["config"]["class_balance"] == 0.5 and report["config"]["obs_noise"] == 0.1
    # The training figures are on the recorded decisions, not on the recovery ones.
    assert report["train"]["transitions"] == sum(a["train_count"] for a in report["per_action"])
    assert pretrain_main(["--demos", str(waiting_runs), "--out", str(out), "--recovery", "-1"]) == 1


def test_technique_statistics_of_known_sequences():
    q, w, none, qp = A["Q"], A["W"], A["none"], A["QP"]
    runs = Runs("a", [np.array([q, q, q, none, w, w, qp, A["QW"]])], [np.full(8, 0.1)])
    share = dict(zip(KEY_STATES, shares(runs)))
    assert share["Q"] == pytest.approx(4 / 8) and share["W"] == pytest.approx(2 / 8)  # QW acts as Q
    keys = phases(runs, "keys")
    np.testing.assert_allclose(keys["Q"], [0.3, 0.1])
    thigh = phases(runs, "thigh")
    np.testing.assert_allclose(thigh["Q"], [0.3, 0.2])  # QP and QW both swing the thighs as Q
    assert wasserstein(np.array([0.0, 1.0]), np.array([0.5, 1.5])) == pytest.approx(0.5)
    assert closeness(runs, runs) == {"share_tv": 0.0, "phase_w1_s": 0.0, "thigh_phase_w1_s": 0.0}
    other = Runs("b", [np.array([qp] * 8)], [np.full(8, 0.1)])
    assert closeness(other, runs)["share_tv"] == pytest.approx(1 - 1 / 8)
    assert statistics(runs)["median_phase_s"] == pytest.approx(0.1)


def test_recipe_table_reads_training_reports_and_names_bad_ones(tmp_path, capsys):
    from qwopkit.bench.recipe import main as recipe_main

    report = {"kind": "qwopkit-training-report", "steps": 1000, "seconds": 60.0, "steps_per_second": 16.7,
              "training": {"first_finish_step": 400, "first_finish_seconds": 30.0, "best_time": 55.5,
                           "best_time_step": 900, "finished": 3, "episodes": 9},
              "evaluation": {"last": {"finish_rate": 0.5, "mean_distance": 80.0, "best_time": 57.0},
                             "history": []},
              "curve": {"step": [500, 1000], "seconds": [30, 60], "mean_distance": [50.0, 90.0],
                        "best_time": [None, 55.5]}}
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    assert recipe_main(["--run", f"his runs={path}", "--plot", str(tmp_path / "c.png")]) == 0
    out = capsys.readouterr().out
    row = "| his runs | 1,000 (17) | step 400 (0.50 min) | 55.50 s (900) | 3 of 9 | 50%, 80.0 m, 57.00 s |"
    assert row in out
    assert (tmp_path / "c.png").stat().st_size > 1000
    (tmp_path / "bad.json").write_text("{}")
    assert recipe_main(["--run", f"x={tmp_path / 'bad.json'}"]) == 1
    assert "bad.json: not a training report" in capsys.readouterr().err


def test_technique_picture_draws_shares_keys_and_a_strip(tmp_path):
    from qwopkit.bench.technique import plot_technique
    from qwopkit.rl.common.evaluation import EpisodeResult

    pattern = np.array(([A["QP"]] * 8 + [A["WO"]] * 8) * 20)
    result = EpisodeResult("fell", 3.0, 10.7, len(pattern), 3 * len(pattern), pattern, 3)
    model = Runs("a model", [pattern], [np.full(len(pattern), 0.1)], [result])
    player = Runs("player", [np.array([A["Q"]] * 50 + [A["W"]] * 50)], [np.full(100, 0.1)])
    path = plot_technique(player, [model], tmp_path / "t.png")
    from PIL import Image

    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"))
    height, width = pixels.shape[:2]
    colours = len(np.unique(pixels.reshape(-1, 3), axis=0))
    assert width > 800 and height > 300 and colours > 20  # bars, the raster and the runner's frames
