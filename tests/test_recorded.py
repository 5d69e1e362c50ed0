"""Recorded runs seen from the engine: the runner set to a state, states rebuilt from the seed's
features, decision lengths, outcomes, and the teacher-forced one-step error (fidelity (c)).

The engine's own runs stand in for recordings where the truth must be known (every raw value,
the frame skip, the outcome); the seed's real recordings are used when ../shared is present.
"""

from __future__ import annotations

import numpy as np
import pytest

from qwopkit.adapter.features import ACTION_TO_SEED, SEED_OBS_FIELDS, action_of_keys, seed_observation
from qwopkit.adapter.openqwop import FELL, RUNNING, Engine, O, P, Q, run_keys
from qwopkit.adapter.openqwop import physics as ph
from qwopkit.adapter.openqwop.bots import get_bot
from qwopkit.adapter.openqwop.layout import BODY_BLOCK, STATE_INDEX
from qwopkit.adapter.openqwop.recorded import (
    angular_velocities,
    decision_updates,
    describe_run,
    knee_history,
    states_from_features,
    torso_x_estimate,
)
from qwopkit.bench.fidelity import RecordedRun, recorded_runs, teacher_forced

OMEGA = [STATE_INDEX[f"{b}.omega"] for b in ph.BODY_NAMES]
X_COLUMNS = [i for i, name in enumerate(SEED_OBS_FIELDS) if name.endswith(".x")]


