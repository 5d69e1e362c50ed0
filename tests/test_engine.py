"""The bundled game's engine: spawn, rules, determinism, fidelity to the original's recordings."""

from __future__ import annotations

import numpy as np
import pytest

from qwopkit.adapter.features import seed_observation
from qwopkit.adapter.openqwop import FELL, RUNNING, Engine, O, P, Q, W, run_keys
from qwopkit.adapter.openqwop import physics as ph
from qwopkit.adapter.openqwop.layout import STATE_FIELDS, STATE_INDEX, STATE_SIZE
from qwopkit.bench.fidelity import position_error_at, spawn_error, spawn_runs


def test_state_layout_names_every_field():
    assert len(STATE_FIELDS) == STATE_SIZE == len(set(STATE_FIELDS))
    assert Engine().state().shape == (STATE_SIZE,)


def test_spawn_pose_is_the_reference_table():
    state = Engine().state()
    for body in ph.BODIES:
        got = state[[STATE_INDEX[f"{body.name}.{f}"] for f in ("x", "y", "angle")]]
        np.testing.assert_allclose(got, (body.x, body.y, body.angle), atol=1e-6)
    assert state[STATE_INDEX["distance"]] == pytest.approx(0.25111726, abs=1e-6)


def test_same_keys_give_bit_identical_states():
    keys = np.random.default_rng(7).integers(0, 16, size=900)
    first = run_keys(keys)
    second = run_keys(keys)
    assert np.array_equal(first, second)
    # Resetting a used engine must give the same run as a fresh one.
    engine = Engine()
    for k in keys[:200]:
        engine.update(int(k))
    engine.reset()
    again = [engine.state()] + [(engine.update(int(k)), engine.state())[1] for k in keys]
    assert np.array_equal(first, np.array(again))


def test_joint_block_is_the_bodies_difference():
    engine = Engine()
    for k in np.random.default_rng(3).integers(0, 16, size=120):
        engine.update(int(k))
    state = engine.state()
    for j in ph.JOINTS:
        a, b = STATE_INDEX[f"{j.body_a}.angle"], STATE_INDEX[f"{j.body_b}.angle"]
        assert state[STATE_INDEX[f"{j.name}.angle"]] == state[b] - state[a] - j.reference


def test_no_keys_does_not_advance():
    engine = Engine()
    start = engine.distance
    for _ in range(600):
        assert engine.update(0) == RUNNING
    assert abs(engine.distance - start) < 0.2


def test_hud_time_counts_updates():
    engine = Engine()
    for _ in range(45):
        engine.update(Q)
    assert engine.hud_time == pytest.approx(1.5)
    assert engine.state()[STATE_INDEX["keys"]] == Q


def test_known_bad_pattern_falls_and_goes_limp():
    engine = Engine()
    status = RUNNING
    for keys in ([Q | P] * 12 + [W | O] * 12) * 10:
        status = engine.update(keys)
        if status != RUNNING:
            break
    assert status == FELL
    state = engine.state()
    assert state[STATE_INDEX["fallen"]] == 1.0
    # As in the original: hip motors off (their limits stay), knees and shoulders limp.
    assert not engine.joints["leftHip"].motorEnabled and engine.joints["leftHip"].limitEnabled
    assert not engine.joints["leftKnee"].motorEnabled and not engine.joints["leftKnee"].limitEnabled
    # After a fall keys no longer drive the runner and the status stays.
    assert engine.update(Q) == FELL


def test_keys_drive_the_right_motors():
    engine = Engine()
    engine.update(Q | W)  # Q beats W
    assert engine.joints["rightHip"].motorSpeed == pytest.approx(2.5)
    assert engine.joints["leftShoulder"].motorSpeed == pytest.approx(2.0)
    engine.update(O | P)  # O beats P, and switches the hip limits
    assert engine.joints["rightKnee"].motorSpeed == pytest.approx(2.5)
    assert engine.joints["leftHip"].limits == pytest.approx((-1.0, 1.0))
    engine.update(P)
    assert engine.joints["leftKnee"].motorSpeed == pytest.approx(2.5)
    assert engine.joints["rightHip"].limits == pytest.approx((-0.8, 1.2))
    engine.update(0)  # releasing O and P stops the knees but keeps the hip limits
    assert engine.joints["leftKnee"].motorSpeed == 0.0
    assert engine.joints["rightHip"].limits == pytest.approx((-0.8, 1.2))
    assert engine.joints["rightHip"].motorSpeed == 0.0


def test_spawn_observation_matches_the_original_game(seed_demos):
    runs = spawn_runs(seed_demos)
    assert len(runs) == 15, "15 of Kurodo's 50 runs start at the spawn pose"
    assert spawn_error(runs) <= 1e-4


def test_replaying_kurodos_actions_tracks_the_original(seed_demos):
    errors = position_error_at(spawn_runs(seed_demos), decision=10)
    assert len(errors) == 15
    assert np.mean(errors) <= 0.40


def test_seed_observation_of_the_spawn_has_71_columns():
    obs = seed_observation(Engine().state())
    assert obs.shape == (71,) and obs.dtype == np.float32
    assert obs[69] == 0.0  # torso x relative to itself


def test_keys_mask_constants():
    assert (Q, W, O, P) == (1, 2, 4, 8)