def _stride_states(updates: int, frame_skip: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The stride bot's per-update keys and the states at each decision boundary."""
    keys = np.fromiter(get_bot("stride").keys(), dtype=np.int64, count=updates)
    return keys, run_keys(keys)[::frame_skip]


def test_set_state_continues_a_played_run_closely_but_not_bit_identically():
    keys, _ = _stride_states(900, 1)
    states = run_keys(keys)
    engine = Engine()
    t = 600
    knee = knee_history(keys[:t + 1])[t]
    engine.set_state(states[t], knee_keys=int(knee))
    np.testing.assert_allclose(engine.state()[:BODY_BLOCK], states[t][:BODY_BLOCK], atol=1e-5)
    assert engine.updates == t and engine.status == RUNNING
    engine.advance(int(keys[t]), 3)
    position = [i for i in range(BODY_BLOCK) if i % 6 < 2]
    error = np.abs(engine.state()[position] - states[t + 3][position])
    # Close (the contact and joint caches start empty, so not exact) ...
    assert error.mean() < 0.1
    # ... and the placed runner moves on: far closer than standing still would be.
    assert error.mean() < 0.5 * np.abs(states[t + 3][position] - states[t][position]).mean()


def test_set_state_takes_the_hip_limits_and_the_fall_from_the_state():
    engine = Engine()
    spawn = engine.state()
    engine.set_state(spawn, knee_keys=P)
    assert engine.joints["rightHip"].limits == pytest.approx(ph.HIP_LIMITS[P]["rightHip"], abs=1e-6)
    engine.set_state(spawn, knee_keys=O)
    assert engine.joints["rightHip"].limits == pytest.approx(ph.HIP_LIMITS[O]["rightHip"], abs=1e-6)
    held = spawn.copy()
    held[STATE_INDEX["keys"]] = Q | P  # no knee key given: the held keys say it
    engine.set_state(held)
    assert engine.joints["leftHip"].limits == pytest.approx(ph.HIP_LIMITS[P]["leftHip"], abs=1e-6)
    assert engine.joints["rightHip"].motorSpeed == pytest.approx(ph.THIGH_SPEEDS[Q]["rightHip"])
    fallen = spawn.copy()
    fallen[STATE_INDEX["fallen"]] = 1
    engine.set_state(fallen)
    assert engine.status == FELL and not engine.joints["leftKnee"].motorEnabled
    with pytest.raises(ValueError, match="state: expected 99 finite values"):
        engine.set_state(np.full(99, np.nan))


def test_angular_velocities_are_recovered_from_the_joints():
    _, states = _stride_states(2400)
    estimate = angular_velocities(seed_observation(states))
    true = states[:, OMEGA]
    error = np.abs(estimate - true).mean()
    # Much better than the angles' finite differences could do, and far from zero information.
    assert error < 0.25 * np.abs(true).mean()
    torso_x = states[:, STATE_INDEX["torso.x"]]
    rebuilt = states_from_features(seed_observation(states), torso_x)
    np.testing.assert_allclose(rebuilt[:, STATE_INDEX["torso.x"]], torso_x, atol=1e-4)
    joint = STATE_INDEX["leftKnee.angle"]
    np.testing.assert_allclose(rebuilt[:, joint], states[:, joint], atol=1e-4)


@pytest.mark.parametrize("frame_skip", [3, 6])
def test_decision_lengths_and_distance_are_fitted_from_the_features(frame_skip):
    _, states = _stride_states(3000, frame_skip)
    obs = seed_observation(states)
    fitted = decision_updates(obs)
    assert np.median(fitted) == pytest.approx(frame_skip, abs=0.15 * frame_skip)
    torso_x = torso_x_estimate(obs)
    true_x = states[:, STATE_INDEX["torso.x"]]
    # 2% at 3 updates a decision; 3% at 6 on the original's physics (its stride lifts higher)
    assert abs(torso_x[-1] - true_x[-1]) < 0.035 * (true_x[-1] - true_x[0])


def _decisions(keys: np.ndarray, frame_skip: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """(seed observations at each decision, our action of each decision) of a key sequence."""
    states = run_keys(keys)[::frame_skip]
    actions = np.array([action_of_keys(int(k)) for k in keys[::frame_skip]])[:len(states)]
    return seed_observation(states).astype(np.float64), actions


def test_outcomes_are_read_from_the_end_of_a_run():
    finish = np.fromiter(get_bot("stride").keys(), dtype=np.int64, count=5400)
    states = run_keys(finish)
    end = int(np.argmax(states[:, STATE_INDEX["finished"]] > 0))
    assert end > 0, "the stride bot finishes"
    obs, _ = _decisions(finish[:end])
    run = describe_run(obs[:-1])  # like a recording: the last observation is before the last action
    assert run["outcome"] == "finished", run["reason"]
    assert run["distance"][-1] == pytest.approx(states[end, STATE_INDEX["distance"]], abs=2.0)
    assert run["hud_time"][-1] == pytest.approx(end / 30, rel=0.05)

    flail = np.fromiter(get_bot("flail").keys(), dtype=np.int64, count=600)
    states = run_keys(flail)
    fell = int(np.argmax(states[:, STATE_INDEX["fallen"]] > 0))
    assert fell > 0
    obs, _ = _decisions(flail[:fell])
    assert describe_run(obs[:-1])["outcome"] == "fell"

    standing = np.zeros(90, np.int64)  # upright, far from the line: a run cut short
    obs, _ = _decisions(standing)
    assert describe_run(obs)["outcome"] == "unknown"
    # A torso x the file kept is used as it is.
    given = np.linspace(2.5, 40.0, len(obs))
    assert describe_run(obs, given)["distance"][-1] == pytest.approx(4.0)


def test_teacher_forced_error_beats_constant_velocity_on_the_engines_own_run():
    keys = np.fromiter(get_bot("stride").keys(), dtype=np.int64, count=1500)
    obs, actions = _decisions(keys)
    run = RecordedRun("stride", obs[:len(actions)], ACTION_TO_SEED[actions])
    errors = teacher_forced(run, "3")
    assert len(errors.engine) == len(actions) - 1
    assert errors.engine.mean() < 0.5 * errors.baseline.mean()
    # The wrong decision lengths are worse than the right ones.
    assert teacher_forced(run, "6").engine.mean() > 2 * errors.engine.mean()


def test_teacher_forced_error_on_the_top_players_runs(seed_demos):
    runs = recorded_runs(seed_demos)
    assert len(runs) == 50
    sample = runs[::10]
    errors = [teacher_forced(run, "fitted") for run in sample]
    engine = np.concatenate([e.engine for e in errors]).mean()
    baseline = np.concatenate([e.baseline for e in errors]).mean()
    assert engine < 0.6 * baseline  # docs/game.md: 0.092 against 0.208 on all 50 runs


def test_the_top_players_runs_end_as_their_recorded_returns_say(seed_demos):
    """Runs whose end is clear by the seed's own recorded returns (a full run against one cut
    short, which only a fall does): the outcome read from the features agrees on every one."""
    wrong = []
    for name in ("kuro_try1", "kuro_try3", "human_try2"):
        data = np.load(seed_demos / f"{name}.npz")
        starts = list(np.flatnonzero(data["episode_starts"])) + [len(data["obs"])]
        for a, b in zip(starts[:-1], starts[1:]):
            obs = data["obs"][a:b].astype(np.float64)
            torso_x = obs[:, 69].copy()
            absolute = np.abs(torso_x).max() > 0
            obs[:, X_COLUMNS] -= torso_x[:, None]
            ret = float(data["rewards"][a:b].sum())
            clear = "finished" if ret >= 880 else "fell" if ret <= 800 else None
            got = describe_run(obs, torso_x if absolute else None)["outcome"]
            if clear and got != clear:
                wrong.append((name, a, ret, got))
    assert not wrong



def test_the_one_step_figure_is_drawn(tmp_path):
    from qwopkit.bench.fidelity import plot_one_step

    keys = np.fromiter(get_bot("stride").keys(), dtype=np.int64, count=900)
    obs, actions = _decisions(keys)
    run = RecordedRun("stride", obs[:len(actions)], ACTION_TO_SEED[actions])
    results = {"3": [teacher_forced(run, "3")], "fitted": [teacher_forced(run, "fitted")]}
    path = plot_one_step(results, tmp_path / "one-step.png")
    assert path.stat().st_size > 10_000
